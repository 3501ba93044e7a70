/**
 * Shared by the CLI commands: output lines, argument parsing in the CLI's own words, plain tables.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LIMITS } from '../../shared/constants';
import { MAC_EXAMPLE, normalizeMac } from '../../shared/mac';

export type Out = (line: string) => void;

/** Wrong arguments: the command prints its usage and exits with 2. */
export class UsageError extends Error {}

/** What `--all` names, within what one command takes (LIMITS.macs): said as --all's own limit, the user named no MACs. */
export function allWithinLimit(every: string[], what: 'devices' | 'phones'): string[] {
  if (every.length > LIMITS.macs) throw new UsageError(`--all would name ${every.length} ${what}, more than the ${LIMITS.macs} one command takes: name them with --mac (those that are gone can be left out that way)`);
  return every;
}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

type Options = NonNullable<ParseArgsConfig['options']>;
export type ParsedCli<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: true; tokens: true }>>;

/** parseArgs, with its errors said as the CLI says them (the usage follows). */
export function parseCli<const T extends Options>(args: string[], options: T): ParsedCli<T> {
  let parsed: ParsedCli<T>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    throw new UsageError(cliWords(e as Error & { code?: string }, options, args));
  }
  // parseArgs keeps the last of a repeated option: `--mac A --mac B` would act on B alone.
  const seen = new Set<string>();
  for (const t of parsed.tokens) {
    if (t.kind !== 'option' || options[t.name]?.multiple) continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name} is given more than once; it takes one value${t.name === 'mac' ? ' (several phones: --all, or run the command once per phone)' : ''}`);
    seen.add(t.name);
  }
  return parsed;
}

function cliWords(e: Error & { code?: string }, options: Options, args: readonly string[]): string {
  const flag = /'(-{1,2}[^' ]+)/.exec(e.message)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${flag ?? ''}`.trimEnd();
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const name = flag?.replace(/^-+/, '') ?? '';
      if (options[name]?.type === 'boolean') return `${flag} takes no value`;
      // `--limit -5`: parseArgs will not guess whether "-5" is a value or an option (`--limit --json` is a value forgotten).
      const next = flag === undefined ? undefined : args[args.indexOf(flag) + 1];
      if (/ambiguous/.test(e.message) && next !== undefined && /^-[\d.]/.test(next)) return `${flag} needs a value; a value starting with "-" is written ${flag}=${next} (and is checked like any other)`;
      return `${flag ?? 'an option'} needs a value`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected "${/'([^']*)'/.exec(e.message)?.[1] ?? ''}"`;
    default:
      return e.message;
  }
}

/** A PIN sheet's format from its file name (--sheet). */
export function sheetFormatOf(file: string): 'csv' | 'html' {
  if (file.endsWith('.csv')) return 'csv';
  if (file.endsWith('.html') || file.endsWith('.htm')) return 'html';
  throw new UsageError('--sheet must end in .csv or .html');
}

/** The MACs of a repeatable --mac, each checked, in the order given, each once. */
export function macList(macs: readonly string[] | undefined): string[] {
  return [...new Set((macs ?? []).map((m) => macOf(m)))];
}

/** The one MAC of --mac where a command takes one (undefined when not given). */
export function oneMac(macs: readonly string[] | undefined, what: string): string | undefined {
  const list = macList(macs);
  if (list.length > 1) throw new UsageError(`${what} takes one --mac`);
  return list[0];
}

/** A MAC in any spelling src/shared/mac.ts accepts, or a usage error naming the flag. */
export function macOf(raw: string, flag = '--mac'): string {
  const mac = normalizeMac(raw);
  if (!mac) throw new UsageError(`${flag} "${raw}" is not a MAC address (e.g. ${MAC_EXAMPLE}, 00-1A-E8-00-00-01 or 001a.e800.0001)`);
  return mac;
}

export function noPositionals(positionals: readonly string[]): void {
  if (positionals.length) throw new UsageError(`unexpected "${positionals[0]}"`);
}
