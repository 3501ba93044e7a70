/**
 * Every UI string goes through i18next: a scan of the renderer's TSX for text a user reads that is
 * written in the code — JSX text with letters, and title / aria-label / placeholder / alt / label
 * attributes given as string literals (or template literals with words). Names that are the same in
 * every language (LocalDLS, protocol words shown as code) are listed here, so a new English
 * string fails this test instead of reaching the German UI.
 */
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** The renderer's components, as text (Vite reads them at test time). */
const SOURCES = import.meta.glob<string>('../../src/renderer/src/**/*.tsx', { query: '?raw', import: 'default', eager: true });
const TEXT_ATTRIBUTES = new Set(['title', 'aria-label', 'placeholder', 'alt', 'label', 'aria-description', 'aria-placeholder']);
/** Text that is the same in English and German: the product's name, protocol and code words. */
const SAME_IN_EVERY_LANGUAGE = new Set(['LocalDLS', 'TLS', 'HTTP', 'XML', 'JSON', 'HAR', 'CSV', 'MAC', 'DHCP', 'PIN', 'CA', 'curl', 'WPI', 'DLS', 'OK']);

/** Words a reader would read: letters, not only symbols, numbers, one of the shared names, or an example address (a URL, path or host name: no spaces, with . / or :). */
function isProse(text: string): boolean {
  if (/^\S+$/.test(text.trim()) && /[./:]/.test(text)) return false;
  const words = text.match(/[A-Za-zÄÖÜäöüß]{2,}/g) ?? [];
  return words.some((w) => !SAME_IN_EVERY_LANGUAGE.has(w));
}

export function hardCodedText(source: string, fileName = 'x.tsx'): string[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const found: string[] = [];
  const where = (n: ts.Node) => `${fileName}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
  const visit = (n: ts.Node): void => {
    // Code shown as code (a dhcpd.conf snippet) is the same in every language.
    if (ts.isJsxElement(n) && ['pre', 'code'].includes(n.openingElement.tagName.getText(sf))) return;
    if (ts.isJsxText(n) && isProse(n.text)) found.push(`${where(n)} text "${n.text.trim().slice(0, 60)}"`);
    if (ts.isJsxAttribute(n) && TEXT_ATTRIBUTES.has(n.name.getText(sf)) && n.initializer) {
      const init = n.initializer;
      const literal = ts.isStringLiteral(init)
        ? init.text
        : ts.isJsxExpression(init) && init.expression && (ts.isStringLiteral(init.expression) || ts.isNoSubstitutionTemplateLiteral(init.expression))
          ? init.expression.text
          : ts.isJsxExpression(init) && init.expression && ts.isTemplateExpression(init.expression)
            ? [init.expression.head.text, ...init.expression.templateSpans.map((s) => s.literal.text)].join(' ')
            : null;
      if (literal !== null && isProse(literal)) found.push(`${where(n)} ${n.name.getText(sf)}="${literal.slice(0, 60)}"`);
    }
    // Literals a JSX child shows: {'Loading…'}, {busy ? 'Saving' : label} (not call arguments such
    // as t('key') or .join(' · '), not comparisons such as state === 'done').
    if (ts.isJsxExpression(n) && n.expression && !ts.isJsxAttribute(n.parent)) {
      const shown = (e: ts.Node): void => {
        if ((ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) && isProse(e.text)) found.push(`${where(e)} literal "${e.text.slice(0, 60)}"`);
        else if (ts.isTemplateExpression(e)) {
          const text = [e.head.text, ...e.templateSpans.map((x) => x.literal.text)].join(' ');
          if (isProse(text)) found.push(`${where(e)} literal "${text.slice(0, 60)}"`);
        } else if (ts.isConditionalExpression(e)) [e.whenTrue, e.whenFalse].forEach(shown);
        else if (ts.isBinaryExpression(e) && [ts.SyntaxKind.BarBarToken, ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.PlusToken].includes(e.operatorToken.kind)) [e.left, e.right].forEach(shown);
        else if (ts.isParenthesizedExpression(e)) shown(e.expression);
      };
      shown(n.expression);
    }
    // Text written into the page in code: toast.push('error', 'Something failed').
    if (ts.isCallExpression(n) && /\b(?:push|error)$/.test(n.expression.getText(sf)) && /toast/i.test(n.expression.getText(sf))) {
      for (const a of n.arguments.slice(1)) if ((ts.isStringLiteral(a) || ts.isNoSubstitutionTemplateLiteral(a)) && isProse(a.text)) found.push(`${where(a)} toast "${a.text.slice(0, 60)}"`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

describe('UI text', () => {
  it('finds hard-coded text in a sample (so the scan can fail)', () => {
    const sample = `export const A = () => <div title="Open the thing" aria-label={\`Row \${n}\`}>Hello there <b>{t('x')}</b> LocalDLS · 42 <i placeholder="—" /><input placeholder="https://dls.example.net:18443" /><pre>{\`class "X" { match }\`}</pre></div>;
      toast.push('error', 'Something failed');
      const B = () => <p className={on ? 'is-on' : 'off'}>{busy ? 'Saving' : t('save')}{state === 'done' ? '✓' : null}{list.join(' · ')}{n || 'none yet'}</p>;`;
    expect(hardCodedText(sample)).toEqual([
      'x.tsx:1 title="Open the thing"',
      'x.tsx:1 aria-label="Row  "',
      'x.tsx:1 text "Hello there"',
      'x.tsx:2 toast "Something failed"',
      'x.tsx:3 literal "Saving"',
      'x.tsx:3 literal "none yet"',
    ]);
  });

  it('has none in the renderer: every string a user reads comes from the en/de namespaces', () => {
    expect(Object.keys(SOURCES).length).toBeGreaterThan(30);
    const found = Object.entries(SOURCES).flatMap(([path, text]) => hardCodedText(text, path.replace('../../src/renderer/src/', '')));
    expect(found).toEqual([]);
  });
});
