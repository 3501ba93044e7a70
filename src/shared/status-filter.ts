/**
 * What the traffic filter's status means (the list's filter, `traffic --status`): one HTTP status
 * (`200`), a class (`4xx`), failed TLS handshakes (`tls`), or else a reply status the phone sent
 * (`accepted`, `failed`, `busy`), in any case. One reading for the store's query and the CLI's note.
 */
export type StatusFilter = { kind: 'http'; status: number } | { kind: 'http-class'; from: number; to: number } | { kind: 'tls-failure' } | { kind: 'reply'; status: string };

export function statusFilter(value: string): StatusFilter {
  const s = value.trim().toLowerCase();
  if (/^\d{3}$/.test(s)) return { kind: 'http', status: Number(s) };
  if (/^[1-5]xx$/.test(s)) return { kind: 'http-class', from: Number(s[0]) * 100, to: Number(s[0]) * 100 + 99 };
  if (s === 'tls' || s === 'tls-failure') return { kind: 'tls-failure' };
  return { kind: 'reply', status: s };
}
