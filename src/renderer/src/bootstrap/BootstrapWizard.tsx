/**
 * Moving phones to Secure Mode: choose the devices (Default-Mode ones, preselected from the
 * devices table), PIN or no PIN, start; then the PIN sheet (print or save) and each phone's state
 * as it moves, until it is secure or failed with the reason. PINs appear only on the sheet, which
 * is fetched when asked for and dropped when closed, and only once every phone is prepared (a
 * partial sheet could be taken for the whole one). A run can be cancelled, after a confirmation.
 * When Secure Mode is off the wizard says why; when it is on, how many device keys the key pool
 * holds ready (asked again every few seconds while the wizard is open: the pool is files the
 * service fills while idle, not in the store's change feed). A run of several phones is also a
 * rollout (the rollouts view), which is still there after the service restarts.
 */
import { useEffect, useMemo, useState } from 'react';
import { createPortal } from 'react-dom';
import { Trans, useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import type { BootstrapDevice, BootstrapRun, DeviceView, SecureStatus } from '../../../shared/api';
import { useApi } from '../api/ApiContext';
import { Dialog } from '../common/Dialog';
import { errorText, useToast } from '../common/Toasts';
import { ModeBadge, useDevices } from '../devices/DevicesView';
import { downloadText } from '../lib/download';
import { clockTime, dateTime } from '../lib/format';
import { deviceHref, go, href, rolloutHref, type Route } from '../lib/route';
import { contactMeError } from '../lib/contact-me-error';
import { jobNote } from '../lib/job-note';

/** How often the open wizard asks for the key pool again (it fills one key at a time while idle). */
const KEY_POOL_POLL_MS = 2000;

type PinMode = 'auto' | 'none' | 'given';

interface SheetRow {
  mac: string;
  e164: string;
  pin: string;
}

function parseSheet(csv: string): SheetRow[] {
  return csv
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((l) => l.split(','))
    .filter((c) => c.length >= 3)
    .map(([mac, e164, pin]) => ({ mac: mac!, e164: e164!, pin: pin! }));
}

function SecureStatusNote({ secure, error }: { secure: SecureStatus | null; error: string | null }) {
  const { t } = useTranslation('bootstrap');
  if (error) return <div className="note note-error" role="alert">{t('secure.unavailable', { error })}</div>;
  if (!secure) return <div className="note">{t('secure.checking')}</div>;
  if (!secure.on) {
    // Relaying, a passphrase would not help: the phones' Secure Mode is their DLS's (helper-61).
    const relaying = secure.relaying;
    return (
      <div className={`note ${relaying ? 'note-warn' : 'note-error'} secure-off`} data-testid="secure-off" role="alert">
        <strong>{t('secure.off')}</strong>
        <p>{relaying ? t('secure.relaying', { upstream: relaying }) : t('secure.why', { reason: secure.reason })}</p>
        <p>
          <Trans t={t} i18nKey={relaying ? 'secure.relayingWhatToDo' : 'secure.whatToDo'} components={{ code: <code /> }} />
        </p>
      </div>
    );
  }
  return (
    <div className="note note-info secure-on" data-testid="secure-on">
      <Trans t={t} i18nKey="secure.on" values={{ port: secure.securePort ?? '?', subject: secure.ca?.subject ?? '' }} components={{ strong: <strong />, mono: <span className="mono" /> }} />
      {secure.ca ? <span className="muted"> {t('secure.ca', { fingerprint: `${secure.ca.fingerprint.slice(0, 23)}…`, until: dateTime(secure.ca.notAfter).slice(0, 10) })}</span> : null}
      {secure.keyPool ? <KeyPoolLine pool={secure.keyPool} /> : null}
    </div>
  );
}

/** "N of M keys ready", and whether the pool is filling, full, or off. */
function KeyPoolLine({ pool }: { pool: NonNullable<SecureStatus['keyPool']> }) {
  const { t } = useTranslation('bootstrap');
  const text =
    pool.size === 0
      ? t('secure.poolOff')
      : `${t('secure.poolReady', { ready: Math.min(pool.ready, pool.size), size: pool.size })}: ${pool.ready < pool.size ? t('secure.poolFilling') : t('secure.poolFull', { size: pool.size })}`;
  return <p className="muted key-pool" data-testid="key-pool">{text}</p>;
}

/**
 * What is happening to one phone, in the run's words. While its job waits, what happened to
 * contact-me is said as it is: failed (the job's note), sent at a time, or not sent.
 */
export function deviceStateText(t: TFunction<'bootstrap'>, d: BootstrapDevice, pinRun: boolean, device: DeviceView | undefined, runStarted: number, tj?: TFunction<'jobs'>): string {
  // The job's note in the UI's language when the jobs' words are given (the service writes it in English).
  const why = d.error !== null && tj ? jobNote(d.error, tj) : d.error;
  switch (d.state) {
    case 'preparing':
      return t('state.preparing');
    case 'secure':
      return t('state.secure');
    case 'failed':
      return t('state.failed', { error: why ?? t('state.unknownReason') });
    case 'cancelled':
      return t('state.cancelled', { why: why ?? t('state.unknownReason') });
    default:
      if (d.jobState === 'sent') return pinRun && d.hasPin ? t('state.sentPin') : t('state.sentNoPin');
      if (d.jobState === 'waiting-busy') return why ? t('state.busyWhy', { why }) : t('state.busy');
      if (why) return t('state.queuedWhy', { why });
      if (device?.contactFailures) return t('state.queuedContactFailed', { count: device.contactFailures, error: device.lastContactError ? contactMeError(device.lastContactError, t) : '' });
      if (device?.lastContactMe != null && device.lastContactMe >= runStarted) {
        // What the service recorded of the answer, never inferred from the sending alone.
        const at = clockTime(device.lastContactMe).slice(0, 8);
        if (device.lastContactMeOutcome === 'failed') return t('state.queuedContactRefused', { at, error: device.lastContactMeError ? contactMeError(device.lastContactMeError, t) : t('state.unknownReason') });
        if (device.lastContactMeOutcome === 'answered') return t('state.queuedContactSent', { at });
        return t('state.queuedContactAwaiting', { at });
      }
      if (device && !device.contactMeUri) return t('state.queuedNoUri');
      return t('state.queued');
  }
}

/** The printable PIN sheet: shown on screen until closed, and alone on paper (outside the app frame, which print hides). */
function PinSheetView({ rows, onClose }: { rows: SheetRow[]; onClose: () => void }) {
  const { t } = useTranslation('bootstrap');
  return createPortal(
    <div className="print-sheet" data-testid="pin-sheet" role="dialog" aria-label={t('sheet.title')}>
      <div className="print-sheet-bar no-print">
        <strong>{t('sheet.title')}</strong>
        <span className="muted grow">{t('sheet.keepPrivate')}</span>
        <button type="button" className="btn btn-primary" onClick={() => window.print()}>{t('sheet.print')}</button>
        <button type="button" className="btn" onClick={onClose}>{t('sheet.close')}</button>
      </div>
      <h1>{t('sheet.heading')}</h1>
      <p>{t('sheet.typePin')}</p>
      <table>
        <thead><tr><th>{t('col.mac')}</th><th>{t('col.e164')}</th><th>{t('col.pin')}</th></tr></thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.mac}><td className="mono">{r.mac}</td><td className="mono">{r.e164}</td><td className="pin mono">{r.pin}</td></tr>
          ))}
        </tbody>
      </table>
    </div>,
    document.body,
  );
}

