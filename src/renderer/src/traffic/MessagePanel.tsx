/** One side of an exchange: start line, size, pretty/raw body, validation notes, copy. */
import { useState } from 'react';
import type { MessageView } from '../../../shared/api';
import { CopyButton } from '../common/CopyButton';
import { bytes } from '../lib/format';
import { PlainView, PRETTY_LIMIT, XmlView } from './XmlView';

export function rawHttp(m: MessageView): string {
  return [m.startLine, ...m.headers.map(([k, v]) => `${k}: ${v}`), '', m.text].join('\r\n');
}

export function MessagePanel({ title, message }: { title: string; message: MessageView }) {
  const canPretty = message.isXml && message.text.length <= PRETTY_LIMIT;
  const [mode, setMode] = useState<'pretty' | 'raw'>('pretty');
  const pretty = canPretty && mode === 'pretty';
  return (
    <section className="msg" aria-label={title}>
      <div className="msg-head">
        <strong>{title}</strong>
        <span className="mono muted msg-line" title={message.startLine}>{message.startLine}</span>
        <span className="muted">{bytes(message.bytes)}</span>
        <span className="grow" />
        {message.isXml ? (
          <div className="seg" role="tablist" aria-label={`${title} view`}>
            <button type="button" role="tab" aria-selected={pretty} disabled={!canPretty} className={pretty ? 'on' : ''} onClick={() => setMode('pretty')}>Pretty</button>
            <button type="button" role="tab" aria-selected={!pretty} className={!pretty ? 'on' : ''} onClick={() => setMode('raw')}>Raw</button>
          </div>
        ) : null}
        <CopyButton text={message.text} label="Copy body" title="Copy the body as stored (secrets masked)" />
        <CopyButton text={rawHttp(message)} label="Copy HTTP" title="Copy start line, headers and body" />
      </div>
      {message.xmlProblem ? (
        <div className="note note-error">
          Not well-formed XML at line {message.xmlProblem.line}, column {message.xmlProblem.column}: {message.xmlProblem.message}
        </div>
      ) : null}
      {message.wpiProblem && !message.xmlProblem ? <div className="note note-warn">Not a valid WPI message: {message.wpiProblem}</div> : null}
      {message.invalidUtf8 ? <div className="note note-warn">The body is not valid UTF-8; invalid bytes are shown as �.</div> : null}
      {message.isXml && !canPretty ? <div className="note">Pretty view is off for bodies over {bytes(PRETTY_LIMIT)}.</div> : null}
      {message.truncated ? <div className="note note-warn">Shown up to {bytes(message.text.length)}; export the exchange for the whole body.</div> : null}
      <div className="msg-body">
        {message.bytes === 0 ? (
          <div className="empty">No body</div>
        ) : message.isXml ? (
          <XmlView text={message.text} pretty={pretty} problemLine={message.xmlProblem?.line ?? null} />
        ) : (
          <PlainView text={message.text} />
        )}
      </div>
    </section>
  );
}
