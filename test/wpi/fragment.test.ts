/**
 * splitItems: messages that respect the phone's maxItems and the 50 kB limit, without ever
 * separating items that must travel together (wpi-protocol.md §4.12).
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_MESSAGE_BYTES,
  buildDLSMessage,
  buildWorkpointMessage,
  splitItems,
  type Item,
} from '../../src/main/wpi';
import { NONCE_HEX32 } from './helpers';

const LIMIT = 50 * 1024;

const bytesOf = (s: string) => Buffer.byteLength(s, 'utf8');

function numbered(count: number, value: (i: number) => string = (i) => `value-${i}`): Item[] {
  return Array.from({ length: count }, (_, i) => ({ name: `item-${i}`, value: value(i) }));
}

/** The biggest envelope buildWorkpointMessage makes for a nonce the parser accepts. */
function worstCaseWorkpoint(items: Item[]): string {
  return buildWorkpointMessage({
    nonce: 'F'.repeat(256),
    maxItems: -1,
    fragment: 'next',
    reason: 'inventory-changes',
    action: 'SoftwareDeployment',
    status: 'accepted',
    items,
  });
}

function typicalWorkpoint(items: Item[]): string {
  return buildWorkpointMessage({ nonce: NONCE_HEX32, maxItems: -1, fragment: 'next', reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items });
}

/** Keys of the groups each chunk holds; fails if a group appears in two chunks. */
function expectGroupsIntact(chunks: Item[][], groupOf: (i: Item) => string): void {
  const home = new Map<string, number>();
  chunks.forEach((chunk, n) => {
    for (const item of chunk) {
      const key = groupOf(item);
      const seen = home.get(key);
      if (seen !== undefined && seen !== n) throw new Error(`group ${key} split across chunks ${seen} and ${n}`);
      home.set(key, n);
    }
  });
}

describe('splitItems: maxItems', () => {
  it('cuts 23 items into chunks of at most 5, in order', () => {
    const items = numbered(23);
    const chunks = splitItems(items, { maxItems: 5 });
    expect(chunks.map((c) => c.length)).toEqual([5, 5, 5, 5, 3]);
    expect(chunks.flat()).toEqual(items);
  });

  it('cuts an exact multiple without an empty trailing chunk', () => {
    const chunks = splitItems(numbered(10), { maxItems: 5 });
    expect(chunks.map((c) => c.length)).toEqual([5, 5]);
  });

  it('sends one item per message with maxItems 1', () => {
    const items = numbered(4);
    expect(splitItems(items, { maxItems: 1 })).toEqual(items.map((i) => [i]));
  });

  it.each([
    ['maxItems -1', { maxItems: -1 }],
    ['maxItems undefined', { maxItems: undefined }],
    ['no maxItems', {}],
    ['maxItems larger than the list', { maxItems: 500 }],
  ])('keeps a small list in one chunk with %s', (_label, limits) => {
    const items = numbered(40);
    const chunks = splitItems(items, limits);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toEqual(items);
  });

  it('keeps a small list in one chunk without a limits argument', () => {
    const items = numbered(3);
    expect(splitItems(items)).toEqual([items]);
  });

  it('returns one empty chunk for an empty list, whatever the limits', () => {
    expect(splitItems([])).toEqual([[]]);
    expect(splitItems([], { maxItems: 5 })).toEqual([[]]);
    expect(splitItems([], { maxItems: -1, maxBytes: 100, groupOf: (i) => i.name })).toEqual([[]]);
  });

  it('does not modify the input list', () => {
    const items = numbered(12);
    const copy = structuredClone(items);
    splitItems(items, { maxItems: 5, groupOf: (i) => String(Number(i.name.slice(5)) % 3) });
    expect(items).toEqual(copy);
  });
});

