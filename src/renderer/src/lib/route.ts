/**
 * Hash routes (`#/traffic`, `#/traffic?device=…&focus=12`, `#/devices/00:1A:…`, `#/jobs?device=…`,
 * `#/bootstrap?macs=…` / `?run=…`, `#/setup`): they work the same from app://localdls/ and from the
 * web UI, and never trigger a navigation.
 */
import { useEffect, useState } from 'react';

export interface Route {
  view: 'traffic' | 'devices' | 'device' | 'jobs' | 'bootstrap' | 'setup';
  mac?: string;
  params: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const params = new URLSearchParams(query);
  const [head, arg] = path.split('/');
  if (head === 'devices' && arg) return { view: 'device', mac: decodeURIComponent(arg), params };
  if (head === 'devices') return { view: 'devices', params };
  if (head === 'setup') return { view: 'setup', params };
  if (head === 'jobs') return { view: 'jobs', params };
  if (head === 'bootstrap') return { view: 'bootstrap', params };
  return { view: 'traffic', params };
}

export function href(view: 'traffic' | 'devices' | 'jobs' | 'bootstrap' | 'setup', params?: Record<string, string | number>): string {
  const q = params ? new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString() : '';
  return `#/${view}${q ? `?${q}` : ''}`;
}

export const deviceHref = (mac: string) => `#/devices/${encodeURIComponent(mac)}`;

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
