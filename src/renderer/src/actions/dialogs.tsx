/** The dialogs behind the device actions: item editor, confirmation, profiles, file/firmware deployment. */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { FILE_TYPES, type AddJobsResult, type DeviceView, type JobSpec } from '../../../shared/api';
import type { Profile } from '../../../shared/model';
import { useApi } from '../api/ApiContext';
import { Dialog } from '../common/Dialog';
import { errorText, useToast } from '../common/Toasts';
import { itemText, useJobWords } from '../lib/jobs';
import { skipReason } from '../lib/skip-reason';
import { useCatalogue } from '../lib/use-catalogue';
import { emptyRow, ItemRowsEditor, rowOf, rowProblem, usedRows, type ItemRow } from './ItemRowsEditor';

/** `t`: the caller's `actions` namespace (useTranslation('actions')). */
export function targetsText(macs: readonly string[], t: TFunction<'actions'>): string {
  return macs.length === 1 ? macs[0]! : t('targets', { count: macs.length });
}

/** Reports queued jobs (and the service's notes) as one message. */
export function useJobsQueued(): (what: string, macs: readonly string[], r: AddJobsResult) => void {
  const toast = useToast();
  const { t } = useTranslation('actions');
  const { kindLabel } = useJobWords();
  return (what, macs, r) => {
    const lines = r.jobs.map((j) => t('queued.job', { id: j.id, kind: kindLabel(j.kind), mac: j.mac }));
    const same = r.same.map((s) => t('queued.same', { mac: s.mac, id: s.jobId }));
    const words = { what, targets: targetsText(macs, t) };
    const notes = r.notes.map((n) => t('queued.note', { note: n }));
    // Nothing queued: the same job waits for every phone already.
    if (r.jobs.length === 0) toast.push('warn', t('queued.noneTitle', words), [...notes, ...same]);
    else toast.push('ok', t('queued.title', words), [...notes, ...lines, ...same, t('queued.next')]);
  };
}

function DeviceNames({ macs, devices }: { macs: readonly string[]; devices?: ReadonlyMap<string, DeviceView> }) {
  const { t } = useTranslation('actions');
  return (
    <ul className="device-names" data-testid="dialog-devices">
      {macs.slice(0, 20).map((m) => {
        const d = devices?.get(m);
        return (
          <li key={m}>
            <span className="mono">{m}</span>
            {d ? <span className="muted"> {[d.e164, d.deviceType, d.lastAddress].filter(Boolean).join(' · ')}</span> : null}
          </li>
        );
      })}
      {macs.length > 20 ? <li className="muted">{t('more', { count: macs.length - 20 })}</li> : null}
    </ul>
  );
}

