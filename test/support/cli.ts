/**
 * The CLI in tests: `runCli` runs its main() in this process with the output captured (fast, and
 * what most tests need: the command's words and exit code); `runCliProcess`, `CliProcess` and
 * `startServe` run the command line as a real process, the way a user does (signals, stdout lines,
 * a second process on the same data directory).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * How tests start the CLI as a process: the build test/support/built-cli.ts made for this run
 * (what bin/localdls runs), or, when a test runs without that setup, its entry from the sources
 * under tsx. test/cli/built-cli.test.ts runs the real `npm run build` through bin/localdls.
 */
export const CLI_ENTRY = process.env.LOCALDLS_TEST_CLI ?? resolve(__dirname, '../../src/main/cli/run.ts');
export const CLI_NODE_ARGS = process.env.LOCALDLS_TEST_CLI ? [CLI_ENTRY] : ['--import', 'tsx', CLI_ENTRY];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI's main() in this process; `env` is set for the call and restored after it. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const { main } = await import('../../src/main/cli/main');
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  let stdout = '';
  let stderr = '';
  try {
    const code = await main(args, (l) => (stdout += `${l}\n`), (l) => (stderr += `${l}\n`));
    return { code, stdout, stderr };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The CLI as a real process. */
export function runCliProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return outcome(spawn(process.execPath, [...CLI_NODE_ARGS, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** A process's output and exit code, once it has ended. */
export async function outcome(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** A long-running command (serve, traffic --follow) with its output as lines. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  private waiters: (() => void)[] = [];

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [...CLI_NODE_ARGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr!.on('data', (d) => (this.stderr += d));
  }

  /** Resolves with the first line (from the start) that satisfies `test`. */
  async waitFor(test: (line: string) => boolean, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(test);
      if (found !== undefined) return found;
      if (this.child.exitCode !== null) throw new Error(`process exited (${this.child.exitCode}) before the line appeared: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting; got: ${this.lines.slice(-5).join('\n')}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    // Ended already (exited, or killed by a signal: then there is no exit to wait for).
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = once(this.child, 'exit');
    this.child.kill(signal);
    const [code] = (await exited) as [number | null];
    return code;
  }
}

/** Starts `serve` on a free port; resolves with the process and its listening line. */
export async function startServe(args: string[]): Promise<{ serve: CliProcess; port: number; listening: Record<string, unknown> }> {
  const serve = new CliProcess(['serve', '--host', '127.0.0.1', '--port', '0', ...args]);
  const line = await serve.waitFor((l) => l.includes('"listening"'));
  const listening = JSON.parse(line) as Record<string, unknown>;
  return { serve, port: listening.port as number, listening };
}
