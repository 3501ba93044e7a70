/**
 * Rollouts: every bulk job and bootstrap of several phones, newest first, each with a bar of where
 * its phones stand; the selected one live (queued, contacted, waiting for PIN, busy, done — for a
 * bootstrap: secure —, failed, unreachable, cancelled), its phones with their ladder one click
 * away, and "Retry failed" (for a bootstrap: new certificates and PINs, commands/rollouts.ts).
 */
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { jobNote } from '../lib/job-note';
import { contactMeError } from '../lib/contact-me-error';
import { ROLLOUT_PHASES, type Rollout, type RolloutPhase, type RolloutSummary } from '../../../shared/api';
import { useApi } from '../api/ApiContext';
import { dateTime } from '../lib/format';
import { deviceHref, interactionHref, rolloutHref, type Route } from '../lib/route';
import '../ladder/inspector.css';
import { errorText } from '../lib/api-error';
import { useJobWords } from '../lib/jobs';

/** The phases a rollout of this kind can show: only a bootstrap waits for a PIN. */
const phasesOf = (r: RolloutSummary) => ROLLOUT_PHASES.filter((p) => p !== 'pin' || r.kind === 'bootstrap');

/** A phase in the rollout's words: a bootstrap that is done is a secure phone. */
function usePhaseLabel(): (p: RolloutPhase, r: RolloutSummary) => string {
  const { t } = useTranslation('rollout');
  return (p, r) => (p === 'done' && r.kind === 'bootstrap' ? t('phase.secure') : t(`phase.${p}`));
}

function Bar({ r }: { r: RolloutSummary }) {
  const phaseLabel = usePhaseLabel();
  const label = ROLLOUT_PHASES.filter((p) => r.counts[p]).map((p) => `${phaseLabel(p, r)}: ${r.counts[p]}`).join(', ');
  return (
    <span className="rollout-bar" role="img" aria-label={label} title={label}>
      {ROLLOUT_PHASES.map((p) => (r.counts[p] ? <span key={p} className={`bar-${p}`} style={{ width: `${(100 * r.counts[p]) / Math.max(1, r.total)}%` }} /> : null))}
    </span>
  );
}

/** Reloads `load` when jobs or bootstrap runs move (coalesced). */
function useLive(load: () => void): void {
  const api = useApi();
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const later = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        load();
      }, 250);
    };
    const offJobs = api.onJobsChanged(later);
    const offRuns = api.onBootstrap(later);
    const offDevices = api.onDevicesChanged(later);
    return () => {
      if (timer) clearTimeout(timer);
      offJobs();
      offRuns();
      offDevices();
    };
  }, [api, load]);
}

