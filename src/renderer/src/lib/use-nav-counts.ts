/**
 * The counts the navigation shows besides the devices': jobs still waiting (queued, sent, waiting
 * for a call to end) and exchanges that are errors (refusals, failed handshakes, HTTP >= 400,
 * failed replies; a busy phone answered). Counted by the service; reloaded, coalesced, when jobs change or an
 * error exchange arrives, so they stay live without polling.
 */
import { useEffect, useState } from 'react';
import type { LocalDlsApi } from '../../../shared/api';
import { isErrorExchange } from '../ladder/LadderView';

export interface NavCounts {
  waitingJobs: number | null;
  errors: number | null;
}

/** `reloadKey`: changes when events may have been lost (a reconnect): the counts load again. */
export function useNavCounts(api: LocalDlsApi, reloadKey: number): NavCounts {
  const [counts, setCounts] = useState<NavCounts>({ waitingJobs: null, errors: null });
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const load = () =>
      Promise.all([
        api.listJobs({ states: ['queued', 'sent', 'waiting-busy'], limit: 1 }),
        api.listExchanges({ errorsOnly: true }, { limit: 1 }),
      ]).then(
        ([jobs, errors]) => live && setCounts({ waitingJobs: jobs.matched, errors: errors.matched }),
        () => undefined, // the status bar says when the service cannot be reached
      );
    const later = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        void load();
      }, 300);
    };
    void load();
    const offJobs = api.onJobsChanged(later);
    const offExchanges = api.onExchanges((batch) => batch.some(isErrorExchange) && later());
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
      offJobs();
      offExchanges();
    };
  }, [api, reloadKey]);
  return counts;
}
