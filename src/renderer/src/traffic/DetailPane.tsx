/**
 * The selected exchange: request and response (pretty or raw), the item tables, headers, TLS and
 * the interaction chain it belongs to, from the first message to CleanUp.
 */
import type { TFunction } from 'i18next';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ReplyStatusPill } from './ExchangeList';
import type { ExchangeDetail, MessageView, TlsKeyLogStatus } from '../../../shared/api';
import { curlCommand } from '../../../shared/curl';
import type { ExchangeSummary } from '../../../shared/model';
import { useApi } from '../api/ApiContext';
import { HeaderLines } from '../common/HeaderLines';
import { ItemTable, type ItemRow } from '../common/ItemTable';
import { clockTime, dateTime, duration } from '../lib/format';
import { copyText } from '../lib/download';
import { deviceHref, interactionHref, timelineHref } from '../lib/route';
import '../ladder/inspector.css';
import { MessagePanel } from './MessagePanel';
import { UpstreamPanel } from '../relay/UpstreamPanel';
import { useServiceStatus } from '../status/StatusContext';
import { errorText } from '../lib/api-error';
import { exchangeError } from '../lib/exchange-error';
import { exchangeWarning } from '../lib/exchange-warning';

type Tab = 'messages' | 'items' | 'headers' | 'tls' | 'upstream' | 'chain';

export interface DetailPaneProps {
  id: number;
  onJump: (id: number) => void;
  onExport: (format: 'json' | 'har') => void;
  exportCount: number;
}

function title(s: ExchangeSummary, t: TFunction<'traffic'>): string {
  if (s.kind === 'tls-failure') return t('detail.handshakeFailed');
  const phone = s.reason ? `${s.reason}${s.replyAction ? ` ${s.replyAction}${s.replyStatus ? `/${s.replyStatus}` : ''}` : ''}` : `${s.method ?? ''} ${s.path ?? ''}`;
  const refused = s.refusedItems > 0 ? ` · ${t('list.refusedItems', { count: s.refusedItems })}` : '';
  return `${phone}${refused} → ${s.action ?? `HTTP ${s.httpStatus}`}`;
}

function Headers({ title, m }: { title: string; m: MessageView }) {
  const { t } = useTranslation('traffic');
  return <HeaderLines title={title} startLine={m.startLine} pairs={m.headers.length === 0 && !m.startLine ? null : m.headers} empty={t('detail.noHttp')} />;
}

function Chain({ detail, onJump }: { detail: ExchangeDetail; onJump: (id: number) => void }) {
  const { t } = useTranslation('traffic');
  const { interaction, chain, summary } = detail;
  if (!interaction) return <div className="empty">{t('detail.noInteraction')}</div>;
  return (
    <div className="chain">
      <p className="muted">
        {t('detail.interactionLine', { id: interaction.id, reason: interaction.reason ?? t('detail.unknownReason'), started: dateTime(interaction.started) })}
        {interaction.ended
          ? t('detail.interactionEnded', { ended: clockTime(interaction.ended), endReason: interaction.endReason ?? t('detail.ended'), duration: duration(interaction.ended - interaction.started) })
          : t('detail.stillOpen')}
      </p>
      <ol className="chain-list">
        {chain.map((x, i) => (
          <li key={x.id} className={x.id === summary.id ? 'current' : ''}>
            <button type="button" className="chain-step" onClick={() => onJump(x.id)} aria-current={x.id === summary.id ? 'step' : undefined}>
              <span className="chain-n">{i + 1}</span>
              <span className="mono muted">{clockTime(x.started)}</span>
              <span className="chain-phone">{x.reason}{x.replyAction ? ` ${x.replyAction}` : ''}{x.replyStatus ? `/${x.replyStatus}` : ''}{x.fragment === 'next' ? ` ${t('detail.fragmentSuffix')}` : ''}</span>
              {x.refusedItems > 0 ? <ReplyStatusPill x={x} /> : null}
              <span className="chain-arrow">→</span>
              <span className="chain-answer">{x.action ?? `HTTP ${x.httpStatus}`}</span>
              <span className="muted">{t('detail.chainItems', { count: x.itemCount, id: x.id })}</span>
            </button>
          </li>
        ))}
      </ol>
    </div>
  );
}

/** The client certificate of a TLS exchange (secure port), or that none was presented. */
function ClientCertificate({ detail }: { detail: ExchangeDetail }) {
  const { t } = useTranslation('detail');
  const c = detail.tls.clientCertificate;
  if (!c) return (<><dt>{t('clientCert')}</dt><dd>{t('noClientCert')}</dd></>);
  const expired = c.validTo < Date.now();
  return (
    <>
      <dt>{t('clientCert')}</dt>
      <dd>
        <dl className="kv cert" data-testid="client-cert">
          <dt>{t('subject')}</dt><dd className="mono">{c.subject}</dd>
          <dt>{t('issuer')}</dt><dd className="mono">{c.issuer}</dd>
          <dt>{t('validity')}</dt>
          <dd>{t('validRange', { from: dateTime(c.validFrom), to: dateTime(c.validTo) })}{expired ? <span className="badge badge-error">{t('expired')}</span> : null}</dd>
          <dt>{t('serial')}</dt><dd className="mono">{c.serial}</dd>
          <dt>{t('fingerprint')}</dt><dd className="mono">{c.fingerprint256}</dd>
        </dl>
      </dd>
    </>
  );
}

