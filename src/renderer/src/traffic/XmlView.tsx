/**
 * Highlighted XML. `pretty` re-indents (whitespace between tags only, see lib/xml-pretty.ts);
 * raw shows the text exactly as stored, numbered by its own lines so a validator's line/column
 * points at the right place. Rendered as React text nodes only: no HTML from the message is
 * ever interpreted.
 */
import { i18next } from '../i18n';
import { memo, useMemo, type ReactNode } from 'react';
import { MASK } from '../../../shared/secrets';
import { prettyLines, tagParts, tokenize, type XmlToken } from '../lib/xml-pretty';

/** Bodies above this are shown raw only: pretty-printing them would stall the window. */
export const PRETTY_LIMIT = 300 * 1024;

function maskAware(text: string, key: string): ReactNode {
  if (!text.includes(MASK)) return text;
  return text.split(MASK).flatMap((part, i) => (i === 0 ? [part] : [<span key={`${key}-m${i}`} className="x-mask" title={i18next.t('traffic:message.masked')}>{MASK}</span>, part]));
}

function Token({ t, k }: { t: XmlToken; k: string }) {
  if (t.kind === 'tag') {
    return (
      <>
        {tagParts(t.text).map((p, i) => (
          <span key={i} className={`x-${p.kind}`}>{p.text}</span>
        ))}
      </>
    );
  }
  if (t.kind === 'text') return <span className="x-text">{maskAware(t.text, k)}</span>;
  return <span className={`x-${t.kind}`}>{t.text}</span>;
}

export const XmlView = memo(function XmlView({ text, pretty, problemLine }: { text: string; pretty: boolean; problemLine?: number | null }) {
  const lines = useMemo(() => {
    if (pretty) {
      return prettyLines(text).map((l) => ({ indent: '  '.repeat(l.depth), tokens: l.tokens }));
    }
    // Raw: the stored text split at its own line breaks, highlighted per line.
    return text.split('\n').map((line) => ({ indent: '', tokens: tokenize(line) }));
  }, [text, pretty]);
  return (
    <div className={`code xml ${pretty ? 'pretty' : 'raw'}`} data-testid={pretty ? 'xml-pretty' : 'xml-raw'}>
      {lines.map((l, i) => (
        <div key={i} className={`line ${!pretty && problemLine === i + 1 ? 'line-problem' : ''}`}>
          <span className="ln" aria-hidden>{i + 1}</span>
          <span className="lc">
            {l.indent}
            {l.tokens.map((t, j) => (
              <Token key={j} t={t} k={`${i}-${j}`} />
            ))}
          </span>
        </div>
      ))}
    </div>
  );
});

export function PlainView({ text }: { text: string }) {
  return (
    <div className="code raw" data-testid="plain-raw">
      {text.split('\n').map((line, i) => (
        <div key={i} className="line">
          <span className="ln" aria-hidden>{i + 1}</span>
          <span className="lc">{line}</span>
        </div>
      ))}
    </div>
  );
}
