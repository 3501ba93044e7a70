/** The dialogs behind the device actions: item editor, confirmation, profiles, file/firmware deployment. */
import { useEffect, useState } from 'react';
import { FILE_TYPES, type AddJobsResult, type DeviceView, type JobSpec } from '../../../shared/api';
import type { Profile } from '../../../shared/model';
import { useApi } from '../api/ApiContext';
import { Dialog } from '../common/Dialog';
import { errorText, useToast } from '../common/Toasts';
import { itemText, kindLabel } from '../lib/jobs';
import { useCatalogue } from '../lib/use-catalogue';
import { emptyRow, ItemRowsEditor, rowOf, rowProblem, usedRows, type ItemRow } from './ItemRowsEditor';

export function targetsText(macs: readonly string[]): string {
  return macs.length === 1 ? macs[0]! : `${macs.length} devices`;
}

/** Reports queued jobs (and the service's notes) as one message. */
export function useJobsQueued(): (what: string, macs: readonly string[], r: AddJobsResult) => void {
  const toast = useToast();
  return (what, macs, r) => {
    const lines = r.jobs.map((j) => `job ${j.id}: ${kindLabel(j.kind)} for ${j.mac}`);
    toast.push('ok', `${what} queued for ${targetsText(macs)}`, [...r.notes.map((n) => `Note: ${n}`), ...lines, 'The phones are asked to call (contact-me); see Jobs for progress.']);
  };
}

function DeviceNames({ macs, devices }: { macs: readonly string[]; devices?: ReadonlyMap<string, DeviceView> }) {
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
      {macs.length > 20 ? <li className="muted">…and {macs.length - 20} more</li> : null}
    </ul>
  );
}

