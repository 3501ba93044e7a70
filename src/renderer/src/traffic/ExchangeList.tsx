/**
 * The live exchange list: a virtualised grid (fixed row height, only visible rows in the DOM),
 * one delegated mouse handler, keyboard selection (↑/↓, j/k, PgUp/PgDn, Home/End, Esc) and tail
 * mode: it follows new rows only while scrolled to the bottom; scrolling up stops that until the
 * user scrolls back down or presses "Jump to latest".
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import type { TFunction } from 'i18next';
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type CSSProperties, type KeyboardEvent, type MouseEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { ExchangeSummary } from '../../../shared/model';
import { ColumnChooser } from '../common/ColumnChooser';
import { i18next } from '../i18n';
import type { AnyT } from '../lib/phrase';
import { exchangeWarning } from '../lib/exchange-warning';
import { exchangeError } from '../lib/exchange-error';
import { isRelayFailure } from '../lib/relay-failure';
import { fitColumns, useColumnChoice, useColumnRoom, type ColumnLayout, type ColumnSpec } from '../lib/columns';
import { bytes, clockTime, count as formatCount, dateTime, duration, zoneLabel } from '../lib/format';
import '../ladder/inspector.css';

export const ROW_HEIGHT = 26;
/** Room under the last row for the controls floating over the list's foot (Columns, Jump to latest). */
const FOOT_ROOM = 40;

/**
 * The list's columns: width in px (the reason takes the rest), header, and how a click on the
 * header sorts. Each fixed width holds its column's usual contents whole in a wide UI font
 * (DejaVu Sans, Linux's default; measured in Chromium): a seven-digit number, a time, a MAC, an
 * IPv4 address and port, "→:8085 contact-me", "SoftwareDeployment", "200 10 abgelehnt", "1.0 Legacy";
 * Duration is as wide as its header.
 */
const COLUMNS = [
  { key: 'id', width: 72, label: '#', sort: (x: ExchangeSummary) => x.id },
  { key: 'time', width: 102, label: 'Time', sort: (x: ExchangeSummary) => x.started },
  { key: 'mac', width: 136, label: 'Device', sort: (x: ExchangeSummary) => x.mac ?? '' },
  { key: 'peer', width: 156, label: 'Peer', sort: (x: ExchangeSummary) => x.peerAddress },
  { key: 'port', width: 128, label: 'Port · mode', sort: (x: ExchangeSummary) => `${x.listener}:${x.localPort}` },
  { key: 'what', width: 0, label: 'Reason', sort: (x: ExchangeSummary) => what(x, i18next.getFixedT(null, 'traffic')).text },
  { key: 'action', width: 150, label: 'Action', sort: (x: ExchangeSummary) => x.action ?? '' },
  { key: 'status', width: 130, label: 'Status', sort: (x: ExchangeSummary) => x.httpStatus * 10 + (x.replyStatus === 'accepted' && !x.refusedItems ? 0 : x.replyStatus || x.refusedItems ? 1 : 0) },
  { key: 'items', width: 60, label: 'Items', sort: (x: ExchangeSummary) => x.itemCount },
  { key: 'size', width: 116, label: 'Size', sort: (x: ExchangeSummary) => x.requestBytes + x.responseBytes },
  { key: 'dur', width: 88, label: 'Time', sort: (x: ExchangeSummary) => x.ended - x.started },
  { key: 'tls', width: 80, label: 'TLS', sort: (x: ExchangeSummary) => x.tlsProtocol ?? '' },
] as const;
export type ColumnKey = (typeof COLUMNS)[number]['key'];
/** Column headings in the UI's language (traffic namespace, list.col.*). */
const COLUMN_KEYS: Record<ColumnKey, string | null> = { id: null, time: 'time', mac: 'device', peer: 'peer', port: 'port', what: 'reason', action: 'action', status: 'status', items: 'items', size: 'size', dur: 'duration', tls: 'tls' };
function columnLabel(key: ColumnKey, t: TFunction<'traffic'>): string {
  const k = COLUMN_KEYS[key];
  return k === null ? '#' : t(`list.col.${k}` as never);
}
/** The longer name, in tooltips and the column chooser: "Time" is both the start and the duration. */
function columnTitle(key: ColumnKey, t: TFunction<'traffic'>): string {
  return key === 'time' ? t('list.col.timeTitle', { zone: zoneLabel() }) : columnLabel(key, t);
}
/** The reason's least room: the longest a phone sends, "reply-to SoftwareDeployment", whole. */
export const REASON_MIN = 204;

