/**
 * Reading a hash route (lib/route.ts), without React: the start-up entry (main.tsx) asks which view
 * opens before React is loaded.
 */
export interface Route {
  view: 'traffic' | 'devices' | 'device' | 'jobs' | 'bootstrap' | 'setup' | 'interaction' | 'timeline' | 'rollouts';
  mac?: string;
  /** The interaction of `#/interaction/<id>`. */
  id?: number;
  params: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const params = new URLSearchParams(query);
  const [head, arg] = path.split('/');
  if (head === 'interaction' && arg && /^\d{1,15}$/.test(arg)) return { view: 'interaction', id: Number(arg), params };
  if (head === 'timeline' && arg) return { view: 'timeline', mac: decodeURIComponent(arg), params };
  if (head === 'rollouts') return { view: 'rollouts', params };
  if (head === 'devices' && arg) return { view: 'device', mac: decodeURIComponent(arg), params };
  if (head === 'devices') return { view: 'devices', params };
  if (head === 'setup') return { view: 'setup', params };
  if (head === 'jobs') return { view: 'jobs', params };
  if (head === 'bootstrap') return { view: 'bootstrap', params };
  return { view: 'traffic', params };
}
