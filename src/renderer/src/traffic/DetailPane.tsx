/**
 * The selected exchange: request and response (pretty or raw), the item tables, headers, TLS and
 * the interaction chain it belongs to, from the first message to CleanUp.
 */
import { useEffect, useState } from 'react';
import type { ExchangeDetail, MessageView } from '../../../shared/api';
import type { ExchangeSummary } from '../../../shared/model';
import { useApi } from '../api/ApiContext';
import { ItemTable, type ItemRow } from '../common/ItemTable';
import { clockTime, dateTime, duration } from '../lib/format';
import { deviceHref } from '../lib/route';
import { MessagePanel } from './MessagePanel';
import { UpstreamPanel } from '../relay/UpstreamPanel';

type Tab = 'messages' | 'items' | 'headers' | 'tls' | 'upstream' | 'chain';

export interface DetailPaneProps {
  id: number;
  onJump: (id: number) => void;
  onExport: (format: 'json' | 'har') => void;
  exportCount: number;
}

function title(s: ExchangeSummary): string {
  if (s.kind === 'tls-failure') return 'TLS handshake failed';
  const phone = s.reason ? `${s.reason}${s.replyAction ? ` ${s.replyAction}${s.replyStatus ? `/${s.replyStatus}` : ''}` : ''}` : `${s.method ?? ''} ${s.path ?? ''}`;
  return `${phone} → ${s.action ?? `HTTP ${s.httpStatus}`}`;
}

function Headers({ title: t, m }: { title: string; m: MessageView }) {
  return (
    <section className="msg">
      <div className="msg-head"><strong>{t}</strong></div>
      <div className="code raw headers">
        {m.startLine ? <div className="line"><span className="lc x-name">{m.startLine}</span></div> : null}
        {m.headers.map(([k, v], i) => (
          <div className="line" key={i}>
            <span className="lc"><span className="x-attr">{k}</span>: {v}</span>
          </div>
        ))}
        {m.headers.length === 0 && !m.startLine ? <div className="empty">No HTTP (the TLS handshake failed before any request)</div> : null}
      </div>
    </section>
  );
}

function Chain({ detail, onJump }: { detail: ExchangeDetail; onJump: (id: number) => void }) {
  const { interaction, chain, summary } = detail;
  if (!interaction) return <div className="empty">This exchange belongs to no interaction (refused, or a failed handshake).</div>;
  return (
    <div className="chain">
      <p className="muted">
        Interaction #{interaction.id} · {interaction.reason ?? 'unknown reason'} · started {dateTime(interaction.started)}
        {interaction.ended ? ` · ended ${clockTime(interaction.ended)} (${interaction.endReason ?? 'ended'}, ${duration(interaction.ended - interaction.started)})` : ' · still open'}
      </p>
      <ol className="chain-list">
        {chain.map((x, i) => (
          <li key={x.id} className={x.id === summary.id ? 'current' : ''}>
            <button type="button" className="chain-step" onClick={() => onJump(x.id)} aria-current={x.id === summary.id ? 'step' : undefined}>
              <span className="chain-n">{i + 1}</span>
              <span className="mono muted">{clockTime(x.started)}</span>
              <span className="chain-phone">{x.reason}{x.replyAction ? ` ${x.replyAction}` : ''}{x.replyStatus ? `/${x.replyStatus}` : ''}{x.fragment === 'next' ? ' (fragment)' : ''}</span>
              <span className="chain-arrow">→</span>
              <span className="chain-answer">{x.action ?? `HTTP ${x.httpStatus}`}</span>
              <span className="muted">{x.itemCount} items · #{x.id}</span>
            </button>
          </li>
        ))}
      </ol>
    </div>
  );
}

