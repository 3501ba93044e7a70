/**
 * Every device that has contacted the service, kept current by `onDevicesChanged`: mode, what it
 * is doing (idle, in interaction, busy, bootstrap pending/failed), waiting jobs. Devices can be
 * selected (one by one, or all shown) and acted on with the action bar.
 */
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { devicesCsv } from '../lib/devices-csv';
import { downloadText } from '../lib/download';
import { useTranslation } from 'react-i18next';
import type { DeviceView } from '../../../shared/api';
import { ActionBar } from '../actions/ActionBar';
import { useApi } from '../api/ApiContext';
import { ColumnChooser } from '../common/ColumnChooser';
import { useColumnChoice, useColumnRoom, type ColumnSpec } from '../lib/columns';
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

/**
 * The list's columns and their widths in px, cell padding included; the model takes the rest. Each
 * holds its heading (German's "Letzter Kontakt" in two lines) and its usual contents whole, in
 * English and German, in a wide UI font (DejaVu Sans, Linux's default; measured in Chromium): a
 * MAC, "Default", one state badge ("bootstrap pending"; more badges, and German's "Bootstrap
 * fehlgeschlagen", wrap), "12 wartend", a 15-digit number, an IPv4 address, "TLSv1 Legacy", "vor 30
 * Tagen". Longer contents (a model's or firmware's long name, an IPv6 address) are cut, their title
 * whole. In a 1024 px window (967 px of room beside a scrollbar) all but firmware and TLS fit.
 */
const COLUMNS = [
  { key: 'check', width: 38 },
  { key: 'mac', width: 140 },
  { key: 'mode', width: 68 },
  { key: 'state', width: 136 },
  { key: 'jobs', width: 98 },
  { key: 'model', width: 0 },
  { key: 'firmware', width: 104 },
  { key: 'e164', width: 126 },
  { key: 'address', width: 126 },
  { key: 'tls', width: 124 },
  { key: 'lastContact', width: 120 },
] as const;
type DeviceColumn = (typeof COLUMNS)[number]['key'];

/**
 * Where the columns do not fit (a 1024 px window), these give way, first to last, as in the
 * traffic list: firmware and TLS (both on the device's page), the address, the number, the last
 * contact, the waiting jobs, the mode. The Columns menu brings one back.
 */
const SPEC: ColumnSpec<DeviceColumn> = {
  columns: COLUMNS,
  // The model's least room: "OpenStage 60" whole.
  flexMin: 104,
  always: new Set(['check', 'mac', 'state', 'model']),
  giveWay: ['firmware', 'tls', 'address', 'e164', 'lastContact', 'jobs', 'mode'],
  hiddenKey: 'localdls.devices.hiddenColumns',
  pinnedKey: 'localdls.devices.shownColumns',
};

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
  const wrapRef = useRef<HTMLDivElement>(null);
  const { layout, choose } = useColumnChoice(SPEC, useColumnRoom(wrapRef)?.room ?? null);
  const shown = (key: DeviceColumn) => layout.shown.includes(key);
  /** A cell of a column that can give way: nothing where it is left out. */
  const cell = (key: DeviceColumn, node: ReactNode) => (shown(key) ? node : null);

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
        <ColumnChooser
          columns={COLUMNS.filter((c) => !SPEC.always.has(c.key)).map((c) => ({ key: c.key, label: t(`col.${c.key}`) }))}
          shown={layout.shown}
          legend={t('list.columnsLegend')}
          onChange={choose}
        />
      </div>
      <div className="selection-bar">
        <span className="sel-count" data-testid="selected-count">{targets.length ? t('list.selected', { count: targets.length }) : t('list.selectHint')}</span>
        {targets.length ? <button type="button" className="btn btn-small btn-link" onClick={() => setSelected(new Set())}>{t('list.clearSelection')}</button> : null}
        <ActionBar macs={targets} devices={devices} />
      </div>
      {error ? <div className="note note-error" role="alert">{error}</div> : null}
      <div className="table-wrap" ref={wrapRef}>
        {/* Fixed widths: a long cell is cut (its title whole), never widening the table past the window. */}
        <table className="dtable fit-columns">
          <colgroup>
            {COLUMNS.filter((c) => shown(c.key)).map((c) => <col key={c.key} style={c.width ? { width: c.width } : undefined} />)}
          </colgroup>
          <thead>
            <tr>
              <th className="col-check">
                <input type="checkbox" aria-label={t('list.selectAll')} checked={allShown} disabled={list.length === 0}
                  onChange={() => setSelected((s) => { const n = new Set(s); for (const d of list) { if (allShown) n.delete(d.mac); else n.add(d.mac); } return n; })} />
              </th>
              <th>{t('col.mac')}</th>
              {cell('mode', <th>{t('col.mode')}</th>)}
              <th>{t('col.state')}</th>
              {cell('jobs', <th className="num">{t('col.jobs')}</th>)}
              <th>{t('col.model')}</th>
              {cell('firmware', <th>{t('col.firmware')}</th>)}
              {cell('e164', <th>{t('col.e164')}</th>)}
              {cell('address', <th>{t('col.address')}</th>)}
              {cell('tls', <th>{t('col.tls')}</th>)}
              {cell('lastContact', <th>{t('col.lastContact')}</th>)}
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
                  {cell('mode', <td><ModeBadge device={d} /></td>)}
                  <td className="col-state"><DeviceStateBadges device={d} /></td>
                  {cell('jobs', (
                    <td className="num" title={waitingTitle(d, t)}>
                      {waiting ? <a href={href('jobs', { device: d.mac, state: 'waiting' })} onClick={(e) => e.stopPropagation()} className="jobs-waiting">{t('list.waiting', { count: waiting })}</a> : <span className="muted">—</span>}
                    </td>
                  ))}
                  <td title={d.deviceType ?? undefined}>{d.deviceType ?? '—'}</td>
                  {cell('firmware', <td className="mono" title={d.softwareVersion ?? undefined}>{d.softwareVersion ?? '—'}</td>)}
                  {cell('e164', <td className="mono" title={d.e164 ?? undefined}>{d.e164 ?? '—'}</td>)}
                  {cell('address', <td className="mono" title={d.lastAddress ?? undefined}>{d.lastAddress ?? '—'}</td>)}
                  {cell('tls', <td title={d.tlsProtocol ?? undefined}><TlsBadge protocol={d.tlsProtocol} /></td>)}
                  {cell('lastContact', <td title={dateTime(d.lastContact)}>{ago(d.lastContact, now)}</td>)}
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
