/** The traffic page: filter bar and toolbar, the live list, and the detail of the focused exchange. */
import { lazy, Suspense, useCallback, useEffect, useRef, useState, useSyncExternalStore, type KeyboardEvent as ReactKeyboardEvent, type MouseEvent as ReactMouseEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { ExchangeFilter } from '../../../shared/api';
import { useApi } from '../api/ApiContext';
import { downloadText } from '../lib/download';
import { clockTime, count } from '../lib/format';
import { href, parseRoute, type Route } from '../lib/route';
import { ExchangeList } from './ExchangeList';
import { FilterBar } from './FilterBar';
import { SavedFilters } from './SavedFilters';
import { isUnfiltered, type TrafficFeed } from './traffic-feed';
import { errorText } from '../lib/api-error';
import { exportNotice } from './export-notice';
import { clampShare, DEFAULT_SHARE, loadShare, MAX_SHARE, MIN_SHARE, saveShare, shareForKey } from '../lib/split-share';

// The detail of an exchange loads when one is first opened: the list comes first.
const DetailPane = lazy(() => import('./DetailPane').then((m) => ({ default: m.DetailPane })));

export function TrafficView({ feed, route }: { feed: TrafficFeed; route: Route }) {
  const { t } = useTranslation('traffic');
  const api = useApi();
  const state = useSyncExternalStore(feed.subscribe, feed.getState);
  // Links from other views: #/traffic?device=…&focus=… (the focus from the first render on, so
  // that writing it back below never drops it first).
  const deviceParam = route.params.get('device');
  const focusParam = route.params.get('focus');
  const linkedFocus = focusParam !== null && /^\d+$/.test(focusParam) ? Number(focusParam) : null;
  const [focusId, setFocusId] = useState<number | null>(linkedFocus);
  const [selected, setSelected] = useState<ReadonlySet<number>>(() => new Set(linkedFocus === null ? [] : [linkedFocus]));
  const anchor = useRef<number | null>(null);
  const [share, setShare] = useState(loadShare);
  const [notice, setNotice] = useState<string | null>(null);

  // The address this view wrote last (below): a route change to it is this view's own, not a link.
  const written = useRef<string | null>(null);
  useEffect(() => {
    // Some environments report a replaced address as a hash change (happy-dom does; browsers do not).
    if (written.current !== null && window.location.hash === written.current) return;
    // A device's traffic, all of it: an earlier "Clear" must not make it look empty.
    if (deviceParam !== null) feed.setFilter({ device: deviceParam }, { showCleared: true });
    if (linkedFocus !== null) {
      setFocusId(linkedFocus);
      setSelected(new Set([linkedFocus]));
    }
  }, [feed, deviceParam, linkedFocus]);

  // The focused exchange goes into the address, replaced (no history entry of its own): Back from
  // its ladder, timeline or device page comes back to it (helper-81: the selection was lost).
  useEffect(() => {
    const now = parseRoute(window.location.hash);
    if (now.view !== 'traffic') return;
    const params = Object.fromEntries(now.params);
    if (focusId === null) delete params.focus;
    else params.focus = String(focusId);
    const next = href('traffic', params);
    if (next === window.location.hash) return;
    written.current = next;
    try {
      window.history.replaceState(window.history.state, '', next);
    } catch {
      // Safari and Firefox refuse more than some replaceState calls in a while (Safari: 100 in
      // 30 s) with a SecurityError: j held down through the list did it, and the error, thrown in
      // an effect, took the whole page down (helper-82). The address then lags; the view goes on.
    }
  }, [focusId]);

  const onActivate = useCallback(
    (id: number, how: 'single' | 'range' | 'toggle') => {
      const rows = feed.getState().rows;
      if (how === 'toggle') {
        setSelected((s) => {
          const n = new Set(s);
          if (n.has(id)) n.delete(id);
          else n.add(id);
          return n;
        });
      } else if (how === 'range' && anchor.current !== null) {
        const a = rows.findIndex((r) => r.id === anchor.current);
        const b = rows.findIndex((r) => r.id === id);
        if (a >= 0 && b >= 0) setSelected(new Set(rows.slice(Math.min(a, b), Math.max(a, b) + 1).map((r) => r.id)));
      } else {
        setSelected(new Set([id]));
        anchor.current = id;
      }
      if (how !== 'range') anchor.current = id;
      setFocusId(id);
    },
    [feed],
  );

  const exportIds = selected.size > 0 ? [...selected] : focusId !== null ? [focusId] : [];
  const doExport = async (format: 'json' | 'har', ids: number[]) => {
    if (ids.length === 0) return;
    try {
      const file = await api.exportExchanges(ids.slice(0, 5000), format);
      downloadText(file.filename, file.mimeType, file.content);
      setNotice(exportNotice(t, file, format));
    } catch (e) {
      setNotice(t('view.exportFailed', { error: errorText(e) }));
    }
  };

  const startDrag = (e: ReactMouseEvent) => {
    e.preventDefault();
    const startY = e.clientY;
    const startH = (e.currentTarget.previousElementSibling as HTMLElement | null)?.getBoundingClientRect().height ?? 300;
    const total = e.currentTarget.parentElement?.getBoundingClientRect().height ?? 0;
    if (total <= 0) return;
    let last = share;
    const move = (m: MouseEvent) => setShare((last = clampShare((startH + m.clientY - startY) / total)));
    const up = () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
      saveShare(last);
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  };
  const setShareKept = (next: number) => {
    setShare(next);
    saveShare(next);
  };
  const onSplitterKey = (e: ReactKeyboardEvent) => {
    const next = shareForKey(e.key, share);
    if (next === null) return;
    e.preventDefault();
    setShareKept(next);
  };

  const filtered = !isUnfiltered(state.filter);
  const emptyText = state.loading
    ? t('view.loading')
    : state.cleared
      ? t('view.emptyCleared', { at: clockTime(state.cleared.at).slice(0, 8) })
      : filtered
        ? t('view.noMatch')
        : state.paused
          ? t('view.paused')
          : t('view.noTraffic');

  return (
    <div className="traffic">
      <div className="toolbar">
        <FilterBar filter={state.filter} onChange={(f: ExchangeFilter) => feed.setFilter(f)} matched={state.matched} matchedAtLeast={state.matchedAtLeast} total={state.total} loading={state.loading || state.counting} />
        <SavedFilters filter={state.filter} onApply={(f) => feed.setFilter({ ...f, ...(state.filter.sinceId !== undefined ? { sinceId: state.filter.sinceId } : {}) })} />
        <div className="toolbar-buttons">
          {state.paused ? (
            <button type="button" className="btn btn-primary" onClick={() => feed.resume()}>
              {state.waiting ? t('view.resumeNew', { count: state.waiting }) : t('view.resume')}
            </button>
          ) : (
            <button type="button" className="btn" onClick={() => feed.pause()} title={t('view.pauseTitle')}>{t('view.pause')}</button>
          )}
          <button
            type="button"
            className="btn"
            onClick={() => {
              setSelected(new Set());
              setFocusId(null);
              void feed.clear();
            }}
            title={t('view.clearTitle')}
          >
            {t('view.clear')}
          </button>
          {/* One row selected is the one being read (the detail pane exports it): the button says "shown", and exports what is shown. */}
          <button type="button" className="btn" disabled={state.rows.length === 0} onClick={() => void doExport('har', selected.size > 1 ? [...selected] : state.rows.map((r) => r.id))}
            title={t('view.exportTitle')}>
            {selected.size > 1 ? t('view.exportSelected', { count: selected.size }) : t('view.exportShown')}
          </button>
        </div>
      </div>
      {state.error ? <div className="note note-error" role="alert">{state.error}</div> : null}
      {state.cleared ? (
        <div className="note note-info cleared" role="status" data-testid="cleared-note">
          {t('view.hidden', { count: state.cleared.hidden, formatted: count(state.cleared.hidden), at: clockTime(state.cleared.at).slice(0, 8) })}{' '}
          <button type="button" className="btn btn-link btn-small" onClick={() => feed.showCleared()}>{t('view.showHidden')}</button>
        </div>
      ) : null}
      {notice ? (
        <div className="note note-info" role="status">
          {notice} <button type="button" className="btn btn-link btn-small" onClick={() => setNotice(null)}>{t('view.dismiss')}</button>
        </div>
      ) : null}
      <div className="split">
        <div className="split-top" style={{ flex: `0 0 ${(share * 100).toFixed(1)}%` }}>
          <ExchangeList
            rows={state.rows}
            focusId={focusId}
            selected={selected}
            onActivate={onActivate}
            onClearSelection={() => {
              setSelected(new Set());
              setFocusId(null);
            }}
            emptyText={emptyText}
            hasOlder={state.hasOlder}
            full={state.full}
            onLoadOlder={() => void feed.loadOlder()}
            onFollowing={(on) => feed.setReading(!on)}
          />
        </div>
        {/* A window splitter (WAI-ARIA): dragged, or focused and moved with ↑/↓, Home/End; Enter or a double click puts it back. */}
        <div
          className="splitter"
          role="separator"
          tabIndex={0}
          aria-orientation="horizontal"
          aria-label={t('view.splitter')}
          aria-valuenow={Math.round(share * 100)}
          aria-valuemin={Math.round(MIN_SHARE * 100)}
          aria-valuemax={Math.round(MAX_SHARE * 100)}
          title={t('view.splitterHint')}
          onMouseDown={startDrag}
          onDoubleClick={() => setShareKept(DEFAULT_SHARE)}
          onKeyDown={onSplitterKey}
        />
        <div className="split-bottom">
          {focusId !== null ? (
            <Suspense fallback={<div className="detail" />}>
              <DetailPane id={focusId} onJump={(id) => onActivate(id, 'single')} onExport={(f) => void doExport(f, exportIds)} exportCount={exportIds.length} />
            </Suspense>
          ) : (
            <div className="detail"><div className="empty">{t('view.selectHint')}</div></div>
          )}
        </div>
      </div>
    </div>
  );
}
