/**
 * Jobs as a table: id, device, kind, state (coloured), attempts, when, and what it carries or why
 * it failed. A row opens to show every item with the phone's per-item status.
 */
import { Fragment, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { RENEWAL_SOURCE, type Job } from '../../../shared/model';
import { useApi } from '../api/ApiContext';
import { Dialog } from '../common/Dialog';
import { errorText, useToast } from '../common/Toasts';
import { ago, dateTime } from '../lib/format';
import { fileResultText, jobNote } from '../lib/job-note';
import { parseJobNote } from '../../../shared/job-notes';
import { isUnconfirmed } from '../../../shared/file-deployment';
import { isPending, itemText, useJobWords } from '../lib/jobs';
import { deviceHref, rolloutHref, timelineHref } from '../lib/route';

export function JobState({ job }: { job: Job }) {
  const { stateHelp, stateLabel } = useJobWords();
  return (
    <span className={`jstate jstate-${job.state}`} title={stateHelp(job.state)}>
      {stateLabel(job.state)}
    </span>
  );
}

function sameItem(a: { name: string; index?: number | null }, b: { name: string; index?: number | null }): boolean {
  return a.name === b.name && (a.index ?? null) === (b.index ?? null);
}

function JobDetail({ job }: { job: Job }) {
  const { t } = useTranslation('jobs');
  const withValues = job.kind !== 'ReadItems';
  // A phone names only the items it has a problem with (manual p.26): the rest of a done job went
  // through, and so did the rest of a write that failed because the phone refused some of its items.
  // Not a bootstrap: refused in part, it was not taken at all (the phone keeps what it had).
  const acceptedSilently = job.state === 'done' || (job.kind === 'WriteItems' && job.state === 'failed' && job.error !== null && parseJobNote(job.error)?.key === 'refusedItems');
  // Items the phone reported on that the job did not list (rare) are shown too.
  const extra = job.results.filter((r) => !job.items.some((i) => sameItem(i, r)));
  return (
    <div className="job-detail">
      <dl className="kv">
        <dt>{t('detail.created')}</dt><dd>{dateTime(job.created)}{job.source ? <span className="muted"> · {t('detail.by', { source: job.source })}</span> : null}</dd>
        {job.sent ? <><dt>{t('detail.sent')}</dt><dd>{dateTime(job.sent)}</dd></> : null}
        {job.finished ? <><dt>{t('detail.finished')}</dt><dd>{dateTime(job.finished)}</dd></> : null}
        {(job.kind === 'WriteItems' || job.kind === 'ReadItems') && job.partsDone > 0 ? <><dt>{t('detail.partsAccepted')}</dt><dd>{job.partsDone}</dd></> : null}
        {job.expect ? <><dt>{t('detail.expects')}</dt><dd className="mono">{Object.entries(job.expect).map(([k, v]) => `${k}=${v}`).join(', ')}</dd></> : null}
        {job.error ? <><dt>{job.state === 'failed' ? t('detail.why') : t('detail.note')}</dt><dd className={job.state === 'failed' ? 'err-text' : ''}>{jobNote(job.error, t)}</dd></> : null}
        <dt>{t('detail.inspect')}</dt>
        <dd>
          <a href={rolloutHref(`j${job.rolloutAt}-${job.kind}`)}>{t('detail.rolloutLink')}</a> · <a href={timelineHref(job.mac)}>{t('detail.timelineLink')}</a>
        </dd>
      </dl>
      {job.items.length || extra.length ? (
        <table className="itable job-items">
          <thead>
            <tr><th>{t('detail.item')}</th>{withValues ? <th>{t('detail.value')}</th> : null}<th>{t('detail.phoneStatus')}</th></tr>
          </thead>
          <tbody>
            {[...job.items, ...extra.map((r) => ({ name: r.name, index: r.index, value: '' }))].map((i, n) => {
              const result = job.results.find((r) => sameItem(r, i));
              return (
                <tr key={n}>
                  <td className="mono name">{itemText(i, false)}</td>
                  {withValues ? <td className="mono value">{i.value.length > 200 ? `${i.value.slice(0, 200)}…` : i.value}</td> : null}
                  <td>
                    {result ? (
                      <span className={`badge ${badgeOf(job, result.status)}`} title={result.listedBefore?.length ? t('detail.listedBefore', { stamp: result.listedBefore.join(', ') }) : undefined}>
                        {job.kind === 'FileDeployment' ? fileResultText(result.status, t) : result.status}
                      </span>
                    )
                      : acceptedSilently ? <span className="badge badge-ok" title={t('detail.acceptedTitle')}>{t('detail.accepted')}</span>
                        : <span className="muted">—</span>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

/** A file deployment's file not confirmed yet is open, not wrong (its job waits for the next check). */
function badgeOf(job: Job, status: string): string {
  if (/accepted|ok|done/i.test(status)) return 'badge-ok';
  return job.kind === 'FileDeployment' && isUnconfirmed(status) && isPending(job) ? 'badge-warn' : 'badge-error';
}

/**
 * Items the phone refused, counted where the job's note does not count them already: a refusal's
 * note names them, and so does a file deployment's (which files failed or were never confirmed).
 */
function problemCount(j: Job): number {
  if (j.error !== null && parseJobNote(j.error)?.key === 'refusedItems') return 0;
  if (j.kind === 'FileDeployment') return 0;
  return j.results.filter((r) => !/accepted|ok|done/i.test(r.status)).length;
}

export interface JobsTableProps {
  jobs: Job[];
  showDevice?: boolean;
  emptyText?: string;
  now?: number;
  onChanged?: (jobs: Job[]) => void;
}

/** What a cancel does to this job, in words (a sent one went out already; a renewal leaves the phone its certificate). */
function cancelText(job: Job): 'table.confirmRenewal' | 'table.confirmBootstrap' | 'table.confirmSent' | 'table.confirmWhat' {
  if (job.kind === 'Bootstrap') return job.source === RENEWAL_SOURCE ? 'table.confirmRenewal' : 'table.confirmBootstrap';
  return job.state === 'sent' ? 'table.confirmSent' : 'table.confirmWhat';
}

export function JobsTable({ jobs, showDevice = true, emptyText, now = Date.now(), onChanged }: JobsTableProps) {
  const { t } = useTranslation('jobs');
  const { kindLabel, jobSummary } = useJobWords();
  const api = useApi();
  const toast = useToast();
  const [open, setOpen] = useState<Set<number>>(new Set());
  const [cancelling, setCancelling] = useState<Set<number>>(new Set());
  // Cancelling is asked first: it cannot be taken back (a cancelled bootstrap must be started again).
  const [asking, setAsking] = useState<Job | null>(null);
  const toggle = (id: number) => setOpen((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n; });

  const cancel = (job: Job) => {
    setCancelling((s) => new Set(s).add(job.id));
    api.cancelJob(job.id).then(
      (j) => {
        toast.push('ok', t('table.cancelled', { id: j.id }), [t('table.kindFor', { kind: kindLabel(j.kind), mac: j.mac })]);
        onChanged?.([j]);
      },
      (e: unknown) => toast.push('error', t('table.notCancelled', { id: job.id }), [errorText(e)]),
    ).finally(() => setCancelling((s) => { const n = new Set(s); n.delete(job.id); return n; }));
  };

  if (jobs.length === 0) return <div className="empty">{emptyText ?? t('table.none')}</div>;
  const cols = showDevice ? 8 : 7;
  return (
    <>
      <table className="dtable jobs-table" data-testid="jobs-table">
        <thead>
          <tr>
            <th className="num">{t('col.id')}</th>
            {showDevice ? <th>{t('col.device')}</th> : null}
            <th>{t('col.kind')}</th>
            <th>{t('col.state')}</th>
            <th className="num" title={t('col.triesTitle')}>{t('col.tries')}</th>
            <th>{t('col.updated')}</th>
            <th className="wide">{t('col.details')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => {
            const isOpen = open.has(j.id);
            // The refusal note already names the count and the items: the badge would say it twice.
            const failedItems = problemCount(j);
            return (
              <Fragment key={j.id}>
                <tr className={`clickable job-row job-${j.state} ${isOpen ? 'open' : ''}`} data-job={j.id} onClick={() => toggle(j.id)}>
                  <td className="num muted">
                    {/* The row opens on a click anywhere; this button is its keyboard and screen-reader handle. */}
                    <button type="button" className="caret-button" aria-expanded={isOpen} aria-label={t('table.details', { id: j.id })} onClick={(e) => (e.stopPropagation(), toggle(j.id))}>
                      <span className="caret" aria-hidden>{isOpen ? '▾' : '▸'}</span>
                    </button>{' '}
                    {j.id}
                  </td>
                  {showDevice ? <td className="mono"><a href={deviceHref(j.mac)} onClick={(e) => e.stopPropagation()}>{j.mac}</a></td> : null}
                  <td>{kindLabel(j.kind)}</td>
                  <td><JobState job={j} /></td>
                  <td className="num">{j.attempts}</td>
                  <td title={dateTime(j.updated)} className="nowrap">{ago(j.updated, now)}</td>
                  <td className="details">
                    {/* A failed job: why. Any other: what it does, and its note (why it waits) below (helper-77: the note hid the items). */}
                    {j.error && j.state === 'failed' ? <span className="err-text">{jobNote(j.error, t)}</span> : <span className="mono">{jobSummary(j)}</span>}
                    {j.error && j.state !== 'failed' ? <span className="muted job-note">{jobNote(j.error, t)}</span> : null}
                    {failedItems ? <span className="badge badge-error">{t('table.refusedItems', { count: failedItems })}</span> : null}
                  </td>
                  <td className="actions">
                    {isPending(j) ? (
                      <button type="button" className="btn btn-small" disabled={cancelling.has(j.id)} onClick={(e) => { e.stopPropagation(); setAsking(j); }}>
                        {t('table.cancel')}
                      </button>
                    ) : null}
                  </td>
                </tr>
                {isOpen ? (
                  <tr className="job-open">
                    <td colSpan={cols}><JobDetail job={j} /></td>
                  </tr>
                ) : null}
              </Fragment>
            );
          })}
        </tbody>
      </table>
      {asking ? (
        <Dialog
          title={t('table.confirmTitle', { id: asking.id })}
          onClose={() => setAsking(null)}
          footer={
            <>
              <button type="button" className="btn" onClick={() => setAsking(null)}>{t('table.keep')}</button>
              <button type="button" className="btn btn-danger" onClick={() => { const job = asking; setAsking(null); cancel(job); }}>{t('table.confirm')}</button>
            </>
          }
        >
          <p>{t('table.kindFor', { kind: kindLabel(asking.kind), mac: asking.mac })}: {t(cancelText(asking))}</p>
        </Dialog>
      ) : null}
    </>
  );
}
