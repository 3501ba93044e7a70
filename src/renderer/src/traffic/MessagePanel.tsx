/** One side of an exchange: start line, size, pretty/raw body, validation notes, copy. */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { MessageView } from '../../../shared/api';
import { CopyButton } from '../common/CopyButton';
import { bytes } from '../lib/format';
import { wpiRefusal } from '../lib/wpi-refusal';
import { PlainView, PRETTY_LIMIT, XmlView } from './XmlView';

export function rawHttp(m: MessageView): string {
  return [m.startLine, ...m.headers.map(([k, v]) => `${k}: ${v}`), '', m.text].join('\r\n');
}

export function MessagePanel({ title, message }: { title: string; message: MessageView }) {
  const { t } = useTranslation('traffic');
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
          <div className="seg" role="tablist" aria-label={t('message.viewOf', { title })}>
            <button type="button" role="tab" aria-selected={pretty} disabled={!canPretty} className={pretty ? 'on' : ''} onClick={() => setMode('pretty')}>{t('message.pretty')}</button>
            <button type="button" role="tab" aria-selected={!pretty} className={!pretty ? 'on' : ''} onClick={() => setMode('raw')}>{t('message.raw')}</button>
          </div>
        ) : null}
        <CopyButton text={message.text} label={t('message.copyBody')} title={t('message.copyBodyTitle')} />
        <CopyButton text={rawHttp(message)} label={t('message.copyHttp')} title={t('message.copyHttpTitle')} />
      </div>
      {message.xmlProblem ? (
        <div className="note note-error">
          {t('message.notWellFormed', { line: message.xmlProblem.line, column: message.xmlProblem.column, message: message.xmlProblem.message })}
        </div>
      ) : null}
      {message.wpiProblem && !message.xmlProblem ? <div className="note note-warn">{t('message.notWpi', { problem: wpiRefusal(message.wpiProblem, t) })}</div> : null}
      {message.invalidUtf8 ? <div className="note note-warn">{t('message.invalidUtf8')}</div> : null}
      {message.withheld ? <div className="note note-warn" data-testid="body-withheld">{t('message.withheld')}</div> : null}
      {message.isXml && !canPretty ? <div className="note">{t('message.prettyOff', { limit: bytes(PRETTY_LIMIT) })}</div> : null}
      {message.truncated ? <div className="note note-warn">{t('message.truncated', { size: bytes(message.text.length) })}</div> : null}
      {/* Focusable so the keyboard can scroll a long body (axe scrollable-region-focusable). */}
      <div className="msg-body" role="region" aria-label={t('message.bodyOf', { title })} tabIndex={0}>
        {message.bytes === 0 ? (
          <div className="empty">{t('message.noBody')}</div>
        ) : message.isXml ? (
          <XmlView text={message.text} pretty={pretty} problemLine={message.xmlProblem?.line ?? null} />
        ) : (
          <PlainView text={message.text} />
        )}
      </div>
    </section>
  );
}