/**
 * Where the columns do not fit beside the reason's least room, these give way, first to last: the
 * measurements (size, duration), then the peer's address, the item count, TLS, the port and the
 * time, each also in the detail pane. The Columns menu brings one back (pinned: others give way).
 * The number and the reason are never hidden.
 */
const SPEC: ColumnSpec<ColumnKey> = {
  columns: COLUMNS,
  flexMin: REASON_MIN,
  always: new Set(['id', 'what']),
  giveWay: ['size', 'dur', 'peer', 'items', 'tls', 'port', 'time'],
  hiddenKey: 'localdls.traffic.hiddenColumns',
  pinnedKey: 'localdls.traffic.shownColumns',
};

/** The traffic list's columns for `room` px (lib/columns.ts fitColumns). */
export function layoutColumns(room: number | null, hidden: ReadonlySet<ColumnKey>, pinned: ReadonlySet<ColumnKey>): ColumnLayout<ColumnKey> {
  return fitColumns(SPEC, room, hidden, pinned);
}

export interface SortOrder {
  key: ColumnKey;
  descending: boolean;
}

/** The rows in the chosen order (stable; ties keep arrival order), or as they came. */
export function sortRows(rows: readonly ExchangeSummary[], order: SortOrder | null): readonly ExchangeSummary[] {
  if (!order) return rows;
  const value = COLUMNS.find((c) => c.key === order.key)!.sort;
  const sign = order.descending ? -1 : 1;
  return rows
    .map((x, i) => ({ x, i, v: value(x) }))
    .sort((a, b) => (a.v < b.v ? -sign : a.v > b.v ? sign : a.i - b.i))
    .map((e) => e.x);
}

/** The keys the list moves by (ExchangeList onKeyDown), taken from the page when nothing has the focus. */
const LIST_KEYS = new Set(['ArrowDown', 'ArrowUp', 'j', 'k', 'PageDown', 'PageUp', 'Home', 'End']);

export interface ExchangeListProps {
  rows: ExchangeSummary[];
  focusId: number | null;
  selected: ReadonlySet<number>;
  /** `range`: shift-click, `toggle`: ctrl/cmd-click. */
  onActivate: (id: number, how: 'single' | 'range' | 'toggle') => void;
  onClearSelection: () => void;
  emptyText: string;
  hasOlder: boolean;
  /** As many rows as the list keeps: "Load older" says so instead. */
  full?: boolean;
  onLoadOlder: () => void;
  /** Following the live end (true) or not (scrolled up, sorted). */
  onFollowing?: (following: boolean) => void;
}

function tlsShort(p: string | null): { text: string; legacy: boolean } {
  if (!p) return { text: '—', legacy: false };
  const legacy = p === 'TLSv1' || p === 'TLSv1.1';
  return { text: p.replace('TLSv', ''), legacy };
}

/** What the row says about the phone's message; an error in the UI's language where the service's words are known (exchangeError). */
function what(x: ExchangeSummary, t: TFunction<'traffic'>): { text: string; title?: string } {
  if (x.kind === 'tls-failure') return { text: x.error ?? t('list.handshakeFailed'), title: x.warning ?? undefined };
  if (x.kind === 'contact-me') return { text: `contact-me → ${x.path ?? ''}` };
  const error = exchangeError(x, t as AnyT) ?? undefined;
  if (!x.reason) return { text: error ?? `${x.method ?? ''} ${x.path ?? ''}`, title: error };
  let text = x.reason;
  if (x.replyAction) text += ` ${x.replyAction}`;
  return { text, title: error };
}

