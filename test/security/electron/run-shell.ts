/**
 * Runs the built Electron main process (out/main/index.js from a private build) under Node with
 * the recording stand-in for `electron` (fake-electron.mjs), and drives it: wait for its page to
 * load, send commands, read their answers, wait for the exit and read what it recorded.
 * Each run gets its own user-data folder; the service listens on 127.0.0.1 only (LOCALDLS_HOST),
 * on ports the OS picks unless the run says otherwise.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from '../build';

export interface ShellReport {
  events: string[];
  dialogs: { title: string; message: string }[];
  windows: { options: Record<string, unknown> & { webPreferences: Record<string, unknown> }; url: string | null; calls: string[]; destroyed: boolean }[];
  channels: string[];
  privileged: unknown;
}

export interface ShellRunOptions {
  /** The private build's folder (buildApp().dir). */
  built: string;
  env?: Record<string, string | undefined>;
  /** Where app.getAppPath() points (default: the repository, as `electron-vite preview` runs it). */
  appPath?: string;
  /** A user-data folder to reuse (default: a fresh one). */
  userData?: string;
}

export class ShellRun {
  readonly userData: string;
  readonly dataDir: string;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly reportFile: string;
  private readonly pending: string[] = [];
  private waiting: ((line: string) => void) | null = null;
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(options: ShellRunOptions) {
    this.userData = options.userData ?? mkdtempSync(join(tmpdir(), 'localdls-shell-'));
    this.dataDir = join(this.userData, 'data');
    this.reportFile = join(this.userData, 'fake-electron-report.json');
    rmSync(this.reportFile, { force: true });
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ['LOCALDLS_KEY_PASSPHRASE', 'LOCALDLS_KEY_PASSPHRASE_FILE', 'ELECTRON_RENDERER_URL', 'NODE_OPTIONS', 'LOCALDLS_PORT', 'LOCALDLS_SECURE_PORT']) delete env[k];
    Object.assign(env, {
      FAKE_ELECTRON_USER_DATA: this.userData,
      FAKE_ELECTRON_APP_PATH: options.appPath ?? ROOT,
      FAKE_ELECTRON_REPORT: this.reportFile,
      LOCALDLS_HOST: '127.0.0.1',
      LOCALDLS_PORT: '0',
      LOCALDLS_SECURE_PORT: '0',
      ...options.env,
    });
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    this.child = spawn(process.execPath, ['--import', join(__dirname, 'register.mjs'), join(options.built, 'main/index.js')], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w(line);
      } else this.pending.push(line);
    });
    this.exited = new Promise((done) => this.child.on('exit', (code) => done(code)));
  }

  private nextLine(): Promise<string> {
    const line = this.pending.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      void this.exited.then((code) => reject(new Error(`the shell exited (${code}) before answering:\n${this.stderr}`)));
    });
  }

  /** The next answer named `name` ("loaded", "probe", …), parsed. */
  async answer<T = unknown>(name: string): Promise<T> {
    for (;;) {
      const line = await this.nextLine();
      const space = line.indexOf(' ');
      if (line.slice(0, space) === 'error') throw new Error(`the stand-in reported: ${line.slice(space + 1)}`);
      if (line.slice(0, space) === name) return JSON.parse(line.slice(space + 1)) as T;
    }
  }

  send(command: string): void {
    this.child.stdin.write(`${command}\n`);
  }

  async ask<T = unknown>(command: string): Promise<T> {
    this.send(command);
    return this.answer<T>(command.split(' ')[0]!);
  }

  /** Waits for the exit; then what the stand-in recorded. */
  async finished(): Promise<{ code: number | null; report: ShellReport }> {
    const code = await this.exited;
    if (!existsSync(this.reportFile)) throw new Error(`the shell exited (${code}) without a report:\n${this.stderr}`);
    return { code, report: JSON.parse(readFileSync(this.reportFile, 'utf8')) as ShellReport };
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  remove(): void {
    this.kill();
    rmSync(this.userData, { recursive: true, force: true });
  }
}
