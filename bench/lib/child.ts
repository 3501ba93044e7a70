/**
 * Child processes of the benchmarks (the service, the ceiling server, the load client): JSON lines
 * on stdout, a bounded wait for each, and a stop that always ends the process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/**
 * The service under test: the built CLI (`npm run bench` builds it first), else its sources under
 * tsx (the smoke runs inside `npm test`, which needs no build). BENCH_SERVICE_BIN points at another
 * checkout for before/after comparisons.
 */
export const BIN = process.env.BENCH_SERVICE_BIN ?? (existsSync(`${ROOT}out/cli/localdls.mjs`) ? `${ROOT}bin/localdls` : `${ROOT}src/main/cli/run.ts`);

/** Node arguments that run `script` (TypeScript through tsx). */
export function scriptArgs(script: string): string[] {
  return script.endsWith('.ts') ? ['--import', 'tsx', script] : [script];
}

export interface ChildOptions {
  env?: NodeJS.ProcessEnv;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Keep stdout lines that are not JSON events (default: only JSON objects whose event is not "exchange"). */
  keepAll?: boolean;
}

export class Child {
  readonly process: ChildProcess;
  readonly events: Record<string, unknown>[] = [];
  /** `exchange` / `tls-failure` lines printed by `serve` (one per recorded exchange). */
  exchangeLines = 0;
  stderr = '';
  private waiters: (() => void)[] = [];

  constructor(script: string, args: string[], options: ChildOptions = {}) {
    const tsx = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
    this.process = spawn(process.execPath, [...(options.nodeArgs ?? []), ...tsx, script, ...args], {
      cwd: ROOT,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: this.process.stdout! }).on('line', (line) => {
      if (line.startsWith('{"event":"exchange"') || line.startsWith('{"event":"tls-failure"')) {
        this.exchangeLines++;
        return;
      }
      try {
        this.events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        if (options.keepAll) this.events.push({ event: 'text', line });
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.process.stderr!.on('data', (d: Buffer) => {
      if (this.stderr.length < 64 * 1024) this.stderr += d.toString();
    });
  }

  get pid(): number {
    return this.process.pid ?? 0;
  }

  /** The first event named `name` (from the start), waiting at most `timeoutMs`. */
  async waitFor(name: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e) => e.event === name);
      if (found) return found;
      if (this.process.exitCode !== null || this.process.signalCode !== null) {
        throw new Error(`process exited (${this.process.exitCode ?? this.process.signalCode}) before "${name}": ${this.stderr.slice(-2000)}`);
      }
      if (Date.now() > deadline) throw new Error(`no "${name}" within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 250);
      });
    }
  }

  send(line: string): void {
    this.process.stdin!.write(`${line}\n`);
  }

  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<number | null> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return this.process.exitCode;
    const exited = once(this.process, 'exit');
    this.process.kill(signal);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    const [code] = (await exited) as [number | null];
    clearTimeout(timer);
    return code;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
