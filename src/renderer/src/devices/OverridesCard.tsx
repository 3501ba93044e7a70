/**
 * A device's overrides: its own values, laid over every profile applied to it (Apply profile, plug
 * & play). Listed with secrets masked, each removable; new ones are added in a dialog held to the
 * rules of a write (the service applies them again). The same commands as `localdls profile
 * override`.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ItemValue } from '../../../shared/model';
import { emptyRow, ItemRowsEditor, rowProblem, usedRows, type ItemRow } from '../actions/ItemRowsEditor';
import { useApi } from '../api/ApiContext';
import { Dialog } from '../common/Dialog';
import { useToast } from '../common/Toasts';
import { errorText } from '../lib/api-error';
import { itemText } from '../lib/jobs';
import { skipReason } from '../lib/skip-reason';
import { useCatalogue } from '../lib/use-catalogue';
import { useServiceStatus } from '../status/StatusContext';

/** `name` or `name[index]`. */
const label = (i: ItemValue) => itemText(i, false);

export function OverridesCard({ mac, profile }: { mac: string; profile: string | null }) {
  const { t } = useTranslation('devices');
  const relay = useServiceStatus()?.relay;
  const api = useApi();
  const toast = useToast();
  const [list, setList] = useState<ItemValue[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [busy, setBusy] = useState(false);

  // Loads may overlap (a change announced while one is under way): only the newest one shows.
  const asked = useRef(0);
  const load = useCallback(() => {
    const n = ++asked.current;
    return api.getOverrides(mac).then(
      (l) => n === asked.current && (setList(l), setError(null)),
      (e: unknown) => n === asked.current && setError(errorText(e)),
    );
  }, [api, mac]);
  useEffect(() => {
    void load();
    // Changed elsewhere (another window, `localdls profile override`): the device is announced.
    return api.onDevicesChanged((changed) => {
      if (changed.some((d) => d.mac === mac)) void load();
    });
  }, [api, load, mac]);

  const remove = (items: { name: string; index?: number }[] | null) => {
    setBusy(true);
    api.clearOverrides(mac, items).then(
      (n) => {
        toast.push('ok', t('overrides.removed', { count: n }));
        setBusy(false);
        void load();
      },
      (e: unknown) => {
        toast.error(t('overrides.removeFailed'), e);
        setBusy(false);
      },
    );
  };

  const applyNow = () => {
    if (!profile) return;
    setBusy(true);
    api.applyProfile(profile, [mac]).then(
      ([r]) => {
        toast.push(r?.jobId != null ? 'ok' : 'info', (r?.skipped ? skipReason(r.skip, r.skipped) : null) ?? (r?.jobId != null ? t('overrides.applied', { name: profile, id: r.jobId, count: r.differs }) : t('overrides.nothingDiffers', { name: profile })));
        setBusy(false);
      },
      (e: unknown) => {
        toast.error(t('overrides.applyFailed', { name: profile }), e);
        setBusy(false);
      },
    );
  };

  return (
    <section className="card" data-testid="overrides">
      <h2>
        {t('overrides.title')} <span className="muted">{list?.length ?? ''}</span>
      </h2>
      <p className="muted">{t('overrides.what')}</p>
      {/* Kept while relaying, but nothing applies them (commands/relay-guard.ts keptWhileRelaying). */}
      {relay ? <p className="note note-warn" data-testid="overrides-relaying">{t('overrides.relaying', { upstream: relay.upstream })}</p> : null}
      {error ? <div className="note note-error" role="alert">{error}</div> : null}
      {list === null ? null : list.length === 0 ? (
        <p className="muted">{t('overrides.none')}</p>
      ) : (
        <table className="dtable compact overrides-table">
          <thead>
            <tr><th>{t('overrides.item')}</th><th>{t('overrides.value')}</th><th /></tr>
          </thead>
          <tbody>
            {list.map((o) => (
              <tr key={label(o)}>
                <td className="mono">{label(o)}</td>
                <td className="mono wrap-any value">{o.value}</td>
                <td className="num">
                  <button type="button" className="btn btn-small" disabled={busy} aria-label={t('overrides.removeOne', { item: label(o) })} onClick={() => remove([{ name: o.name, ...(o.index === undefined || o.index === null ? {} : { index: o.index }) }])}>
                    {t('overrides.remove')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="row-actions">
        <button type="button" className="btn btn-small" disabled={busy} onClick={() => setAdding(true)}>{t('overrides.add')}</button>
        {list && list.length > 1 ? <button type="button" className="btn btn-small" disabled={busy} onClick={() => remove(null)}>{t('overrides.removeAll')}</button> : null}
        {profile ? <button type="button" className="btn btn-small" disabled={busy} onClick={applyNow}>{t('overrides.applyNow', { name: profile })}</button> : null}
      </div>
      {adding ? (
        <AddOverridesDialog
          mac={mac}
          onClose={() => setAdding(false)}
          onSaved={() => {
            setAdding(false);
            void load();
          }}
        />
      ) : null}
    </section>
  );
}

function AddOverridesDialog({ mac, onClose, onSaved }: { mac: string; onClose: () => void; onSaved: () => void }) {
  const { t } = useTranslation('devices');
  const { t: ta } = useTranslation('actions');
  const api = useApi();
  const toast = useToast();
  const { catalogue } = useCatalogue(api);
  const [rows, setRows] = useState<ItemRow[]>(() => [emptyRow()]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const used = usedRows(rows);
  const ok = used.length > 0 && rows.every((r) => rowProblem(r, ta, 'write') === null);

  const save = () => {
    setBusy(true);
    setError(null);
    const items = used.map((r) => ({ name: r.name.trim(), ...(r.index.trim() ? { index: Number(r.index.trim()) } : {}), value: r.value }));
    api.setOverrides(mac, items).then(
      (n) => {
        toast.push('ok', t('overrides.saved', { count: n, mac }));
        onSaved();
      },
      (e: unknown) => {
        setError(errorText(e));
        setBusy(false);
      },
    );
  };

  return (
    <Dialog
      title={t('overrides.addTitle', { mac })}
      onClose={onClose}
      wide
      footer={
        <>
          {error ? <div className="note note-error grow" role="alert">{error}</div> : <span className="grow muted">{t('overrides.addHint')}</span>}
          <button type="button" className="btn" onClick={onClose}>{ta('cancel')}</button>
          <button type="button" className="btn btn-primary" disabled={busy || !ok} onClick={save}>{t('overrides.save')}</button>
        </>
      }
    >
      <ItemRowsEditor rows={rows} onChange={setRows} withValues rules="write" catalogue={catalogue} />
    </Dialog>
  );
}