/**
 * The tag of an exchange with an error: a relay's failure (the DLS unreachable, no answer, a
 * loop) was not refused by anyone, the message just went no further; a 4xx/5xx of our own is a
 * refusal; below 400, the exchange failed after its answer.
 */
function errorTag(x: ExchangeSummary, t: TFunction<'traffic'>): string {
  if (x.error !== null && isRelayFailure(x.error)) return t('list.notRelayed');
  return x.httpStatus >= 400 ? t('list.refused') : t('list.failed');
}

/**
 * The port of the row's "Port · mode" column: the listener's, where a phone connected; for a
 * contact-me, which LocalDLS sends, the phone's (`→:8085`): no port of ours is recorded for it.
 */
export function portOf(x: Pick<ExchangeSummary, 'kind' | 'localPort' | 'peerPort'>): string {
  return x.kind === 'contact-me' ? `→:${x.peerPort}` : `:${x.localPort}`;
}

export function rowClass(x: ExchangeSummary): string {
  if (x.kind === 'tls-failure') return 'row-tls';
  if (x.httpStatus >= 400 || x.error) return 'row-error';
  if (x.replyStatus === 'failed' || x.refusedItems > 0) return 'row-failed';
  if (x.replyStatus === 'busy') return 'row-busy';
  if (x.warning) return 'row-warn';
  return '';
}

/** The reply status's pill: accepted, busy (a warning: the phone is in a call) or failed. */
export function replyStatusClass(status: string): string {
  return `rs rs-${status === 'accepted' ? 'ok' : status === 'busy' ? 'busy' : 'bad'}`;
}

/**
 * The reply's pill: its status, or, where the phone refused items of a write inside an "accepted"
 * reply (manual p.82–83), how many: the write failed, and a green "accepted" said otherwise.
 */
export function ReplyStatusPill({ x }: { x: Pick<ExchangeSummary, 'replyStatus' | 'refusedItems'> }) {
  const { t } = useTranslation('traffic');
  if (x.refusedItems > 0) {
    return <span className="rs rs-bad" title={t('list.refusedItemsTitle', { count: x.refusedItems, status: x.replyStatus ?? '' })}>{t('list.refusedItems', { count: x.refusedItems })}</span>;
  }
  return x.replyStatus ? <span className={replyStatusClass(x.replyStatus)}>{x.replyStatus}</span> : null;
}

function StatusCell({ x, t }: { x: ExchangeSummary; t: TFunction<'traffic'> }) {
  if (x.kind === 'tls-failure') return <span className="st st-error">{t('list.tls')}</span>;
  const cls = x.httpStatus >= 500 ? 'st-error' : x.httpStatus >= 400 ? 'st-error' : x.httpStatus >= 200 && x.httpStatus < 300 ? 'st-ok' : 'st-other';
  return (
    <>
      <span className={`st ${cls}`}>{x.httpStatus || '—'}</span>
      <ReplyStatusPill x={x} />
    </>
  );
}

interface RowProps {
  x: ExchangeSummary;
  index: number;
  focused: boolean;
  selected: boolean;
  /** The grid's columns (one object for all rows) and where the row sits. */
  template: CSSProperties;
  top: number;
  hidden: ReadonlySet<ColumnKey>;
  t: TFunction<'traffic'>;
}

/**
 * One row; memoised, so scrolling renders only the rows that come into view and a selection
 * change only the rows whose state changes. The translator comes from the list (one subscription
 * to language changes, not one per row).
 */
