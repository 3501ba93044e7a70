/**
 * DHCP option 43 (vendor-encapsulated options) for OpenStage phones (wpi-protocol.md §2.8):
 * sub-option 1 = vendor name "Siemens", sub-option 3 = the DLS address `sdlp://host:port`.
 * Each sub-option is tag, length, value bytes.
 */

export interface SubOption {
  tag: number;
  label: string;
  value: string;
  bytes: number[];
}

export function sdlpUrl(host: string, port: number): string {
  return `sdlp://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function subOption(tag: number, label: string, value: string): SubOption {
  const data = [...new TextEncoder().encode(value)];
  if (data.length > 255) throw new Error(`option 43 sub-option ${tag} is longer than 255 bytes`);
  return { tag, label, value, bytes: [tag, data.length, ...data] };
}

export function option43(host: string, port: number): { url: string; subOptions: SubOption[]; bytes: number[] } {
  const url = sdlpUrl(host, port);
  const subOptions = [subOption(1, 'vendor', 'Siemens'), subOption(3, 'DLS address', url)];
  return { url, subOptions, bytes: subOptions.flatMap((s) => s.bytes) };
}

/** `01:07:53:…` as ISC dhcpd's `option vendor-encapsulated-options` takes it. */
export function colonHex(bytes: number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** `010753…` as most other DHCP servers and routers take it. */
export function plainHex(bytes: number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
}
