/**
 * The live exchange list: a virtualised grid (fixed row height, only visible rows in the DOM),
 * one delegated mouse handler, keyboard selection (↑/↓, j/k, PgUp/PgDn, Home/End, Esc) and tail
 * mode: it follows new rows only while scrolled to the bottom; scrolling up stops that until the
 * user scrolls back down or presses "Jump to latest".
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import type { TFunction } from 'i18next';
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type CSSProperties, type KeyboardEvent, type MouseEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { ExchangeSummary } from '../../../shared/model';
import { bytes, clockTime, dateTime, duration, zoneLabel } from '../lib/format';

export const ROW_HEIGHT = 26;

export interface ExchangeListProps {
  rows: ExchangeSummary[];
  focusId: number | null;
  selected: ReadonlySet<number>;
  /** `range`: shift-click, `toggle`: ctrl/cmd-click. */
  onActivate: (id: number, how: 'single' | 'range' | 'toggle') => void;
  onClearSelection: () => void;
  emptyText: string;
  hasOlder: boolean;
  onLoadOlder: () => void;
}

function tlsShort(p: string | null): { text: string; legacy: boolean } {
  if (!p) return { text: '—', legacy: false };
  const legacy = p === 'TLSv1' || p === 'TLSv1.1';
  return { text: p.replace('TLSv', ''), legacy };
}

/** What the row says about the phone's message. */
function what(x: ExchangeSummary, t: TFunction<'traffic'>): { text: string; title?: string } {
  if (x.kind === 'tls-failure') return { text: x.error ?? t('list.handshakeFailed'), title: x.warning ?? undefined };
  if (x.kind === 'contact-me') return { text: `contact-me → ${x.path ?? ''}` };
  if (!x.reason) return { text: x.error ? x.error : `${x.method ?? ''} ${x.path ?? ''}`, title: x.error ?? undefined };
  let text = x.reason;
  if (x.replyAction) text += ` ${x.replyAction}`;
  return { text, title: x.error ?? undefined };
}

export function rowClass(x: ExchangeSummary): string {
  if (x.kind === 'tls-failure') return 'row-tls';
  if (x.httpStatus >= 400 || x.error) return 'row-error';
  if (x.replyStatus === 'failed' || x.replyStatus === 'busy') return 'row-failed';
  if (x.warning) return 'row-warn';
  return '';
}

function StatusCell({ x }: { x: ExchangeSummary }) {
  const { t } = useTranslation('traffic');
  if (x.kind === 'tls-failure') return <span className="st st-error">{t('list.tls')}</span>;
  const cls = x.httpStatus >= 500 ? 'st-error' : x.httpStatus >= 400 ? 'st-error' : x.httpStatus >= 200 && x.httpStatus < 300 ? 'st-ok' : 'st-other';
  return (
    <>
      <span className={`st ${cls}`}>{x.httpStatus || '—'}</span>
      {x.replyStatus ? <span className={`rs rs-${x.replyStatus === 'accepted' ? 'ok' : 'bad'}`}>{x.replyStatus}</span> : null}
    </>
  );
}

function Row({ x, index, focused, selected, style }: { x: ExchangeSummary; index: number; focused: boolean; selected: boolean; style: CSSProperties }) {
  const { t } = useTranslation('traffic');
  const w = what(x, t);
  const tls = tlsShort(x.tlsProtocol);
  // Failed handshakes and refusals have no answer Action: their message gets that column too.
  const wide = x.action === null && (x.kind === 'tls-failure' || x.error !== null);
  return (
    <div
      role="row"
      id={`x-${x.id}`}
      aria-rowindex={index + 2}
      aria-selected={selected}
      data-id={x.id}
      className={`xrow ${rowClass(x)} ${selected ? 'selected' : ''} ${focused ? 'focused' : ''}`}
      style={style}
    >
      <span role="gridcell" className="c-id">{x.id}</span>
      <span role="gridcell" className="c-time" title={dateTime(x.started)}>{clockTime(x.started)}</span>
      <span role="gridcell" className="c-mac mono">{x.mac ?? '—'}</span>
      <span role="gridcell" className="c-peer mono">{x.peerAddress}:{x.peerPort}</span>
      <span role="gridcell" className="c-port"><span className="mono">:{x.localPort}</span> <span className={`mode mode-${x.listener}`}>{t(`list.mode.${x.listener}`, { defaultValue: x.listener })}</span></span>
      <span role="gridcell" className={`c-what ${wide ? 'c-wide' : ''}`} title={w.title ?? w.text}>
        {x.kind === 'tls-failure' ? <span className="tag tag-tls">{t('list.tlsFailure')}</span> : null}
        {x.kind !== 'tls-failure' && x.error ? <span className="tag tag-error">{x.httpStatus >= 400 ? t('list.refused') : t('list.failed')}</span> : null}
        {w.text}
        {x.fragment === 'next' ? <span className="tag">{t('list.fragment')}</span> : null}
        {x.warning && x.kind !== 'tls-failure' ? <span className="tag tag-warn" title={x.warning}>⚠</span> : null}
      </span>
      {wide ? null : <span role="gridcell" className="c-action">{x.action ?? ''}</span>}
      <span role="gridcell" className="c-status"><StatusCell x={x} /></span>
      <span role="gridcell" className="c-items num">{x.kind === 'tls-failure' ? '' : x.itemCount}</span>
      <span role="gridcell" className="c-size num" title={t('list.sizeTitle', { request: x.requestBytes, response: x.responseBytes })}>
        {x.kind === 'tls-failure' ? '' : `${bytes(x.requestBytes)} / ${bytes(x.responseBytes)}`}
      </span>
      <span role="gridcell" className="c-dur num">{x.kind === 'tls-failure' ? '' : duration(x.ended - x.started)}</span>
      <span role="gridcell" className={`c-tls ${tls.legacy ? 'tls-legacy' : ''}`} title={x.tlsCipher ?? undefined}>
        {tls.text}
        {tls.legacy ? ` ${t('list.legacy')}` : ''}
      </span>
    </div>
  );
}

