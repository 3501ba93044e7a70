/** One device: its record, actions, its jobs, its current items (searchable, indexed items grouped) and its traffic. */
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { DeviceDetail } from '../../../shared/api';
import { ActionBar } from '../actions/ActionBar';
import { useApi } from '../api/ApiContext';
import { ItemTable, type ItemRow } from '../common/ItemTable';
import { JobsTable } from '../jobs/JobsTable';
import { useJobs } from '../jobs/use-jobs';
import { waitingJobs, waitingTitle } from '../lib/device-state';
import { clockTime, dateTime } from '../lib/format';
import { href, timelineHref } from '../lib/route';
import { ReplyStatusPill, rowClass } from '../traffic/ExchangeList';
import { DeviceStateBadges, ModeBadge, TlsBadge } from './DevicesView';
import { OverridesCard } from './OverridesCard';
import { errorText } from '../lib/api-error';
import { contactMeError } from '../lib/contact-me-error';
import { exchangeError } from '../lib/exchange-error';

export function DevicePage({ mac }: { mac: string }) {
  const { t } = useTranslation('devices');
  const api = useApi();
  const [detail, setDetail] = useState<DeviceDetail | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const load = () =>
      api.getDevice(mac).then(
        (d) => live && (setDetail(d), setError(null)),
        (e: unknown) => live && setError(errorText(e)),
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

  if (error) return <div className="page"><a href={href('devices')}>{t('page.back')}</a><div className="note note-error" role="alert">{error}</div></div>;
  if (!detail) return <div className="page"><p className="muted">{t('page.loading', { mac })}</p></div>;
  const d = detail.device;
  const rows: ItemRow[] = detail.items.map((i) => ({ ...i, key: `${i.name}#${i.index ?? ''}` }));
  // A failed bootstrap says why (came back in Default Mode, wrong TAN, …): its newest job's error.
  const lastBootstrap = jobs.jobs.filter((j) => j.kind === 'Bootstrap').reduce<(typeof jobs.jobs)[number] | undefined>((a, j) => (a && a.id > j.id ? a : j), undefined);
  const bootstrapWhy = d.bootstrap === 'failed' && lastBootstrap && (lastBootstrap.state === 'failed' || lastBootstrap.state === 'cancelled') ? lastBootstrap.error : null;

  return (
    <div className="page device">
      <div className="page-head">
        <a href={href('devices')}>{t('page.back')}</a>
        <h1 className="mono">{d.mac}</h1>
        <ModeBadge device={d} />
        <DeviceStateBadges device={d} />
        {waitingJobs(d) ? <span className="muted" title={waitingTitle(d, t)}>{t('page.waiting', { count: waitingJobs(d) })}</span> : null}
        <a className="h-link" href={timelineHref(d.mac)}>{t('page.timeline')}</a>
      </div>
      <ActionBar macs={macs} devices={new Map([[d.mac, d]])} />
      <section className="card">
        <dl className="kv grid">
          <dt>{t('col.model')}</dt><dd>{d.deviceType ?? '—'}</dd>
          <dt>{t('col.firmware')}</dt><dd className="mono">{d.softwareVersion ?? '—'}</dd>
          <dt>{t('page.partNumber')}</dt><dd className="mono">{d.partNumber ?? '—'}</dd>
          <dt>{t('col.e164')}</dt><dd className="mono">{d.e164 ?? '—'}</dd>
          <dt>{t('col.address')}</dt><dd className="mono">{d.lastAddress ?? '—'}</dd>
          <dt>{t('page.contactMeUri')}</dt><dd className="mono wrap-any">{d.contactMeUri ?? '—'}</dd>
          <dt>{t('col.tls')}</dt><dd><TlsBadge protocol={d.tlsProtocol} /></dd>
          <dt>{t('page.firstContact')}</dt><dd>{dateTime(d.firstContact)}</dd>
          <dt>{t('col.lastContact')}</dt><dd>{dateTime(d.lastContact)}</dd>
          <dt>{t('page.contactMe')}</dt>
          <dd data-testid="contact-me-state">
            {d.contactFailures > 0
              ? <span className="err-text">{t('page.contactFailed', { count: d.contactFailures, error: d.lastContactError ? contactMeError(d.lastContactError) : '' })}</span>
              : d.lastContactMe !== null ? t('page.contactSent', { at: dateTime(d.lastContactMe) }) : t('page.contactNever')}
          </dd>
          <dt>{t('page.profile')}</dt><dd>{d.profile ?? '—'}</dd>
          <dt>{t('col.bootstrap')}</dt><dd data-testid="bootstrap-state">{d.bootstrap ? t(`page.bootstrap.${d.bootstrap}`, { defaultValue: d.bootstrap }) : '—'}{bootstrapWhy ? <span className="err-text wrap-any"> · {bootstrapWhy}</span> : null}{d.certSerial ? <span className="muted mono"> · {t('page.certificate', { serial: d.certSerial })}</span> : null}</dd>
        </dl>
      </section>
      <OverridesCard mac={d.mac} profile={d.profile} />
      <section className="card">
        <h2>
          {t('page.jobs')} <span className="muted">{jobs.matched}</span>
          <a className="h-link" href={href('jobs', { device: mac })}>{t('page.openJobs')}</a>
        </h2>
        {jobs.error ? <div className="note note-error" role="alert">{jobs.error}</div> : null}
        <div className="jobs-scroll">
          <JobsTable jobs={jobs.jobs} showDevice={false} onChanged={jobs.upsert} emptyText={t('page.noJobs')} />
        </div>
      </section>
      <div className="device-cols">
        <section className="card">
          <h2>{t('page.items')}</h2>
          <ItemTable rows={rows} grouped emptyText={t('page.noItems')} reveal={(r) => api.revealDeviceItem(mac, r.name, r.index)} />
        </section>
        <section className="card">
          <h2>
            {t('page.traffic')} <span className="muted">{detail.trafficTotal > detail.traffic.length ? t('page.newestOf', { shown: detail.traffic.length, count: detail.trafficTotal }) : detail.trafficTotal}</span>
            <a className="h-link" href={href('traffic', { device: mac })}>{t('page.openTraffic')}</a>
          </h2>
          <table className="dtable compact device-traffic">
            <thead>
              <tr><th>#</th><th>{t('traffic.time')}</th><th>{t('traffic.listener')}</th><th>{t('traffic.reason')}</th><th>{t('traffic.action')}</th><th>{t('traffic.status')}</th><th className="num">{t('traffic.items')}</th></tr>
            </thead>
            <tbody>
              {[...detail.traffic].reverse().map((x) => (
                <tr key={x.id} className={`clickable ${rowClass(x)}`} onClick={() => (window.location.hash = href('traffic', { device: mac, focus: x.id }))}>
                  <td className="muted">{x.id}</td>
                  {/* To the second here (the date and zone in its tooltip, the milliseconds in the traffic view): the card shares the page with the items. */}
                  <td className="mono" title={dateTime(x.started)}>{clockTime(x.started).slice(0, 8)}</td>
                  <td><span className={`listener listener-${x.listener}`}>{t(`traffic.listeners.${x.listener}`, { defaultValue: x.listener })}</span></td>
                  <td className="t-reason">
                    {/* The protocol's words stay whole ("reply-to WriteItems" broke as "WriteIte|ms" at 1280 px); a long path or error still wraps anywhere. */}
                    {x.reason ? <span className="word">{x.reason}</span> : (exchangeError(x) ?? '—')}
                    {x.replyAction ? <> <span className="word">{x.replyAction}</span></> : null}
                    {x.fragment === 'next' ? <> <span className="word">{t('traffic.fragment')}</span></> : null}
                  </td>
                  <td>{x.action ?? ''}</td>
                  <td title={x.replyStatus && !x.refusedItems ? t('traffic.replyStatus', { status: x.replyStatus }) : undefined}>
                    {x.httpStatus || 'TLS'}
                    {x.replyStatus !== 'accepted' || x.refusedItems > 0 ? <ReplyStatusPill x={x} /> : null}
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