describe('splitItems: the 50 kB byte budget', () => {
  it('uses the manual limit of 50 * 1024 bytes', () => {
    expect(MAX_MESSAGE_BYTES).toBe(LIMIT);
  });

  it('splits a big list so every chunk serialises to at most 50 kB', () => {
    const items = numbered(3000, (i) => `${'x'.repeat(40 + (i % 97))}`);
    const chunks = splitItems(items, { maxItems: -1 });
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toEqual(items);
    for (const chunk of chunks) {
      expect(bytesOf(typicalWorkpoint(chunk))).toBeLessThanOrEqual(LIMIT);
      expect(bytesOf(worstCaseWorkpoint(chunk))).toBeLessThanOrEqual(LIMIT);
      expect(bytesOf(buildDLSMessage({ nonce: 'F'.repeat(256), action: 'SoftwareDeployment', items: chunk }))).toBeLessThanOrEqual(LIMIT);
    }
  });

  it('fills chunks well (no needless tiny messages)', () => {
    const items = numbered(3000, (i) => `${'x'.repeat(40 + (i % 97))}`);
    const chunks = splitItems(items);
    for (const chunk of chunks.slice(0, -1)) expect(bytesOf(typicalWorkpoint(chunk))).toBeGreaterThan(45 * 1024);
  });

  it('stays within 50 kB when the items fill the budget exactly, even with a 256-character nonce', () => {
    // <Item name="x">…</Item> plus indentation and newline: 29 bytes + value.
    for (const valueLength of [1, 71, 171, 500]) {
      const items = Array.from({ length: 2000 }, () => ({ name: 'x', value: 'v'.repeat(valueLength) }));
      const chunks = splitItems(items);
      expect(chunks.length).toBeGreaterThan(1);
      for (const chunk of chunks) expect(bytesOf(worstCaseWorkpoint(chunk))).toBeLessThanOrEqual(LIMIT);
    }
  });

  it('counts bytes, not characters (multi-byte UTF-8)', () => {
    const items = numbered(600, () => '€'.repeat(100)); // 300 bytes, 100 characters
    const chunks = splitItems(items);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(bytesOf(typicalWorkpoint(chunk))).toBeLessThanOrEqual(LIMIT);
  });

  it('counts escaped bytes (& becomes &amp;)', () => {
    const items = numbered(600, () => '&'.repeat(100)); // 500 bytes once escaped
    const chunks = splitItems(items);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(bytesOf(typicalWorkpoint(chunk))).toBeLessThanOrEqual(LIMIT);
  });

  it('honours a smaller maxBytes', () => {
    const items = numbered(200);
    const chunks = splitItems(items, { maxBytes: 4096 });
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toEqual(items);
    for (const chunk of chunks) expect(bytesOf(typicalWorkpoint(chunk))).toBeLessThanOrEqual(4096);
  });

  it('applies whichever of maxItems and the byte budget is tighter', () => {
    const small = numbered(30);
    expect(splitItems(small, { maxItems: 7 }).map((c) => c.length)).toEqual([7, 7, 7, 7, 2]);
    const big = numbered(40, () => 'y'.repeat(5000));
    const chunks = splitItems(big, { maxItems: 25 });
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(25);
      expect(bytesOf(typicalWorkpoint(chunk))).toBeLessThanOrEqual(LIMIT);
    }
    expect(chunks.length).toBeGreaterThan(2);
  });

  it('sends an item larger than the budget alone, without dropping it', () => {
    const huge: Item = { name: 'wbm-server-certificate', value: 'A'.repeat(60 * 1024) };
    const items = [...numbered(3), huge, ...numbered(3).map((i) => ({ ...i, name: `after-${i.name}` }))];
    const chunks = splitItems(items);
    expect(chunks.flat()).toEqual(items);
    const withHuge = chunks.filter((c) => c.includes(huge));
    expect(withHuge).toEqual([[huge]]);
  });
});