export function DetailPane({ id, onJump, onExport, exportCount }: DetailPaneProps) {
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
      (e: unknown) => live && setError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [api, id]);

  if (error) return <div className="detail"><div className="note note-error">{error}</div></div>;
  if (!detail || detail.summary.id !== id) return <div className="detail"><div className="empty">Loading #{id}…</div></div>;

  const s = detail.summary;
  const items = side === 'request' ? detail.request.items : detail.response.items;
  const rows: ItemRow[] = items.map((it, i) => ({ ...it, key: String(i) }));
  const tabs: [Tab, string][] = [
    ['messages', 'Messages'],
    ['items', `Items (${detail.request.items.length + detail.response.items.length})`],
    ['headers', 'Headers'],
    ['tls', 'TLS'],
    ...(detail.upstream ? ([['upstream', 'Upstream']] as [Tab, string][]) : []),
    ['chain', `Interaction${detail.chain.length ? ` (${detail.chain.length})` : ''}`],
  ];

  return (
    <div className="detail" data-testid="detail">
      <div className="detail-head">
        <div className="detail-title">
          <span className="muted">#{s.id}</span> <strong>{title(s)}</strong>
          <span className="muted">
            {' · '}
            {s.mac ? <a href={deviceHref(s.mac)} className="mono">{s.mac}</a> : 'no MAC'} · <span className="mono">{s.peerAddress}:{s.peerPort}</span> → :{s.localPort} ({s.listener}) · {dateTime(s.started)} · {duration(s.ended - s.started)}
          </span>
        </div>
        <div className="detail-actions">
          <button type="button" className="btn btn-small" onClick={() => onExport('json')}>Export JSON{exportCount > 1 ? ` (${exportCount})` : ''}</button>
          <button type="button" className="btn btn-small" onClick={() => onExport('har')}>Export HAR{exportCount > 1 ? ` (${exportCount})` : ''}</button>
        </div>
      </div>
      {s.error ? <div className="note note-error">{s.kind === 'tls-failure' ? '' : 'Refused: '}{s.error}</div> : null}
      {s.warning ? <div className="note note-warn">{s.kind === 'tls-failure' ? 'Hint: ' : ''}{s.warning}</div> : null}
      <div className="tabs-inline" role="tablist">
        {tabs.map(([t, label]) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} className={tab === t ? 'on' : ''} onClick={() => setTab(t)}>{label}</button>
        ))}
      </div>
      <div className="detail-body">
        {tab === 'messages' ? (
          s.kind === 'tls-failure' ? (
            <div className="empty">No messages: the connection failed during the TLS handshake, before any HTTP.</div>
          ) : (
            <div className="pair">
              <MessagePanel title="Request" message={detail.request} />
              <MessagePanel title="Response" message={detail.response} />
            </div>
          )
        ) : null}
        {tab === 'items' ? (
          <div className="items-tab">
            <div className="seg" role="tablist" aria-label="Whose items">
              <button type="button" role="tab" aria-selected={side === 'request'} className={side === 'request' ? 'on' : ''} onClick={() => setSide('request')}>
                Phone's message ({detail.request.items.length})
              </button>
              <button type="button" role="tab" aria-selected={side === 'response'} className={side === 'response' ? 'on' : ''} onClick={() => setSide('response')}>
                {detail.upstream ? 'The DLS\'s answer' : 'Our answer'} ({detail.response.items.length})
              </button>
            </div>
            <ItemTable
              key={`${id}-${side}`}
              rows={rows}
              showPosition
              emptyText={side === 'request' ? 'The phone sent no items in this message.' : 'The answer carries no items.'}
              reveal={(row) => api.revealExchangeItem(id, side, Number(row.key))}
            />
          </div>
        ) : null}
        {tab === 'headers' ? (
          <div className="pair">
            <Headers title="Request" m={detail.request} />
            <Headers title="Response" m={detail.response} />
          </div>
        ) : null}
        {tab === 'tls' ? (
          <dl className="kv tls">
            <dt>Protocol</dt>
            <dd>
              {detail.tls.protocol ?? 'none (handshake failed)'}
              {detail.tls.legacy ? <span className="badge badge-warn">legacy: old firmware; needs --tls legacy</span> : null}
            </dd>
            <dt>Cipher</dt>
            <dd className="mono">{detail.tls.cipher ?? '—'}</dd>
            <dt>Listener</dt>
            <dd>{s.listener} on port {s.localPort}</dd>
            <dt>Peer</dt>
            <dd className="mono">{s.peerAddress}:{s.peerPort}</dd>
            {s.kind === 'tls-failure' ? (
              <>
                <dt>Failure</dt>
                <dd>{s.error}</dd>
                {s.warning ? (<><dt>Hint</dt><dd>{s.warning}</dd></>) : null}
              </>
            ) : null}
          </dl>
        ) : null}
        {tab === 'upstream' && detail.upstream ? <UpstreamPanel upstream={detail.upstream} /> : null}
        {tab === 'chain' ? <Chain detail={detail} onJump={onJump} /> : null}
      </div>
    </div>
  );
}
