/**
 * Why the WPI codec refused a message (wpi/xml.ts, wpi/parse.ts: not UTF-8, not XML, not a
 * WorkpointMessage as the manual describes it), in the service's English words: the phone gets them
 * as the 400's body, the store keeps them and the CLI prints them; the UI reads them back and says
 * them in its language (traffic.json `wpiRefusalText.*`). What a message said (a reason, a value,
 * an element's name, clipped) and the XML parser's own words stay as they came.
 */
import { phrasebook } from './phrasebook';

// What goes into a sentence is bounded by the codec: a message's words are clipped to 40
// characters and an ellipsis (wpi/parse.ts clip), the parser's and an element's name to 160 and
// one (wpi/xml.ts brief). The patterns take a little more (masking may lengthen a value) and no
// more, so reading any text back stays linear; a value's slot before fixed words is lazy, so a
// value holding those words (a hostile index "x" must be an integer >= 9…") does not move them.

export const WPI_REFUSALS = phrasebook({
  empty: [() => 'empty body: expected a WPI XML message', /^empty body: expected a WPI XML message$/, []],
  notUtf8: [() => 'body is not valid UTF-8', /^body is not valid UTF-8$/, []],
  doctype: [() => 'DOCTYPE or entity declarations are not allowed', /^DOCTYPE or entity declarations are not allowed$/, []],
  // Before notXml, which would read it too: the parser's words are any text.
  notXmlAtLine: [(p) => `not well-formed XML: ${p.problem} (line ${p.line})`, /^not well-formed XML: ([\s\S]{0,320}) \(line (\d+)\)$/, ['problem', 'line']],
  notXml: [(p) => `not well-formed XML: ${p.problem}`, /^not well-formed XML: ([\s\S]{0,320})$/, ['problem']],
  tooDeep: [(p) => `XML nested deeper than ${p.max} levels`, /^XML nested deeper than (\d+) levels$/, ['max']],
  duplicateAttribute: [
    (p) => `<${p.element}> has the attribute ${p.attribute} twice (namespace prefixes aside)`,
    /^<([\s\S]{1,320}?)> has the attribute (name) twice \(namespace prefixes aside\)$/,
    ['element', 'attribute'],
  ],
  wrongRoot: [(p) => `root element is ${p.found}, expected ${p.expected}`, /^root element is ([\s\S]{1,80}), expected (WorkpointMessage|DLSMessage)$/, ['found', 'expected']],
  noMessage: [(p) => `${p.root} has no Message element`, /^(WorkpointMessage|DLSMessage) has no Message element$/, ['root']],
  duplicateElement: [(p) => `${p.element} appears more than once`, /^(\S+) appears more than once$/, ['element']],
  noReason: [() => 'Message has no ReasonForContact', /^Message has no ReasonForContact$/, []],
  emptyReason: [() => 'ReasonForContact is empty', /^ReasonForContact is empty$/, []],
  unknownReason: [(p) => `unknown ReasonForContact "${p.reason}"`, /^unknown ReasonForContact "([\s\S]{1,80})"$/, ['reason']],
  noAction: [() => 'Message has no Action', /^Message has no Action$/, []],
  unknownAction: [(p) => `unknown Action "${p.action}"`, /^unknown Action "([\s\S]{1,80})"$/, ['action']],
  noNonce: [() => 'Message has no nonce', /^Message has no nonce$/, []],
  badNonce: [() => 'nonce must be 1-256 printable ASCII characters without XML specials', /^nonce must be 1-256 printable ASCII characters without XML specials$/, []],
  itemWithoutName: [(p) => `Item ${p.position} has no name`, /^Item (\d+) has no name$/, ['position']],
  badFragment: [(p) => `fragment must be "next" or "final", not "${p.value}"`, /^fragment must be "next" or "final", not "([\s\S]{0,80})"$/, ['value']],
  badMaxItems: [(p) => `maxItems must be an integer >= ${p.min}, not "${p.value}"`, /^maxItems must be an integer >= (-1), not "([\s\S]{0,80})"$/, ['min', 'value']],
  badIndex: [(p) => `index of ${p.name} must be an integer >= ${p.min}, not "${p.value}"`, /^index of ([\s\S]{1,80}?) must be an integer >= (0), not "([\s\S]{0,80})"$/, ['name', 'min', 'value']],
});

export type WpiRefusalKey = (typeof WPI_REFUSALS.keys)[number];

export const wpiRefusalText = (key: WpiRefusalKey, params: Record<string, string> = {}): string => WPI_REFUSALS.text(key, params);
