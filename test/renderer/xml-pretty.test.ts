import { describe, expect, it } from 'vitest';
import { prettyLines, prettyText, tagParts, tokenize } from '../../src/renderer/src/lib/xml-pretty';
import { REQUEST_XML } from './fake-api';

/** The document with whitespace-only text between tags removed: what pretty-printing may not change. */
const significant = (xml: string) => tokenize(xml).filter((t) => !(t.kind === 'text' && t.text.trim() === '')).map((t) => t.text).join('');

describe('xml-pretty', () => {
  it('tokenises losslessly, even malformed input', () => {
    for (const xml of [REQUEST_XML, '<a b="x>y">t</a>', '<<notatag & stray < text', '<a><!-- c --><![CDATA[<x>]]><?pi x?></a>', '']) {
      expect(tokenize(xml).map((t) => t.text).join('')).toBe(xml);
    }
  });

  it('changes only whitespace between tags, never a tag, attribute or text node', () => {
    const docs = [
      REQUEST_XML,
      '<DLSMessage>\n  <Message nonce="A">\n\n<Action>CleanUp</Action>\n<ItemList/></Message></DLSMessage>',
      '<a>  spaced text  </a>',
      '<a>mixed <b>bold</b> tail</a>',
      '<a x = "1"\n   y=\'2\'><b/></a>',
    ];
    for (const xml of docs) {
      const pretty = prettyText(xml);
      expect(significant(pretty)).toBe(significant(xml));
      // Text content is kept character for character (spaces inside a text node included).
      for (const t of tokenize(xml).filter((t) => t.kind === 'text' && t.text.trim() !== '')) expect(pretty).toContain(t.text);
    }
  });

  it('indents by depth and keeps leaf elements on one line', () => {
    const lines = prettyText('<a><b><c>1</c><d/><e></e></b></a>').split('\n');
    expect(lines).toEqual(['<a>', '  <b>', '    <c>1</c>', '    <d/>', '    <e></e>', '  </b>', '</a>']);
    // Mixed content is kept as it was, on its line: re-indenting it would change its text.
    expect(prettyText('<r><p>mixed <b>bold</b>\n tail</p></r>')).toBe('<r>\n  <p>mixed <b>bold</b>\n tail</p>\n</r>');
    expect(prettyLines(REQUEST_XML).find((l) => l.tokens[0]!.text.startsWith('<Item name="user-pwd"'))!.depth).toBe(3);
  });

  it('splits a tag for highlighting without losing a character', () => {
    const tag = '<Item name="function-key-def" index=\'2\'>';
    const parts = tagParts(tag);
    expect(parts.map((p) => p.text).join('')).toBe(tag);
    expect(parts.filter((p) => p.kind === 'name').map((p) => p.text)).toEqual(['Item']);
    expect(parts.filter((p) => p.kind === 'attr').map((p) => p.text)).toEqual(['name', 'index']);
    expect(parts.filter((p) => p.kind === 'value').map((p) => p.text)).toEqual(['"function-key-def"', "'2'"]);
  });
});