export function ItemsDialog({ mode, macs, onClose }: { mode: 'write' | 'read'; macs: string[]; onClose: () => void }) {
  const { t } = useTranslation('actions');
  const api = useApi();
  const { catalogue, error: catalogueError } = useCatalogue(api);
  const queued = useJobsQueued();
  const [rows, setRows] = useState<ItemRow[]>(() => [emptyRow()]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const used = usedRows(rows);
  const write = mode === 'write';
  // Why the button is off, as its tooltip: the first bad row, or nothing to send yet.
  const rules = write ? 'write' : false;
  const firstBad = rows.findIndex((r) => rowProblem(r, t, rules) !== null);
  const blocked = firstBad >= 0 ? t('items.fixRow', { n: firstBad + 1, problem: rowProblem(rows[firstBad]!, t, rules) }) : used.length === 0 ? t('items.nothingYet') : null;
  const submit = () => {
    const items = used.map((r) => ({ name: r.name.trim(), ...(r.index.trim() ? { index: Number(r.index.trim()) } : {}), ...(write ? { value: r.value } : {}) }));
    const spec: JobSpec = write ? { kind: 'write', items: items as { name: string; index?: number; value: string }[] } : { kind: 'read', items };
    setBusy(true);
    setError(null);
    api.addJob(macs, spec).then(
      (r) => {
        queued(write ? t('items.writeOf', { count: used.length }) : t('items.readOf', { count: used.length }), macs, r);
        onClose();
      },
      (e: unknown) => {
        setError(errorText(e));
        setBusy(false);
      },
    );
  };
  return (
    <Dialog
      title={write ? t('items.writeTitle', { targets: targetsText(macs, t) }) : t('items.readTitle', { targets: targetsText(macs, t) })}
      onClose={onClose}
      wide
      className="items-dialog"
      footer={
        <>
          {error ? <div className="note note-error grow" role="alert">{error}</div> : <span className="grow muted">{write ? t('items.writeHint') : t('items.readHint')}</span>}
          <button type="button" className="btn" onClick={onClose}>{t('cancel')}</button>
          <button type="button" className="btn btn-primary" disabled={busy || blocked !== null} title={blocked ?? undefined} onClick={submit}>
            {write ? t('items.write', { count: used.length }) : t('items.read', { count: used.length })}
          </button>
        </>
      }
    >
      {catalogueError ? <div className="note note-warn">{t('items.noCatalogue', { error: catalogueError })}</div> : null}
      <ItemRowsEditor rows={rows} onChange={setRows} withValues={write} catalogue={catalogue} />
    </Dialog>
  );
}

const CONFIRM = {
  restart: { key: 'restart', spec: { kind: 'restart' } as JobSpec },
  'factory-reset': { key: 'factoryReset', spec: { kind: 'factory-reset' } as JobSpec },
} as const;

export function ConfirmJobDialog({ what, macs, devices, onClose }: { what: 'restart' | 'factory-reset'; macs: string[]; devices?: ReadonlyMap<string, DeviceView>; onClose: () => void }) {
  const { t } = useTranslation('actions');
  const api = useApi();
  const queued = useJobsQueued();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const c = CONFIRM[what];
  const title = t(`confirm.${c.key}.title`);
  const go = () => {
    setBusy(true);
    api.addJob(macs, c.spec).then(
      (r) => {
        queued(title, macs, r);
        onClose();
      },
      (e: unknown) => {
        setError(errorText(e));
        setBusy(false);
      },
    );
  };
  return (
    <Dialog
      title={t(`confirm.${c.key}.question`, { count: macs.length })}
      onClose={onClose}
      className="confirm-dialog"
      footer={
        <>
          {error ? <div className="note note-error grow" role="alert">{error}</div> : <span className="grow" />}
          <button type="button" className="btn" onClick={onClose}>{t('cancel')}</button>
          <button type="button" className={`btn ${what === 'factory-reset' ? 'btn-danger' : 'btn-primary'}`} disabled={busy} onClick={go}>
            {title} {targetsText(macs, t)}
          </button>
        </>
      }
    >
      <p className={what === 'factory-reset' ? 'warn-text' : ''}>{t(`confirm.${c.key}.text`)}</p>
      <DeviceNames macs={macs} devices={devices} />
    </Dialog>
  );
}

export function ProfileDialog({ macs, onClose }: { macs: string[]; onClose: () => void }) {
  const { t } = useTranslation('actions');
  const api = useApi();
  const toast = useToast();
  const { catalogue } = useCatalogue(api);
  const [profiles, setProfiles] = useState<Profile[] | null>(null);
  const [chosen, setChosen] = useState('');
  const [tab, setTab] = useState<'apply' | 'new'>('apply');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [draft, setDraft] = useState({ name: '', deviceType: '', matchMac: '', matchE164: '' });
  const [rows, setRows] = useState<ItemRow[]>(() => [emptyRow()]);

  useEffect(() => {
    api.listProfiles().then(
      (list) => {
        setProfiles(list);
        setChosen((c) => c || list[0]?.name || '');
        if (list.length === 0) setTab('new');
      },
      (e: unknown) => setError(errorText(e)),
    );
  }, [api]);

  const profile = profiles?.find((p) => p.name === chosen);
  const edit = (p: Profile) => {
    setDraft({ name: p.name, deviceType: p.deviceType ?? '', matchMac: p.matchMac ?? '', matchE164: p.matchE164 ?? '' });
    setRows(p.items.map((i) => rowOf(i.name, i.index, i.value)));
    setTab('new');
  };

  const apply = () => {
    setBusy(true);
    setError(null);
    api.applyProfile(chosen, macs).then(
      (results) => {
        const queued = results.filter((r) => r.jobId !== null).length;
        toast.push(queued ? 'ok' : 'info', queued ? t('profile.queued', { name: chosen, count: queued }) : t('profile.nothing', { name: chosen }),
          results.map((r) => (r.skipped ? t('profile.skipped', { mac: r.mac, why: skipReason(r.skip, r.skipped) }) : r.jobId !== null ? t('profile.differs', { mac: r.mac, id: r.jobId, count: r.differs }) : t('profile.same', { mac: r.mac }))));
        onClose();
      },
      (e: unknown) => {
        setError(errorText(e));
        setBusy(false);
      },
    );
  };

  const save = () => {
    const used = usedRows(rows);
    setBusy(true);
    setError(null);
    api
      .setProfile({
        name: draft.name.trim(), deviceType: draft.deviceType.trim() || null, matchMac: draft.matchMac.trim() || null, matchE164: draft.matchE164.trim() || null,
        items: used.map((r) => ({ name: r.name.trim(), ...(r.index.trim() ? { index: Number(r.index.trim()) } : {}), value: r.value })),
      })
      .then(
        (p) => {
          toast.push('ok', t('profile.saved', { name: p.name }), [p.deviceType ? t('profile.savedItemsFor', { count: p.items.length, type: p.deviceType }) : t('profile.savedItems', { count: p.items.length })]);
          setProfiles((list) => [...(list ?? []).filter((x) => x.name !== p.name), p].sort((a, b) => a.name.localeCompare(b.name)));
          setChosen(p.name);
          setTab('apply');
          setBusy(false);
        },
        (e: unknown) => {
          setError(errorText(e));
          setBusy(false);
        },
      );
  };

  const rowsOk = usedRows(rows).length > 0 && rows.every((r) => rowProblem(r, t, 'profile') === null);
  return (
    <Dialog
      title={t('profile.title', { targets: targetsText(macs, t) })}
      onClose={onClose}
      wide
      footer={
        <>
          {error ? <div className="note note-error grow" role="alert">{error}</div> : <span className="grow muted">{tab === 'apply' ? t('profile.applyHint') : t('profile.maskHint')}</span>}
          <button type="button" className="btn" onClick={onClose}>{t('cancel')}</button>
          {tab === 'apply' ? (
            <button type="button" className="btn btn-primary" disabled={busy || !profile} onClick={apply}>{chosen ? t('profile.applyNamed', { name: chosen }) : t('profile.applyProfile')}</button>
          ) : (
            <button type="button" className="btn btn-primary" disabled={busy || !/^[\w.-]{1,64}$/.test(draft.name.trim()) || !rowsOk} onClick={save}>{t('profile.save')}</button>
          )}
        </>
      }
    >
      <div className="seg" role="tablist">
        <button type="button" role="tab" aria-selected={tab === 'apply'} className={tab === 'apply' ? 'on' : ''} disabled={!profiles?.length} onClick={() => setTab('apply')}>{t('profile.tabApply')}</button>
        <button type="button" role="tab" aria-selected={tab === 'new'} className={tab === 'new' ? 'on' : ''} onClick={() => setTab('new')}>{t('profile.tabNew')}</button>
      </div>
      {tab === 'apply' ? (
        profiles === null ? <p className="muted">{t('profile.loading')}</p> : (
          <div className="profile-apply">
            <label className="field">
              <span>{t('profile.profile')}</span>
              <select className="input" aria-label={t('profile.profile')} value={chosen} onChange={(e) => setChosen(e.target.value)}>
                {profiles.map((p) => <option key={p.name} value={p.name}>{p.name}{p.deviceType ? ` (${p.deviceType})` : ''}</option>)}
              </select>
              {profile ? <button type="button" className="btn btn-small" onClick={() => edit(profile)}>{t('profile.edit')}</button> : null}
            </label>
            {profile ? (
              <>
                <p className="muted">
                  {profile.deviceType ? t('profile.forType', { type: profile.deviceType }) : t('profile.siteWide')}
                  {profile.matchMac || profile.matchE164 ? ` ${t('profile.plugAndPlay', { what: [profile.matchMac && `MAC ${profile.matchMac}`, profile.matchE164 && `E.164 ${profile.matchE164}`].filter(Boolean).join(` ${t('profile.and')} `) })}` : ''}
                </p>
                <ul className="mono profile-items">{profile.items.map((i, n) => <li key={n}>{itemText(i)}</li>)}</ul>
              </>
            ) : null}
          </div>
        )
      ) : (
        <div className="profile-new">
          <div className="field-row">
            <label className="field"><span>{t('profile.name')}</span><input className="input" aria-label={t('profile.nameLabel')} value={draft.name} maxLength={64} placeholder={t('profile.namePlaceholder')} onChange={(e) => setDraft({ ...draft, name: e.target.value })} /></label>
            <label className="field"><span>{t('profile.deviceType')}</span><input className="input" aria-label={t('profile.deviceType')} value={draft.deviceType} maxLength={64} placeholder={t('profile.anyType')} onChange={(e) => setDraft({ ...draft, deviceType: e.target.value })} /></label>
            <label className="field"><span>{t('profile.matchMac')}</span><input className="input mono" aria-label={t('profile.matchMacLabel')} value={draft.matchMac} maxLength={64} placeholder="00:1A:E8:*" onChange={(e) => setDraft({ ...draft, matchMac: e.target.value })} /></label>
            <label className="field"><span>{t('profile.matchE164')}</span><input className="input mono" aria-label={t('profile.matchE164Label')} value={draft.matchE164} maxLength={64} placeholder="4989*" onChange={(e) => setDraft({ ...draft, matchE164: e.target.value })} /></label>
          </div>
          <ItemRowsEditor rows={rows} onChange={setRows} withValues rules="profile" catalogue={catalogue} />
        </div>
      )}
    </Dialog>
  );
}

export function DeployDialog({ macs, onClose }: { macs: string[]; onClose: () => void }) {
  const { t } = useTranslation('actions');
  const api = useApi();
  const queued = useJobsQueued();
  const [tab, setTab] = useState<'file' | 'firmware'>('file');
  const [fileType, setFileType] = useState<string>('LOGO');
  const [urls, setUrls] = useState('');
  const [version, setVersion] = useState('');
  const [url, setUrl] = useState('');
  const [priority, setPriority] = useState<'normal' | 'immediate'>('normal');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = () => {
    const spec: JobSpec = tab === 'file'
      ? { kind: 'file', fileType, urls: urls.split(/\s*\n\s*/).map((u) => u.trim()).filter(Boolean) }
      : { kind: 'firmware', version: version.trim(), url: url.trim(), priority };
    setBusy(true);
    setError(null);
    api.addJob(macs, spec).then(
      (r) => {
        queued(tab === 'file' ? t('deploy.fileWhat') : t('deploy.firmwareWhat', { version: version.trim() }), macs, r);
        onClose();
      },
      (e: unknown) => {
        setError(errorText(e));
        setBusy(false);
      },
    );
  };
  return (
    <Dialog
      title={t('deploy.title', { targets: targetsText(macs, t) })}
      onClose={onClose}
      footer={
        <>
          {error ? <div className="note note-error grow" role="alert">{error}</div> : <span className="grow" />}
          <button type="button" className="btn" onClick={onClose}>{t('cancel')}</button>
          <button type="button" className="btn btn-primary" disabled={busy || (tab === 'file' ? !urls.trim() : !version.trim() || !url.trim())} onClick={submit}>{t('deploy.deploy')}</button>
        </>
      }
    >
      <div className="seg" role="tablist">
        <button type="button" role="tab" aria-selected={tab === 'file'} className={tab === 'file' ? 'on' : ''} onClick={() => setTab('file')}>{t('deploy.file')}</button>
        <button type="button" role="tab" aria-selected={tab === 'firmware'} className={tab === 'firmware' ? 'on' : ''} onClick={() => setTab('firmware')}>{t('deploy.firmware')}</button>
      </div>
      {tab === 'file' ? (
        <div className="form">
          <label className="field"><span>{t('deploy.fileType')}</span>
            <select className="input" aria-label={t('deploy.fileType')} value={fileType} onChange={(e) => setFileType(e.target.value)}>
              {FILE_TYPES.map((ft) => <option key={ft} value={ft}>{ft}</option>)}
            </select>
          </label>
          <label className="field field-block"><span>{t('deploy.fileUrls')}</span>
            <textarea className="input textarea mono" aria-label={t('deploy.fileUrlsLabel')} rows={3} value={urls} onChange={(e) => setUrls(e.target.value)} />
          </label>
        </div>
      ) : (
        <div className="form">
          <label className="field"><span>{t('deploy.version')}</span><input className="input mono" aria-label={t('deploy.versionLabel')} placeholder="3.5.12.0" value={version} maxLength={32} onChange={(e) => setVersion(e.target.value)} /></label>
          <label className="field field-block"><span>{t('deploy.imageUrl')}</span><input className="input mono" aria-label={t('deploy.imageUrlLabel')} value={url} maxLength={2048} onChange={(e) => setUrl(e.target.value)} /></label>
          <label className="field"><span>{t('deploy.priority')}</span>
            <select className="input" aria-label={t('deploy.priority')} value={priority} onChange={(e) => setPriority(e.target.value as 'normal' | 'immediate')}>
              <option value="normal">{t('deploy.normal')}</option>
              <option value="immediate">{t('deploy.immediate')}</option>
            </select>
          </label>
          <p className="muted">{t('deploy.doneWhen')}</p>
        </div>
      )}
    </Dialog>
  );
}
