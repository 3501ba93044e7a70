/**
 * `bootstrap` lowers its own scheduling priority so that a running service gets a core first
 * (src/main/cli/background-priority.ts). Linux keeps a nice value per thread: every thread the
 * process has, and every thread it makes afterwards, must end up lowered, and a process that
 * already runs lower must not be raised.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/main/store';
import { CLI_ENTRY, CLI_NODE_ARGS, runCli } from '../support/cli';
import { tempDirs } from '../support/tmp';

const MODULE = resolve(__dirname, '../../src/main/cli/background-priority.ts');
const newDir = tempDirs();

/** The nice value of every thread of this process. */
function ownNices(): number[] {
  return readdirSync('/proc/self/task').map((t) => {
    const s = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
    return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

/** Runs the module in a fresh Node process (optionally under `nice -n N`); returns what it reports. */
function child(niceFirst?: number): { lowered: number; before: number[]; after: number[]; workerNice: number } {
  const script = `
    import { readdirSync, readFileSync } from 'node:fs';
    import { Worker } from 'node:worker_threads';
    import { runInBackground } from ${JSON.stringify(MODULE)};
    const nices = () => readdirSync('/proc/self/task').map((t) => {
      const s = readFileSync('/proc/self/task/' + t + '/stat', 'utf8');
      return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]);
    });
    const before = nices();
    const lowered = runInBackground();
    // A thread made afterwards: a worker, which reports its own nice value.
    const w = new Worker("import { readFileSync } from 'node:fs'; import { parentPort } from 'node:worker_threads'; const s = readFileSync('/proc/thread-self/stat', 'utf8'); parentPort.postMessage(Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]));", { eval: true });
    const workerNice = await new Promise((r) => w.once('message', r));
    await w.terminate();
    console.log(JSON.stringify({ lowered, before, after: nices(), workerNice }));
  `;
  const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', script];
  const cmd = niceFirst === undefined ? node : ['nice', '-n', String(niceFirst), ...node];
  const run = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', cwd: resolve(__dirname, '../..') });
  if (run.status !== 0) throw new Error(`child failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!);
}

describe.runIf(process.platform === 'linux')('runInBackground', () => {
  it('lowers every thread of the process, and threads made later inherit it', () => {
    const r = child();
    expect(r.before.some((n) => n < 10)).toBe(true);
    expect(r.lowered).toBe(r.before.filter((n) => n < 10).length);
    expect(r.after.length).toBeGreaterThan(1);
    expect(r.after.every((n) => n === 10)).toBe(true);
    expect(r.workerNice).toBe(10);
  });

  it('the bootstrap command lowers its own process; main() run inside another process leaves that one alone', async () => {
    // The command as a user runs it: its threads' nice values, read as the process exits.
    const probe = `data:text/javascript,${encodeURIComponent(`import { readdirSync, readFileSync } from 'node:fs';
      process.on('exit', () => process.stderr.write('NICES ' + JSON.stringify(readdirSync('/proc/self/task').map((t) => { const s = readFileSync('/proc/self/task/' + t + '/stat', 'utf8'); return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]); })) + '\\n'));`)}`;
    const run = (command: string) => {
      const r = spawnSync(process.execPath, [...CLI_NODE_ARGS.slice(0, -1), '--import', probe, CLI_ENTRY, command, '--help'], { encoding: 'utf8', cwd: resolve(__dirname, '../..') });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(/NICES (\[.*\])/.exec(r.stderr)![1]!) as number[];
    };
    const before = ownNices();
    expect(before.some((n) => n < 10)).toBe(true);
    expect(run('bootstrap').every((n) => n === 10)).toBe(true);
    expect(run('contact').every((n) => n === before[0])).toBe(true);
    // In this process (the tests' way): the command runs, the priority stays.
    const dir = newDir();
    new Store(dir).close();
    const r = await runCli(['bootstrap', '--data-dir', dir, '--all', '--nopin'], { LOCALDLS_KEY_PASSPHRASE: 'priority test passphrase' });
    expect(r.code, r.stderr).toBe(0);
    expect(ownNices().every((n) => n < 10)).toBe(true);
  });

  it('never raises a process that already runs at a lower priority', () => {
    const r = child(15);
    expect(r.before.every((n) => n === 15)).toBe(true);
    expect(r.lowered).toBe(0);
    expect(r.after.every((n) => n === 15)).toBe(true);
    expect(r.workerNice).toBe(15);
  });
});
