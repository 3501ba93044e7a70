/**
 * One interaction as a ladder (sequence diagram): the phone on the left, LocalDLS on the right, one
 * arrow per message — the phone's request (reason, reply status, fragment, items) and our answer
 * (action or HTTP status) — with the time since the interaction began and each exchange's
 * duration. Refusals and failed replies are red. Each arrow opens that exchange in the traffic
 * view. Live: new exchanges of this interaction appear as they come.
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { InteractionLadder } from '../../../shared/api';
import type { ExchangeSummary, Job } from '../../../shared/model';
import { useApi } from '../api/ApiContext';
import { clockTime, dateTime, duration } from '../lib/format';
import { deviceHref, href, interactionHref, timelineHref } from '../lib/route';
import './inspector.css';
import { errorText } from '../lib/api-error';
import { ReplyStatusPill } from '../traffic/ExchangeList';
import { jobNote } from '../lib/job-note';
import { exchangeError } from '../lib/exchange-error';
import { exchangeWarning } from '../lib/exchange-warning';

/** Refused, failed, or items of a write refused: drawn red (and counted as errors). A busy reply is not: the phone answered. */
export function isErrorExchange(x: ExchangeSummary): boolean {
  return x.kind === 'tls-failure' || x.error !== null || x.httpStatus >= 400 || x.replyStatus === 'failed' || x.refusedItems > 0;
}

function phoneLabel(x: ExchangeSummary): string {
  if (!x.reason) return `${x.method ?? ''} ${x.path ?? ''}`.trim();
  return [x.reason, x.replyAction, x.replyStatus ? `/${x.replyStatus}` : null].filter(Boolean).join(' ').replace(' /', '/');
}

/** Jobs this exchange failed (the phone's answer refused items): the rung is red with their words. */
function failedJobsOf(x: ExchangeSummary, jobs: readonly Job[]): Job[] {
  return jobs.filter((j) => j.state === 'failed' && j.finished !== null && j.finished >= x.started && j.finished <= x.ended);
}

function Rung({ x, start, index, jobs, relayed }: { x: ExchangeSummary; start: number; index: number; jobs: readonly Job[]; relayed: boolean }) {
  const { t } = useTranslation('ladder');
  const { t: tj } = useTranslation('jobs');
  const failed = failedJobsOf(x, jobs);
  const bad = isErrorExchange(x) || failed.length > 0;
  const open = href('traffic', { focus: x.id });
  return (
    <li className={`rung${bad ? ' rung-error' : ''}`} data-testid="rung" data-id={x.id}>
      <div className="rung-time mono">
        <span>+{duration(x.started - start)}</span>
        <span className="muted">{clockTime(x.started)}</span>
      </div>
      <a className="arrow arrow-right" href={open}>
        <span className="arrow-text">
          <span className="sr-only">{t('requestPrefix', { n: index + 1 })} </span>
          <strong>{phoneLabel(x)}</strong>
          {x.fragment === 'next' ? <span className="badge">{t('fragment')}</span> : null}
          <span className="muted">{t('items', { count: x.itemCount })}</span>
          {x.refusedItems > 0 ? <ReplyStatusPill x={x} /> : null}
        </span>
      </a>
      <a className="arrow arrow-left" href={open}>
        <span className="arrow-text">
          <span className="sr-only">{t(relayed ? 'answerPrefixRelayed' : 'answerPrefix', { n: index + 1 })} </span>
          <strong>{x.action ?? `HTTP ${x.httpStatus}`}</strong>
          <span className="muted">{x.action ? `HTTP ${x.httpStatus} · ` : ''}{duration(x.ended - x.started)} · #{x.id}</span>
          {x.error ? <span className="rung-reason">{exchangeError(x)}</span> : null}
          {failed.map((j) => <span key={j.id} className="rung-reason">{t('jobFailed', { id: j.id, kind: j.kind, error: j.error ? jobNote(j.error, tj) : '' })}</span>)}
          {x.warning ? <span className="rung-warning">{exchangeWarning(x.warning)}</span> : null}
        </span>
      </a>
    </li>
  );
}

export function LadderView({ id }: { id: number }) {
  const api = useApi();
  const { t } = useTranslation('ladder');
  const [ladder, setLadder] = useState<InteractionLadder | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const load = () =>
      api.getInteraction(id).then(
        (l) => live && (setLadder(l), setError(null)),
        (e: unknown) => live && setError(errorText(e)),
      );
    void load();
    const off = api.onExchanges((batch) => {
      if (batch.some((x) => x.interactionId === id)) void load();
    });
    return () => {
      live = false;
      off();
    };
  }, [api, id]);

  if (error) return <div className="inspector"><div className="note note-error" role="alert">{error}</div></div>;
  if (!ladder) return <div className="inspector"><div className="empty">{t('loading', { id })}</div></div>;
  const { interaction: i, exchanges } = ladder;
  const errors = exchanges.filter((x) => isErrorExchange(x) || failedJobsOf(x, ladder.jobs).length > 0).length;
  return (
    <div className="inspector ladder-view" data-testid="ladder">
      <div className="inspector-head">
        <h1>{t('title', { id: i.id })}</h1>
        <p className="muted">
          {i.mac ? <><a className="mono" href={deviceHref(i.mac)}>{i.mac}</a> · <a href={timelineHref(i.mac)}>{t('timeline')}</a> · </> : null}
          {i.reason ?? t('unknownReason')} · {t('started', { at: dateTime(i.started) })} ·{' '}
          {i.ended !== null ? t('ended', { why: i.endReason ?? '', took: duration(i.ended - i.started) }) : t('open')}
          {errors ? <> · <span className="badge badge-error">{t('errors', { count: errors })}</span></> : null}
        </p>
        <nav className="inspector-nav" aria-label={t('neighbours')}>
          {ladder.previousId !== null ? <a className="btn btn-small" href={interactionHref(ladder.previousId)}>{t('previous')}</a> : null}
          {ladder.nextId !== null ? <a className="btn btn-small" href={interactionHref(ladder.nextId)}>{t('next')}</a> : null}
          <a className="btn btn-small" href={href('traffic', { focus: exchanges[0]?.id ?? '' })}>{t('inTraffic')}</a>
        </nav>
      </div>
      <div className="ladder" role="figure" aria-label={t('figure', { count: exchanges.length })}>
        <div className="lanes" aria-hidden>
          <span />
          <span className="lane">{t('phone')} <span className="mono muted">{i.peer}</span></span>
          {ladder.relayedTo ? (
            <span className="lane">{t('relayedLane')} <span className="mono muted">{ladder.relayedTo}</span></span>
          ) : (
            <span className="lane">LocalDLS <span className="muted">({t(`status:listener.${i.listener}`, { defaultValue: i.listener })})</span></span>
          )}
        </div>
        {exchanges.length === 0 ? <div className="empty">{t('none')}</div> : (
          <ol className="rungs">
            {exchanges.map((x, n) => <Rung key={x.id} x={x} start={i.started} index={n} jobs={ladder.jobs} relayed={!!ladder.relayedTo} />)}
          </ol>
        )}
      </div>
    </div>
  );
}
