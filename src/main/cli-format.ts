/** Shared by the CLI commands: output lines, usage errors, plain tables. */

export type Out = (line: string) => void;

/** Wrong arguments: the command prints its usage and exits with 2. */
export class UsageError extends Error {}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
