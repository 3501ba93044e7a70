/**
 * Helpers for the hostile-client tests: a real Service on 127.0.0.1, raw TCP/TLS sockets that do
 * what no phone does, and a real simulated phone (own loopback address) that must still be served.
 */
import net from 'node:net';
import tls from 'node:tls';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { Service } from '../../src/main/app/service';
import type { ListenerLimits } from '../../src/main/net/wpi-listener';
import { SimulatedPhone, type InteractionResult } from '../../src/phone';

/**
 * Each service and socket is closed (and the service's folder removed) when the test that made it
 * ends. Not with hooks registered here: this module is loaded once per worker (isolate: false), so
 * such hooks belonged to the first test file that imported it, and a second file's services ran on
 * with their folders until the worker exited.
 */
export async function startService(limits: Partial<ListenerLimits> = {}): Promise<{ service: Service; port: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'localdls-test-'));
  const service = new Service({ dataDir, host: '127.0.0.1', port: 0, autoContact: false, limits });
  onTestFinished(async () => {
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const { port } = await service.start();
  return { service, port };
}

let phoneNo = 0;

/**
 * One full start-up interaction of a fresh simulated phone from its own loopback address:
 * start-up, ReadAllItems answered in fragments (maxItems 100), CleanUp.
 */
export async function phoneInteraction(port: number): Promise<InteractionResult> {
  phoneNo++;
  const phone = new SimulatedPhone({
    server: `https://127.0.0.1:${port}`,
    mac: `02:00:5E:20:${(phoneNo >> 8).toString(16).padStart(2, '0')}:${(phoneNo & 255).toString(16).padStart(2, '0')}`,
    ipAddress: `127.0.${40 + (phoneNo >> 8)}.${1 + (phoneNo & 255)}`,
    bindIpAddress: true,
    maxItems: 100,
    timeoutMs: 20_000,
  });
  return phone.runInteraction('start-up');
}

/** Asserts the interaction was a full, successful start-up (read of all items, in fragments, then CleanUp). */
export function servedFully(r: InteractionResult): boolean {
  return r.ok && r.actions[0] === 'ReadAllItems' && r.actions.includes('GetNextFragment') && r.end === 'CleanUp';
}

export interface RawConnection {
  socket: net.Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves when the server closed (or reset) the connection, with what it sent. */
  closed: Promise<{ data: Buffer; error: string | null }>;
  /** Whether it is closed yet. */
  isClosed(): boolean;
}

function track(socket: net.Socket): RawConnection {
  onTestFinished(() => void socket.destroy());
  const chunks: Buffer[] = [];
  let closed = false;
  let error: string | null = null;
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
  const done = new Promise<{ data: Buffer; error: string | null }>((resolve) => {
    socket.on('close', () => {
      closed = true;
      resolve({ data: Buffer.concat(chunks), error });
    });
  });
  return { socket, received: () => Buffer.concat(chunks), closed: done, isClosed: () => closed };
}

/** A TLS connection, handshake done (Default Mode: any certificate). */
export function openTls(port: number, localAddress?: string): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(localAddress ? { localAddress } : {}) });
    const conn = track(socket);
    socket.once('secureConnect', () => resolve(conn));
    socket.once('error', reject);
  });
}

/** A plain TCP connection to the TLS port. */
export function openTcp(port: number, localAddress?: string): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
    const conn = track(socket);
    socket.once('connect', () => resolve(conn));
    socket.once('error', reject);
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Splits a raw HTTP answer. */
export function parseAnswer(raw: Buffer): { status: number; headers: Record<string, string>; body: string } | null {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status, headers, body: raw.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1')).toString('utf8') };
}