/** "Cancel run", asked once more: what stops, and what cannot be taken back (phones that have their credentials). */
function CancelRunDialog({ run, onClose, onCancelled }: { run: BootstrapRun; onClose: () => void; onCancelled: (r: BootstrapRun) => void }) {
  const { t } = useTranslation('bootstrap');
  const api = useApi();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const sent = run.devices.filter((d) => d.state === 'pending' && d.jobState === 'sent').length;
  const go = () => {
    setBusy(true);
    api.cancelBootstrapRun(run.id).then(
      (r) => {
        onCancelled(r);
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
      title={t('cancel.question')}
      onClose={onClose}
      className="confirm-dialog"
      footer={
        <>
          {error ? <div className="note note-error grow" role="alert">{error}</div> : <span className="grow" />}
          <button type="button" className="btn" onClick={onClose}>{t('cancel.keep')}</button>
          <button type="button" className="btn btn-danger" disabled={busy} onClick={go} data-testid="confirm-cancel-run">{t('cancel.confirm')}</button>
        </>
      }
    >
      <p>{t('cancel.what')}</p>
      <p className={sent ? 'warn-text' : 'muted'}>{sent ? t('cancel.sent', { count: sent }) : t('cancel.sentNone')}</p>
    </Dialog>
  );
}

function RunProgress({ run, onRun }: { run: BootstrapRun; onRun: (r: BootstrapRun) => void }) {
  const { t } = useTranslation('bootstrap');
  const { t: tj } = useTranslation('jobs');
  const { devices } = useDevices();
  const api = useApi();
  const toast = useToast();
  const [sheet, setSheet] = useState<SheetRow[] | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const secure = run.devices.filter((d) => d.state === 'secure').length;
  const failed = run.devices.filter((d) => d.state === 'failed').length;
  const cancelled = run.devices.filter((d) => d.state === 'cancelled').length;
  const stillPending = run.devices.filter((d) => d.state === 'pending').length;
  const pinRun = run.pin !== 'none';
  const pinsText = run.pinsAvailable
    ? t('pins.available')
    : run.finished
      ? t('pins.forgotten')
      : run.devices.some((d) => d.state === 'preparing')
        ? t('pins.notYet', { prepared: run.prepared, total: run.total })
        : t('pins.noneLeft');

  const fetchSheet = (format: 'csv' | 'html') => api.bootstrapPinSheet(run.id, format);
  const save = (format: 'csv' | 'html') =>
    fetchSheet(format).then(
      (f) => downloadText(f.filename, f.mimeType, f.content),
      (e: unknown) => toast.error(t('sheet.none'), e),
    );
  const show = () =>
    fetchSheet('csv').then(
      (f) => setSheet(parseSheet(f.content)),
      (e: unknown) => toast.error(t('sheet.none'), e),
    );

  return (
    <section className="card run" data-testid="bootstrap-run">
      <h2>
        {run.cancelled ? t('run.cancelled') : run.finished ? t('run.finished') : t('run.underWay')}
        <span className="muted run-id">{t('run.id', { id: run.id, started: dateTime(run.started) })}</span>
        {run.total > 1 ? <a className="run-rollout" href={rolloutHref(run.rolloutId)} data-testid="run-rollout">{t('run.rollout')}</a> : null}
      </h2>
      <div className="progress-line">
        <div className="progress" role="progressbar" aria-label={t('run.preparedLabel')} aria-valuemin={0} aria-valuemax={run.total} aria-valuenow={run.prepared}>
          <div className="progress-bar" style={{ width: `${run.total ? (100 * run.prepared) / run.total : 0}%` }} />
        </div>
        <span data-testid="run-progress">
          {t('run.progress', { prepared: run.prepared, total: run.total, secure })}{failed ? ` · ${t('run.failedCount', { count: failed })}` : ''}{cancelled ? ` · ${t('run.cancelledCount', { count: cancelled })}` : ''}
        </span>
      </div>
      {run.error ? <div className="note note-error" role="alert">{run.error}</div> : null}
      {run.cancelled ? (
        <div className="note note-warn" role="status" data-testid="run-cancelled">
          {t('run.cancelledNote', { at: dateTime(run.cancelled.at), why: run.cancelled.why, secure, failed, cancelled })}
          {stillPending ? ` ${t('run.cancelledStillFollowed', { count: stillPending })}` : ''}
        </div>
      ) : null}
      {pinRun ? (
        <div className="pin-actions">
          <span data-testid="pins-note">{pinsText}</span>
          <button type="button" className="btn" disabled={!run.pinsAvailable} onClick={() => void show()}>{t('pins.show')}</button>
          <button type="button" className="btn" disabled={!run.pinsAvailable} onClick={() => void save('csv')}>{t('pins.saveCsv')}</button>
          <button type="button" className="btn" disabled={!run.pinsAvailable} onClick={() => void save('html')}>{t('pins.saveHtml')}</button>
        </div>
      ) : null}
      <table className="dtable run-devices">
        <thead>
          <tr><th className="c-mac">{t('col.mac')}</th><th className="c-e164">{t('col.e164')}</th><th className="c-pin">{t('col.pin')}</th><th className="num c-job">{t('col.job')}</th><th>{t('col.state')}</th></tr>
        </thead>
        <tbody>
          {run.devices.map((d) => (
            <tr key={d.mac} data-mac={d.mac} className={`run-${d.state}`}>
              <td className="mono"><a href={deviceHref(d.mac)}>{d.mac}</a></td>
              <td className="mono">{d.e164 ?? '—'}</td>
              <td>{d.hasPin ? <span className="x-mask" title={t('pins.onSheet')}>••••••</span> : <span className="muted">{pinRun ? '—' : t('pins.noneShort')}</span>}</td>
              <td className="num">{d.jobId !== null ? <a href={href('jobs', { device: d.mac })}>{d.jobId}</a> : '—'}</td>
              <td><span className={`bstate bstate-${d.state}`} data-testid="bootstrap-state">{deviceStateText(t, d, pinRun, devices.get(d.mac), run.started, tj)}</span></td>
            </tr>
          ))}
        </tbody>
      </table>
      {run.finished && !run.cancelled ? (
        <div className={`note ${failed ? 'note-warn' : 'note-info'}`}>
          {failed ? t('run.someFailed', { secure, count: run.total, failed }) : run.total === 1 ? t('run.oneSecure') : t('run.allSecure', { count: run.total })}
        </div>
      ) : null}
      <div className="run-foot">
        {!run.finished && !run.cancelled ? (
          <button type="button" className="btn btn-danger" onClick={() => setConfirmCancel(true)}>{t('cancel.button')}</button>
        ) : null}
        <button type="button" className="btn" onClick={() => go(href('bootstrap'))}>{t('run.new')}</button>
        <a className="btn btn-link" href={href('devices')}>{t('run.backToDevices')}</a>
      </div>
      {sheet ? <PinSheetView rows={sheet} onClose={() => setSheet(null)} /> : null}
      {confirmCancel ? <CancelRunDialog run={run} onClose={() => setConfirmCancel(false)} onCancelled={onRun} /> : null}
    </section>
  );
}

export function BootstrapWizard({ route }: { route: Route }) {
  const { t } = useTranslation('bootstrap');
  const api = useApi();
  const { devices } = useDevices();
  const runId = route.params.get('run');
  const macsParam = route.params.get('macs') ?? '';
  const preselect = useMemo(() => macsParam.split(',').filter(Boolean), [macsParam]);
  const [secure, setSecure] = useState<SecureStatus | null>(null);
  const [secureError, setSecureError] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(() => new Set(preselect));
  const [pinMode, setPinMode] = useState<PinMode>('auto');
  const [digits, setDigits] = useState(8);
  const [givenPin, setGivenPin] = useState('');
  const [retries, setRetries] = useState(3);
  const [run, setRun] = useState<BootstrapRun | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    const ask = () =>
      api.getSecureStatus().then(
        (s) => live && (setSecure(s), setSecureError(null)),
        (e: unknown) => live && setSecureError(errorText(e)),
      );
    void ask();
    // The key pool moves while the service is idle (filling) and as runs take keys.
    const timer = setInterval(() => void ask(), KEY_POOL_POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [api]);

  // Each new bootstrap starts from the devices it was opened with (none after a run), never
  // from the previous run's choice: a second run must not take the first run's phones again.
  useEffect(() => {
    if (!runId) setSelected(new Set(preselect));
  }, [preselect, runId]);

  useEffect(() => {
    if (!runId) {
      setRun(null);
      return;
    }
    let live = true;
    const off = api.onBootstrap((r) => {
      if (r.id === runId) setRun(r);
    });
    api.getBootstrapRun(runId).then(
      (r) => live && setRun((old) => (old && old.id === r.id && old.prepared > r.prepared ? old : r)),
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
      off();
    };
  }, [api, runId]);

  const candidates = [...devices.values()].filter((d) => d.mode === 'default').sort((a, b) => a.mac.localeCompare(b.mac));
  const alreadySecure = preselect.filter((m) => devices.get(m)?.mode === 'secure');
  const chosen = candidates.filter((d) => selected.has(d.mac) && d.bootstrap !== 'pending').map((d) => d.mac);
  const pinProblem = pinMode === 'given' ? (!/^\d{6,16}$/.test(givenPin) ? t('pin.digitsProblem') : chosen.length > 1 ? t('pin.oneForOne') : null) : null;
  const canStart = secure?.on === true && chosen.length > 0 && !pinProblem && !busy;

  const start = () => {
    setBusy(true);
    setError(null);
    api.startBootstrap(chosen, { pin: pinMode === 'none' ? 'none' : pinMode === 'auto' ? 'auto' : givenPin, maxPinRetries: retries, ...(pinMode === 'auto' ? { pinDigits: digits } : {}) }).then(
      (r) => {
        setRun(r);
        setBusy(false);
        setGivenPin('');
        setSelected(new Set());
        go(href('bootstrap', { run: r.id }));
      },
      (e: unknown) => {
        setError(errorText(e));
        setBusy(false);
      },
    );
  };

  if (runId) {
    return (
      <div className="page bootstrap">
        <div className="page-head"><h1>{t('title')}</h1></div>
        {error ? <div className="note note-error" role="alert">{error}</div> : null}
        {run ? (
          <RunProgress run={run} onRun={setRun} />
        ) : error ? (
          <p>
            <a href={href('bootstrap')}>{t('run.startNew')}</a> · <a href={href('rollouts')} data-testid="run-rollouts">{t('run.rolloutsView')}</a>
          </p>
        ) : (
          <p className="muted">{t('run.loading')}</p>
        )}
      </div>
    );
  }

  return (
    <div className="page bootstrap">
      <div className="page-head"><h1>{t('title')}</h1></div>
      <SecureStatusNote secure={secure} error={secureError} />
      <section className="card">
        <h2>{t('devices.heading')} <span className="muted">{t('devices.chosen', { chosen: chosen.length, count: candidates.length })}</span></h2>
        {alreadySecure.length ? <div className="note">{t('devices.alreadySecure', { count: alreadySecure.length })}</div> : null}
        {candidates.length === 0 ? <div className="empty">{t('devices.none')}</div> : (
          <div className="choose-devices">
            <table className="dtable compact">
              <thead>
                <tr>
                  <th className="col-check">
                    <input type="checkbox" aria-label={t('devices.chooseAll')} checked={chosen.length > 0 && chosen.length === candidates.filter((d) => d.bootstrap !== 'pending').length}
                      onChange={(e) => setSelected(e.target.checked ? new Set(candidates.map((d) => d.mac)) : new Set())} />
                  </th>
                  <th>{t('col.mac')}</th><th>{t('col.e164')}</th><th>{t('col.model')}</th><th>{t('col.mode')}</th><th>{t('col.bootstrap')}</th>
                </tr>
              </thead>
              <tbody>
                {candidates.map((d) => (
                  <tr key={d.mac} className={d.bootstrap === 'pending' ? 'disabled' : ''}>
                    <td className="col-check">
                      <input type="checkbox" aria-label={t('devices.choose', { mac: d.mac })} disabled={d.bootstrap === 'pending'} checked={selected.has(d.mac) && d.bootstrap !== 'pending'}
                        onChange={() => setSelected((s) => { const n = new Set(s); if (n.has(d.mac)) n.delete(d.mac); else n.add(d.mac); return n; })} />
                    </td>
                    <td className="mono">{d.mac}</td>
                    <td className="mono">{d.e164 ?? '—'}</td>
                    <td>{d.deviceType ?? '—'}</td>
                    <td><ModeBadge device={d} /></td>
                    <td>{d.bootstrap === 'pending' ? t('devices.underWay') : d.bootstrap === 'failed' ? <span className="err-text">{t('devices.failedBefore')}</span> : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="card">
        <h2>{t('pin.heading')}</h2>
        <div className="pin-choice" role="radiogroup" aria-label={t('col.pin')}>
          <label className="radio">
            <input type="radio" name="pin" checked={pinMode === 'auto'} onChange={() => setPinMode('auto')} />
            <span><Trans t={t} i18nKey="pin.auto" components={{ strong: <strong /> }} />
              <span className="inline-field"> {t('pin.digits')} <input className="input input-narrow" type="number" aria-label={t('pin.digitsLabel')} min={6} max={16} value={digits} disabled={pinMode !== 'auto'} onChange={(e) => setDigits(Math.min(16, Math.max(6, Number(e.target.value) || 8)))} /></span>
            </span>
          </label>
          <label className="radio">
            <input type="radio" name="pin" checked={pinMode === 'given'} onChange={() => setPinMode('given')} />
            <span><Trans t={t} i18nKey="pin.given" components={{ strong: <strong /> }} />
              <input className="input input-pin mono" type="password" inputMode="numeric" autoComplete="off" aria-label={t('pin.theLabel')} placeholder={t('pin.placeholder')} value={givenPin} maxLength={16} disabled={pinMode !== 'given'} onChange={(e) => setGivenPin(e.target.value.replace(/\D/g, ''))} />
            </span>
          </label>
          <label className="radio">
            <input type="radio" name="pin" checked={pinMode === 'none'} onChange={() => setPinMode('none')} />
            <span><Trans t={t} i18nKey="pin.none" components={{ strong: <strong /> }} /></span>
          </label>
        </div>
        {pinMode !== 'none' ? (
          <label className="field">
            <span>{t('pin.retries')}</span>
            <input className="input input-narrow" type="number" aria-label={t('pin.retriesLabel')} min={1} max={10} value={retries} onChange={(e) => setRetries(Math.min(10, Math.max(1, Number(e.target.value) || 3)))} />
          </label>
        ) : null}
        {pinProblem && (givenPin || chosen.length > 1) ? <div className="note note-warn">{pinProblem}</div> : null}
      </section>
      <div className="wizard-foot">
        {error ? <div className="note note-error grow" role="alert">{error}</div> : <span className="grow muted">{t('foot.hint')}</span>}
        <a className="btn" href={href('devices')}>{t('foot.cancel')}</a>
        <button type="button" className="btn btn-primary" disabled={!canStart} onClick={start}>
          {chosen.length ? t('foot.start', { count: chosen.length }) : t('foot.startNone')}
        </button>
      </div>
    </div>
  );
}
