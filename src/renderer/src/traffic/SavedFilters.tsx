/**
 * Saved traffic filters (named, remembered in this browser) and the export of everything a filter
 * selects (HAR or JSON, the same command as `localdls traffic export`), beside the filter bar.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ExchangeFilter } from '../../../shared/api';
import { searchableText } from '../../../shared/free-text';
import { useApi } from '../api/ApiContext';
import { downloadText } from '../lib/download';
import '../ladder/inspector.css';
import { errorText } from '../lib/api-error';
import { exportNotice } from './export-notice';
import { plainCode } from '../common/CodeText';

const STORAGE_KEY = 'localdls.traffic.savedFilters';
const MAX_SAVED = 50;

export interface SavedFilter {
  name: string;
  filter: ExchangeFilter;
}

export function loadSavedFilters(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): SavedFilter[] {
  try {
    const raw = JSON.parse(storage?.getItem(STORAGE_KEY) ?? '[]') as unknown;
    if (!Array.isArray(raw)) return [];
    return raw
      .filter((s): s is SavedFilter => typeof s === 'object' && s !== null && typeof (s as SavedFilter).name === 'string' && typeof (s as SavedFilter).filter === 'object' && (s as SavedFilter).filter !== null)
      .slice(0, MAX_SAVED)
      .map((s) => ({ ...s, filter: usable(s.filter) }));
  } catch {
    return [];
  }
}

/** Free text saved before it needed three characters in a row (the service would refuse it) is left out. */
function usable(f: ExchangeFilter): ExchangeFilter {
  if (f.text === undefined || (typeof f.text === 'string' && searchableText(f.text.trim()))) return f;
  const { text: _short, ...rest } = f;
  return rest;
}

function store(list: SavedFilter[]): void {
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, JSON.stringify(list));
  } catch {
    // storage unavailable (privacy mode): saved for this window only
  }
}

/** A saved filter keeps only what the filter bar sets (no "clear view" floor: that is per session). */
function portable(f: ExchangeFilter): ExchangeFilter {
  const { sinceId: _since, ...rest } = f;
  return rest;
}

export function SavedFilters({ filter, onApply }: { filter: ExchangeFilter; onApply: (f: ExchangeFilter) => void }) {
  const api = useApi();
  const { t } = useTranslation('detail');
  const { t: tt } = useTranslation('traffic');
  const [done, setDone] = useState<string | null>(null);
  const [saved, setSaved] = useState<SavedFilter[]>(() => loadSavedFilters());
  const [naming, setNaming] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);

  const save = (name: string) => {
    const next = [...saved.filter((s) => s.name !== name), { name, filter: portable(filter) }].slice(-MAX_SAVED);
    setSaved(next);
    store(next);
    setNaming(null);
  };
  const remove = (name: string) => {
    const next = saved.filter((s) => s.name !== name);
    setSaved(next);
    store(next);
  };
  const exportAll = async (format: 'har' | 'json') => {
    setExporting(true);
    setError(null);
    setDone(null);
    try {
      const r = await api.exportTraffic(portable(filter), format);
      downloadText(r.filename, r.mimeType, r.content);
      setDone(exportNotice(tt, r, format));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setExporting(false);
    }
  };

  return (
    <div className="saved-filters">
      <select
        className="input"
        aria-label={t('savedFilters')}
        value=""
        onChange={(e) => {
          const s = saved.find((x) => x.name === e.target.value);
          if (s) onApply(s.filter);
        }}
      >
        <option value="">{saved.length ? t('savedFilters') : t('noSavedFilters')}</option>
        {saved.map((s) => <option key={s.name} value={s.name}>{s.name}</option>)}
      </select>
      {naming === null ? (
        <button type="button" className="btn btn-small" onClick={() => setNaming('')}>{t('saveFilter')}</button>
      ) : (
        <form className="inline-form" onSubmit={(e) => (e.preventDefault(), naming.trim() && save(naming.trim()))}>
          <input className="input" aria-label={t('filterName')} value={naming} maxLength={60} autoFocus onChange={(e) => setNaming(e.target.value)} />
          <button type="submit" className="btn btn-small" disabled={!naming.trim()}>{t('save')}</button>
          <button type="button" className="btn btn-small btn-link" onClick={() => setNaming(null)}>{t('cancel')}</button>
        </form>
      )}
      {saved.length ? (
        <details className="saved-manage">
          <summary>{t('manage')}</summary>
          <ul>
            {saved.map((s) => (
              <li key={s.name}>
                {s.name} <button type="button" className="btn btn-small btn-link" onClick={() => remove(s.name)} aria-label={t('deleteFilter', { name: s.name })}>✕</button>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      <button type="button" className="btn btn-small" disabled={exporting} onClick={() => void exportAll('har')} title={plainCode(t('exportMatchingTitle'))}>{t('exportMatching', { format: 'HAR' })}</button>
      <button type="button" className="btn btn-small" disabled={exporting} onClick={() => void exportAll('json')} title={plainCode(t('exportMatchingTitle'))}>{t('exportMatching', { format: 'JSON' })}</button>
      {error ? <span className="note note-error" role="alert">{error}</span> : null}
      {done ? <span className="note" role="status" data-testid="export-notice">{done}</span> : null}
    </div>
  );
}
