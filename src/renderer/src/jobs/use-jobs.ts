/** A live list of jobs: loaded with the filter, then kept current by `onJobsChanged`. */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { JobFilter } from '../../../shared/api';
import type { Job } from '../../../shared/model';
import { useApi } from '../api/ApiContext';
import { jobMatches } from '../lib/jobs';
import { errorText } from '../lib/api-error';

export interface JobsState {
  jobs: Job[];
  matched: number;
  loading: boolean;
  error: string | null;
  reload: () => void;
  /** Put a job the UI already has (an answer to an action) into the list. */
  upsert: (jobs: Job[]) => void;
}

export function useJobs(filter: JobFilter): JobsState {
  const api = useApi();
  const key = JSON.stringify(filter);
  const [jobs, setJobs] = useState<Job[]>([]);
  const [matched, setMatched] = useState(0);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const filterRef = useRef(filter);
  filterRef.current = filter;

  const current = useRef<Job[]>([]);
  const upsert = useCallback((changed: Job[]) => {
    const f = filterRef.current;
    const byId = new Map(current.current.map((j) => [j.id, j]));
    let delta = 0;
    for (const j of changed) {
      const had = byId.has(j.id);
      if (jobMatches(j, f)) {
        if (!had) delta++;
        byId.set(j.id, j);
      } else if (had) {
        byId.delete(j.id);
        delta--;
      }
    }
    const next = [...byId.values()].sort((a, b) => b.id - a.id).slice(0, f.limit ?? 500);
    current.current = next;
    setJobs(next);
    if (delta !== 0) setMatched((m) => Math.max(next.length, m + delta));
  }, []);

  useEffect(() => {
    let live = true;
    const pending: Job[] = [];
    let loaded = false;
    setLoading(true);
    const off = api.onJobsChanged((changed) => {
      if (!live) return;
      if (loaded) upsert(changed);
      else pending.push(...changed);
    });
    api.listJobs(JSON.parse(key) as JobFilter).then(
      (r) => {
        if (!live) return;
        loaded = true;
        current.current = r.jobs;
        setJobs(r.jobs);
        setMatched(r.matched);
        setError(null);
        setLoading(false);
        // Changes that arrived while loading may be newer than the list.
        if (pending.length) upsert(pending.splice(0));
      },
      (e: unknown) => {
        if (!live) return;
        setError(errorText(e));
        setLoading(false);
      },
    );
    return () => {
      live = false;
      off();
    };
  }, [api, key, generation, upsert]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { jobs, matched, loading, error, reload, upsert };
}