export function ExchangeList({ rows, focusId, selected, onActivate, onClearSelection, emptyText, hasOlder, onLoadOlder }: ExchangeListProps) {
  const { t } = useTranslation('traffic');
  const scrollRef = useRef<HTMLDivElement>(null);
  const [following, setFollowing] = useState(true);
  const followingRef = useRef(true);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 15,
    // Before the first measurement (and in tests, where nothing lays out) assume a usual pane.
    initialRect: { width: 1200, height: 420 },
  });

  const follow = useCallback((on: boolean) => {
    followingRef.current = on;
    setFollowing(on);
  }, []);

  // Tail mode: new rows scroll into view only while following.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (el && followingRef.current && rows.length > 0) el.scrollTop = el.scrollHeight;
  }, [rows.length]);

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    const atBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW_HEIGHT;
    if (atBottom !== followingRef.current) follow(atBottom);
  };

  const focusIndex = focusId === null ? -1 : rows.findIndex((r) => r.id === focusId);
  // Keep the focused row visible when it changes (keyboard, a jump from the interaction chain).
  useEffect(() => {
    if (focusIndex >= 0) virtualizer.scrollToIndex(focusIndex, { align: 'auto' });
  }, [focusIndex, virtualizer]);

  const move = (to: number) => {
    if (rows.length === 0) return;
    const i = Math.max(0, Math.min(rows.length - 1, to));
    if (i < rows.length - 1) follow(false);
    onActivate(rows[i]!.id, 'single');
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 400) / ROW_HEIGHT) - 1);
    const at = focusIndex < 0 ? rows.length : focusIndex;
    const keys: Record<string, () => void> = {
      ArrowDown: () => move(focusIndex < 0 ? 0 : at + 1),
      j: () => move(focusIndex < 0 ? 0 : at + 1),
      ArrowUp: () => move(at - 1),
      k: () => move(at - 1),
      PageDown: () => move(at + page),
      PageUp: () => move(at - page),
      Home: () => move(0),
      End: () => {
        move(rows.length - 1);
        follow(true);
      },
      Escape: () => onClearSelection(),
    };
    const action = keys[e.key];
    if (action && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      action();
    }
  };

  const onMouseDown = (e: MouseEvent<HTMLDivElement>) => {
    const row = (e.target as HTMLElement).closest<HTMLElement>('[data-id]');
    if (!row) return;
    onActivate(Number(row.dataset.id), e.shiftKey ? 'range' : e.ctrlKey || e.metaKey ? 'toggle' : 'single');
  };

  const jumpToLatest = () => {
    follow(true);
    const el = scrollRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  };

  const items = virtualizer.getVirtualItems();
  return (
    <div className="xlist">
      <div
        className="xgrid"
        role="grid"
        aria-label={t('list.label')}
        aria-rowcount={rows.length + 1}
        aria-activedescendant={focusId !== null && focusIndex >= 0 ? `x-${focusId}` : undefined}
        tabIndex={0}
        onKeyDown={onKeyDown}
      >
        <div role="row" className="xrow xhead" aria-rowindex={1}>
          <span role="columnheader" className="c-id">#</span>
          <span role="columnheader" className="c-time" title={t('list.col.timeTitle', { zone: zoneLabel() })}>{t('list.col.time')}</span>
          <span role="columnheader" className="c-mac">{t('list.col.device')}</span>
          <span role="columnheader" className="c-peer">{t('list.col.peer')}</span>
          <span role="columnheader" className="c-port">{t('list.col.port')}</span>
          <span role="columnheader" className="c-what">{t('list.col.reason')}</span>
          <span role="columnheader" className="c-action">{t('list.col.action')}</span>
          <span role="columnheader" className="c-status">{t('list.col.status')}</span>
          <span role="columnheader" className="c-items num">{t('list.col.items')}</span>
          <span role="columnheader" className="c-size num">{t('list.col.size')}</span>
          <span role="columnheader" className="c-dur num">{t('list.col.duration')}</span>
          <span role="columnheader" className="c-tls">{t('list.col.tls')}</span>
        </div>
        <div className="xscroll" ref={scrollRef} onScroll={onScroll} onMouseDown={onMouseDown} data-testid="exchange-scroll">
          {rows.length === 0 ? <div className="empty">{emptyText}</div> : null}
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {items.map((v) => {
              const x = rows[v.index]!;
              return (
                <Row
                  key={x.id}
                  x={x}
                  index={v.index}
                  focused={x.id === focusId}
                  selected={selected.has(x.id)}
                  style={{ position: 'absolute', top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${v.start}px)` }}
                />
              );
            })}
          </div>
        </div>
      </div>
      {hasOlder && !following ? (
        <button type="button" className="btn older" onClick={onLoadOlder}>{t('list.loadOlder')}</button>
      ) : null}
      {!following && rows.length > 0 ? (
        <button type="button" className="btn jump" onClick={jumpToLatest}>{t('list.jumpToLatest')}</button>
      ) : null}
    </div>
  );
}
