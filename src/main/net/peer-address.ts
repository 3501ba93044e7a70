/**
 * One spelling per client address, so per-address limits count a host once whichever socket
 * family it came in on: an IPv4 client of a dual-stack listener shows up as `::ffff:10.1.2.3`.
 */
export function peerKey(address: string | undefined | null): string {
  if (!address) return '?';
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  return mapped ? (mapped[1] as string) : lower;
}
