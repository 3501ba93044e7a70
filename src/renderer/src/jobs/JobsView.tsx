/** Every job, newest first, live: filter by state, kind and device; open one for its items; cancel. */
import { useEffect, useMemo, useState } from 'react';
import type { JobFilter } from '../../../shared/api';
import { JOB_KINDS, JOB_STATES, type JobKind, type JobState } from '../../../shared/model';
import { KIND_LABELS, normalMac, PENDING } from '../lib/jobs';
import type { Route } from '../lib/route';
import { JobsTable } from './JobsTable';
import { useJobs } from './use-jobs';

type StateChoice = '' | 'waiting' | JobState;

export function JobsView({ route }: { route: Route }) {
  const [state, setState] = useState<StateChoice>(() => (route.params.get('state') as StateChoice | null) ?? '');
  const [kind, setKind] = useState<JobKind | ''>(() => (route.params.get('kind') as JobKind | null) ?? '');
  const [device, setDevice] = useState(() => route.params.get('device') ?? '');
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 10_000);
    return () => clearInterval(t);
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
        <h1>Jobs</h1>
        <select className="input" aria-label="State" value={state} onChange={(e) => setState(e.target.value as StateChoice)}>
          <option value="">All states</option>
          <option value="waiting">Waiting (queued, sent, busy)</option>
          {JOB_STATES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <select className="input" aria-label="Kind" value={kind} onChange={(e) => setKind(e.target.value as JobKind | '')}>
          <option value="">All kinds</option>
          {JOB_KINDS.map((k) => <option key={k} value={k}>{KIND_LABELS[k]}</option>)}
        </select>
        <input className={`input f-jobdevice ${deviceProblem ? 'input-bad' : ''}`} type="search" placeholder="Device MAC, e.g. 00:1A:E8:00:00:01" aria-label="Device" value={device} maxLength={32} onChange={(e) => setDevice(e.target.value)} />
        <span className="muted" data-testid="job-count">
          {loading ? 'Loading…' : `${filtered ? `${jobs.length < matched ? `newest ${jobs.length} of ` : ''}${matched} matching` : `${matched}`} job${matched === 1 ? '' : 's'}`}
        </span>
      </div>
      {deviceProblem ? <div className="note note-warn">Type a whole MAC address (e.g. 00:1A:E8:00:00:01) to filter by device.</div> : null}
      {error ? <div className="note note-error">{error}</div> : null}
      <div className="table-wrap">
        <JobsTable jobs={jobs} now={now} onChanged={upsert} emptyText={filtered ? 'No jobs match the filter.' : 'No jobs yet. Select devices in the Devices view to queue one.'} />
      </div>
    </div>
  );
}
