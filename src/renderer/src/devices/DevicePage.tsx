/** One device: its record, actions, its jobs, its current items (searchable, indexed items grouped) and its traffic. */
import { useEffect, useMemo, useState } from 'react';
import type { DeviceDetail } from '../../../shared/api';
import { ActionBar } from '../actions/ActionBar';
import { useApi } from '../api/ApiContext';
import { ItemTable, type ItemRow } from '../common/ItemTable';
import { JobsTable } from '../jobs/JobsTable';
import { useJobs } from '../jobs/use-jobs';
import { waitingJobs, waitingTitle } from '../lib/device-state';
import { clockTime, dateTime } from '../lib/format';
import { href, timelineHref } from '../lib/route';
import { rowClass } from '../traffic/ExchangeList';
import { DeviceStateBadges, ModeBadge, TlsBadge } from './DevicesView';

const LISTENER_NAMES: Record<string, string> = { default: 'default', secure: 'secure', dcmp: 'DCMP', 'contact-me': 'contact-me' };

export function DevicePage({ mac }: { mac: string }) {
  const api = useApi();
  const [detail, setDetail] = useState<DeviceDetail | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const load = () =>
      api.getDevice(mac).then(
        (d) => live && (setDetail(d), setError(null)),
        (e: unknown) => live && setError(e instanceof Error ? e.message : String(e)),
      );
    void load();
    // Reload when this device changes (a new interaction, new items).
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = api.onDevicesChanged((changed) => {
      const mine = changed.find((d) => d.mac === mac);
      if (!mine) return;
      // The record itself at once (state, waiting jobs); items and traffic a moment later.
      setDetail((old) => (old ? { ...old, device: mine } : old));
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        void load();
      }, 300);
    });
    return () => {
      live = false;
      off();
      if (timer) clearTimeout(timer);
    };
  }, [api, mac]);

  const jobFilter = useMemo(() => ({ mac, limit: 200 }), [mac]);
  const jobs = useJobs(jobFilter);
  const macs = useMemo(() => [mac], [mac]);

  if (error) return <div className="page"><a href={href('devices')}>← Devices</a><div className="note note-error">{error}</div></div>;
  if (!detail) return <div className="page"><p className="muted">Loading {mac}…</p></div>;
  const d = detail.device;
  const rows: ItemRow[] = detail.items.map((i) => ({ ...i, key: `${i.name}#${i.index ?? ''}` }));

  return (
    <div className="page device">
      <div className="page-head">
        <a href={href('devices')}>← Devices</a>
        <h1 className="mono">{d.mac}</h1>
        <ModeBadge device={d} />
        <DeviceStateBadges device={d} />
        {waitingJobs(d) ? <span className="muted" title={waitingTitle(d)}>{waitingJobs(d)} job{waitingJobs(d) > 1 ? 's' : ''} waiting</span> : null}
        <a className="h-link" href={timelineHref(d.mac)}>Timeline →</a>
      </div>
      <ActionBar macs={macs} devices={new Map([[d.mac, d]])} />
      <section className="card">
        <dl className="kv grid">
          <dt>Model</dt><dd>{d.deviceType ?? '—'}</dd>
          <dt>Firmware</dt><dd className="mono">{d.softwareVersion ?? '—'}</dd>
          <dt>Part number</dt><dd className="mono">{d.partNumber ?? '—'}</dd>
          <dt>E.164</dt><dd className="mono">{d.e164 ?? '—'}</dd>
          <dt>Address</dt><dd className="mono">{d.lastAddress ?? '—'}</dd>
          <dt>Contact-me URI</dt><dd className="mono">{d.contactMeUri ?? '—'}</dd>
          <dt>TLS</dt><dd><TlsBadge protocol={d.tlsProtocol} /></dd>
          <dt>First contact</dt><dd>{dateTime(d.firstContact)}</dd>
          <dt>Last contact</dt><dd>{dateTime(d.lastContact)}</dd>
          <dt>Profile</dt><dd>{d.profile ?? '—'}</dd>
          <dt>Bootstrap</dt><dd>{d.bootstrap ?? '—'}{d.certSerial ? <span className="muted mono"> · certificate {d.certSerial}</span> : null}</dd>
        </dl>
      </section>
      <section className="card">
        <h2>
          Jobs <span className="muted">{jobs.matched}</span>
          <a className="h-link" href={href('jobs', { device: mac })}>Open in jobs view →</a>
        </h2>
        {jobs.error ? <div className="note note-error">{jobs.error}</div> : null}
        <div className="jobs-scroll">
          <JobsTable jobs={jobs.jobs} showDevice={false} onChanged={jobs.upsert} emptyText="No jobs for this device yet: use the actions above." />
        </div>
      </section>
      <div className="device-cols">
        <section className="card">
          <h2>Items</h2>
          <ItemTable rows={rows} grouped emptyText="No items stored yet (they arrive with the phone's ReadAllItems answer)." reveal={(r) => api.revealDeviceItem(mac, r.name, r.index)} />
        </section>
        <section className="card">
          <h2>
            Traffic <span className="muted">{detail.trafficTotal > detail.traffic.length ? `newest ${detail.traffic.length} of ${detail.trafficTotal}` : detail.trafficTotal}</span>
            <a className="h-link" href={href('traffic', { device: mac })}>Open in traffic view →</a>
          </h2>
          <table className="dtable compact">
            <thead>
              <tr><th>#</th><th>Time</th><th>Listener</th><th>Reason</th><th>Action</th><th>Status</th><th className="num">Items</th></tr>
            </thead>
            <tbody>
              {[...detail.traffic].reverse().map((x) => (
                <tr key={x.id} className={`clickable ${rowClass(x)}`} onClick={() => (window.location.hash = href('traffic', { device: mac, focus: x.id }))}>
                  <td className="muted">{x.id}</td>
                  <td className="mono">{clockTime(x.started)}</td>
                  <td><span className={`listener listener-${x.listener}`}>{LISTENER_NAMES[x.listener] ?? x.listener}</span></td>
                  <td>{x.reason ?? x.error ?? '—'}{x.replyAction ? ` ${x.replyAction}` : ''}{x.fragment === 'next' ? ' (fragment)' : ''}</td>
                  <td>{x.action ?? ''}</td>
                  <td title={x.replyStatus ? `reply status: ${x.replyStatus}` : undefined}>
                    {x.httpStatus || 'TLS'}
                    {x.replyStatus && x.replyStatus !== 'accepted' ? <span className="rs rs-bad">{x.replyStatus}</span> : null}
                  </td>
                  <td className="num">{x.itemCount}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
    </div>
  );
}
