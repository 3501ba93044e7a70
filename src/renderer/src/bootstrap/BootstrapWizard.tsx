/**
 * Moving phones to Secure Mode: choose the devices (Default-Mode ones, preselected from the
 * devices table), PIN or no PIN, start; then the PIN sheet (print or save) and each phone's state
 * as it moves, until it is secure or failed with the reason. PINs appear only on the sheet, which
 * is fetched when asked for and dropped when closed. When Secure Mode is off the wizard says why.
 */
import { useEffect, useMemo, useState } from 'react';
import { createPortal } from 'react-dom';
import type { BootstrapDevice, BootstrapRun, SecureStatus } from '../../../shared/api';
import { useApi } from '../api/ApiContext';
import { errorText, useToast } from '../common/Toasts';
import { ModeBadge, useDevices } from '../devices/DevicesView';
import { downloadText } from '../lib/download';
import { dateTime } from '../lib/format';
import { deviceHref, go, href, type Route } from '../lib/route';

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
  if (error) return <div className="note note-error">Secure Mode status unavailable: {error}</div>;
  if (!secure) return <div className="note">Checking Secure Mode…</div>;
  if (!secure.on) {
    return (
      <div className="note note-error secure-off" data-testid="secure-off" role="alert">
        <strong>Secure Mode is off, so phones cannot be bootstrapped.</strong>
        <p>Why: {secure.reason}</p>
        <p>
          What to do: stop the service and start it again with the key passphrase, e.g.{' '}
          <code>LOCALDLS_KEY_PASSPHRASE=… localdls serve --ui</code> (or <code>LOCALDLS_KEY_PASSPHRASE_FILE=</code> a file with mode 0600 holding it).
          The passphrase seals the site's CA and certificate keys; keep it: without it the keys cannot be opened.
        </p>
      </div>
    );
  }
  return (
    <div className="note note-info secure-on" data-testid="secure-on">
      <strong>Secure Mode is on</strong>: phones move to mutual TLS on port <span className="mono">{secure.securePort ?? '?'}</span>, with certificates from{' '}
      <span className="mono">{secure.ca?.subject}</span>
      {secure.ca ? <span className="muted"> (SHA-256 {secure.ca.fingerprint.slice(0, 23)}…, valid until {dateTime(secure.ca.notAfter).slice(0, 10)})</span> : null}
    </div>
  );
}

function deviceStateText(d: BootstrapDevice, pinRun: boolean): string {
  switch (d.state) {
    case 'preparing':
      return 'preparing its certificate…';
    case 'secure':
      return 'secure';
    case 'failed':
      return `failed: ${d.error ?? 'unknown reason'}`;
    default:
      if (d.jobState === 'sent') return pinRun && d.hasPin ? 'the phone has its credentials: type the PIN on the phone' : 'the phone has its credentials: waiting for it on the secure port';
      if (d.jobState === 'waiting-busy') return `the phone is in a call: it goes when the call ends${d.error ? ` (${d.error})` : ''}`;
      return 'queued: waiting for the phone to call (contact-me is sent)';
  }
}

