/** Every job, newest first, live: filter by state, kind and device; open one for its items; cancel. */
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { JobFilter } from '../../../shared/api';
import { JOB_KINDS, JOB_STATES, type JobKind, type JobState } from '../../../shared/model';
import { normalMac, PENDING, useJobWords } from '../lib/jobs';
import type { Route } from '../lib/route';
import { JobsTable } from './JobsTable';
import { useJobs } from './use-jobs';

type StateChoice = '' | 'waiting' | JobState;

export function JobsView({ route }: { route: Route }) {
  const { t } = useTranslation('jobs');
  const { kindLabel, stateLabel } = useJobWords();
  const [state, setState] = useState<StateChoice>(() => (route.params.get('state') as StateChoice | null) ?? '');
  const [kind, setKind] = useState<JobKind | ''>(() => (route.params.get('kind') as JobKind | null) ?? '');
  const [device, setDevice] = useState(() => route.params.get('device') ?? '');
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 10_000);
    return () => clearInterval(tick);
  }, []);

  const mac = device.trim() ? normalMac(device) : null;
  const deviceProblem = device.trim() !== '' && mac === null;
  const filter = useMemo<JobFilter>(() => {
    const f: JobFilter = { limit: 500 };
    if (state === 'waiting') f.states = [...PENDING];
    else if (state) f.states = [state];
    if (kind) f.kinds = [kind];
    if (mac) f.mac = mac;
    return f;
  }, [state, kind, mac]);
  const { jobs, matched, loading, error, upsert } = useJobs(filter);
  const filtered = state !== '' || kind !== '' || mac !== null;

  return (
    <div className="page jobs">
      <div className="page-head">
        <h1>{t('view.title')}</h1>
        <select className="input" aria-label={t('view.state')} value={state} onChange={(e) => setState(e.target.value as StateChoice)}>
          <option value="">{t('view.allStates')}</option>
          <option value="waiting">{t('view.waiting')}</option>
          {JOB_STATES.map((s) => <option key={s} value={s}>{stateLabel(s)}</option>)}
        </select>
        <select className="input" aria-label={t('view.kind')} value={kind} onChange={(e) => setKind(e.target.value as JobKind | '')}>
          <option value="">{t('view.allKinds')}</option>
          {JOB_KINDS.map((k) => <option key={k} value={k}>{kindLabel(k)}</option>)}
        </select>
        <input className={`input f-jobdevice ${deviceProblem ? 'input-bad' : ''}`} type="search" placeholder={t('view.devicePlaceholder')} aria-label={t('view.device')} value={device} maxLength={32} onChange={(e) => setDevice(e.target.value)} />
        <span className="muted" data-testid="job-count">
          {loading ? t('view.loading') : filtered ? (jobs.length < matched ? t('view.newestMatching', { shown: jobs.length, count: matched }) : t('view.matching', { count: matched })) : t('view.count', { count: matched })}
        </span>
      </div>
      {deviceProblem ? <div className="note note-warn">{t('view.wholeMac')}</div> : null}
      {error ? <div className="note note-error" role="alert">{error}</div> : null}
      <div className="table-wrap">
        <JobsTable jobs={jobs} now={now} onChanged={upsert} emptyText={filtered ? t('view.noMatch') : t('view.none')} />
      </div>
    </div>
  );
}
