/**
 * Canonical XML for both directions. The service only ever sends DLSMessage; WorkpointMessage is
 * built by the phone simulator and by tests. Always UTF-8 with an XML declaration and the DLS
 * namespace; `index` only where set (0 is a value); values escaped.
 */
import { DLS_NAMESPACE, type DLSMessage, type Item, type WorkpointMessage } from './types';
import { escapeXml, escapeXmlAttribute } from './xml';

const HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NS = `xmlns="${DLS_NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="${DLS_NAMESPACE}"`;

export function buildDLSMessage(message: DLSMessage): string {
  return (
    `${HEADER}<DLSMessage ${NS}>\n` +
    `  <Message nonce="${message.nonce}">\n` +
    `    <Action>${message.action}</Action>\n` +
    itemList(message.items, false) +
    `  </Message>\n</DLSMessage>\n`
  );
}

/** `omitItemList`: phones send no ItemList at all in a busy reply (manual p.46). */
export function buildWorkpointMessage(message: WorkpointMessage, options: { omitItemList?: boolean } = {}): string {
  const m = [`nonce="${message.nonce}"`];
  if (message.maxItems !== undefined) m.push(`maxItems="${message.maxItems}"`);
  if (message.fragment !== undefined) m.push(`fragment="${message.fragment}"`);
  const r: string[] = [];
  if (message.action !== undefined) r.push(` action="${escapeXmlAttribute(message.action)}"`);
  if (message.status !== undefined) r.push(` status="${escapeXmlAttribute(message.status)}"`);
  return (
    `${HEADER}<WorkpointMessage ${NS}>\n` +
    `  <Message ${m.join(' ')}>\n` +
    `    <ReasonForContact${r.join('')}>${message.reason}</ReasonForContact>\n` +
    (options.omitItemList && message.items.length === 0 ? '' : itemList(message.items, true)) +
    `  </Message>\n</WorkpointMessage>\n`
  );
}

/** An empty list is written `<ItemList/>`, as phones do for accepted replies without data. */
function itemList(items: readonly Item[], withStatus: boolean): string {
  if (items.length === 0) return '    <ItemList/>\n';
  return `    <ItemList>\n${items.map((i) => `      ${itemXml(i, withStatus)}\n`).join('')}    </ItemList>\n`;
}

export function itemXml(item: Item, withStatus: boolean): string {
  let a = `name="${escapeXmlAttribute(item.name)}"`;
  if (item.index !== undefined) a += ` index="${item.index}"`;
  if (withStatus && item.status !== undefined) a += ` status="${escapeXmlAttribute(item.status)}"`;
  return item.value === '' ? `<Item ${a}/>` : `<Item ${a}>${escapeXml(item.value)}</Item>`;
}
