/**
 * A small, permissive XML tree for the structure-aware mutators: unlike a real XML library it can
 * hold and print anything (empty or huge names, duplicate attributes, raw entities, broken
 * quoting, mismatched close tags), which is the point. Text and attribute values are kept as they
 * appear in the document (already escaped).
 */
import { DLS_NAMESPACE, type WorkpointMessage } from '../../../src/main/wpi';
import { escapeXml } from '../../../src/main/wpi/xml';

export interface Attr {
  name: string;
  /** As written between the quotes. */
  value: string;
  quote?: '"' | "'" | '';
  /** Whitespace around "=". */
  eq?: string;
}

export interface El {
  kind: 'el';
  name: string;
  attrs: Attr[];
  children: Node[];
  /** Print as <name/> when there are no children. */
  selfClose?: boolean;
  /** A different name in the close tag (mismatch). */
  closeName?: string;
  /** Whitespace before ">" / "/>" and between attributes. */
  pad?: string;
  /** Leave the element unclosed. */
  unclosed?: boolean;
}

export interface Text {
  kind: 'text';
  /** As written (escaped, or raw injections such as entities, CDATA, comments). */
  raw: string;
}

export type Node = El | Text;

export interface Doc {
  /** Raw prolog (XML declaration, DOCTYPE, comments, BOM, …). */
  prolog: string;
  roots: Node[];
  epilog: string;
}

const HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function el(name: string, attrs: [string, string][] = [], children: Node[] = []): El {
  return { kind: 'el', name, attrs: attrs.map(([n, v]) => ({ name: n, value: v })), children };
}

export function text(raw: string): Text {
  return { kind: 'text', raw };
}

/** The same tree buildWorkpointMessage prints (canonical form), as a mutable Doc. */
export function workpointDoc(m: WorkpointMessage, options: { omitItemList?: boolean } = {}): Doc {
  const mAttrs: [string, string][] = [['nonce', m.nonce]];
  if (m.maxItems !== undefined) mAttrs.push(['maxItems', String(m.maxItems)]);
  if (m.fragment !== undefined) mAttrs.push(['fragment', m.fragment]);
  const rAttrs: [string, string][] = [];
  if (m.action !== undefined) rAttrs.push(['action', escapeXml(m.action)]);
  if (m.status !== undefined) rAttrs.push(['status', escapeXml(m.status)]);
  // The same indentation as the codec, so an unmutated tree prints byte for byte what it builds.
  const children: Node[] = [text('\n    '), el('ReasonForContact', rAttrs, [text(m.reason)])];
  if (!(options.omitItemList && m.items.length === 0)) {
    const items = m.items.flatMap((i) => {
      const a: [string, string][] = [['name', escapeXml(i.name)]];
      if (i.index !== undefined) a.push(['index', String(i.index)]);
      if (i.status !== undefined) a.push(['status', escapeXml(i.status)]);
      const item = el('Item', a, i.value === '' ? [] : [text(escapeXml(i.value))]);
      item.selfClose = true;
      return [text('\n      '), item];
    });
    const list = el('ItemList', [], items.length ? [...items, text('\n    ')] : []);
    list.selfClose = true;
    children.push(text('\n    '), list);
  }
  children.push(text('\n  '));
  const root = el(
    'WorkpointMessage',
    [['xmlns', DLS_NAMESPACE], ['xmlns:xsi', 'http://www.w3.org/2001/XMLSchema-instance'], ['xsi:schemaLocation', DLS_NAMESPACE]],
    [text('\n  '), el('Message', mAttrs, children), text('\n')],
  );
  return { prolog: HEADER, roots: [root], epilog: '\n' };
}

export function serialize(doc: Doc): string {
  const out: string[] = [doc.prolog];
  for (const n of doc.roots) write(n, out, 0);
  out.push(doc.epilog);
  return out.join('');
}

function write(node: Node, out: string[], depth: number): void {
  if (node.kind === 'text') {
    out.push(node.raw);
    return;
  }
  // Deep trees are printed iteratively below a point, so hostile nesting cannot overflow our stack.
  if (depth > 2000) {
    writeIterative(node, out);
    return;
  }
  const pad = node.pad ?? '';
  out.push('<', node.name);
  for (const a of node.attrs) out.push(' ', attrText(a));
  if (node.children.length === 0 && node.selfClose && !node.unclosed) {
    out.push(pad, '/>');
    return;
  }
  out.push(pad, '>');
  for (const c of node.children) write(c, out, depth + 1);
  if (!node.unclosed) out.push('</', node.closeName ?? node.name, '>');
}

function writeIterative(root: El, out: string[]): void {
  const stack: (Node | { close: string })[] = [root];
  while (stack.length) {
    const n = stack.pop()!;
    if ('close' in n) {
      out.push(n.close);
      continue;
    }
    if (n.kind === 'text') {
      out.push(n.raw);
      continue;
    }
    out.push('<', n.name);
    for (const a of n.attrs) out.push(' ', attrText(a));
    if (n.children.length === 0 && n.selfClose && !n.unclosed) {
      out.push(n.pad ?? '', '/>');
      continue;
    }
    out.push(n.pad ?? '', '>');
    if (!n.unclosed) stack.push({ close: `</${n.closeName ?? n.name}>` });
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
}

function attrText(a: Attr): string {
  const q = a.quote ?? '"';
  return `${a.name}${a.eq ?? '='}${q}${a.value}${q}`;
}

/** Every element with its parent (null for roots), depth-first, iteratively. */
export function elements(doc: Doc): { node: El; parent: El | null; depth: number }[] {
  const found: { node: El; parent: El | null; depth: number }[] = [];
  const stack: { node: Node; parent: El | null; depth: number }[] = doc.roots.map((node) => ({ node, parent: null, depth: 0 }));
  while (stack.length) {
    const { node, parent, depth } = stack.pop()!;
    if (node.kind !== 'el') continue;
    found.push({ node, parent, depth });
    if (found.length > 50_000) break;
    for (const c of node.children) stack.push({ node: c, parent: node, depth: depth + 1 });
  }
  return found;
}

export function texts(doc: Doc): { node: Text; parent: El }[] {
  const found: { node: Text; parent: El }[] = [];
  for (const { node } of elements(doc)) for (const c of node.children) if (c.kind === 'text') found.push({ node: c, parent: node });
  return found;
}

export function clone<T extends Node>(n: T): T {
  if (n.kind === 'text') return { ...n };
  const e = n as El;
  return { ...e, attrs: e.attrs.map((a) => ({ ...a })), children: e.children.map((c) => clone(c)) } as T;
}

export function cloneDoc(doc: Doc): Doc {
  return { prolog: doc.prolog, roots: doc.roots.map((r) => clone(r)), epilog: doc.epilog };
}
