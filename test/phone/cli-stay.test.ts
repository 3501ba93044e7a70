/** `localdls phone --stay`: phones that keep running, in process and as a real child process stopped by a signal. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { phoneMain } from '../../src/phone';
import { CLI_NODE_ARGS } from '../support/cli';
import { contactMe, startService, type Script, type TestService } from './helpers';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Lines as they come, with a way to wait for the first one matching. */
function lineLog() {
  const lines: string[] = [];
  const waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  return {
    lines,
    push(line: string) {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    },
    next(match: (l: string) => boolean): Promise<string> {
      const seen = lines.find(match);
      return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

const json = (l: string) => JSON.parse(l) as Record<string, unknown>;
const isEvent = (event: string, extra: (e: Record<string, unknown>) => boolean = () => true) => (l: string) => {
  try {
    const e = json(l);
    return e.event === event && extra(e);
  } catch {
    return false;
  }
};

/** WriteItems on every first message; busy → CleanUp + send-solicited (manual p.72–76). */
const jobScript: Script = (m) => {
  if (m.reason !== 'reply-to') return { action: 'WriteItems', items: [{ name: 'sntp-addr', value: '192.0.2.5' }] };
  return m.status === 'busy' ? { action: 'CleanUp', items: [{ name: 'send-solicited', value: 'true' }] } : { action: 'CleanUp' };
};

let service: TestService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

describe('localdls phone --stay (in process)', () => {
  it('prints listening, interaction, contact-me and busy-ended events until stopped, then a summary; exit 0', async () => {
    service = await startService(jobScript);
    const out = lineLog();
    const err: string[] = [];
    const stop = new AbortController();
    const run = phoneMain(
      ['--server', service.url, '--count', '2', '--ip-base', '127.0.4.1', '--contact-me-port', '0', '--busy', '1', '--busy-for', '1.5', '--contact-gap', '0', '--stay', '--json'],
      (l) => out.push(l),
      (l) => err.push(l),
      { stop: stop.signal },
    );
    const ready = json(await out.next(isEvent('ready')));
    expect(ready).toEqual({ event: 'ready', phones: 2 });
    const listening = out.lines.filter(isEvent('listening')).map(json);
    expect(listening.map((l) => l.mac)).toEqual(['00:1A:E8:00:00:01', '00:1A:E8:00:00:02']);
    expect(String(listening[1].contactMeUri)).toMatch(/^http:\/\/127\.0\.4\.2:\d+\/contact_dls\.html\/ContactDLS$/);

    // The busy phone reconnects once its call is over.
    await out.next(isEvent('busy-ended', (e) => e.solicited === true));
    const reconnect = json(await out.next(isEvent('interaction', (e) => e.trigger === 'send-solicited')));
    expect(reconnect).toMatchObject({ mac: '00:1A:E8:00:00:01', ok: true, actions: ['WriteItems', 'CleanUp'] });

    expect((await contactMe(String(listening[1].contactMeUri))).status).toBe(204);
    expect(json(await out.next(isEvent('contact-me')))).toMatchObject({ mac: '00:1A:E8:00:00:02', outcome: 'accepted', status: 204 });
    await out.next(isEvent('interaction', (e) => e.trigger === 'contact-me'));

    stop.abort();
    expect(await run).toBe(0);
    expect(err).toEqual([]);
    const summary = json(out.lines.at(-1)!);
    expect(summary).toMatchObject({ event: 'summary', phones: 2, interactions: 4, ok: 4, failed: 0, contactMe: { accepted: 1, ignored: 0, refused: 0 }, busyEnded: 1 });
    await expect(contactMe(String(listening[1].contactMeUri))).rejects.toThrow(/ECONNREFUSED/);
  });

  it('exits 1 with one line when a contact-me port is taken', async () => {
    service = await startService(() => ({ action: 'CleanUp' }));
    const stop = new AbortController();
    const out = lineLog();
    const first = phoneMain(['--server', service.url, '--ip-base', '127.0.4.9', '--contact-me-port', '0', '--stay', '--json'], (l) => out.push(l), () => undefined, { stop: stop.signal });
    const port = new URL(String(json(await out.next(isEvent('listening'))).contactMeUri)).port;
    const err: string[] = [];
    const code = await phoneMain(['--server', service.url, '--ip-base', '127.0.4.9', '--contact-me-port', port, '--stay'], () => undefined, (l) => err.push(l));
    expect(code).toBe(1);
    expect(err).toEqual([`localdls phone: contact-me port 127.0.4.9:${port} is already in use`]);
    stop.abort();
    expect(await first).toBe(0);
  });

  it('a port taken for the third of three phones stops the run before any phone has talked (helper-61: the first two had registered)', async () => {
    service = await startService(() => ({ action: 'CleanUp' }));
    const stop = new AbortController();
    const out = lineLog();
    const holder = phoneMain(['--server', service.url, '--ip-base', '127.0.4.33', '--mac-base', '00:1A:E8:00:70:33', '--contact-me-port', '0', '--stay', '--json'], (l) => out.push(l), () => undefined, { stop: stop.signal });
    const port = new URL(String(json(await out.next(isEvent('listening'))).contactMeUri)).port;
    const before = service.requests.length;
    const err: string[] = [];
    // 127.0.4.31, .32 and .33 on the same port: .33's is held by the phone above.
    const code = await phoneMain(['--server', service.url, '--count', '3', '--ip-base', '127.0.4.31', '--mac-base', '00:1A:E8:00:70:31', '--contact-me-port', port, '--stay'], () => undefined, (l) => err.push(l));
    expect(code).toBe(1);
    expect(err).toEqual([`localdls phone: contact-me port 127.0.4.33:${port} is already in use`]);
    expect(service.requests.slice(before).map((r) => r.remoteAddress)).toEqual([]);
    stop.abort();
    expect(await holder).toBe(0);
  });
});

describe('localdls phone --download-after', () => {
  it('a deployment of several files is carried out once the interaction ends: the check in it does not list the files, the next one does', async () => {
    const files = [
      { name: 'file-https-base-url', index: 1, value: 'https://files.example/da-logo.png' }, { name: 'file-type', index: 1, value: 'LOGO' }, { name: 'file-action', index: 1, value: 'deploy' },
      { name: 'file-https-base-url', index: 2, value: 'https://files.example/da-ring.wav' }, { name: 'file-type', index: 2, value: 'RINGTONE' }, { name: 'file-action', index: 2, value: 'deploy' },
    ];
    let sent = false;
    const listed: string[][] = [];
    service = await startService((m) => {
      if (m.reason === 'solicited' && !sent) return (sent = true), { action: 'FileDeployment', items: files };
      if (m.reason === 'solicited' || (m.reason === 'reply-to' && m.action === 'FileDeployment')) return { action: 'ReadAllItems' };
      if (m.reason === 'reply-to' && m.action === 'ReadAllItems' && m.fragment !== 'next') {
        listed.push(service!.requests.filter((r) => r.message.action === 'ReadAllItems').flatMap((r) => r.message.items).filter((i) => i.name === 'file-deployment-name' && i.value.startsWith('da-')).map((i) => i.value));
        service!.requests.length = 0;
      }
      return m.reason === 'reply-to' && m.fragment === 'next' ? { action: 'GetNextFragment' } : { action: 'CleanUp' };
    });
    const stop = new AbortController();
    const out = lineLog();
    const run = phoneMain(['--server', service.url, '--ip-base', '127.0.4.41', '--mac-base', '00:1A:E8:00:70:41', '--contact-me-port', '0', '--contact-gap', '0', '--stay', '--json', '--download-after'], (l) => out.push(l), () => undefined, { stop: stop.signal });
    const uri = String(json(await out.next(isEvent('listening'))).contactMeUri);
    await out.next(isEvent('ready'));
    for (const n of [1, 2]) {
      expect((await contactMe(uri)).status).toBe(204);
      await out.next((l) => isEvent('interaction', (e) => e.trigger === 'contact-me')(l) && out.lines.filter(isEvent('interaction', (e) => e.trigger === 'contact-me')).length === n);
    }
    stop.abort();
    expect(await run).toBe(0);
    expect(listed).toEqual([[], ['da-logo.png', 'da-ring.wav']]);
  });
});

describe('localdls phone --stay (child process)', () => {
  async function runChild(args: string[], signal: NodeJS.Signals, untilReady: (line: string) => boolean, afterReady: (out: ReturnType<typeof lineLog>) => Promise<void> = async () => undefined) {
    const child = spawn(process.execPath, [...CLI_NODE_ARGS, 'phone', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = lineLog();
    let stderr = '';
    createInterface({ input: child.stdout }).on('line', (l) => out.push(l));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    try {
      await Promise.race([out.next(untilReady), exited.then(() => Promise.reject(new Error(`child exited early: ${stderr}`)))]);
      await afterReady(out);
      child.kill(signal);
      const [code, killedBy] = await exited;
      return { code, killedBy, out: out.lines, stderr };
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }

  it('runs until SIGINT, then stops cleanly with a summary and exit 0 (JSON lines)', async () => {
    service = await startService(() => ({ action: 'CleanUp' }));
    const { code, killedBy, out, stderr } = await runChild(['--server', service.url, '--count', '2', '--ip-base', '127.0.4.21', '--contact-me-port', '0', '--stay', '--json'], 'SIGINT', isEvent('ready'), async (log) => {
      const uri = String(json(log.lines.find(isEvent('listening'))!).contactMeUri);
      expect((await contactMe(uri)).status).toBe(204);
      await log.next(isEvent('interaction', (e) => e.trigger === 'contact-me'));
    });
    expect(stderr).toBe('');
    expect(killedBy).toBeNull();
    expect(code).toBe(0);
    const events = out.map(json);
    expect(events.filter((e) => e.event === 'interaction').map((e) => [e.reason, e.trigger, e.ok])).toEqual([
      ['start-up', 'start', true],
      ['start-up', 'start', true],
      ['solicited', 'contact-me', true],
    ]);
    expect(events.at(-1)).toMatchObject({ event: 'summary', phones: 2, interactions: 3, ok: 3, contactMe: { accepted: 1 } });
    expect(service.requests.map((r) => r.remoteAddress).sort()).toEqual(['127.0.4.21', '127.0.4.21', '127.0.4.22']);
  });

  it('stops on SIGTERM too, with human-readable lines', async () => {
    service = await startService(() => ({ action: 'CleanUp' }));
    const { code, out } = await runChild(['--server', service.url, '--stay'], 'SIGTERM', (l) => l.startsWith('ready:'));
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^00:1A:E8:00:00:01 listening for contact-me on http:\/\/127\.0\.0\.1:\d+\/contact_dls\.html\/ContactDLS$/);
    expect(out[1]).toMatch(/^00:1A:E8:00:00:01 start-up \(start\) ok 1 exchanges CleanUp/);
    expect(out.at(-1)).toMatch(/^summary: 1 phones, 1 interactions \(1 ok, 0 failed\), contact-me 0 accepted \/ 0 ignored \/ 0 refused/);
  });
});