export function ItemsDialog({ mode, macs, onClose }: { mode: 'write' | 'read'; macs: string[]; onClose: () => void }) {
  const api = useApi();
  const { catalogue, error: catalogueError } = useCatalogue(api);
  const queued = useJobsQueued();
  const [rows, setRows] = useState<ItemRow[]>(() => [emptyRow()]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const used = usedRows(rows);
  const problems = rows.map(rowProblem).filter(Boolean);
  const write = mode === 'write';
  const submit = () => {
    const items = used.map((r) => ({ name: r.name.trim(), ...(r.index.trim() ? { index: Number(r.index.trim()) } : {}), ...(write ? { value: r.value } : {}) }));
    const spec: JobSpec = write ? { kind: 'write', items: items as { name: string; index?: number; value: string }[] } : { kind: 'read', items };
    setBusy(true);
    setError(null);
    api.addJob(macs, spec).then(
      (r) => {
        queued(write ? `Write of ${used.length} item${used.length > 1 ? 's' : ''}` : `Read of ${used.length} item${used.length > 1 ? 's' : ''}`, macs, r);
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
      title={`${write ? 'Write items to' : 'Read items from'} ${targetsText(macs)}`}
      onClose={onClose}
      wide
      className="items-dialog"
      footer={
        <>
          {error ? <div className="note note-error grow" role="alert">{error}</div> : <span className="grow muted">{write ? 'Only these items are written; the phone answers each with its status.' : "The phone's answer updates the device's items."}</span>}
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="button" className="btn btn-primary" disabled={busy || used.length === 0 || problems.length > 0} onClick={submit}>
            {write ? 'Write' : 'Read'} {used.length || ''} item{used.length === 1 ? '' : 's'}
          </button>
        </>
      }
    >
      {catalogueError ? <div className="note note-warn">The item catalogue could not be loaded: {catalogueError}</div> : null}
      <ItemRowsEditor rows={rows} onChange={setRows} withValues={write} catalogue={catalogue} />
    </Dialog>
  );
}

const CONFIRM = {
  restart: {
    title: 'Restart',
    spec: { kind: 'restart' } as JobSpec,
    text: 'Each phone restarts when it next calls: a call in progress is ended, the phone is unusable for a minute or two, then it starts up again and reports to LocalDLS. The job is done when it has started up.',
    button: 'Restart',
  },
  'factory-reset': {
    title: 'Factory reset',
    spec: { kind: 'factory-reset' } as JobSpec,
    text: 'A factory reset erases everything on each phone: its settings, numbers, passwords and Secure-Mode certificates. It restarts in its delivery state (Default Mode) and must be provisioned again. This cannot be undone.',
    button: 'Factory reset',
  },
} as const;

export function ConfirmJobDialog({ what, macs, devices, onClose }: { what: 'restart' | 'factory-reset'; macs: string[]; devices?: ReadonlyMap<string, DeviceView>; onClose: () => void }) {
  const api = useApi();
  const queued = useJobsQueued();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const c = CONFIRM[what];
  const go = () => {
    setBusy(true);
    api.addJob(macs, c.spec).then(
      (r) => {
        queued(c.title, macs, r);
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
      title={`${c.title} ${macs.length === 1 ? 'this device' : `${macs.length} devices`}?`}
      onClose={onClose}
      className="confirm-dialog"
      footer={
        <>
          {error ? <div className="note note-error grow" role="alert">{error}</div> : <span className="grow" />}
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="button" className={`btn ${what === 'factory-reset' ? 'btn-danger' : 'btn-primary'}`} disabled={busy} onClick={go}>
            {c.button} {targetsText(macs)}
          </button>
        </>
      }
    >
      <p className={what === 'factory-reset' ? 'warn-text' : ''}>{c.text}</p>
      <DeviceNames macs={macs} devices={devices} />
    </Dialog>
  );
}

export function ProfileDialog({ macs, onClose }: { macs: string[]; onClose: () => void }) {
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
        toast.push(queued ? 'ok' : 'info', `Profile ${chosen}: ${queued ? `${queued} job${queued > 1 ? 's' : ''} queued` : 'nothing to write'}`,
          results.map((r) => (r.skipped ? `${r.mac}: skipped, ${r.skipped}` : r.jobId !== null ? `${r.mac}: job ${r.jobId}, ${r.differs} item${r.differs > 1 ? 's' : ''} differ${r.differs > 1 ? '' : 's'}` : `${r.mac}: nothing differs`)));
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
          toast.push('ok', `Profile ${p.name} saved`, [`${p.items.length} item${p.items.length > 1 ? 's' : ''}${p.deviceType ? ` for ${p.deviceType}` : ' (site-wide)'}`]);
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

  const rowsOk = usedRows(rows).length > 0 && rows.every((r) => rowProblem(r) === null);
  return (
    <Dialog
      title={`Apply a profile to ${targetsText(macs)}`}
      onClose={onClose}
      wide
      footer={
        <>
          {error ? <div className="note note-error grow" role="alert">{error}</div> : <span className="grow muted">{tab === 'apply' ? 'Only the items that differ from what each phone reported are written.' : 'A masked value (••••••) keeps the stored secret.'}</span>}
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          {tab === 'apply' ? (
            <button type="button" className="btn btn-primary" disabled={busy || !profile} onClick={apply}>Apply {chosen || 'profile'}</button>
          ) : (
            <button type="button" className="btn btn-primary" disabled={busy || !/^[\w.-]{1,64}$/.test(draft.name.trim()) || !rowsOk} onClick={save}>Save profile</button>
          )}
        </>
      }
    >
      <div className="seg" role="tablist">
        <button type="button" role="tab" aria-selected={tab === 'apply'} className={tab === 'apply' ? 'on' : ''} disabled={!profiles?.length} onClick={() => setTab('apply')}>Apply</button>
        <button type="button" role="tab" aria-selected={tab === 'new'} className={tab === 'new' ? 'on' : ''} onClick={() => setTab('new')}>New or edit profile</button>
      </div>
      {tab === 'apply' ? (
        profiles === null ? <p className="muted">Loading profiles…</p> : (
          <div className="profile-apply">
            <label className="field">
              <span>Profile</span>
              <select className="input" aria-label="Profile" value={chosen} onChange={(e) => setChosen(e.target.value)}>
                {profiles.map((p) => <option key={p.name} value={p.name}>{p.name}{p.deviceType ? ` (${p.deviceType})` : ''}</option>)}
              </select>
              {profile ? <button type="button" className="btn btn-small" onClick={() => edit(profile)}>Edit…</button> : null}
            </label>
            {profile ? (
              <>
                <p className="muted">
                  {profile.deviceType ? `For ${profile.deviceType} only.` : 'Site-wide.'}
                  {profile.matchMac || profile.matchE164 ? ` Plug & play for ${[profile.matchMac && `MAC ${profile.matchMac}`, profile.matchE164 && `E.164 ${profile.matchE164}`].filter(Boolean).join(' and ')}.` : ''}
                </p>
                <ul className="mono profile-items">{profile.items.map((i, n) => <li key={n}>{itemText(i)}</li>)}</ul>
              </>
            ) : null}
          </div>
        )
      ) : (
        <div className="profile-new">
          <div className="field-row">
            <label className="field"><span>Name</span><input className="input" aria-label="Profile name" value={draft.name} maxLength={64} placeholder="site" onChange={(e) => setDraft({ ...draft, name: e.target.value })} /></label>
            <label className="field"><span>Device type</span><input className="input" aria-label="Device type" value={draft.deviceType} maxLength={64} placeholder="any (site-wide)" onChange={(e) => setDraft({ ...draft, deviceType: e.target.value })} /></label>
            <label className="field"><span>New phones with MAC</span><input className="input mono" aria-label="Match MAC" value={draft.matchMac} maxLength={64} placeholder="00:1A:E8:*" onChange={(e) => setDraft({ ...draft, matchMac: e.target.value })} /></label>
            <label className="field"><span>or E.164</span><input className="input mono" aria-label="Match E.164" value={draft.matchE164} maxLength={64} placeholder="4989*" onChange={(e) => setDraft({ ...draft, matchE164: e.target.value })} /></label>
          </div>
          <ItemRowsEditor rows={rows} onChange={setRows} withValues catalogue={catalogue} />
        </div>
      )}
    </Dialog>
  );
}

export function DeployDialog({ macs, onClose }: { macs: string[]; onClose: () => void }) {
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
        queued(tab === 'file' ? 'File deployment' : `Firmware ${version.trim()}`, macs, r);
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
      title={`Deploy to ${targetsText(macs)}`}
      onClose={onClose}
      footer={
        <>
          {error ? <div className="note note-error grow" role="alert">{error}</div> : <span className="grow" />}
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="button" className="btn btn-primary" disabled={busy || (tab === 'file' ? !urls.trim() : !version.trim() || !url.trim())} onClick={submit}>Deploy</button>
        </>
      }
    >
      <div className="seg" role="tablist">
        <button type="button" role="tab" aria-selected={tab === 'file'} className={tab === 'file' ? 'on' : ''} onClick={() => setTab('file')}>File</button>
        <button type="button" role="tab" aria-selected={tab === 'firmware'} className={tab === 'firmware' ? 'on' : ''} onClick={() => setTab('firmware')}>Firmware</button>
      </div>
      {tab === 'file' ? (
        <div className="form">
          <label className="field"><span>File type</span>
            <select className="input" aria-label="File type" value={fileType} onChange={(e) => setFileType(e.target.value)}>
              {FILE_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
            </select>
          </label>
          <label className="field field-block"><span>File URLs, one per line (https://server/path/file or ftp://user:password@server/path/file)</span>
            <textarea className="input textarea mono" aria-label="File URLs" rows={3} value={urls} onChange={(e) => setUrls(e.target.value)} />
          </label>
        </div>
      ) : (
        <div className="form">
          <label className="field"><span>Version</span><input className="input mono" aria-label="Firmware version" placeholder="3.5.12.0" value={version} maxLength={32} onChange={(e) => setVersion(e.target.value)} /></label>
          <label className="field field-block"><span>Image URL (https:// or ftp://user:password@server/path/file)</span><input className="input mono" aria-label="Firmware URL" value={url} maxLength={2048} onChange={(e) => setUrl(e.target.value)} /></label>
          <label className="field"><span>Priority</span>
            <select className="input" aria-label="Priority" value={priority} onChange={(e) => setPriority(e.target.value as 'normal' | 'immediate')}>
              <option value="normal">normal: only when the phone is idle</option>
              <option value="immediate">immediate</option>
            </select>
          </label>
          <p className="muted">The job is done when the phone starts up again reporting this version.</p>
        </div>
      )}
    </Dialog>
  );
}
