/**
 * Full HTTP and TLS detail (issue #15, part B, item 3): the response headers recorded are exactly
 * the ones a raw TLS client receives (Date, Content-Length, Connection and Keep-Alive included),
 * for answered, refused and keep-alive exchanges; the client certificate of the secure port is
 * recorded (subject, issuer, validity), also when it is refused; the optional TLS key log writes
 * NSS-format lines for a real handshake, matching the client's own secrets, into a 0600 file; and
 * "copy as curl" run by a shell reaches the real listener (loopback) and gets the same answer class.
 */
import { execFile } from 'node:child_process';
import { existsSync, linkSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passphraseProtector, Pki } from '../../src/main/pki';
import { Service } from '../../src/main/app/service';
import { TlsKeyLog } from '../../src/main/app/tls-keylog';
import { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { cliContext } from '../../src/main/cli/context';
import { exportExchanges, getExchange } from '../../src/main/commands';
import { curlCommand } from '../../src/shared/curl';
import { message, startUpItems } from '../support/messages';
import { forgeCertificate } from '../pki/helpers';

const MAC = '00:1A:E8:15:00:01';
let dir = '';
let service: Service;
let port = 0;
let securePort = 0;
let dcmpPort = 0;
let keyLogPath = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'localdls-detail-'));
  const dataDir = join(dir, 'data');
  keyLogPath = join(dir, 'keys.log');
  const keyProtector = passphraseProtector('detail tests', dataDir, { scryptCost: 1024 });
  await Pki.open(dataDir, keyProtector, { hostname: 'testhost' });
  service = new Service({ dataDir, host: '127.0.0.1', port: 0, securePort: 0, autoContact: false, keyProtector, tlsKeyLog: keyLogPath, dcmpPort: 0 });
  const info = await service.start();
  port = info.port;
  securePort = info.securePort!;
  dcmpPort = info.dcmpPort!;
});
afterAll(async () => {
  await service?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface RawAnswer {
  statusLine: string;
  headers: [string, string][];
  body: Buffer;
  /** The client's own key-log lines (what Wireshark would be given). */
  clientKeyLog: string[];
  localPort: number;
  closedByServer: boolean;
}

/** Sends `requests` raw on one TLS connection and parses each answer from the bytes received. */
function rawExchange(to: number, requests: string[], options: tls.ConnectionOptions = {}): Promise<RawAnswer[]> {
  return new Promise((resolve, reject) => {
    const clientKeyLog: string[] = [];
    const answers: RawAnswer[] = [];
    let buffer = Buffer.alloc(0);
    let closed = false;
    const socket = tls.connect({ host: '127.0.0.1', port: to, rejectUnauthorized: false, ...options }, () => socket.write(requests[0]!));
    socket.on('keylog', (line: Buffer) => clientKeyLog.push(line.toString('latin1').trimEnd()));
    const parse = () => {
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
        const headers = lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as [string, string]);
        const length = Number(headers.find(([n]) => n.toLowerCase() === 'content-length')?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        answers.push({ statusLine: lines[0]!, headers, body: buffer.subarray(end + 4, end + 4 + length), clientKeyLog, localPort: socket.localPort ?? 0, closedByServer: false });
        buffer = buffer.subarray(end + 4 + length);
        if (answers.length < requests.length) socket.write(requests[answers.length]!);
        else socket.end();
      }
    };
    socket.on('data', (c: Buffer) => {
      buffer = Buffer.concat([buffer, c]);
      parse();
    });
    socket.on('end', () => {
      closed = true;
    });
    socket.on('close', () => {
      const last = answers.at(-1);
      if (last) last.closedByServer = closed && answers.length === requests.length;
      resolve(answers);
    });
    socket.on('error', reject);
  });
}

function request(body: string, options: { path?: string; method?: string; connection?: string } = {}): string {
  const head = [
    `${options.method ?? 'POST'} ${options.path ?? '/DeploymentService/LoginService'} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Content-Type: text/xml',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...(options.connection ? [`Connection: ${options.connection}`] : []),
  ];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

/** The newest exchanges of this peer port, oldest first. */
function recordedFor(localPort: number) {
  return service.store.exchanges({ limit: 1000, newestFirst: false }).filter((x) => x.peerPort === localPort).map((x) => service.store.exchange(x.id)!);
}

describe('response headers are recorded exactly as written to the socket', () => {
  it('keep-alive: two exchanges on one connection, each with Date, Content-Length, Connection and Keep-Alive as sent', async () => {
    const startUp = () => message({ reason: 'start-up', items: startUpItems(MAC) });
    const answers = await rawExchange(port, [request(startUp()), request(startUp())]);
    expect(answers).toHaveLength(2);
    const recorded = recordedFor(answers[0]!.localPort);
    expect(recorded).toHaveLength(2);
    for (const [i, answer] of answers.entries()) {
      expect(answer.statusLine, answer.body.toString()).toBe('HTTP/1.1 200 OK');
      expect(recorded[i]!.responseHeaders).toEqual(answer.headers);
      expect(answer.headers.map(([n]) => n)).toEqual(expect.arrayContaining(['Content-Type', 'Date', 'Content-Length', 'Connection', 'Keep-Alive']));
      expect(answer.headers).toContainEqual(['Connection', 'keep-alive']);
      expect(Buffer.from(recorded[i]!.responseBody).equals(answer.body)).toBe(true);
    }
  });

  it('Connection: close asked by the client is answered, and recorded, as close', async () => {
    const [answer] = await rawExchange(port, [request(message({ reason: 'start-up', items: startUpItems(MAC) }), { connection: 'close' })]);
    const [recorded] = recordedFor(answer!.localPort);
    expect(recorded!.responseHeaders).toEqual(answer!.headers);
    expect(answer!.headers).toContainEqual(['Connection', 'close']);
    expect(answer!.headers.some(([n]) => n === 'Keep-Alive')).toBe(false);
    expect(answer!.closedByServer).toBe(true);
  });

  it('refusals (404, 405 with Allow, 400) record what was sent, Connection: close included', async () => {
    for (const [options, body, status] of [
      [{ path: '/elsewhere' }, 'x', 404],
      [{ method: 'PUT' }, 'x', 405],
      [{}, '<not-wpi/>', 400],
    ] as const) {
      const [answer] = await rawExchange(port, [request(body, options)]);
      expect(answer!.statusLine).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
      const [recorded] = recordedFor(answer!.localPort);
      expect(recorded!.httpStatus).toBe(status);
      expect(recorded!.responseHeaders).toEqual(answer!.headers);
      if (status === 405) expect(answer!.headers).toContainEqual(['Allow', 'POST']);
      if (status !== 400) expect(answer!.headers).toContainEqual(['Connection', 'close']);
    }
  });

  it('HTTP/1.0 without keep-alive is answered close, as recorded', async () => {
    const body = message({ reason: 'start-up', items: startUpItems(MAC) });
    const raw = request(body).replace('HTTP/1.1', 'HTTP/1.0');
    const [answer] = await rawExchange(port, [raw]);
    const [recorded] = recordedFor(answer!.localPort);
    expect(recorded!.responseHeaders).toEqual(answer!.headers);
    expect(answer!.headers).toContainEqual(['Connection', 'close']);
  });

  it('DCMP polls (plain HTTP) record every header sent, the 405 Allow included', async () => {
    for (const [method, status] of [['GET', 200], ['POST', 405]] as const) {
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port: dcmpPort }, () => socket.write(`${method} /dcmp/contact-me?device-id=001AE8150001 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`));
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
        socket.on('error', reject);
      });
      const [head] = raw.split('\r\n\r\n');
      const lines = head!.split('\r\n');
      expect(lines[0]).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
      const sent = lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]);
      const row = service.store.exchanges({ limit: 1 })[0]!;
      expect(row.kind).toBe('dcmp');
      expect(service.store.exchange(row.id)!.responseHeaders).toEqual(sent);
    }
  });
});

describe('TLS detail of the secure port', () => {
  it('records the client certificate (subject, issuer, validity) of an answered exchange', async () => {
    const cert = await service.pki!.issueDeviceCertificate(MAC);
    // The phone holds this certificate now (as a finished bootstrap leaves it).
    const now = Date.now();
    service.store.commit(
      {
        kind: 'wpi', started: now, ended: now, listener: 'default', localPort: 0, peerAddress: '127.0.0.1', peerPort: 0, tlsProtocol: null, tlsCipher: null,
        method: 'POST', path: '/', httpStatus: 200, requestHeaders: [], requestBody: Buffer.alloc(0), responseHeaders: [], responseBody: Buffer.alloc(0),
        mac: MAC, reason: null, replyAction: null, replyStatus: null, nonce: null, fragment: null, itemCount: 0, refusedItems: 0, action: null, error: null, warning: null,
      },
      { mode: 'secure', certSerial: cert.serial },
      null,
    );
    const [answer] = await rawExchange(securePort, [request(message({ reason: 'start-up', items: startUpItems(MAC) }), { connection: 'close' })], { cert: cert.certPem, key: cert.keyPem });
    expect(answer!.statusLine, answer!.body.toString()).toBe('HTTP/1.1 200 OK');
    const [recorded] = recordedFor(answer!.localPort);
    expect(recorded!.tlsProtocol).toMatch(/^TLSv1\.[23]$/);
    expect(recorded!.tlsCipher).toBeTruthy();
    expect(recorded!.clientCertificate).toMatchObject({ subject: expect.stringContaining(`CN=${MAC}`) });
    expect(recorded!.clientCertificate!.issuer).not.toBe(recorded!.clientCertificate!.subject);
    expect(recorded!.clientCertificate!.validFrom).toBeLessThan(Date.now());
    expect(recorded!.clientCertificate!.validTo).toBeGreaterThan(Date.now());
    expect(recorded!.clientCertificate!.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(recorded!.responseHeaders).toEqual(answer!.headers);
  });

  it('records a refused certificate with the failed handshake, and the reason', async () => {
    const self = forgeCertificate({ cn: 'Not a phone of ours', ca: false });
    const answers = await rawExchange(securePort, [request('x')], { cert: self.certPem, key: self.keyPem, localAddress: '127.0.0.151' } as tls.ConnectionOptions).catch(() => []);
    expect(answers).toHaveLength(0);
    let row;
    for (let i = 0; i < 200 && !row; i++) {
      row = service.store.exchanges({ limit: 1000 }).find((x) => x.kind === 'tls-failure' && x.peerAddress === '127.0.0.151');
      if (!row) await new Promise((r) => setTimeout(r, 10));
    }
    const detail = service.store.exchange(row!.id)!;
    expect(detail.error).toMatch(/^TLS handshake failed: client certificate self-signed/);
    expect(detail.clientCertificate!.subject).toContain('CN=Not a phone of ours');
    // The handshake itself completed: its version is known.
    expect(detail.tlsProtocol).toMatch(/^TLSv1\.[23]$/);
  });
});

describe('TLS key log (NSS format)', () => {
  const NSS_LINE = /^(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]{64} [0-9a-f]{64,96}$/;

  it('holds the secrets of a real handshake, as the client knows them, in a file only its owner reads', async () => {
    const [tls13] = await rawExchange(port, [request(message({ reason: 'start-up', items: startUpItems(MAC) }), { connection: 'close' })]);
    const [tls12] = await rawExchange(port, [request(message({ reason: 'start-up', items: startUpItems(MAC) }), { connection: 'close' })], { maxVersion: 'TLSv1.2' });
    const lines = readFileSync(keyLogPath, 'latin1').split('\n').filter(Boolean);
    for (const line of lines) expect(line).toMatch(NSS_LINE);
    expect(tls13!.clientKeyLog.length).toBe(5);
    for (const line of [...tls13!.clientKeyLog, ...tls12!.clientKeyLog]) expect(lines).toContain(line);
    expect(tls12!.clientKeyLog[0]).toMatch(/^CLIENT_RANDOM /);
    expect(statSync(keyLogPath).mode & 0o777).toBe(0o600);
    expect(service.tlsKeyLogPath).toBe(keyLogPath);
  });

  it('stops when switched off, and narrows an existing file to 0600 before writing', async () => {
    // Off, the listeners' servers have no 'keylog' listener: Node then asks OpenSSL for no key
    // lines, so no session's secrets reach the heap (they did for every handshake before).
    const keyLogListeners = () => (['listener', 'secureListener'] as const).map((k) => (service as unknown as Record<typeof k, { server: { listenerCount(e: string): number } }>)[k].server.listenerCount('keylog'));
    expect(keyLogListeners()).toEqual([1, 1]);
    service.setTlsKeyLog(null);
    expect(keyLogListeners()).toEqual([0, 0]);
    const before = readFileSync(keyLogPath, 'latin1');
    await rawExchange(port, [request(message({ reason: 'start-up', items: startUpItems(MAC) }), { connection: 'close' })]);
    expect(readFileSync(keyLogPath, 'latin1')).toBe(before);

    const wide = join(dir, 'wide.log');
    writeFileSync(wide, '');
    chmodSync(wide, 0o644);
    service.setTlsKeyLog(wide);
    expect(keyLogListeners()).toEqual([1, 1]);
    expect(statSync(wide).mode & 0o777).toBe(0o600);
    await rawExchange(port, [request(message({ reason: 'start-up', items: startUpItems(MAC) }), { connection: 'close' })]);
    expect(readFileSync(wide, 'latin1')).toMatch(/^CLIENT_HANDSHAKE_TRAFFIC_SECRET /m);
    service.setTlsKeyLog(null);
    expect(keyLogListeners()).toEqual([0, 0]);
  });

  it('takes an existing file only when it is empty or a key log already: another file is neither appended to nor narrowed', async () => {
    const other = join(dir, 'notes.txt');
    writeFileSync(other, 'root:x:0:0:root:/root:/bin/bash\n');
    chmodSync(other, 0o644);
    expect(() => service.setTlsKeyLog(other)).toThrow(/notes\.txt exists and is not a TLS key log: LocalDLS appends only to a key log it can recognise; name a new file/);
    expect(statSync(other).mode & 0o777).toBe(0o644);
    expect(readFileSync(other, 'latin1')).toBe('root:x:0:0:root:/root:/bin/bash\n');
    expect(service.tlsKeyLogPath).toBeNull();
    // A comment line makes no key log: a shell script or a file under /etc starts with one.
    const script = join(dir, 'script.sh');
    writeFileSync(script, '# ~/.bashrc: executed by bash\nalias ll=ls\n');
    expect(() => service.setTlsKeyLog(script)).toThrow(/script\.sh exists and is not a TLS key log/);
    expect(readFileSync(script, 'latin1')).toBe('# ~/.bashrc: executed by bash\nalias ll=ls\n');
    // Nor does a hard link to an empty file of the user's (planted in a shared folder).
    const target = join(dir, 'linked-target');
    writeFileSync(target, '');
    const hard = join(dir, 'hard.log');
    linkSync(target, hard);
    expect(() => service.setTlsKeyLog(hard)).toThrow(/hard\.log has other names \(hard links\)/);
    // A key log from before (this one's, or a browser's SSLKEYLOGFILE) is appended to.
    const earlier = join(dir, 'earlier.log');
    writeFileSync(earlier, `CLIENT_RANDOM ${'ab'.repeat(32)} ${'cd'.repeat(48)}\n`);
    service.setTlsKeyLog(earlier);
    await rawExchange(port, [request(message({ reason: 'start-up', items: startUpItems(MAC) }), { connection: 'close' })]);
    expect(readFileSync(earlier, 'latin1').split('\n')[0]).toBe(`CLIENT_RANDOM ${'ab'.repeat(32)} ${'cd'.repeat(48)}`);
    expect(readFileSync(earlier, 'latin1')).toMatch(/^CLIENT_HANDSHAKE_TRAFFIC_SECRET /m);
    service.setTlsKeyLog(null);
  });

  it('through the API (the UI): a relative path is refused with the reason, nothing opened', async () => {
    const api = new LocalDlsApiHost(service, { dataDir: dir, networkInterfaces: () => ({}), listeners: [] });
    try {
      await expect(api.setTlsKeyLog('relative-keys.log')).rejects.toMatchObject({ code: 'bad-argument', message: expect.stringMatching(/give the TLS key log's full path/) as unknown });
      expect(existsSync(join(process.cwd(), 'relative-keys.log'))).toBe(false);
      expect(service.tlsKeyLogPath).toBeNull();
    } finally {
      api.close();
    }
  });

  it('refuses a link planted at the path and a folder, naming the path', () => {
    const target = join(dir, 'target');
    writeFileSync(target, '');
    const link = join(dir, 'link.log');
    symlinkSync(target, link);
    expect(() => new TlsKeyLog(link)).toThrow(/link\.log/);
    expect(() => new TlsKeyLog(dir)).toThrow(new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  });
});

describe('copy as curl', () => {
  /** Runs the command as a user would (sh -c), loopback only; returns the HTTP status it got. */
  function runCurl(command: string): Promise<{ status: number; out: string }> {
    return new Promise((resolve, reject) => {
      execFile('/bin/sh', ['-c', command], { timeout: 20_000 }, (err, stdout) => {
        if (err && !stdout) return reject(err);
        const status = Number(/^HTTP\/1\.1 (\d{3})/m.exec(stdout)?.[1] ?? 0);
        resolve({ status, out: stdout });
      });
    });
  }

  async function curlOf(id: number): Promise<string> {
    const detail = await getExchange(cliContext(service.store), id);
    return curlCommand({ summary: detail.summary, headers: detail.request.headers, body: detail.request.text })!;
  }

  it('sends the recorded request again to the real listener and gets the same answer class', async () => {
    // Refused ones (404, 405, 400): the same refusal again.
    for (const [options, body] of [[{ path: "/it's-elsewhere" }, 'x'], [{ method: 'PUT' }, 'x'], [{}, "<not-wpi a='1'/>"]] as const) {
      const [answer] = await rawExchange(port, [request(body, options)]);
      const [recorded] = recordedFor(answer!.localPort);
      const command = await curlOf(recorded!.id);
      expect(command).toMatch(/^curl --http1\.1 -sS -i -g -k -X /);
      const again = await runCurl(command);
      expect(again.status, command).toBe(recorded!.httpStatus);
    }
    // An answered phone message (a phone still in Default Mode): reaches the service, which recognises the replay by its nonce.
    const [answer] = await rawExchange(port, [request(message({ reason: 'start-up', items: startUpItems('00:1A:E8:15:00:02') }), { connection: 'close' })]);
    const [recorded] = recordedFor(answer!.localPort);
    expect(recorded!.httpStatus).toBe(200);
    const replay = await runCurl(await curlOf(recorded!.id));
    expect(replay.out).toMatch(/replayed nonce/);
  });

  it('an HTTP/1.0 request: its start line, HAR and curl say 1.0 (the answer is 1.1, as written), and the command sends 1.0 again', async () => {
    const body = message({ reason: 'start-up', items: startUpItems('00:1A:E8:15:00:03') });
    const [answer] = await rawExchange(port, [request(body).replace(' HTTP/1.1\r\n', ' HTTP/1.0\r\n')]);
    const [recorded] = recordedFor(answer!.localPort);
    const detail = await getExchange(cliContext(service.store), recorded!.id);
    expect(detail.summary.httpVersion).toBe('1.0');
    expect(detail.request.startLine).toBe('POST /DeploymentService/LoginService HTTP/1.0');
    expect(detail.response.startLine).toBe(answer!.statusLine);
    const har = JSON.parse((await exportExchanges(cliContext(service.store), [recorded!.id], 'har')).content) as { log: { entries: { request: { httpVersion: string }; response: { httpVersion: string } }[] } };
    expect(har.log.entries[0]!.request.httpVersion).toBe('HTTP/1.0');
    expect(har.log.entries[0]!.response.httpVersion).toBe('HTTP/1.1');
    const command = await curlOf(recorded!.id);
    expect(command).toMatch(/^curl --http1\.0 --no-alpn -sS -i -g -k -X /);
    const before = service.store.exchanges({ limit: 1 })[0]!.id;
    await runCurl(command);
    const again = service.store.exchanges({ limit: 10 }).filter((x) => x.id > before);
    expect(again.map((x) => x.httpVersion)).toEqual(['1.0']);
    // 1.1 is not stored: a 1.1 request's summary has none, and says 1.1.
    const [eleven] = await rawExchange(port, [request(body)]);
    const [recorded11] = recordedFor(eleven!.localPort);
    expect(recorded11!.httpVersion).toBeUndefined();
    expect((await getExchange(cliContext(service.store), recorded11!.id)).request.startLine).toMatch(/ HTTP\/1\.1$/);
  });

  it('sends a body starting with @ as it is, not the file it names, and a target with brackets once, not expanded (helper-67)', async () => {
    const secret = join(dir, 'local-secret.txt'); // outside the data folder, removed with the suite's
    writeFileSync(secret, 'a file of the user, not to be sent');
    const [answer] = await rawExchange(port, [request(`@${secret}`, { path: '/DeploymentService/Login[1-3]{a,b}' })]);
    const [recorded] = recordedFor(answer!.localPort);
    const before = service.store.exchanges({ limit: 1 })[0]!.id;
    const again = await runCurl(await curlOf(recorded!.id));
    expect(again.status).toBe(recorded!.httpStatus);
    const sent = service.store.exchanges({ limit: 10 }).filter((x) => x.id > before);
    expect(sent).toHaveLength(1);
    const detail = await getExchange(cliContext(service.store), sent[0]!.id);
    expect(detail.summary.path).toBe('/DeploymentService/Login[1-3]{a,b}');
    expect(detail.request.text).toBe(`@${secret}`);
  });

  it('a DCMP poll (plain HTTP, idempotent) gets the same answer', async () => {
    await new Promise<void>((resolve, reject) => {
      // From an address of its own: polls recorded before from 127.0.0.1 would hold this one back (rate limit).
      const socket = net.connect({ host: '127.0.0.1', port: dcmpPort, localAddress: '127.0.0.77' }, () => socket.end(`GET /dcmp/contact-me?device-id=${MAC} HTTP/1.1\r\nHost: 127.0.0.1:${dcmpPort}\r\n\r\n`));
      socket.on('data', () => {});
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    const row = service.store.exchanges({ limit: 1 })[0]!;
    const command = await curlOf(row.id);
    expect(command).not.toContain(' -k');
    expect((await runCurl(command)).status).toBe(row.httpStatus);
  });

  it('quotes what a hostile request carried so the shell runs nothing of it', () => {
    const command = curlCommand({
      summary: { kind: 'wpi', listener: 'default', method: 'POST', path: "/x'; touch /tmp/pwned; '", peerAddress: '127.0.0.1', peerPort: 1, localPort: 18443, tlsProtocol: 'TLSv1.3' },
      headers: [['X-Evil', "$(touch /tmp/pwned) `id` '\"'"], ['Content-Length', '5']],
      body: "it's $(id)",
    })!;
    expect(command).not.toContain('Content-Length');
    // Every argument after "curl" parses back to exactly what was recorded.
    return new Promise<void>((resolve, reject) => {
      execFile('/bin/sh', ['-c', command.replace(/^curl /, 'printf "%s\\n" ')], (err, stdout) => {
        if (err) return reject(err);
        expect(stdout).toContain("https://localhost:18443/x'; touch /tmp/pwned; '\n");
        expect(stdout).toContain("X-Evil: $(touch /tmp/pwned) `id` '\"'\n");
        expect(stdout).toContain("it's $(id)\n");
        resolve();
      });
    });
  });

  it('has nothing to copy for a failed handshake', () => {
    expect(curlCommand({ summary: { kind: 'tls-failure', listener: 'default', method: null, path: null, peerAddress: '127.0.0.1', peerPort: 1, localPort: 1, tlsProtocol: null }, headers: [], body: '' })).toBeNull();
  });
});