const Row = memo(function Row({ x, index, focused, selected, template, top, hidden, t }: RowProps) {
  const style: CSSProperties = { ...template, position: 'absolute', top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${top}px)` };
  const w = what(x, t);
  const tls = tlsShort(x.tlsProtocol);
  const show = (k: ColumnKey) => !hidden.has(k);
  // Failed handshakes and refusals have no answer Action: their message gets that column too.
  const wide = show('action') && x.action === null && (x.kind === 'tls-failure' || x.error !== null);
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
      {show('time') ? (<span role="gridcell" className="c-time" title={dateTime(x.started)}>{clockTime(x.started)}</span>) : null}
      {show('mac') ? (<span role="gridcell" className="c-mac mono">{x.mac ?? '—'}</span>) : null}
      {show('peer') ? (<span role="gridcell" className="c-peer mono" title={`${x.peerAddress}:${x.peerPort}`}>{x.peerAddress}:{x.peerPort}</span>) : null}
      {show('port') ? (<span role="gridcell" className="c-port"><span className="mono">{portOf(x)}</span> <span className={`mode mode-${x.listener}`}>{t(`list.mode.${x.listener}`, { defaultValue: x.listener })}</span></span>) : null}
      <span role="gridcell" className={`c-what ${wide ? 'c-wide' : ''}`} title={w.title ?? w.text}>
        {x.kind === 'tls-failure' ? <span className="tag tag-tls">{t('list.tlsFailure')}</span> : null}
        {x.kind !== 'tls-failure' && x.error ? <span className="tag tag-error">{errorTag(x, t)}</span> : null}
        <span className="what-text">{w.text}</span>
        {/* Beside an answer of GetNextFragment it says nothing more, and it took the reason's room. */}
        {x.fragment === 'next' && !(show('action') && x.action === 'GetNextFragment') ? <span className="tag">{t('list.fragment')}</span> : null}
        {x.warning && x.kind !== 'tls-failure' ? <span className="tag tag-warn" title={exchangeWarning(x.warning, t as AnyT)}>⚠</span> : null}
      </span>
      {wide || !show('action') ? null : <span role="gridcell" className="c-action">{x.action ?? ''}</span>}
      {show('status') ? (<span role="gridcell" className="c-status"><StatusCell x={x} t={t} /></span>) : null}
      {show('items') ? (<span role="gridcell" className="c-items num">{x.kind === 'tls-failure' ? '' : x.itemCount}</span>) : null}
      {show('size') ? (
        <span role="gridcell" className="c-size num" title={t('list.sizeTitle', { request: x.requestBytes, response: x.responseBytes })}>
          {x.kind === 'tls-failure' ? '' : `${bytes(x.requestBytes)} / ${bytes(x.responseBytes)}`}
        </span>
      ) : null}
      {show('dur') ? (<span role="gridcell" className="c-dur num">{x.kind === 'tls-failure' ? '' : duration(x.ended - x.started)}</span>) : null}
      {show('tls') ? (
        <span role="gridcell" className={`c-tls ${tls.legacy ? 'tls-legacy' : ''}`} title={x.tlsCipher ?? undefined}>
          {tls.text}
          {tls.legacy ? ` ${t('list.legacy')}` : ''}
        </span>
      ) : null}
    </div>
  );
});

export function ExchangeList({ rows: arrived, focusId, selected, onActivate, onClearSelection, emptyText, hasOlder, full = false, onLoadOlder, onFollowing }: ExchangeListProps) {
  const { t } = useTranslation('traffic');
  const { t: td } = useTranslation('detail');
  const scrollRef = useRef<HTMLDivElement>(null);
  const measured = useColumnRoom(scrollRef);
  const { layout, choose } = useColumnChoice(SPEC, measured?.room ?? null);
  // One set and one template while the columns stay (the rows are memoised on them), however the width moves.
  const shownKey = layout.shown.join(' ');
  const fits = layout.fits;
  const { hidden, template } = useMemo(() => {
    const shown = new Set(shownKey.split(' '));
    return {
      hidden: new Set<ColumnKey>(COLUMNS.filter((c) => !shown.has(c.key)).map((c) => c.key)),
      // Columns asked for that leave the reason less than its room: it gives way (cut, its title whole).
      template: { gridTemplateColumns: COLUMNS.filter((c) => shown.has(c.key)).map((c) => (c.key === 'what' ? `minmax(${fits ? REASON_MIN : 0}px, 1fr)` : `${c.width}px`)).join(' ') },
    };
  }, [shownKey, fits]);
  const [order, setOrder] = useState<SortOrder | null>(null);
  const rows = useMemo(() => sortRows(arrived, order), [arrived, order]);
  /** A column checked or unchecked in the Columns menu: hidden, the list is no longer sorted by it. */
  const chooseColumn = (key: ColumnKey, show: boolean) => {
    choose(key, show);
    if (order && !show && order.key === key) setOrder(null);
  };
  /** A header click: ascending, then descending, then back to arrival order (which follows live). */
  const sortBy = (key: ColumnKey) => {
    const next: SortOrder | null = order?.key !== key ? { key, descending: false } : !order.descending ? { key, descending: true } : null;
    if (next) sortInto(next);
    else arrivalOrder();
  };
  const [following, setFollowing] = useState(true);
  const followingRef = useRef(true);
  /** Rows rendered by the last pass (-1: render the end's rows next, as when rows are added). */
  const renderedCount = useRef(0);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 15,
    paddingEnd: FOOT_ROOM,
    // Before the first measurement (and in tests, where nothing lays out) assume the window: the
    // measurement then drops the rows drawn too many, where too few would leave the pane half
    // empty until the list rendered the missing ones.
    initialRect: { width: window.innerWidth || 1200, height: window.innerHeight || 420 },
  });

  const onFollowingRef = useRef(onFollowing);
  onFollowingRef.current = onFollowing;
  const follow = useCallback((on: boolean) => {
    followingRef.current = on;
    setFollowing(on);
    onFollowingRef.current?.(on);
  }, []);
  // A list shown again starts at the live end: the feed it comes back to may think it is read.
  useEffect(() => onFollowingRef.current?.(followingRef.current), []);
  // A new order starts at its first row (the list may have been at its live bottom: "ascending"
  // then showed the largest values); arrival order goes back to the bottom and follows live.
  const sortInto = (next: SortOrder) => {
    setOrder(next);
    follow(false);
    if (scrollRef.current) scrollRef.current.scrollTop = 0;
  };
  /** To the end, the room under the last row included, and following (End, Jump to latest). */
  const toLatest = () => {
    follow(true);
    const el = scrollRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  };
  const arrivalOrder = () => {
    setOrder(null);
    follow(true);
    // The next pass renders the end's rows and moves the element there (as when rows are added).
    renderedCount.current = -1;
  };

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    const atBottom = order === null && el.scrollTop + el.clientHeight >= el.scrollHeight - ROW_HEIGHT;
    if (atBottom !== followingRef.current) follow(atBottom);
  };

  const focusIndex = focusId === null ? -1 : rows.findIndex((r) => r.id === focusId);
  // Keep the focused row visible on a new focus (keyboard, a jump from the interaction chain), when
  // it arrives, or in a new order. Not when only its index shifts (rows let go above it while
  // following would pull the list back to it); not on the way back to arrival order, which goes to
  // the live end; and not for the last row while following: the list is at its end already, and
  // scrolled into view from an offset the virtualizer had not read back yet, the row stopped at the
  // pane's foot, short of the room under it, and following stopped. (The last index is read, not a
  // dependency: a live row must not scroll the list back to the focused one.)
  const lastIndex = useRef(0);
  lastIndex.current = rows.length - 1;
  const focusShown = focusIndex >= 0;
  const focusOrder = useRef(order);
  useEffect(() => {
    const backToArrival = focusOrder.current !== null && order === null;
    focusOrder.current = order;
    if (backToArrival) return;
    if (focusIndex >= 0 && !(focusIndex === lastIndex.current && followingRef.current)) virtualizer.scrollToIndex(focusIndex, { align: 'auto' });
  }, [focusId, focusShown, order, virtualizer]);

  const move = (to: number) => {
    if (rows.length === 0) return;
    const i = Math.max(0, Math.min(rows.length - 1, to));
    onActivate(rows[i]!.id, 'single');
    // The last row reached by the keyboard is the end: the room under it shown too, and following
    // (scrolled into view alone, it stopped short of the end and following stopped).
    if (i < rows.length - 1) follow(false);
    else toLatest();
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
      End: () => move(rows.length - 1),
      Escape: () => onClearSelection(),
    };
    const action = keys[e.key];
    if (action && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      action();
    }
  };

  // With nothing focused (the view just opened, or after a click on empty space), the list's keys
  // reach the list, as the empty detail pane's hint promises; typing in a field or a dialog keeps them.
  const gridRef = useRef<HTMLDivElement>(null);
  const keyHandler = useRef(onKeyDown);
  keyHandler.current = onKeyDown;
  useEffect(() => {
    const onWindowKey = (e: globalThis.KeyboardEvent) => {
      if (e.target !== document.body || !LIST_KEYS.has(e.key) || e.altKey || e.ctrlKey || e.metaKey) return;
      if (document.querySelector('[role="dialog"]') || !gridRef.current) return;
      gridRef.current.focus();
      keyHandler.current(e as unknown as KeyboardEvent<HTMLDivElement>);
    };
    window.addEventListener('keydown', onWindowKey);
    return () => window.removeEventListener('keydown', onWindowKey);
  }, []);

  const onMouseDown = (e: MouseEvent<HTMLDivElement>) => {
    const row = (e.target as HTMLElement).closest<HTMLElement>('[data-id]');
    if (!row) return;
    onActivate(Number(row.dataset.id), e.shiftKey ? 'range' : e.ctrlKey || e.metaKey ? 'toggle' : 'single');
  };


  // Tail mode (never while sorted): following the live end, this pass renders the end's rows when
  // rows are added (rendering them at the old offset and scrolling after would render them twice;
  // the first screen paid both), and when the pane's size changes while nobody has scrolled since
  // (the window's size was a guess before the first measurement; a resized window keeps the tail
  // in view). The layout effect below then moves the element to the same end, so what is rendered
  // is what is shown.
  const endShown = useRef<number | null>(null);
  const pinToEnd = useRef(false);
  const added = rows.length !== renderedCount.current;
  renderedCount.current = rows.length;
  if (followingRef.current && order === null && rows.length > 0) {
    const end = Math.max(0, virtualizer.getTotalSize() - (virtualizer.scrollRect?.height ?? window.innerHeight));
    if ((added || virtualizer.scrollOffset === endShown.current) && virtualizer.scrollOffset !== end) {
      virtualizer.scrollOffset = end;
      pinToEnd.current = true;
    }
    // At the end now (moved there, or a growing pane clamped the scroll position to it): a resize
    // before the next scroll keeps it there.
    if (virtualizer.scrollOffset === end) endShown.current = end;
  }
  // Not following, rows added or let go above the ones on screen ("Load older", the rest of the
  // first page, the oldest past the list's limit) leave the rows on screen where they are: the
  // top row keeps its place. Sorted, rows land anywhere and the list stays as it is.
  const shown = useRef({ rows, order });
  const keepOffset = useRef<number | null>(null);
  if (shown.current.rows !== rows) {
    const before = shown.current;
    const offset = virtualizer.scrollOffset;
    if (!followingRef.current && order === null && before.order === null && before.rows.length > 0 && offset !== null) {
      const at = Math.min(before.rows.length - 1, Math.floor(offset / ROW_HEIGHT));
      const id = before.rows[at]!.id;
      const now = rows[at]?.id === id ? at : rows.findIndex((r) => r.id === id);
      if (now >= 0 && now !== at) {
        virtualizer.scrollOffset = offset + (now - at) * ROW_HEIGHT;
        keepOffset.current = virtualizer.scrollOffset;
      }
    }
  }
  shown.current = { rows, order };
  // Any change of the pane's size while following keeps the end in view: the virtualizer renders
  // again only when the rows shown change, so a small shrink (or a grow and a shrink within one
  // frame) would otherwise leave the newest row under the list's foot.
  const orderRef = useRef(order);
  orderRef.current = order;
  useEffect(() => {
    const el = scrollRef.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (followingRef.current && orderRef.current === null) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  useLayoutEffect(() => {
    const keep = keepOffset.current;
    keepOffset.current = null;
    if (keep !== null && scrollRef.current && !followingRef.current) scrollRef.current.scrollTop = keep;
  });
  useLayoutEffect(() => {
    if (!pinToEnd.current) return;
    pinToEnd.current = false;
    const el = scrollRef.current;
    if (el && followingRef.current) el.scrollTop = el.scrollHeight;
  });
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
        ref={gridRef}
        onKeyDown={onKeyDown}
      >
        <div role="row" className="xrow xhead" aria-rowindex={1} style={measured ? { ...template, paddingRight: measured.scrollbar } : template}>
          {COLUMNS.filter((c) => !hidden.has(c.key)).map((c) => (
            <span
              key={c.key}
              role="columnheader"
              className={`c-${c.key}${['items', 'size', 'dur'].includes(c.key) ? ' num' : ''}`}
              aria-sort={order?.key === c.key ? (order.descending ? 'descending' : 'ascending') : 'none'}
            >
              <button type="button" className="sort-button" onClick={() => sortBy(c.key)} title={td('sortBy', { column: columnTitle(c.key, t) })}>
                <span className="sort-label">{columnLabel(c.key, t)}</span>
                {/* Outside the label: a narrow column cuts the label, never the direction. */}
                {order?.key === c.key ? <span className="sort-arrow" aria-hidden="true">{order.descending ? '▼' : '▲'}</span> : null}
              </button>
            </span>
          ))}
        </div>
        {/* Focusable so a keyboard user can scroll it (axe scrollable-region-focusable); keys bubble to the grid. */}
        <div className="xscroll" role="rowgroup" aria-label={t('list.rows')} tabIndex={0} ref={scrollRef} onScroll={onScroll} onMouseDown={onMouseDown} data-testid="exchange-scroll">
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
                  hidden={hidden}
                  template={template}
                  top={v.start}
                  t={t}
                />
              );
            })}
          </div>
        </div>
      </div>
      <ColumnChooser
        columns={COLUMNS.filter((c) => !SPEC.always.has(c.key)).map((c) => ({ key: c.key, label: c.key === 'dur' ? t('list.col.duration') : columnTitle(c.key, t) }))}
        shown={layout.shown}
        legend={td('columnsLegend')}
        onChange={chooseColumn}
      />
      {order ? (
        <button type="button" className="btn btn-small sort-reset" onClick={arrivalOrder}>{td('arrivalOrder')}</button>
      ) : null}
      {hasOlder && !following ? (
        <button type="button" className="btn older" onClick={onLoadOlder} disabled={full} title={full ? t('list.loadOlderFull', { count: formatCount(rows.length) }) : undefined}>
          {t('list.loadOlder')}
        </button>
      ) : null}
      {/* Sorted, the latest is not at the end: "Arrival order" is the way back to it (and in its place). */}
      {!following && order === null && rows.length > 0 ? (
        <button type="button" className="btn jump" onClick={toLatest}>{t('list.jumpToLatest')}</button>
      ) : null}
    </div>
  );
}
