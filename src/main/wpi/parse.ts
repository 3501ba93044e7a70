/**
 * Lenient parsing of WorkpointMessage (phone -> service) and DLSMessage (service -> phone):
 * namespace-agnostic, attributes in any order, whitespace trimmed, `fragment` read from Message
 * or ReasonForContact, ItemList optional. Everything else is refused with a WpiError.
 */
import { wpiRefusalText } from '../../shared/wpi-refusals';
import { WpiError } from './errors';
import {
  ACTIONS,
  type Action,
  type DLSMessage,
  type Fragment,
  type Item,
  type WorkpointMessage,
} from './types';
import { parseCanonicalWorkpointMessage } from './canonical';
import { fragmentValue, integerValue, isReasonForContact, isValidNonce } from './values';
import { decodeUtf8, parseXml, type XmlNode } from './xml';

export function parseWorkpointMessage(input: Uint8Array | string): WorkpointMessage {
  const source = typeof input === 'string' ? input : decodeUtf8(input);
  // The shape phones write, in one scan; anything else (or anything to refuse) the general way.
  return parseCanonicalWorkpointMessage(source) ?? parseGeneralWorkpointMessage(source);
}

/** Any well-formed WorkpointMessage, through the XML tree; refuses with a WpiError. Exported for the tests that compare the two paths. */
export function parseGeneralWorkpointMessage(source: string): WorkpointMessage {
  const message = rootMessage(source, 'WorkpointMessage');
  const rfc = single(message, 'ReasonForContact');
  if (rfc === undefined) throw new WpiError('no-reason', wpiRefusalText('noReason'));
  const reasonText = text(rfc);
  if (reasonText === '') throw new WpiError('no-reason', wpiRefusalText('emptyReason'));
  if (!isReasonForContact(reasonText)) {
    throw new WpiError('unknown-reason', wpiRefusalText('unknownReason', { reason: clip(reasonText) }));
  }
  const mAttrs = attrs(message);
  const rAttrs = attrs(rfc);
  const result: WorkpointMessage = {
    nonce: nonceOf(mAttrs),
    reason: reasonText,
    items: itemsOf(message),
  };
  const maxItems = mAttrs.maxItems;
  if (maxItems !== undefined) result.maxItems = integerAttr('maxItems', maxItems, -1);
  const fragment = fragmentOf(mAttrs.fragment ?? rAttrs.fragment);
  if (fragment) result.fragment = fragment;
  if (rAttrs.action !== undefined) result.action = rAttrs.action.trim();
  if (rAttrs.status !== undefined) result.status = rAttrs.status.trim();
  return result;
}

export function parseDLSMessage(input: Uint8Array | string): DLSMessage {
  const message = rootMessage(input, 'DLSMessage');
  const actionNode = single(message, 'Action');
  const action = actionNode === undefined ? '' : text(actionNode);
  if (action === '') throw new WpiError('no-action', wpiRefusalText('noAction'));
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw new WpiError('unknown-action', wpiRefusalText('unknownAction', { action: clip(action) }));
  }
  return { nonce: nonceOf(attrs(message)), action: action as Action, items: itemsOf(message) };
}

function rootMessage(input: Uint8Array | string, rootName: string): XmlNode {
  const source = typeof input === 'string' ? input : decodeUtf8(input);
  if (source.trim() === '') throw new WpiError('empty', wpiRefusalText('empty'));
  const doc = parseXml(source);

  const roots = Object.keys(doc);
  if (roots.length !== 1 || roots[0] !== rootName) {
    throw new WpiError('wrong-root', wpiRefusalText('wrongRoot', { found: clip(roots.join(', ') || 'none'), expected: rootName }));
  }
  const root = doc[rootName];
  const message = isNode(root) ? single(root, 'Message') : undefined;
  if (message === undefined) throw new WpiError('no-message', wpiRefusalText('noMessage', { root: rootName }));
  return message;
}

/**
 * The nonce as the XML says it (a reference to an ordinary character is that character, as in the
 * phone's own parser, which compares the echoed value): printable ASCII without XML specials, so
 * what we echo needs no escaping and reads back as the same value.
 */
function nonceOf(a: Record<string, string>): string {
  const nonce = a.nonce;
  if (nonce === undefined || nonce.trim() === '') throw new WpiError('no-nonce', wpiRefusalText('noNonce'));
  if (!isValidNonce(nonce)) {
    throw new WpiError('bad-nonce', wpiRefusalText('badNonce'));
  }
  return nonce;
}

function itemsOf(message: XmlNode): Item[] {
  const list = single(message, 'ItemList');
  if (list === undefined) return [];
  const raw = list.Item;
  if (raw === undefined) return [];
  return (raw as unknown[]).map((node, position) => {
    const n = isNode(node) ? node : {};
    const a = attrs(n);
    const name = a.name?.trim();
    if (!name) throw new WpiError('item-without-name', wpiRefusalText('itemWithoutName', { position: String(position + 1) }));
    const item: Item = { name, value: text(n) };
    if (a.index !== undefined && a.index.trim() !== '') item.index = integerAttr({ name: clip(name) }, a.index, 0);
    if (a.status !== undefined) item.status = a.status.trim();
    return item;
  });
}

function fragmentOf(raw: string | undefined): Fragment | undefined {
  if (raw === undefined) return undefined;
  const fragment = fragmentValue(raw);
  if (fragment !== null) return fragment;
  throw new WpiError('bad-attribute', wpiRefusalText('badFragment', { value: clip(raw.trim()) }));
}

/** `index`: an Item's index, given the item's name (clipped); else Message's maxItems. */
function integerAttr(what: 'maxItems' | { name: string }, raw: string, min: number): number {
  const n = integerValue(raw, min);
  if (n !== null) return n;
  const values = { min: String(min), value: clip(raw.trim()) };
  throw what === 'maxItems'
    ? new WpiError('bad-attribute', wpiRefusalText('badMaxItems', values))
    : new WpiError('bad-index', wpiRefusalText('badIndex', { ...values, name: what.name }));
}

function single(parent: XmlNode, name: string): XmlNode | undefined {
  const v = parent[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw new WpiError('duplicate-element', wpiRefusalText('duplicateElement', { element: name }));
  return isNode(v) ? v : { '#text': String(v) };
}

function isNode(v: unknown): v is XmlNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Attribute values, references resolved by the parser. */
function attrs(node: XmlNode): Record<string, string> {
  return node['@'] ?? {};
}

function text(node: XmlNode): string {
  const t = node['#text'];
  return typeof t === 'string' ? t : '';
}

function clip(s: string): string {
  const oneLine = s.replace(/\s+/g, ' ');
  // Never cut a surrogate pair in half: the reason is sent and stored as UTF-8.
  return oneLine.length > 40 ? `${oneLine.slice(0, /[\ud800-\udbff]/.test(oneLine[39]!) ? 39 : 40)}…` : oneLine;
}