/** `onNote`: what retry did, said by the parent (the page moves on to the retry's own rollout). */
function RolloutDetail({ id, onNote }: { id: string; onNote: (note: string) => void }) {
  const api = useApi();
  const { t } = useTranslation('rollout');
  const { t: tj } = useTranslation('jobs');
  const [rollout, setRollout] = useState<Rollout | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const phaseLabel = usePhaseLabel();
  const { kindLabel, stateHelp, stateLabel } = useJobWords();
  const load = useCallback(() => {
    api.getRollout(id).then(
      (r) => (setRollout(r), setError(null)),
      (e: unknown) => setError(errorText(e)),
    );
  }, [api, id]);
  useEffect(load, [load]);
  useLive(load);

  const retry = async () => {
    setBusy(true);
    try {
      const r = await api.retryFailed(id);
      // Queued again elsewhere before the view heard of it: said in the UI's words.
      // The known reasons in the UI's language; another (an item the phone cannot take, …) as the service says it.
      const skipped = r.skipped.map((s) => (s.retriedBy !== undefined ? t('skippedRetried', { mac: s.mac, job: s.retriedBy }) : s.key ? t(`skip.${s.key}`, { mac: s.mac }) : `${s.mac}: ${s.reason}`)).join('; ');
      const done = rollout?.kind === 'bootstrap' ? t('retriedBootstrap', { count: r.retried }) : t('retried', { count: r.retried });
      onNote(`${r.retried ? done : t('nothingToRetry')}${skipped ? ` ${skipped}` : ''}`);
      if (r.rolloutId) window.location.hash = rolloutHref(r.rolloutId);
      else load(); // staying here: show what the service found
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  if (error) return <div className="note note-error" role="alert">{error}</div>;
  if (!rollout) return <div className="empty">{t('loading')}</div>;
  // Failed phones queued again since (this window, the CLI, another window) are not offered again.
  const failed = rollout.devices.filter((d) => d.phase === 'failed');
  const retryable = failed.filter((d) => !d.retriedBy).length;
  const retries = [...new Set(failed.flatMap((d) => (d.retriedBy ? [d.retriedBy.rolloutId] : [])))];
  return (
    <section aria-label={t('detail')} data-testid="rollout-detail">
      <h2>{t('heading', { kind: kindLabel(rollout.jobKind), count: rollout.total, at: dateTime(rollout.started) })}{rollout.finished ? ` · ${t('finished')}` : ''}</h2>
      <div className="phase-tiles">
        {phasesOf(rollout).map((p) => (
          <div key={p} className={`phase-tile phase-${p}`} data-testid={`phase-${p}`}>
            <strong>{rollout.counts[p]}</strong>
            {phaseLabel(p, rollout)}
          </div>
        ))}
      </div>
      {retryable > 0 ? (
        <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void retry()}>{t('retry', { count: retryable })}</button>
      ) : null}
      {retries.length > 0 ? (
        <p className="muted" data-testid="rollout-retried">
          {t('queuedAgain', { count: failed.length - retryable })}
          {retries.length === 1 ? <> <a href={rolloutHref(retries[0]!)}>{t('openRetry')}</a></> : null}
        </p>
      ) : null}
      <div className="table-wrap">
        <table className="dtable" data-testid="rollout-devices">
          <thead>
            <tr><th>{t('col.mac')}</th><th>{t('col.phase')}</th><th>{t('col.job')}</th><th>{t('col.error')}</th><th>{t('col.ladder')}</th></tr>
          </thead>
          <tbody>
            {rollout.devices.map((d) => (
              <tr key={d.mac} data-phase={d.phase} className={d.phase === 'failed' ? 'row-error' : ''}>
                <td><a className="mono" href={deviceHref(d.mac)}>{d.mac}</a></td>
                <td>{phaseLabel(d.phase, rollout)}</td>
                <td>
                  {d.jobId !== null ? <>#{d.jobId} {d.jobState ? <span title={stateHelp(d.jobState)}>{stateLabel(d.jobState)}</span> : null}</> : '—'}
                  {d.retriedBy ? <> · <a href={rolloutHref(d.retriedBy.rolloutId)} data-testid="retried-by">{t('againAs', { job: d.retriedBy.jobId })}</a></> : null}
                </td>
                {/* A job's note, or why the phone could not be reached (its last contact-me's failure). */}
                <td className="why">{d.error ? contactMeError(jobNote(d.error, tj), tj) : ''}</td>
                <td>{d.interactionId !== null ? <a href={interactionHref(d.interactionId)}>{t('openLadder')}</a> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function RolloutView({ route }: { route: Route }) {
  const api = useApi();
  const { t } = useTranslation('rollout');
  const { kindLabel } = useJobWords();
  const [list, setList] = useState<RolloutSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const load = useCallback(() => {
    api.listRollouts().then(
      (l) => (setList(l), setError(null)),
      (e: unknown) => setError(errorText(e)),
    );
  }, [api]);
  useEffect(load, [load]);
  useLive(load);
  const selected = route.params.get('id') ?? list?.[0]?.id ?? null;
  const counts = (p: RolloutPhase, r: RolloutSummary) => r.counts[p];

  return (
    <div className="inspector" data-testid="rollouts">
      <div className="inspector-head">
        <h1>{t('title')}</h1>
        <p className="muted">{t('intro')}</p>
      </div>
      {error ? <div className="note note-error" role="alert">{error}</div> : null}
      {list && list.length === 0 ? <div className="empty">{t('empty')}</div> : null}
      {list && list.length > 0 ? (
        <div className="table-wrap">
          <table className="dtable rollouts-table" data-testid="rollouts-table">
            <thead>
              <tr><th>{t('col.started')}</th><th>{t('col.kind')}</th><th>{t('col.phones')}</th><th>{t('col.progress')}</th><th>{t('col.done')}</th><th>{t('col.failed')}</th></tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <tr key={r.id} className={r.id === selected ? 'on' : ''}>
                  <td><a href={rolloutHref(r.id)} aria-current={r.id === selected ? 'true' : undefined}>{dateTime(r.started)}</a></td>
                  <td>{r.kind === 'bootstrap' ? t('bootstrap') : kindLabel(r.jobKind)}</td>
                  <td>{r.total}</td>
                  <td><Bar r={r} /></td>
                  <td>{counts('done', r)}</td>
                  <td>{counts('failed', r)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {note ? <div className="note note-info" role="status">{note}</div> : null}
      {selected ? <RolloutDetail key={selected} id={selected} onNote={setNote} /> : null}
    </div>
  );
}