describe('splitItems: groups', () => {
  const FILE_ITEMS = ['file-server', 'file-port', 'file-username', 'file-pwd', 'file-path', 'file-name', 'file-type', 'file-action'];
  const fileGroups = (indexes: number[], value = (n: string, i: number) => `${n}-${i}`): Item[] =>
    indexes.flatMap((index) => FILE_ITEMS.map((name) => ({ name, index, value: value(name, index) })));
  const byIndex = (i: Item) => String(i.index);

  it('keeps every file-* group of one index in one message', () => {
    const items = fileGroups([1, 2, 3, 4]);
    const chunks = splitItems(items, { maxItems: 16, groupOf: byIndex });
    expect(chunks.map((c) => c.length)).toEqual([16, 16]);
    expectGroupsIntact(chunks, byIndex);
    expect(chunks.flat()).toEqual(items);
  });

  it('starts a new message instead of cutting a group at maxItems', () => {
    const items = fileGroups([1, 2, 3]);
    const chunks = splitItems(items, { maxItems: 10, groupOf: byIndex });
    expect(chunks.map((c) => c.length)).toEqual([8, 8, 8]);
    expectGroupsIntact(chunks, byIndex);
  });

  it('never splits a group even when it is larger than maxItems', () => {
    const items = fileGroups([1, 2]);
    const chunks = splitItems(items, { maxItems: 5, groupOf: byIndex });
    expect(chunks.map((c) => c.length)).toEqual([8, 8]);
    expectGroupsIntact(chunks, byIndex);
    expect(chunks.flat()).toEqual(items);
  });

  it('packs small groups together up to maxItems', () => {
    const items: Item[] = [1, 2, 3, 4, 5].flatMap((index) => [
      { name: 'file-deployment-status', index, value: 'ok' },
      { name: 'file-deployment-name', index, value: `f${index}` },
    ]);
    const chunks = splitItems(items, { maxItems: 5, groupOf: byIndex });
    expect(chunks.map((c) => c.length)).toEqual([4, 4, 2]);
    expectGroupsIntact(chunks, byIndex);
  });

  it('keeps a group together even when its members are not adjacent', () => {
    const items: Item[] = [
      { name: 'file-name', index: 1, value: 'a.png' },
      { name: 'file-name', index: 2, value: 'b.png' },
      { name: 'file-type', index: 1, value: 'LOGO' },
      { name: 'file-type', index: 2, value: 'PIC' },
      { name: 'file-action', index: 1, value: 'deploy' },
      { name: 'file-action', index: 2, value: 'delete' },
    ];
    const chunks = splitItems(items, { maxItems: 3, groupOf: byIndex });
    expect(chunks).toHaveLength(2);
    expectGroupsIntact(chunks, byIndex);
    for (const chunk of chunks) {
      const names = chunk.map((i) => i.name);
      expect(names).toEqual(['file-name', 'file-type', 'file-action']); // relative order kept
    }
    expect([...chunks.flat()].sort((a, b) => (a.name + a.index).localeCompare(b.name + b.index))).toEqual(
      [...items].sort((a, b) => (a.name + a.index).localeCompare(b.name + b.index)),
    );
  });

  it('keeps groups together under the byte budget and stays within 50 kB', () => {
    // Each group is ~20 kB: two fit in a message, three do not.
    const items = fileGroups([1, 2, 3, 4, 5], (name) => (name === 'file-pwd' ? 'p'.repeat(20 * 1024) : name));
    const chunks = splitItems(items, { groupOf: byIndex });
    expect(chunks.map((c) => c.length)).toEqual([16, 16, 8]);
    expectGroupsIntact(chunks, byIndex);
    for (const chunk of chunks) expect(bytesOf(typicalWorkpoint(chunk))).toBeLessThanOrEqual(LIMIT);
  });

  it('sends a group larger than 50 kB alone and whole', () => {
    const items = [
      ...fileGroups([1]),
      ...fileGroups([2], (name) => (name === 'file-name' ? 'n'.repeat(60 * 1024) : name)),
      ...fileGroups([3]),
    ];
    const chunks = splitItems(items, { groupOf: byIndex });
    expectGroupsIntact(chunks, byIndex);
    const home = chunks.find((c) => c.some((i) => i.index === 2));
    expect(home).toBeDefined();
    expect(home?.every((i) => i.index === 2)).toBe(true);
    expect(home).toHaveLength(8);
    expect(chunks.flat()).toHaveLength(items.length);
  });

  it('treats every item as its own group without groupOf', () => {
    const items = fileGroups([1, 2]);
    expect(splitItems(items, { maxItems: 5 }).map((c) => c.length)).toEqual([5, 5, 5, 1]);
  });
});
