/**
 * Review of live updates end to end (093005a): `localdls serve --ui` as a process, its WebSocket
 * API as the page uses it, and the CLI as separate processes changing jobs and devices meanwhile.
 * Every change must arrive as an event, without the UI asking again.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Store } from '../../src/main/store';
import type { DeviceView } from '../../src/shared/api';
import type { Job } from '../../src/shared/model';
import { CliProcess, runCliProcess } from '../support/cli';
import { exchangeRecord } from '../support/records';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const MAC = '00:1A:E8:00:00:01';
const PASS = 'review passphrase for serve';
let dir: string;
let serve: CliProcess;
let socket: WebSocket;
const jobs = new Map<number, Job[]>();
const devices: DeviceView[] = [];

beforeAll(async () => {
  dir = newDir();
  const seed = new Store(dir);
  seed.commit(exchangeRecord({ mac: MAC }), { device: { mac: MAC, lastAddress: '127.0.0.1' }, mode: 'secure', bootstrap: 'done', certSerial: '0A0B0C' }, null);
  seed.close();
  // A data folder with a Secure-Mode phone needs its PKI open (the passphrase from the environment).
  // Only the WebSocket API is used: a stand-in page instead of a renderer build.
  const page = newDir();
  writeFileSync(join(page, 'index.html'), '<!doctype html><title>stand-in</title>');
  process.env.LOCALDLS_KEY_PASSPHRASE = PASS;
  process.env.LOCALDLS_UI_DIR = page;
  try {
    serve = new CliProcess(['serve', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0', '--secure-port', '0', '--ui', '--ui-port', '0']);
  } finally {
    delete process.env.LOCALDLS_KEY_PASSPHRASE;
    delete process.env.LOCALDLS_UI_DIR;
  }
  const listening = JSON.parse(await serve.waitFor((l) => l.includes('"listening"'), 60_000)) as { ui: string };
  const ui = new URL(listening.ui);
  socket = new WebSocket(`ws://${ui.host}/api${ui.search}`, { origin: ui.origin });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.on('message', (data) => {
    const m = JSON.parse(data.toString()) as { event?: string; data?: unknown };
    if (m.event === 'jobsChanged') for (const j of m.data as Job[]) jobs.set(j.id, [...(jobs.get(j.id) ?? []), j]);
    if (m.event === 'devicesChanged') devices.push(...(m.data as DeviceView[]));
  });
}, 90_000);

afterAll(async () => {
  socket?.close();
  if (serve) await serve.stop('SIGTERM');
});

const cli = (...args: string[]) => runCliProcess([...args, '--data-dir', dir], { LOCALDLS_KEY_PASSPHRASE: PASS });
const WAIT = { timeout: 20_000, interval: 50 };

describe('review: serve --ui follows the CLI in another process', () => {
  it('held: job add, job cancel, bootstrap --forget and profile override from the CLI each arrive as events', async () => {
    const added = await cli('job', 'add', '--mac', MAC, 'read-all', '--json');
    expect(added.code, added.stderr).toBe(0);
    const id = Number(/"id"\s*:\s*(\d+)/.exec(added.stdout)?.[1] ?? /job (\d+)/.exec(added.stdout)?.[1]);
    expect(id).toBeGreaterThan(0);
    await expect.poll(() => jobs.get(id)?.at(-1)?.state, WAIT).toBe('queued');
    await expect.poll(() => devices.filter((d) => d.mac === MAC).at(-1)?.jobs.queued, WAIT).toBe(1);

    expect((await cli('job', 'cancel', String(id))).code).toBe(0);
    await expect.poll(() => jobs.get(id)?.at(-1)?.state, WAIT).toBe('cancelled');
    await expect.poll(() => devices.filter((d) => d.mac === MAC).at(-1)?.jobs.queued, WAIT).toBe(0);

    const forgot = await cli('bootstrap', '--mac', MAC, '--forget');
    expect(forgot.code, forgot.stderr).toBe(0);
    await expect.poll(() => devices.filter((d) => d.mac === MAC).at(-1)?.mode, WAIT).toBe('default');
    expect(devices.filter((d) => d.mac === MAC).at(-1)).toMatchObject({ bootstrap: null });

    // An override set, changed and cleared announces its device each time (the device page lists
    // them), without its value. (One test: the data folder goes when a test ends.)
    const announced = () => devices.filter((d) => d.mac === MAC).length;
    const seen: string[] = [];
    socket.on('message', (data) => seen.push(data.toString()));
    for (const args of [['sip-pwd=first s3cret'], ['sip-pwd=second s3cret'], ['--clear']]) {
      const before = announced();
      const r = await cli('profile', 'override', '--mac', MAC, ...args);
      expect(r.code, r.stderr).toBe(0);
      await expect.poll(announced, WAIT).toBeGreaterThan(before);
    }
    expect(seen.join('\n')).not.toContain('s3cret');
  }, 90_000);
});
