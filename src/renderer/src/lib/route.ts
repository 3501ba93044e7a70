/**
 * Hash routes (`#/traffic`, `#/traffic?device=…&focus=12`, `#/devices/00:1A:…`, `#/jobs?device=…`,
 * `#/bootstrap?macs=…` / `?run=…`, `#/setup`, `#/interaction/7`, `#/timeline/00:1A:…`,
 * `#/rollouts?id=…`): they work the same from app://localdls/ and from the
 * web UI, and never trigger a navigation.
 */
import { useEffect, useState } from 'react';
import { parseRoute, type Route } from './route-parse';

export { parseRoute, type Route };

export function href(view: 'traffic' | 'devices' | 'jobs' | 'bootstrap' | 'setup' | 'rollouts', params?: Record<string, string | number>): string {
  const q = params ? new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString() : '';
  return `#/${view}${q ? `?${q}` : ''}`;
}

export const deviceHref = (mac: string) => `#/devices/${encodeURIComponent(mac)}`;
/** One interaction as a ladder (sequence diagram). */
export const interactionHref = (id: number) => `#/interaction/${id}`;
/** Everything that happened to one phone. */
export const timelineHref = (mac: string) => `#/timeline/${encodeURIComponent(mac)}`;
export const rolloutHref = (id: string) => href('rollouts', { id });

export function go(to: string): void {
  window.location.hash = to;
}

export function useRoute(): Route {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return parseRoute(hash);
}