/** The printable PIN sheet: shown on screen until closed, and alone on paper (outside the app frame, which print hides). */
function PinSheetView({ rows, onClose }: { rows: SheetRow[]; onClose: () => void }) {
  return createPortal(
    <div className="print-sheet" data-testid="pin-sheet" role="dialog" aria-label="PIN sheet">
      <div className="print-sheet-bar no-print">
        <strong>PIN sheet</strong>
        <span className="muted grow">Keep it private; destroy it once the phones are secure. Closing it removes the PINs from this page.</span>
        <button type="button" className="btn btn-primary" onClick={() => window.print()}>Print</button>
        <button type="button" className="btn" onClick={onClose}>Close</button>
      </div>
      <h1>LocalDLS: Secure Mode PINs</h1>
      <p>Type the PIN on the phone when it asks. The last three digits are checked by the service (TAN).</p>
      <table>
        <thead><tr><th>MAC</th><th>E.164</th><th>PIN</th></tr></thead>
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

function RunProgress({ run }: { run: BootstrapRun }) {
  const api = useApi();
  const toast = useToast();
  const [sheet, setSheet] = useState<SheetRow[] | null>(null);
  const secure = run.devices.filter((d) => d.state === 'secure').length;
  const failed = run.devices.filter((d) => d.state === 'failed').length;
  const pinRun = run.pin !== 'none';

  const fetchSheet = (format: 'csv' | 'html') => api.bootstrapPinSheet(run.id, format);
  const save = (format: 'csv' | 'html') =>
    fetchSheet(format).then(
      (f) => downloadText(f.filename, f.mimeType, f.content),
      (e: unknown) => toast.error('No PIN sheet', e),
    );
  const show = () =>
    fetchSheet('csv').then(
      (f) => setSheet(parseSheet(f.content)),
      (e: unknown) => toast.error('No PIN sheet', e),
    );

  return (
    <section className="card run" data-testid="bootstrap-run">
      <h2>
        Bootstrap {run.finished ? 'finished' : 'under way'}
        <span className="muted run-id">run {run.id} · started {dateTime(run.started)}</span>
      </h2>
      <div className="progress-line">
        <div className="progress" aria-label="Prepared">
          <div className="progress-bar" style={{ width: `${run.total ? (100 * run.prepared) / run.total : 0}%` }} />
        </div>
        <span data-testid="run-progress">
          prepared {run.prepared}/{run.total} · {secure} secure{failed ? ` · ${failed} failed` : ''}
        </span>
      </div>
      {run.error ? <div className="note note-error">{run.error}</div> : null}
      {pinRun ? (
        <div className="pin-actions">
          <span>{run.pinsAvailable ? 'PINs: on the sheet only.' : run.finished ? 'The PINs are forgotten: every phone of this run is secure or failed.' : 'The PIN sheet is ready once the phones are prepared.'}</span>
          <button type="button" className="btn" disabled={!run.pinsAvailable} onClick={() => void show()}>Show &amp; print PIN sheet…</button>
          <button type="button" className="btn" disabled={!run.pinsAvailable} onClick={() => void save('csv')}>Save CSV</button>
          <button type="button" className="btn" disabled={!run.pinsAvailable} onClick={() => void save('html')}>Save HTML</button>
        </div>
      ) : null}
      <table className="dtable run-devices">
        <thead>
          <tr><th className="c-mac">MAC</th><th className="c-e164">E.164</th><th className="c-pin">PIN</th><th className="num c-job">Job</th><th>State</th></tr>
        </thead>
        <tbody>
          {run.devices.map((d) => (
            <tr key={d.mac} data-mac={d.mac} className={`run-${d.state}`}>
              <td className="mono"><a href={deviceHref(d.mac)}>{d.mac}</a></td>
              <td className="mono">{d.e164 ?? '—'}</td>
              <td>{d.hasPin ? <span className="x-mask" title="on the PIN sheet">••••••</span> : <span className="muted">{pinRun ? '—' : 'none'}</span>}</td>
              <td className="num">{d.jobId !== null ? <a href={href('jobs', { device: d.mac })}>{d.jobId}</a> : '—'}</td>
              <td><span className={`bstate bstate-${d.state}`} data-testid="bootstrap-state">{deviceStateText(d, pinRun)}</span></td>
            </tr>
          ))}
        </tbody>
      </table>
      {run.finished ? (
        <div className={`note ${failed ? 'note-warn' : 'note-info'}`}>
          {failed ? `${secure} of ${run.total} phone${run.total > 1 ? 's are' : ' is'} secure; ${failed} failed (see the reasons above; a failed phone can be bootstrapped again).` : run.total === 1 ? 'The phone is in Secure Mode.' : `All ${run.total} phones are in Secure Mode.`}
        </div>
      ) : null}
      <div className="run-foot">
        <button type="button" className="btn" onClick={() => go(href('bootstrap'))}>New bootstrap…</button>
        <a className="btn btn-link" href={href('devices')}>Back to devices</a>
      </div>
      {sheet ? <PinSheetView rows={sheet} onClose={() => setSheet(null)} /> : null}
    </section>
  );
}

export function BootstrapWizard({ route }: { route: Route }) {
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
    api.getSecureStatus().then(setSecure, (e: unknown) => setSecureError(errorText(e)));
  }, [api]);

  useEffect(() => setSelected(new Set(preselect)), [preselect]);

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
  const pinProblem = pinMode === 'given' ? (!/^\d{6,16}$/.test(givenPin) ? 'A PIN has 6 to 16 digits.' : chosen.length > 1 ? 'One PIN is for one phone only: choose generated PINs for several phones.' : null) : null;
  const canStart = secure?.on === true && chosen.length > 0 && !pinProblem && !busy;

  const start = () => {
    setBusy(true);
    setError(null);
    api.startBootstrap(chosen, { pin: pinMode === 'none' ? 'none' : pinMode === 'auto' ? 'auto' : givenPin, maxPinRetries: retries, ...(pinMode === 'auto' ? { pinDigits: digits } : {}) }).then(
      (r) => {
        setRun(r);
        setBusy(false);
        setGivenPin('');
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
        <div className="page-head"><h1>Bootstrap into Secure Mode</h1></div>
        {error ? <div className="note note-error">{error}</div> : null}
        {run ? <RunProgress run={run} /> : error ? <a href={href('bootstrap')}>Start a new bootstrap</a> : <p className="muted">Loading the run…</p>}
      </div>
    );
  }

  return (
    <div className="page bootstrap">
      <div className="page-head"><h1>Bootstrap into Secure Mode</h1></div>
      <SecureStatusNote secure={secure} error={secureError} />
      <section className="card">
        <h2>1 · Devices <span className="muted">{chosen.length} of {candidates.length} in Default Mode chosen</span></h2>
        {alreadySecure.length ? <div className="note">{alreadySecure.length} selected device{alreadySecure.length > 1 ? 's are' : ' is'} already in Secure Mode: not listed.</div> : null}
        {candidates.length === 0 ? <div className="empty">No device in Default Mode.</div> : (
          <div className="choose-devices">
            <table className="dtable compact">
              <thead>
                <tr>
                  <th className="col-check">
                    <input type="checkbox" aria-label="Choose all devices" checked={chosen.length > 0 && chosen.length === candidates.filter((d) => d.bootstrap !== 'pending').length}
                      onChange={(e) => setSelected(e.target.checked ? new Set(candidates.map((d) => d.mac)) : new Set())} />
                  </th>
                  <th>MAC</th><th>E.164</th><th>Model</th><th>Mode</th><th>Bootstrap</th>
                </tr>
              </thead>
              <tbody>
                {candidates.map((d) => (
                  <tr key={d.mac} className={d.bootstrap === 'pending' ? 'disabled' : ''}>
                    <td className="col-check">
                      <input type="checkbox" aria-label={`Choose ${d.mac}`} disabled={d.bootstrap === 'pending'} checked={selected.has(d.mac) && d.bootstrap !== 'pending'}
                        onChange={() => setSelected((s) => { const n = new Set(s); if (n.has(d.mac)) n.delete(d.mac); else n.add(d.mac); return n; })} />
                    </td>
                    <td className="mono">{d.mac}</td>
                    <td className="mono">{d.e164 ?? '—'}</td>
                    <td>{d.deviceType ?? '—'}</td>
                    <td><ModeBadge device={d} /></td>
                    <td>{d.bootstrap === 'pending' ? 'under way' : d.bootstrap === 'failed' ? <span className="err-text">failed before</span> : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="card">
        <h2>2 · PIN</h2>
        <div className="pin-choice" role="radiogroup" aria-label="PIN">
          <label className="radio">
            <input type="radio" name="pin" checked={pinMode === 'auto'} onChange={() => setPinMode('auto')} />
            <span><strong>A generated PIN per phone</strong> (recommended). The phone asks for it; the credentials travel encrypted with it, and its last three digits come back as the TAN.
              <span className="inline-field"> Digits <input className="input input-narrow" type="number" aria-label="PIN digits" min={6} max={16} value={digits} disabled={pinMode !== 'auto'} onChange={(e) => setDigits(Math.min(16, Math.max(6, Number(e.target.value) || 8)))} /></span>
            </span>
          </label>
          <label className="radio">
            <input type="radio" name="pin" checked={pinMode === 'given'} onChange={() => setPinMode('given')} />
            <span><strong>This PIN</strong> (one phone):
              <input className="input input-pin mono" type="password" inputMode="numeric" autoComplete="off" aria-label="The PIN" placeholder="6–16 digits" value={givenPin} maxLength={16} disabled={pinMode !== 'given'} onChange={(e) => setGivenPin(e.target.value.replace(/\D/g, ''))} />
            </span>
          </label>
          <label className="radio">
            <input type="radio" name="pin" checked={pinMode === 'none'} onChange={() => setPinMode('none')} />
            <span><strong>No PIN</strong>: the client certificate and key are sent to the phone directly (dls-client-certificate). Nobody types anything; use it only on a network you trust.</span>
          </label>
        </div>
        {pinMode !== 'none' ? (
          <label className="field">
            <span>Wrong PINs allowed on the phone</span>
            <input className="input input-narrow" type="number" aria-label="Max PIN retries" min={1} max={10} value={retries} onChange={(e) => setRetries(Math.min(10, Math.max(1, Number(e.target.value) || 3)))} />
          </label>
        ) : null}
        {pinProblem && (givenPin || chosen.length > 1) ? <div className="note note-warn">{pinProblem}</div> : null}
      </section>
      <div className="wizard-foot">
        {error ? <div className="note note-error grow" role="alert">{error}</div> : <span className="grow muted">Each phone gets its own certificate from this site's CA. Its jobs go when it next calls; contact-me is sent at once.</span>}
        <a className="btn" href={href('devices')}>Cancel</a>
        <button type="button" className="btn btn-primary" disabled={!canStart} onClick={start}>
          Bootstrap {chosen.length || ''} device{chosen.length === 1 ? '' : 's'}
        </button>
      </div>
    </div>
  );
}
