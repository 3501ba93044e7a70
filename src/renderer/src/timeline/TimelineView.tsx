/**
 * A device's timeline, newest first: each interaction (with the items it changed, old -> new, and
 * a link to its ladder), jobs queued and finished, contact-me and other exchanges outside
 * interactions. Secret values arrive masked. Reloads when the device changes.
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { jobNote } from '../lib/job-note';
import type { DeviceTimeline, ItemChangeView, TimelineEntry } from '../../../shared/api';
import { useApi } from '../api/ApiContext';
import { dateTime, duration } from '../lib/format';
import { deviceHref, href, interactionHref } from '../lib/route';
import '../ladder/inspector.css';
import { errorText } from '../lib/api-error';
import { useJobWords } from '../lib/jobs';
import { exchangeError } from '../lib/exchange-error';

function Changes({ changes }: { changes: ItemChangeView[] }) {
  const { t } = useTranslation('timeline');
  if (changes.length === 0) return null;
  return (
    <ul className="changes" aria-label={t('changes', { count: changes.length })}>
      {changes.map((c, i) =>
        c.firstRead !== undefined ? (
          <li key={i} data-testid="change-first-read"><em>{t('firstRead', { count: c.firstRead })}</em></li>
        ) : (
          <li key={i} data-testid="change">
            <span className="mono">{c.name}{c.index !== null ? `[${c.index}]` : ''}</span>:{' '}
            {c.oldValue === null ? <em>{t('new')}</em> : <span className="old mono">{c.oldValue}</span>} →{' '}
            {c.newValue === null ? <em>{t('gone')}</em> : <span className="mono">{c.newValue}</span>}
          </li>
        ),
      )}
    </ul>
  );
}

function Entry({ e }: { e: TimelineEntry }) {
  const { t } = useTranslation('timeline');
  const { t: tj } = useTranslation('jobs');
  const { kindLabel, stateLabel } = useJobWords();
  switch (e.kind) {
    case 'interaction': {
      const i = e.interaction;
      return (
        <>
          <span className="badge">{t('kind.interaction')}</span>
          <div className={e.errors ? 't-error' : ''}>
            <a className="link-in-text" href={interactionHref(i.id)}>{t('interaction', { id: i.id, reason: i.reason ?? '?' })}</a>{' '}
            <span className="muted">
              {t('exchanges', { count: e.exchanges })}
              {i.ended !== null ? ` · ${i.endReason ?? ''} · ${duration(i.ended - i.started)}` : ` · ${t('open')}`}
            </span>
            {e.errors ? <span className="badge badge-error">{t('errors', { count: e.errors })}</span> : null}
            <Changes changes={e.changes} />
          </div>
        </>
      );
    }
    case 'job':
      return (
        <>
          <span className="badge">{t('kind.job')}</span>
          <div className={e.event === 'finished' && e.job.state === 'failed' ? 't-error' : ''}>
            <a className="link-in-text" href={href('jobs', { device: e.job.mac })}>{t(e.event === 'queued' ? 'jobQueued' : 'jobFinished', { id: e.job.id, kind: kindLabel(e.job.kind), state: stateLabel(e.job.state) })}</a>
            {e.event === 'finished' && e.job.error ? <div className="muted">{jobNote(e.job.error, tj)}</div> : null}
          </div>
        </>
      );
    case 'exchange':
      return (
        <>
          <span className="badge">{t(`kind.${e.exchange.kind}`, { defaultValue: e.exchange.kind })}</span>
          <div className={e.exchange.error ? 't-error' : ''}>
            <a className="link-in-text" href={href('traffic', { focus: e.exchange.id })}>#{e.exchange.id}</a> {e.exchange.method} {e.exchange.path} → HTTP {e.exchange.httpStatus}
            {e.exchange.error ? <div>{exchangeError(e.exchange)}</div> : null}
          </div>
        </>
      );
    case 'items':
      return (
        <>
          <span className="badge">{t('kind.items')}</span>
          <div><Changes changes={e.changes} /></div>
        </>
      );
  }
}

export function TimelineView({ mac }: { mac: string }) {
  const api = useApi();
  const { t } = useTranslation('timeline');
  const [timeline, setTimeline] = useState<DeviceTimeline | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const load = () =>
      api.getDeviceTimeline(mac).then(
        (d) => live && (setTimeline(d), setError(null)),
        (e: unknown) => live && setError(errorText(e)),
      );
    void load();
    const later = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        void load();
      }, 300);
    };
    const offDevices = api.onDevicesChanged((changed) => changed.some((d) => d.mac === mac) && later());
    const offJobs = api.onJobsChanged((changed) => changed.some((j) => j.mac === mac) && later());
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
      offDevices();
      offJobs();
    };
  }, [api, mac]);

  return (
    <div className="inspector" data-testid="timeline">
      <div className="inspector-head">
        <h1>{t('title')} <a className="mono" href={deviceHref(mac)}>{mac}</a></h1>
        {timeline?.truncated ? <p className="muted">{t('truncated')}</p> : null}
      </div>
      {error ? <div className="note note-error" role="alert">{error}</div> : null}
      {!timeline && !error ? <div className="empty">{t('loading')}</div> : null}
      {timeline && timeline.entries.length === 0 ? <div className="empty">{t('empty')}</div> : null}
      {timeline && timeline.entries.length > 0 ? (
        <ol className="timeline">
          {timeline.entries.map((e, i) => (
            <li key={i} data-testid="timeline-entry" data-kind={e.kind}>
              <span className="mono muted">{dateTime(e.at)}</span>
              <Entry e={e} />
            </li>
          ))}
        </ol>
      ) : null}
    </div>
  );
}
