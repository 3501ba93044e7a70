/**
 * The traffic filter: device, reason, action, status, mode, errors only and free text, applied by
 * the service. Text fields wait 250 ms after the last key so typing does not query per letter;
 * free text counts from three characters in a row (shared/free-text.ts).
 */
import { useEffect, useRef, useState, type ChangeEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { ExchangeFilter } from '../../../shared/api';
import { MIN_TEXT_CHARS, searchableText } from '../../../shared/free-text';
import type { ListenerKind } from '../../../shared/model';
import { count } from '../lib/format';

// The manual's vocabulary (the service accepts any value; these are the suggestions).
const REASONS = ['start-up', 'local-changes', 'inventory-changes', 'status', 'solicited', 'reply-to', 'clean-up'];
const ACTIONS = ['ReadAllItems', 'ReadItems', 'WriteItems', 'Restart', 'FileDeployment', 'SoftwareDeployment', 'CleanUp', 'GetNextFragment'];
const STATUSES = ['200', '4xx', '400', '5xx', 'accepted', 'failed', 'busy', 'tls'];
const MODES: ListenerKind[] = ['default', 'secure', 'dcmp', 'contact-me'];

export interface FilterBarProps {
  filter: ExchangeFilter;
  onChange: (filter: ExchangeFilter) => void;
  matched: number;
  /** Free text counts its matches only so far: shown as "2,000+". */
  matchedAtLeast?: boolean;
  total: number;
  loading: boolean;
}

type Draft = Required<Pick<ExchangeFilter, 'device' | 'reason' | 'action' | 'status' | 'text'>> & { listener: ListenerKind | ''; errorsOnly: boolean };

function draftOf(f: ExchangeFilter): Draft {
  return { device: f.device ?? '', reason: f.reason ?? '', action: f.action ?? '', status: f.status ?? '', text: f.text ?? '', listener: f.listener ?? '', errorsOnly: f.errorsOnly ?? false };
}

function filterOf(d: Draft): ExchangeFilter {
  const f: ExchangeFilter = {};
  if (d.device.trim()) f.device = d.device.trim();
  if (d.reason.trim()) f.reason = d.reason.trim();
  if (d.action.trim()) f.action = d.action.trim();
  if (d.status.trim()) f.status = d.status.trim();
  // Free text the index cannot find is not applied (the service would refuse it): the count says why.
  if (searchableText(d.text.trim())) f.text = d.text.trim();
  if (d.listener) f.listener = d.listener;
  if (d.errorsOnly) f.errorsOnly = true;
  return f;
}

const same = (a: ExchangeFilter, b: ExchangeFilter) => JSON.stringify(filterOf(draftOf(a))) === JSON.stringify(filterOf(draftOf(b)));

export function FilterBar({ filter, onChange, matched, matchedAtLeast = false, total, loading }: FilterBarProps) {
  const { t } = useTranslation('traffic');
  const [draft, setDraft] = useState<Draft>(() => draftOf(filter));
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const applied = useRef(filter);

  // A filter set from outside (a link from a device page) replaces the draft.
  useEffect(() => {
    if (!same(filter, applied.current)) setDraft(draftOf(filter));
    applied.current = filter;
  }, [filter]);

  const apply = (next: Draft, debounce: boolean) => {
    setDraft(next);
    if (timer.current) clearTimeout(timer.current);
    const run = () => {
      const f = filterOf(next);
      // Nothing to load when it filters as before (a trailing space, free text too short to apply):
      // a load of the same filter dropped the rows read and the place in them.
      if (same(f, applied.current)) return;
      applied.current = f;
      onChange(f);
    };
    if (debounce) timer.current = setTimeout(run, 250);
    else run();
  };
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);

  const active = Object.keys(filterOf(draft)).length > 0;
  // Typed, not applied yet (the 250 ms wait): the numbers shown are the applied filter's, and read
  // as the new one's (the partial-load e2e took them, then found "Loading…" once it was applied).
  const waiting = !same(filterOf(draft), filter);
  const textTooShort = draft.text.trim() !== '' && !searchableText(draft.text.trim());
  const text = (key: 'device' | 'text' | 'status' | 'reason' | 'action') => ({
    value: draft[key],
    onChange: (e: ChangeEvent<HTMLInputElement>) => apply({ ...draft, [key]: e.target.value }, true),
  });

  return (
    <div className="filterbar" role="search" aria-label={t('filter.label')}>
      <input className="input f-text" type="search" placeholder={t('filter.textPlaceholder')} aria-label={t('filter.text')} maxLength={200} {...text('text')} />
      <input className="input f-device" placeholder={t('filter.devicePlaceholder')} aria-label={t('filter.device')} maxLength={64} {...text('device')} />
      <input className="input f-reason" placeholder={t('filter.reason')} aria-label={t('filter.reason')} list="f-reasons" maxLength={64} {...text('reason')} />
      <input className="input f-action" placeholder={t('filter.action')} aria-label={t('filter.action')} list="f-actions" maxLength={64} {...text('action')} />
      <input className="input f-status" placeholder={t('filter.status')} aria-label={t('filter.status')} list="f-statuses" maxLength={64} {...text('status')} />
      <select className="input f-mode" aria-label={t('filter.mode')} value={draft.listener} onChange={(e) => apply({ ...draft, listener: e.target.value as ListenerKind | '' }, false)}>
        <option value="">{t('filter.anyMode')}</option>
        {MODES.map((m) => (
          <option key={m} value={m}>{t(`filter.modes.${m}`)}</option>
        ))}
      </select>
      <label className="check">
        <input type="checkbox" checked={draft.errorsOnly} onChange={(e) => apply({ ...draft, errorsOnly: e.target.checked }, false)} /> {t('filter.errorsOnly')}
      </label>
      {active ? (
        <button type="button" className="btn btn-link" onClick={() => apply(draftOf({}), false)}>{t('filter.reset')}</button>
      ) : null}
      <span className="count" aria-live="polite" data-testid="shown-count">
        {/* While the counts are on their way the numbers are the previous filter's: not shown. */}
        {textTooShort
          ? t('filter.textTooShort', { min: MIN_TEXT_CHARS })
          : loading || waiting
          ? t('filter.loading')
          : active
            ? t('filter.countOf', { matched: `${count(matched)}${matchedAtLeast ? '+' : ''}`, total: count(total), count: total })
            : t('filter.count', { total: count(total), count: total })}
      </span>
      <datalist id="f-reasons">{REASONS.map((r) => <option key={r} value={r} />)}</datalist>
      <datalist id="f-actions">{ACTIONS.map((r) => <option key={r} value={r} />)}</datalist>
      <datalist id="f-statuses">{STATUSES.map((r) => <option key={r} value={r} />)}</datalist>
    </div>
  );
}
