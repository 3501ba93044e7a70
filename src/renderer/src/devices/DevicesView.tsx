/**
 * Every device that has contacted the service, kept current by `onDevicesChanged`: mode, what it
 * is doing (idle, in interaction, busy, bootstrap pending/failed), waiting jobs. Devices can be
 * selected (one by one, or all shown) and acted on with the action bar.
 */
import { useEffect, useMemo, useState } from 'react';
import { devicesCsv } from '../lib/devices-csv';
import { downloadText } from '../lib/download';
import { useTranslation } from 'react-i18next';
import type { DeviceView } from '../../../shared/api';
import { ActionBar } from '../actions/ActionBar';
import { useApi } from '../api/ApiContext';
import { deviceStates, waitingJobs, waitingTitle } from '../lib/device-state';
import { ago, dateTime } from '../lib/format';
import { deviceHref, href } from '../lib/route';
import { errorText } from '../lib/api-error';

export function TlsBadge({ protocol }: { protocol: string | null }) {
  const { t } = useTranslation('devices');
  if (!protocol) return <span className="muted">—</span>;
  const legacy = protocol === 'TLSv1' || protocol === 'TLSv1.1';
  return (
    <span className={legacy ? 'tls-legacy' : ''} title={legacy ? t('tls.legacyTitle') : undefined}>
      {protocol}
      {legacy ? <span className="badge badge-warn">{t('tls.legacy')}</span> : null}
    </span>
  );
}

export function DeviceStateBadges({ device }: { device: DeviceView }) {
  const { t } = useTranslation('devices');
  return (
    <span className="states">
      {deviceStates(device, t).map((s) => (
        <span key={s.label} className={`state state-${s.tone}`} title={s.title}>{s.label}</span>
      ))}
    </span>
  );
}

export function ModeBadge({ device }: { device: DeviceView }) {
  const { t } = useTranslation('devices');
  const title = device.mode === 'secure' ? (device.certSerial ? t('mode.secureCert', { serial: device.certSerial }) : t('mode.secure')) : t('mode.default');
  return <span className={`mode mode-${device.mode}`} title={title}>{t(`mode.short.${device.mode}`, { defaultValue: device.mode })}</span>;
}

/** The devices, live: a map by MAC filled by listDevices and kept current by onDevicesChanged. */
export function useDevices(): { devices: Map<string, DeviceView>; error: string | null } {
  const api = useApi();
  const [devices, setDevices] = useState<Map<string, DeviceView>>(new Map());
  const [error, setError] = useState<string | null>(null);
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
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
      off();
    };
  }, [api]);
  return { devices, error };
}

export function DevicesView() {
  const { t } = useTranslation('devices');
  const { devices, error } = useDevices();
  const [query, setQuery] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 10_000);
    return () => clearInterval(tick);
  }, []);

  const q = query.trim().toLowerCase();
  const list = useMemo(
    () =>
      [...devices.values()]
        .filter((d) => !q || [d.mac, d.e164, d.deviceType, d.softwareVersion, d.lastAddress, d.mode, d.profile].some((v) => (v ?? '').toLowerCase().includes(q)))
        .sort((a, b) => a.mac.localeCompare(b.mac)),
    [devices, q],
  );
  const busy = list.filter((d) => d.state === 'in-interaction').length;
  const shownSelected = list.filter((d) => selected.has(d.mac));
  const allShown = list.length > 0 && shownSelected.length === list.length;
  // Act on the selected devices that are shown: a filter narrows the selection.
  const targets = shownSelected.map((d) => d.mac);
  const toggle = (mac: string) => setSelected((s) => { const n = new Set(s); if (n.has(mac)) n.delete(mac); else n.add(mac); return n; });

  return (
    <div className="page devices">
      <div className="page-head">
        <h1>{t('list.title')}</h1>
        <input className="input" type="search" placeholder={t('list.filterPlaceholder')} aria-label={t('list.filterLabel')} value={query} maxLength={100} onChange={(e) => setQuery(e.target.value)} />
        <span className="muted" data-testid="device-count">
          {q ? t('list.countOf', { shown: list.length, count: devices.size }) : t('list.count', { count: devices.size })}{busy ? ` · ${t('list.busy', { count: busy })}` : ''}
        </span>
        <button type="button" className="btn btn-small" onClick={() => downloadText(`localdls-devices-${new Date().toISOString().slice(0, 10)}.csv`, 'text/csv', devicesCsv(list))}>{t('list.exportCsv')}</button>
        <a className="h-link" href={href('jobs')}>{t('list.jobsLink')}</a>
      </div>
      <div className="selection-bar">
        <span className="sel-count" data-testid="selected-count">{targets.length ? t('list.selected', { count: targets.length }) : t('list.selectHint')}</span>
        {targets.length ? <button type="button" className="btn btn-small btn-link" onClick={() => setSelected(new Set())}>{t('list.clearSelection')}</button> : null}
        <ActionBar macs={targets} devices={devices} />
      </div>
      {error ? <div className="note note-error" role="alert">{error}</div> : null}
      <div className="table-wrap">
        <table className="dtable">
          <thead>
            <tr>
              <th className="col-check">
                <input type="checkbox" aria-label={t('list.selectAll')} checked={allShown} disabled={list.length === 0}
                  onChange={() => setSelected((s) => { const n = new Set(s); for (const d of list) { if (allShown) n.delete(d.mac); else n.add(d.mac); } return n; })} />
              </th>
              <th>{t('col.mac')}</th>
              <th>{t('col.mode')}</th>
              <th>{t('col.state')}</th>
              <th className="num">{t('col.jobs')}</th>
              <th>{t('col.model')}</th>
              <th className="col-firmware">{t('col.firmware')}</th>
              <th>{t('col.e164')}</th>
              <th>{t('col.address')}</th>
              <th className="col-tls">{t('col.tls')}</th>
              <th>{t('col.lastContact')}</th>
            </tr>
          </thead>
          <tbody>
            {list.map((d) => {
              const waiting = waitingJobs(d);
              return (
                <tr key={d.mac} onClick={() => (window.location.hash = deviceHref(d.mac))} className={`clickable ${selected.has(d.mac) ? 'selected' : ''}`} data-mac={d.mac}>
                  <td className="col-check" onClick={(e) => e.stopPropagation()}>
                    <input type="checkbox" aria-label={t('list.select', { mac: d.mac })} checked={selected.has(d.mac)} onChange={() => toggle(d.mac)} />
                  </td>
                  <td className="mono"><a href={deviceHref(d.mac)}>{d.mac}</a></td>
                  <td><ModeBadge device={d} /></td>
                  <td><DeviceStateBadges device={d} /></td>
                  <td className="num" title={waitingTitle(d, t)}>
                    {waiting ? <a href={href('jobs', { device: d.mac, state: 'waiting' })} onClick={(e) => e.stopPropagation()} className="jobs-waiting">{t('list.waiting', { count: waiting })}</a> : <span className="muted">—</span>}
                  </td>
                  <td>{d.deviceType ?? '—'}</td>
                  <td className="mono col-firmware">{d.softwareVersion ?? '—'}</td>
                  <td className="mono">{d.e164 ?? '—'}</td>
                  <td className="mono">{d.lastAddress ?? '—'}</td>
                  <td className="col-tls"><TlsBadge protocol={d.tlsProtocol} /></td>
                  <td title={dateTime(d.lastContact)}>{ago(d.lastContact, now)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {devices.size === 0 && !error ? <div className="empty">{t('list.none')}</div> : null}
      </div>
    </div>
  );
}