/**
 * The running service's TLS key log (NSS format, for Wireshark), for this run only, with the
 * warning it needs: whoever reads the file can decrypt every captured exchange.
 */
export function KeyLogSetting() {
  const api = useApi();
  const { t } = useTranslation('detail');
  const status = useServiceStatus();
  const [path, setPath] = useState('');
  // What the service reports (also a key log started with `serve --tls-keylog`, and after a
  // reload), else what this page set (a front end whose status does not carry it).
  const [on, setOn] = useState<TlsKeyLogStatus | null>(null);
  const reported = status?.tlsKeyLog;
  useEffect(() => {
    if (reported !== undefined) setOn(reported);
  }, [reported]);
  const [error, setError] = useState<string | null>(null);
  const apply = (to: string | null) =>
    api.setTlsKeyLog(to).then(
      (r) => (setOn(r.path === null ? null : { path: r.path, startedBy: 'ui' }), setError(null)),
      (e: unknown) => setError(errorText(e)),
    );
  return (
    <section className="keylog" aria-label={t('keyLog')}>
      <h3>{t('keyLog')}</h3>
      <p className="note note-warn">{t('keyLogWarning')}</p>
      {on ? (
        <div role="status" data-testid="keylog-on">
          <p>
            {t('keyLogOn', { path: on.path })}{' '}
            <button type="button" className="btn btn-small" onClick={() => void apply(null)}>{t('keyLogStop')}</button>
          </p>
          <p className="muted">{on.startedBy === 'start' ? t('keyLogByStart') : t('keyLogByUi')}</p>
        </div>
      ) : (
        <form onSubmit={(e) => (e.preventDefault(), void apply(path.trim()))}>
          <label>
            {t('keyLogPath')}{' '}
            <input className="input mono" value={path} onChange={(e) => setPath(e.target.value)} placeholder={t('keyLogPlaceholder')} maxLength={4096} />
          </label>{' '}
          <button type="submit" className="btn btn-small" disabled={path.trim() === ''}>{t('keyLogStart')}</button>
        </form>
      )}
      {error ? <div className="note note-error" role="alert">{error}</div> : null}
    </section>
  );
}

function CurlButton({ detail }: { detail: ExchangeDetail }) {
  const { t } = useTranslation('detail');
  const [done, setDone] = useState(false);
  const command = curlCommand({ summary: detail.summary, headers: detail.request.headers, body: detail.request.text });
  if (!command) return null;
  return (
    <button
      type="button"
      className="btn btn-small"
      title={t('curlTitle')}
      onClick={() => void copyText(command).then(() => (setDone(true), setTimeout(() => setDone(false), 1500)))}
    >
      {done ? t('copied') : t('copyCurl')}
    </button>
  );
}

