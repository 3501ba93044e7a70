/**
 * WorkpointMessages written by hand, as a hostile host (or a test standing in for a phone) sends
 * them over a raw socket: for the relay's tests, which choose each message's reason, items and
 * source address themselves.
 */

/** A message factory whose nonces start with `prefix` and count up (each message its own nonce). */
export function rawWpi(prefix: string) {
  let n = 0;
  const msg = (reason: string, items: [string, string][], attrs = '') =>
    `<?xml version="1.0" encoding="utf-8"?><WorkpointMessage xmlns="http://www.siemens.com/DLS"><Message nonce="${prefix}${++n}" maxItems="-1"><ReasonForContact${attrs}>${reason}</ReasonForContact><ItemList>${items.map(([k, v]) => `<Item name="${k}">${v}</Item>`).join('')}</ItemList></Message></WorkpointMessage>`;
  return {
    msg,
    /** A start-up naming `mac`, with a changed configuration (the DLS reads all items). */
    startUp: (mac: string) => msg('start-up', [['mac-addr', mac], ['device-type', 'OpenStage 60'], ['configuration-changed-flag', 'true']]),
    readAllReply: () => msg('reply-to', [], ' action="ReadAllItems" status="accepted"'),
  };
}

/** The session cookie an answer set (its first `name=value`), or '' when it set none. */
export const cookieOf = (r: { headers: Record<string, string | string[] | undefined> }): string => String((r.headers['set-cookie'] as string[] | undefined)?.[0] ?? '').split(';')[0]!;
