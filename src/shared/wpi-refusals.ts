/**
 * Why the WPI codec refused a message (wpi/xml.ts, wpi/parse.ts: not UTF-8, not XML, not a
 * WorkpointMessage as the manual describes it), in the service's English words: the phone gets them
 * as the 400's body, the store keeps them and the CLI prints them; the UI reads them back and says
 * them in its language (traffic.json `wpiRefusalText.*`). What a message said (a reason, a value,
 * an element's name, clipped) and the XML parser's own words stay as they came.
 */
import { phrasebook } from './phrasebook';

export const WPI_REFUSALS = phrasebook({
  empty: [() => 'empty body: expected a WPI XML message', /^empty body: expected a WPI XML message$/, []],
  notUtf8: [() => 'body is not valid UTF-8', /^body is not valid UTF-8$/, []],
  doctype: [() => 'DOCTYPE or entity declarations are not allowed', /^DOCTYPE or entity declarations are not allowed$/, []],
  // Before notXml, which would read it too: the parser's words are any text.
  notXmlAtLine: [(p) => `not well-formed XML: ${p.problem} (line ${p.line})`, /^not well-formed XML: ([\s\S]*) \(line (\d+)\)$/, ['problem', 'line']],
  notXml: [(p) => `not well-formed XML: ${p.problem}`, /^not well-formed XML: ([\s\S]*)$/, ['problem']],
  tooDeep: [(p) => `XML nested deeper than ${p.max} levels`, /^XML nested deeper than (\d+) levels$/, ['max']],
  duplicateAttribute: [
    (p) => `<${p.element}> has the attribute ${p.attribute} twice (namespace prefixes aside)`,
    /^<([\s\S]*)> has the attribute (\S*) twice \(namespace prefixes aside\)$/,
    ['element', 'attribute'],
  ],
  wrongRoot: [(p) => `root element is ${p.found}, expected ${p.expected}`, /^root element is ([\s\S]*), expected (WorkpointMessage|DLSMessage)$/, ['found', 'expected']],
  noMessage: [(p) => `${p.root} has no Message element`, /^(WorkpointMessage|DLSMessage) has no Message element$/, ['root']],
  duplicateElement: [(p) => `${p.element} appears more than once`, /^(\S+) appears more than once$/, ['element']],
  noReason: [() => 'Message has no ReasonForContact', /^Message has no ReasonForContact$/, []],
  emptyReason: [() => 'ReasonForContact is empty', /^ReasonForContact is empty$/, []],
  unknownReason: [(p) => `unknown ReasonForContact "${p.reason}"`, /^unknown ReasonForContact "([\s\S]*)"$/, ['reason']],
  noAction: [() => 'Message has no Action', /^Message has no Action$/, []],
  unknownAction: [(p) => `unknown Action "${p.action}"`, /^unknown Action "([\s\S]*)"$/, ['action']],
  noNonce: [() => 'Message has no nonce', /^Message has no nonce$/, []],
  badNonce: [() => 'nonce must be 1-256 printable ASCII characters without XML specials', /^nonce must be 1-256 printable ASCII characters without XML specials$/, []],
  itemWithoutName: [(p) => `Item ${p.position} has no name`, /^Item (\d+) has no name$/, ['position']],
  badFragment: [(p) => `fragment must be "next" or "final", not "${p.value}"`, /^fragment must be "next" or "final", not "([\s\S]*)"$/, ['value']],
  badMaxItems: [(p) => `maxItems must be an integer >= ${p.min}, not "${p.value}"`, /^maxItems must be an integer >= (-?\d+), not "([\s\S]*)"$/, ['min', 'value']],
  badIndex: [(p) => `index of ${p.name} must be an integer >= ${p.min}, not "${p.value}"`, /^index of ([\s\S]*) must be an integer >= (-?\d+), not "([\s\S]*)"$/, ['name', 'min', 'value']],
});

export type WpiRefusalKey = (typeof WPI_REFUSALS.keys)[number];

export const wpiRefusalText = (key: WpiRefusalKey, params: Record<string, string> = {}): string => WPI_REFUSALS.text(key, params);
