/** Every device that has contacted the service, kept current by `onDevicesChanged`. */
import { useEffect, useMemo, useState } from 'react';
import type { Device } from '../../../shared/model';
import { useApi } from '../api/ApiContext';
import { ago, dateTime } from '../lib/format';
import { deviceHref } from '../lib/route';

export function TlsBadge({ protocol }: { protocol: string | null }) {
  if (!protocol) return <span className="muted">—</span>;
  const legacy = protocol === 'TLSv1' || protocol === 'TLSv1.1';
  return (
    <span className={legacy ? 'tls-legacy' : ''} title={legacy ? 'Old firmware: this phone only speaks a legacy TLS version' : undefined}>
      {protocol}
      {legacy ? <span className="badge badge-warn">legacy</span> : null}
    </span>
  );
}

export function DevicesView() {
  const api = useApi();
  const [devices, setDevices] = useState<Map<string, Device>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    let live = true;
    const off = api.onDevicesChanged((changed) =>
      setDevices((m) => {
        const n = new Map(m);
        for (const d of changed) n.set(d.mac, d);
        return n;
      }),
    );
    api.listDevices().then(
      (list) => live && setDevices((m) => new Map([...list.map((d) => [d.mac, d] as const), ...m])),
      (e: unknown) => live && setError(e instanceof Error ? e.message : String(e)),
    );
    const tick = setInterval(() => setNow(Date.now()), 10_000);
    return () => {
      live = false;
      off();
      clearInterval(tick);
    };
  }, [api]);

  const q = query.trim().toLowerCase();
  const list = useMemo(
    () =>
      [...devices.values()]
        .filter((d) => !q || [d.mac, d.e164, d.deviceType, d.softwareVersion, d.lastAddress].some((v) => (v ?? '').toLowerCase().includes(q)))
        .sort((a, b) => a.mac.localeCompare(b.mac)),
    [devices, q],
  );
  const busy = list.filter((d) => d.state === 'in-interaction').length;

  return (
    <div className="page devices">
      <div className="page-head">
        <h1>Devices</h1>
        <input className="input" type="search" placeholder="Filter by MAC, number, model, firmware, address" aria-label="Filter devices" value={query} maxLength={100} onChange={(e) => setQuery(e.target.value)} />
        <span className="muted" data-testid="device-count">
          {q ? `${list.length} of ${devices.size}` : devices.size} devices{busy ? ` · ${busy} in interaction` : ''}
        </span>
      </div>
      {error ? <div className="note note-error">{error}</div> : null}
      <div className="table-wrap">
        <table className="dtable">
          <thead>
            <tr>
              <th>MAC</th>
              <th>Mode</th>
              <th>State</th>
              <th>Model</th>
              <th>Firmware</th>
              <th>E.164</th>
              <th>Address</th>
              <th>TLS</th>
              <th>Last contact</th>
            </tr>
          </thead>
          <tbody>
            {list.map((d) => (
              <tr key={d.mac} onClick={() => (window.location.hash = deviceHref(d.mac))} className="clickable">
                <td className="mono"><a href={deviceHref(d.mac)}>{d.mac}</a></td>
                <td><span className={`mode mode-${d.mode}`}>{d.mode}</span></td>
                <td><span className={`state state-${d.state}`}>{d.state === 'in-interaction' ? 'in interaction' : d.state}</span></td>
                <td>{d.deviceType ?? '—'}</td>
                <td className="mono">{d.softwareVersion ?? '—'}</td>
                <td className="mono">{d.e164 ?? '—'}</td>
                <td className="mono">{d.lastAddress ?? '—'}</td>
                <td><TlsBadge protocol={d.tlsProtocol} /></td>
                <td title={dateTime(d.lastContact)}>{ago(d.lastContact, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {devices.size === 0 && !error ? <div className="empty">No device has contacted the service yet.</div> : null}
      </div>
    </div>
  );
}