export function DetailPane({ id, onJump, onExport, exportCount }: DetailPaneProps) {
  const { t } = useTranslation('traffic');
  const { t: td } = useTranslation('detail');
  const api = useApi();
  const [detail, setDetail] = useState<ExchangeDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>('messages');
  const [side, setSide] = useState<'request' | 'response'>('request');

  useEffect(() => {
    let live = true;
    setError(null);
    api.getExchange(id).then(
      (d) => live && setDetail(d),
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [api, id]);

  if (error) return <div className="detail"><div className="note note-error" role="alert">{error}</div></div>;
  if (!detail || detail.summary.id !== id) return <div className="detail"><div className="empty">{t('detail.loading', { id })}</div></div>;

  const s = detail.summary;
  const items = side === 'request' ? detail.request.items : detail.response.items;
  const rows: ItemRow[] = items.map((it, i) => ({ ...it, key: String(i) }));
  const tabs: [Tab, string][] = [
    ['messages', t('detail.tabs.messages')],
    ['items', t('detail.tabs.items', { count: detail.request.items.length + detail.response.items.length })],
    ['headers', t('detail.tabs.headers')],
    ['tls', t('detail.tabs.tls')],
    ...(detail.upstream ? ([['upstream', t('detail.tabs.upstream')]] as [Tab, string][]) : []),
    ['chain', detail.chain.length ? t('detail.tabs.chainCount', { count: detail.chain.length }) : t('detail.tabs.chain')],
  ];

  return (
    <div className="detail" data-testid="detail">
      <div className="detail-head">
        <div className="detail-title">
          {/* Two lines, each cut on its own: at 1024 px a long title (a refusal, a reply in fragments) pushed the device off the line. */}
          <div className="detail-line"><span className="muted">#{s.id}</span> <strong title={title(s, t)}>{title(s, t)}</strong></div>
          <div className="detail-line detail-meta muted" data-testid="detail-meta">
            {s.mac ? <a href={deviceHref(s.mac)} className="mono">{s.mac}</a> : t('detail.noMac')} · {s.kind === 'contact-me' ? <>→ <span className="mono">{s.peerAddress}:{s.peerPort}</span></> : <><span className="mono">{s.peerAddress}:{s.peerPort}</span> → :{s.localPort}</>} ({t(`list.mode.${s.listener}`, { defaultValue: s.listener })}) · {dateTime(s.started)} · {duration(s.ended - s.started)}
          </div>
        </div>
        <div className="detail-actions">
          {s.interactionId !== null ? <a className="btn btn-small" href={interactionHref(s.interactionId)}>{td('ladder')}</a> : null}
          {s.mac ? <a className="btn btn-small" href={timelineHref(s.mac)}>{td('timeline')}</a> : null}
          <CurlButton detail={detail} />
          <button type="button" className="btn btn-small" onClick={() => onExport('json')}>{exportCount > 1 ? t('detail.exportJsonCount', { count: exportCount }) : t('detail.exportJson')}</button>
          <button type="button" className="btn btn-small" onClick={() => onExport('har')}>{exportCount > 1 ? t('detail.exportHarCount', { count: exportCount }) : t('detail.exportHar')}</button>
        </div>
      </div>
      {/* A relayed exchange whose upstream failed was not refused: the DLS was not reached or did not answer (helper-81). */}
      {s.error ? (
        <div className="note note-error">
          {s.kind === 'tls-failure' || s.kind === 'contact-me' || s.httpStatus < 400 ? exchangeError(s) : detail.upstream?.failure ? t('detail.upstreamFailed', { error: exchangeError(s) }) : t('detail.refused', { error: exchangeError(s) })}
        </div>
      ) : null}
      {s.warning ? <div className="note note-warn">{s.kind === 'tls-failure' ? t('detail.hint', { hint: s.warning }) : exchangeWarning(s.warning)}</div> : null}
      <div className="tabs-inline" role="tablist">
        {tabs.map(([t, label]) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} className={tab === t ? 'on' : ''} onClick={() => setTab(t)}>{label}</button>
        ))}
      </div>
      <div className="detail-body">
        {tab === 'messages' ? (
          s.kind === 'tls-failure' ? (
            <div className="empty">{t('detail.noMessages')}</div>
          ) : (
            <div className="pair">
              <MessagePanel title={t('detail.request')} message={detail.request} />
              <MessagePanel title={t('detail.response')} message={detail.response} />
            </div>
          )
        ) : null}
        {tab === 'items' ? (
          <div className="items-tab">
            <div className="seg" role="tablist" aria-label={t('detail.whoseItems')}>
              <button type="button" role="tab" aria-selected={side === 'request'} className={side === 'request' ? 'on' : ''} onClick={() => setSide('request')}>
                {t('detail.phoneMessage', { count: detail.request.items.length })}
              </button>
              <button type="button" role="tab" aria-selected={side === 'response'} className={side === 'response' ? 'on' : ''} onClick={() => setSide('response')}>
                {detail.upstream ? t('detail.dlsAnswer', { count: detail.response.items.length }) : t('detail.ourAnswer', { count: detail.response.items.length })}
              </button>
            </div>
            <ItemTable
              key={`${id}-${side}`}
              rows={rows}
              showPosition
              emptyText={side === 'request' ? t('detail.noRequestItems') : t('detail.noResponseItems')}
              reveal={(row) => api.revealExchangeItem(id, side, Number(row.key))}
            />
          </div>
        ) : null}
        {tab === 'headers' ? (
          <div className="pair">
            <Headers title={t('detail.request')} m={detail.request} />
            <Headers title={t('detail.response')} m={detail.response} />
          </div>
        ) : null}
        {tab === 'tls' ? (
          <dl className="kv tls">
            <dt>{t('detail.tls.protocol')}</dt>
            <dd>
              {detail.tls.protocol ?? t('detail.tls.none')}
              {detail.tls.legacy ? <span className="badge badge-warn">{t('detail.tls.legacy')}</span> : null}
            </dd>
            <dt>{t('detail.tls.cipher')}</dt>
            <dd className="mono">{detail.tls.cipher ?? '—'}</dd>
            <dt>{t('detail.tls.listener')}</dt>
            <dd>{t('detail.tls.listenerOnPort', { listener: t(`list.mode.${s.listener}`, { defaultValue: s.listener }), port: s.localPort })}</dd>
            <dt>{t('detail.tls.peer')}</dt>
            <dd className="mono">{s.peerAddress}:{s.peerPort}</dd>
            {s.listener === 'secure' || detail.tls.clientCertificate ? <ClientCertificate detail={detail} /> : null}
            {s.kind === 'tls-failure' ? (
              <>
                <dt>{t('detail.tls.failure')}</dt>
                <dd>{s.error}</dd>
                {s.warning ? (<><dt>{t('detail.tls.hint')}</dt><dd>{s.warning}</dd></>) : null}
              </>
            ) : null}
          </dl>
        ) : null}
        {tab === 'upstream' && detail.upstream ? <UpstreamPanel upstream={detail.upstream} /> : null}
        {tab === 'tls' ? <KeyLogSetting /> : null}
        {tab === 'chain' ? <Chain detail={detail} onJump={onJump} /> : null}
      </div>
    </div>
  );
}
