/**
 * Rows of items to write (name, index, value) or read (name, index), with names offered from the
 * WPI catalogue as one types, and the catalogue's description, type and values/range of the row
 * being edited. `name[3]=value` typed or pasted into the name field is split into its parts.
 */
import { useId, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import type { CatalogueEntry } from '../../../shared/api';
import { itemNameCaseProblem, writeItemProblem } from '../../../shared/item-rules';
import { isSecretItem } from '../../../shared/secrets';
import type { Catalogue } from '../lib/use-catalogue';
import { suggest } from '../lib/use-catalogue';
import { forDisplay } from '../lib/catalogue';

export interface ItemRow {
  key: number;
  name: string;
  index: string;
  value: string;
}

let nextKey = 1;
export const emptyRow = (): ItemRow => ({ key: nextKey++, name: '', index: '', value: '' });
export const rowOf = (name: string, index: number | null | undefined, value: string): ItemRow => ({ key: nextKey++, name, index: index === null || index === undefined ? '' : String(index), value });

const NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/**
 * What is wrong with a row, or null (empty rows are ignored, not wrong). A row to write is also
 * checked against the item catalogue with the rule the service applies (src/shared/item-rules.ts),
 * a row to read for a known name in another case, so the dialog says why before sending; the
 * service still refuses on its own.
 */
export function rowProblem(r: ItemRow, t: TFunction<'actions'>, rules: false | 'write' | 'profile' = false): string | null {
  if (!r.name.trim()) return r.index || r.value ? t('editor.needName') : null;
  if (!NAME.test(r.name.trim())) return t('editor.notName', { name: r.name.trim() });
  if (r.index.trim() && !/^\d{1,6}$/.test(r.index.trim())) return t('editor.badIndex');
  // A row to read: a known item in another case is refused by the service as a write's is.
  const problem = rules
    // A profile's masked secrets come back as the mask, which keeps the stored value.
    ? writeItemProblem({ name: r.name.trim(), index: r.index.trim() ? Number(r.index.trim()) : null, value: r.value }, rules === 'profile' ? 'kept' : 'refused')
    : itemNameCaseProblem({ name: r.name.trim() });
  return problem ? t(`errors:${problem.key}`, { ...problem.params, defaultValue: problem.message }) : null;
}

export function usedRows(rows: readonly ItemRow[]): ItemRow[] {
  return rows.filter((r) => r.name.trim() !== '');
}

/** Splits `name[3]=value` (or `name=value`, `name[3]`) typed into the name field. */
function splitSpec(text: string): Partial<ItemRow> | null {
  const m = /^\s*([A-Za-z][A-Za-z0-9_.-]*)(?:\[(\d{1,6})\])?(?:=([\s\S]*))?$/.exec(text);
  if (!m || (m[2] === undefined && m[3] === undefined)) return null;
  return { name: m[1]!, ...(m[2] !== undefined ? { index: m[2] } : {}), ...(m[3] !== undefined ? { value: m[3] } : {}) };
}

function NameInput({ row, entries, onChange, onFocus, label }: { row: ItemRow; entries: readonly CatalogueEntry[]; onChange: (r: Partial<ItemRow>) => void; onFocus: () => void; label: string }) {
  const { t } = useTranslation('actions');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const listId = useId();
  const list = open ? suggest(entries, row.name) : [];
  const pick = (e: CatalogueEntry) => {
    onChange({ name: e.name });
    setOpen(false);
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (!list.length) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((a) => (a + (e.key === 'ArrowDown' ? 1 : list.length - 1)) % list.length);
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      if (e.key === 'Enter') e.preventDefault();
      pick(list[Math.min(active, list.length - 1)]!);
    } else if (e.key === 'Escape') {
      e.stopPropagation();
      setOpen(false);
    }
  };
  return (
    <div className="ac">
      <input
        className="input mono"
        role="combobox"
        aria-label={label}
        aria-expanded={list.length > 0}
        aria-controls={listId}
        aria-autocomplete="list"
        autoComplete="off"
        spellCheck={false}
        placeholder={t('editor.namePlaceholder')}
        value={row.name}
        maxLength={128}
        onFocus={() => {
          onFocus();
          setOpen(true);
        }}
        onBlur={() => setOpen(false)}
        onKeyDown={onKey}
        onChange={(e) => {
          const split = splitSpec(e.target.value);
          onChange(split ?? { name: e.target.value });
          setActive(0);
          setOpen(split === null);
        }}
      />
      {list.length ? (
        <ul className="ac-list" role="listbox" id={listId}>
          {list.map((e, i) => (
            <li key={e.name} role="option" aria-selected={i === active} className={i === active ? 'on' : ''} onMouseDown={(ev) => { ev.preventDefault(); pick(e); }} onMouseEnter={() => setActive(i)}>
              <span className="mono ac-name">{e.name}</span>
              {e.indexed ? <span className="badge">{t('editor.indexedBadge')}</span> : null}
              <span className="ac-desc">{forDisplay(e.description)}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** The catalogue's word on one item name, and what looks wrong about the row. */
export function ItemInfo({ row, catalogue, withValues }: { row: ItemRow | undefined; catalogue: Catalogue | null; withValues: boolean }) {
  const { t } = useTranslation('actions');
  if (!row || !row.name.trim()) return <div className="item-info muted" data-testid="item-info">{t('editor.typeName')}</div>;
  const name = row.name.trim();
  const e = catalogue?.byName.get(name);
  if (!catalogue) return <div className="item-info muted" data-testid="item-info">{t('editor.loading')}</div>;
  if (!e) {
    const starting = catalogue.entries.filter((x) => x.name.startsWith(name)).length;
    return (
      <div className="item-info" data-testid="item-info">
        {starting ? (
          <span className="muted">{t('editor.starting', { count: starting, name })}</span>
        ) : (
          <div className="note note-warn">{t('editor.unknown', { name })}</div>
        )}
      </div>
    );
  }
  const warnings: string[] = [];
  if (e.readonly === 'yes' && withValues) warnings.push(t('editor.readOnly'));
  if (e.indexed && !row.index.trim()) warnings.push(t('editor.indexed'));
  if (!e.indexed && row.index.trim()) warnings.push(t('editor.noIndex'));
  return (
    <div className="item-info" data-testid="item-info">
      <div className="item-info-head">
        <span className="mono strong">{e.name}</span>
        <span className="badge">{e.type}</span>
        {e.indexed ? <span className="badge">{t('editor.indexedBadge')}</span> : null}
        {e.readonly === 'yes' ? <span className="badge badge-warn">{t('editor.readOnlyBadge')}</span> : null}
        <span className="muted">{e.group}</span>
      </div>
      <p className="item-desc">{forDisplay(e.description)}</p>
      <dl className="kv">
        <dt>{t('editor.values')}</dt><dd className="mono">{forDisplay(e.values) || '—'}</dd>
        {forDisplay(e.default) && e.default !== 'n/a' && e.default !== 'unknown' ? <><dt>{t('editor.default')}</dt><dd className="mono">{forDisplay(e.default)}</dd></> : null}
      </dl>
      {warnings.map((w) => <div key={w} className="note note-warn">{w}</div>)}
    </div>
  );
}

export interface ItemRowsEditorProps {
  rows: ItemRow[];
  onChange: (rows: ItemRow[]) => void;
  withValues: boolean;
  /** Which write rules each row is checked against (shared/item-rules.ts); a profile keeps its masked secrets. */
  rules?: false | 'write' | 'profile';
  catalogue: Catalogue | null;
}

export function ItemRowsEditor({ rows, onChange, withValues, catalogue, rules = withValues ? 'write' : false }: ItemRowsEditorProps) {
  const { t } = useTranslation('actions');
  const [focused, setFocused] = useState<number | null>(rows[0]?.key ?? null);
  const entries = catalogue?.entries ?? [];
  const update = (key: number, patch: Partial<ItemRow>) => onChange(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  const focusedRow = rows.find((r) => r.key === focused) ?? rows[0];
  return (
    <div className="item-editor" data-testid="item-editor">
      <table className="item-rows">
        <thead>
          <tr>
            <th>{t('editor.item')}</th>
            <th className="col-index">{t('editor.index')}</th>
            {withValues ? <th>{t('editor.value')}</th> : null}
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((r, n) => {
            const problem = rowProblem(r, t, rules);
            return (
              <tr key={r.key} className={r.key === focusedRow?.key ? 'on' : ''}>
                <td>
                  <NameInput row={r} entries={entries} label={t('editor.nameLabel', { n: n + 1 })} onFocus={() => setFocused(r.key)} onChange={(p) => update(r.key, p)} />
                  {problem ? <div className="field-problem" role="alert" data-testid="row-problem">{problem}</div> : null}
                </td>
                <td className="col-index">
                  <input className="input mono" aria-label={t('editor.indexLabel', { n: n + 1 })} inputMode="numeric" placeholder={t('editor.noIndexPlaceholder')} value={r.index} maxLength={6} onFocus={() => setFocused(r.key)} onChange={(e) => update(r.key, { index: e.target.value })} />
                </td>
                {withValues ? (
                  <td>
                    <input className="input mono" aria-label={t('editor.valueLabel', { n: n + 1 })} placeholder={t('editor.valuePlaceholder')} value={r.value}
                      type={isSecretItem(r.name.trim()) ? 'password' : 'text'} autoComplete="off" maxLength={16384} onFocus={() => setFocused(r.key)} onChange={(e) => update(r.key, { value: e.target.value })} />
                  </td>
                ) : null}
                <td>
                  <button type="button" className="btn-x" aria-label={t('editor.remove', { n: n + 1 })} disabled={rows.length === 1} onClick={() => onChange(rows.filter((x) => x.key !== r.key))}>×</button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <button type="button" className="btn btn-small" onClick={() => { const r = emptyRow(); onChange([...rows, r]); setFocused(r.key); }}>{t('editor.add')}</button>
      <ItemInfo row={focusedRow} catalogue={catalogue} withValues={withValues} />
    </div>
  );
}
