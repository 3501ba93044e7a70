/**
 * A table of WPI items (name, index, value, status), searchable. Secret values arrive masked; a
 * "Reveal" button asks the service for one value at a time and "Hide" masks it again. Grouped
 * mode folds indexed items under their name (e.g. the 12 `function-key-def` entries).
 */
import { Fragment, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ItemView } from '../../../shared/api';
import { describeItem } from '../lib/catalogue';
import { ago } from '../lib/format';
import { errorText } from '../lib/api-error';

export interface ItemRow extends ItemView {
  /** Stable key (position in a message, or name+index on a device). */
  key: string;
  updated?: number;
}

export interface ItemTableProps {
  rows: ItemRow[];
  reveal: (row: ItemRow) => Promise<string>;
  grouped?: boolean;
  emptyText?: string;
  /** Shows each item's position (document order in a message). */
  showPosition?: boolean;
}

const BAD_STATUS = /fail|unknown|invalid|read only|not supported|unexpected|undefined/i;

function ValueCell({ row, reveal }: { row: ItemRow; reveal: (row: ItemRow) => Promise<string> }) {
  const { t } = useTranslation('common');
  const [shown, setShown] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!row.secret) return <span className="v">{row.value}</span>;
  // Key material and the TAN are never stored: there is no value behind the mask to reveal.
  if (row.notStored) {
    return (
      <span className="v">
        <span className="x-mask">{row.value}</span> <span className="muted">{t('items.notStored')}</span>
      </span>
    );
  }
  return (
    <span className="v">
      {shown === null ? <span className="x-mask" title={t('items.masked')}>{row.value}</span> : <span className="revealed">{shown}</span>}{' '}
      <button
        type="button"
        className="btn btn-small btn-link"
        onClick={() => {
          if (shown !== null) return setShown(null);
          reveal(row).then(
            (v) => {
              setShown(v);
              setError(null);
            },
            (e: unknown) => setError(errorText(e)),
          );
        }}
      >
        {shown === null ? t('items.reveal') : t('items.hide')}
      </button>
      {error ? <span className="sb-error"> {error}</span> : null}
    </span>
  );
}

function Line({ row, reveal, showPosition, child }: { row: ItemRow; reveal: ItemTableProps['reveal']; showPosition?: boolean; child?: boolean }) {
  return (
    <tr className={child ? 'child' : ''}>
      {showPosition ? <td className="num muted">{Number(row.key) + 1}</td> : null}
      <td className="mono name" title={describeItem(row.name)}>{row.name}</td>
      <td className="num mono">{row.index ?? ''}</td>
      <td className="mono value"><ValueCell row={row} reveal={reveal} /></td>
      <td>{row.status ? <span className={`badge ${BAD_STATUS.test(row.status) ? 'badge-error' : ''}`}>{row.status}</span> : null}</td>
      {row.updated !== undefined ? <td className="muted nowrap">{ago(row.updated)}</td> : null}
    </tr>
  );
}

export function ItemTable({ rows, reveal, grouped = false, emptyText, showPosition = false }: ItemTableProps) {
  const { t } = useTranslation('common');
  const [query, setQuery] = useState('');
  const [open, setOpen] = useState<Set<string>>(new Set());
  const q = query.trim().toLowerCase();
  const shown = useMemo(
    () => (q ? rows.filter((r) => r.name.toLowerCase().includes(q) || (!r.secret && r.value.toLowerCase().includes(q)) || (r.status ?? '').toLowerCase().includes(q)) : rows),
    [rows, q],
  );
  const groups = useMemo(() => {
    if (!grouped) return null;
    const byName = new Map<string, ItemRow[]>();
    for (const r of shown) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
    // Case-insensitive by name (the store sorts by bytes: "Canonical-…" before "call-…"), then by index.
    return [...byName.entries()]
      .sort(([a], [b]) => a.localeCompare(b, 'en', { sensitivity: 'base' }))
      .map(([name, members]) => [name, [...members].sort((x, y) => (x.index ?? -1) - (y.index ?? -1))] as const);
  }, [grouped, shown]);
  const hasUpdated = rows.some((r) => r.updated !== undefined);

  return (
    <div className="items">
      <div className="items-bar">
        <input className="input" type="search" placeholder={t('items.filterPlaceholder')} aria-label={t('items.filterLabel')} value={query} maxLength={200} onChange={(e) => setQuery(e.target.value)} />
        <span className="muted">{q ? t('items.countOf', { shown: shown.length, count: rows.length }) : t('items.count', { count: rows.length })}</span>
      </div>
      {rows.length === 0 ? (
        <div className="empty">{emptyText ?? t('items.none')}</div>
      ) : (
        <table className="itable">
          <thead>
            <tr>
              {showPosition ? <th className="num">#</th> : null}
              <th>{t('items.col.name')}</th>
              <th className="num">{t('items.col.index')}</th>
              <th>{t('items.col.value')}</th>
              <th>{t('items.col.status')}</th>
              {hasUpdated ? <th>{t('items.col.updated')}</th> : null}
            </tr>
          </thead>
          <tbody>
            {groups
              ? groups.map(([name, members]) => {
                  const indexed = members.some((m) => m.index !== null);
                  if (!indexed || members.length === 1) return members.map((r) => <Line key={r.key} row={r} reveal={reveal} />);
                  const isOpen = q !== '' || open.has(name);
                  return (
                    <Fragment key={`g-${name}`}>
                      <tr className="group" onClick={() => setOpen((s) => { const n = new Set(s); if (n.has(name)) n.delete(name); else n.add(name); return n; })}>
                        <td className="mono name" colSpan={2} title={describeItem(name)}>
                          <span className="caret">{isOpen ? '▾' : '▸'}</span> {name}
                        </td>
                        <td className="muted" colSpan={hasUpdated ? 3 : 2}>{t('items.indexedValues', { count: members.length })}</td>
                      </tr>
                      {isOpen ? members.map((r) => <Line key={r.key} row={r} reveal={reveal} child />) : null}
                    </Fragment>
                  );
                })
              : shown.map((r) => <Line key={r.key} row={r} reveal={reveal} showPosition={showPosition} />)}
          </tbody>
        </table>
      )}
    </div>
  );
}
