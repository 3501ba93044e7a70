/**
 * What must hold for every input, through the parser and through the service.
 *
 * Parser: parseWorkpointMessage returns a message whose every field is within the codec's
 * contract (and survives a build/parse round trip, and its nonce can be echoed in a DLSMessage),
 * or throws a WpiError with one short line. Anything else (another exception type, a stack
 * overflow, a contract break) is a failure. And its one-scan path (wpi/canonical.ts) reads a
 * document only where the general path reads the very same message from it.
 *
 * Service: every request is answered; 4xx answers are text/plain with one line and, for bodies
 * the codec refuses, exactly the codec's reason; 200 answers are DLSMessages that echo the nonce.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  ACTIONS,
  buildDLSMessage,
  buildWorkpointMessage,
  parseDLSMessage,
  parseWorkpointMessage,
  REASONS_FOR_CONTACT,
  WpiError,
  type WorkpointMessage,
} from '../../../src/main/wpi';
import { parseCanonicalWorkpointMessage } from '../../../src/main/wpi/canonical';
import { parseGeneralWorkpointMessage } from '../../../src/main/wpi/parse';
import { isSecretItem, MASK, maskSecretsInXml } from '../../../src/shared/secrets';

export class Violation extends Error {
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`${invariant}: ${detail}`);
    this.name = 'Violation';
  }
}

const WPI_ERROR_CODES = new Set(['empty', 'not-utf8', 'doctype', 'not-xml', 'too-deep', 'wrong-root', 'no-message', 'no-nonce', 'bad-nonce', 'no-reason', 'unknown-reason', 'no-action', 'unknown-action', 'item-without-name', 'bad-index', 'bad-attribute', 'duplicate-element', 'duplicate-attribute']);
const NONCE = /^[\x21-\x7e]{1,256}$/;
/** A refusal reason is one line a person reads: far shorter than any body. */
export const MAX_REASON_CHARS = 400;

export type ParseOutcome = ({ ok: true; message: WorkpointMessage } | { ok: false; error: WpiError }) & {
  /** The one-scan path read it (and gave what the general path gives). */
  canonical?: boolean;
};

/**
 * The one-scan path against the general one on the same text: where it reads a message, the
 * general path must read the same message, field for field and in the same key order (the
 * replay check hashes the message as JSON). Returns whether it read one.
 */
export function checkCanonicalPath(bytes: Buffer, scan: (text: string) => WorkpointMessage | null = parseCanonicalWorkpointMessage): boolean {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return false; // refused before either path runs
  }
  let fast: WorkpointMessage | null;
  try {
    fast = scan(text);
  } catch (err) {
    throw new Violation('canonical-path', `the one-scan path threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`.slice(0, 500));
  }
  if (fast === null) return false;
  let general: WorkpointMessage;
  try {
    general = parseGeneralWorkpointMessage(text);
  } catch (err) {
    throw new Violation('canonical-path', `the one-scan path read a message the general path refuses: ${(err as Error).message}`.slice(0, 500));
  }
  if (JSON.stringify(fast) !== JSON.stringify(general)) throw new Violation('canonical-path', `the two paths read different messages: ${firstDifference(general, fast)}`);
  return true;
}

/** Runs the parser and checks its contract; throws Violation when it is broken. */
export function checkParser(bytes: Buffer): ParseOutcome {
  const canonical = checkCanonicalPath(bytes);
  let message: WorkpointMessage;
  try {
    message = parseWorkpointMessage(bytes);
  } catch (err) {
    if (!(err instanceof WpiError)) {
      throw new Violation('crash', `parser threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`.slice(0, 500));
    }
    checkReason(err.message, 'WpiError message');
    if (!WPI_ERROR_CODES.has(err.code)) throw new Violation('contract', `unknown WpiError code ${err.code}`);
    return { ok: false, error: err, canonical };
  }
  checkMessage(message);
  checkMasking(bytes, message);
  // Canonical form is stable: what the codec builds from a parsed message parses to the same message.
  let again: WorkpointMessage;
  try {
    again = parseWorkpointMessage(buildWorkpointMessage(message));
  } catch (err) {
    throw new Violation('round-trip', `the canonical form of a parsed message is refused: ${(err as Error).message}`);
  }
  // Compared as JSON: -0 and 0 are the same number to a phone (maxItems="-0" is valid and means 0).
  if (JSON.stringify(again) !== JSON.stringify(message)) throw new Violation('round-trip', `parse(build(m)) differs from m: ${firstDifference(message, again)}`);
  // The nonce is echoed byte for byte in every answer: it must survive in a DLSMessage.
  const answer = parseDLSMessage(buildDLSMessage({ nonce: message.nonce, action: 'CleanUp', items: [] }));
  if (answer.nonce !== message.nonce) throw new Violation('nonce-echo', `echoed nonce ${JSON.stringify(answer.nonce)} differs from ${JSON.stringify(message.nonce)}`);
  return { ok: true, message, canonical };
}

/**
 * The parser and the one masking rule (shared/secrets.ts) agree: whatever the parser reads as a
 * secret item's value, the masked text no longer holds. Read back, every secret item of it holds
 * the mask (or nothing); a masked text the parser no longer reads must not hold the value itself.
 */
function checkMasking(bytes: Buffer, m: WorkpointMessage): void {
  const secrets = m.items.filter((i) => i.value !== '' && isSecretItem(i.name));
  if (secrets.length === 0) return;
  const masked = maskSecretsInXml(bytes.toString('utf8'));
  let again: WorkpointMessage;
  try {
    again = parseWorkpointMessage(Buffer.from(masked, 'utf8'));
  } catch {
    const shown = secrets.find((i) => i.value.length >= 4 && masked.includes(i.value));
    if (shown) throw new Violation('masking', `the masked text (which no longer parses) still holds the value of ${shown.name.slice(0, 40)}`);
    return;
  }
  const shown = again.items.find((i) => i.value !== '' && i.value !== MASK && isSecretItem(i.name));
  if (shown) throw new Violation('masking', `after masking, ${shown.name.slice(0, 40)} still reads ${JSON.stringify(shown.value.slice(0, 20))}`);
}

function checkMessage(m: WorkpointMessage): void {
  const fail = (what: string) => {
    throw new Violation('contract', what);
  };
  if (typeof m.nonce !== 'string' || !NONCE.test(m.nonce) || /[<>&"']/.test(m.nonce)) fail(`nonce ${JSON.stringify(m.nonce).slice(0, 80)}`);
  if (!(REASONS_FOR_CONTACT as readonly string[]).includes(m.reason)) fail(`reason ${JSON.stringify(m.reason)}`);
  if (m.maxItems !== undefined && (!Number.isSafeInteger(m.maxItems) || m.maxItems < -1)) fail(`maxItems ${m.maxItems}`);
  if (m.fragment !== undefined && m.fragment !== 'next' && m.fragment !== 'final') fail(`fragment ${JSON.stringify(m.fragment)}`);
  if (m.action !== undefined && typeof m.action !== 'string') fail('action not a string');
  if (m.status !== undefined && typeof m.status !== 'string') fail('status not a string');
  if (!Array.isArray(m.items)) fail('items not an array');
  m.items.forEach((item, i) => {
    if (typeof item.name !== 'string' || item.name === '' || item.name !== item.name.trim()) fail(`item ${i} name ${JSON.stringify(item.name).slice(0, 80)}`);
    if (typeof item.value !== 'string') fail(`item ${i} value not a string`);
    if (item.index !== undefined && (!Number.isSafeInteger(item.index) || item.index < 0)) fail(`item ${i} index ${item.index}`);
    if (item.status !== undefined && typeof item.status !== 'string') fail(`item ${i} status`);
    const keys = Object.keys(item).filter((k) => !['name', 'value', 'index', 'status'].includes(k));
    if (keys.length) fail(`item ${i} has unexpected keys ${keys.join(',')}`);
  });
}

export function checkReason(reason: string, what: string): void {
  if (reason.length === 0) throw new Violation('reason', `${what} is empty`);
  if (/[\r\n]/.test(reason)) throw new Violation('reason', `${what} spans several lines: ${JSON.stringify(reason.slice(0, 120))}`);
  if (reason.length > MAX_REASON_CHARS) throw new Violation('reason', `${what} is ${reason.length} characters long: ${JSON.stringify(reason.slice(0, 120))}…`);
}

function firstDifference(a: WorkpointMessage, b: WorkpointMessage): string {
  for (const k of ['nonce', 'maxItems', 'fragment', 'reason', 'action', 'status'] as const) {
    if (!Object.is(a[k], b[k])) return `${k}: ${String(a[k])} vs ${String(b[k])}`;
  }
  if (a.items.length !== b.items.length) return `${a.items.length} vs ${b.items.length} items`;
  const i = a.items.findIndex((x, n) => !isDeepStrictEqual(x, b.items[n]));
  if (i < 0) return 'key order or types';
  return `item ${i}: ${String(JSON.stringify(a.items[i])).slice(0, 200)} vs ${String(JSON.stringify(b.items[i])).slice(0, 200)}`;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface Expectation {
  /** The request never reaches the codec (path, method, size). */
  http?: 404 | 405 | 413;
  parsed?: ParseOutcome;
}

/** What the service must answer for a request, judged from the request alone. */
export function expectationFor(bytes: Buffer, http: { method?: string; path?: string } | undefined, maxBodyBytes: number): Expectation {
  const path = (http?.path ?? '/DeploymentService/LoginService').split('?')[0]!;
  if (!path.startsWith('/DeploymentService/')) return { http: 404 };
  // A dot segment leaves the prefix on another server (a relay's upstream): refused as no WPI path.
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) return { http: 404 };
  if ((http?.method ?? 'POST') !== 'POST') return { http: 405 };
  if (bytes.length > maxBodyBytes) return { http: 413 };
  return { parsed: checkParser(bytes) };
}

/** Checks one answer of the service against the expectation; throws Violation. */
export function checkAnswer(expect: Expectation, answer: HttpAnswer): void {
  const type = String(answer.headers['content-type'] ?? '');
  const length = answer.headers['content-length'];
  if (answer.headers['transfer-encoding'] !== undefined) throw new Violation('http', 'answer is chunked (phones need Content-Length)');
  if (length === undefined || Number(length) !== answer.body.length) throw new Violation('http', `Content-Length ${String(length)} but ${answer.body.length} bytes`);
  if (answer.status === 200) {
    if (expect.http !== undefined || !expect.parsed?.ok) throw new Violation('status', `200 for a request that should be refused (${expect.http ?? expect.parsed?.ok === false ? (expect.parsed as { error: WpiError }).error.message : '?'})`);
    if (!/^text\/xml/.test(type)) throw new Violation('http', `200 with Content-Type ${type}`);
    let dls;
    try {
      dls = parseDLSMessage(answer.body);
    } catch (err) {
      throw new Violation('answer', `200 answer is not a DLSMessage: ${(err as Error).message}`);
    }
    if (dls.nonce !== expect.parsed.message.nonce) throw new Violation('nonce-echo', `answer nonce ${dls.nonce} for request nonce ${expect.parsed.message.nonce}`);
    if (!(ACTIONS as readonly string[]).includes(dls.action)) throw new Violation('answer', `action ${dls.action}`);
    return;
  }
  // A parsed message may still be refused by the engine: 400 (protocol), 403 (policy), 413 / 503 (fragment bounds).
  const allowed = expect.http !== undefined ? [expect.http] : expect.parsed?.ok ? [400, 403, 413, 503] : [400];
  if (!allowed.includes(answer.status)) {
    throw new Violation('status', `HTTP ${answer.status} (${answer.body.toString('utf8').slice(0, 200).trim()}), expected ${allowed.join(' or ')}`);
  }
  if (!/^text\/plain/.test(type)) throw new Violation('http', `${answer.status} with Content-Type ${type}`);
  const body = answer.body.toString('utf8');
  if (!body.endsWith('\n') || body.indexOf('\n') !== body.length - 1) throw new Violation('reason', `${answer.status} body is not exactly one line: ${JSON.stringify(body.slice(0, 120))}`);
  checkReason(body.slice(0, -1), `${answer.status} reason`);
  // A refusal must never read as an instruction, whatever of the request it quotes.
  let instruction = false;
  try {
    parseDLSMessage(answer.body);
    instruction = true;
  } catch {
    // expected
  }
  if (instruction) throw new Violation('reason', `${answer.status} body parses as a DLSMessage`);
  if (expect.parsed && !expect.parsed.ok) {
    const want = `${expect.parsed.error.message.replace(/[\r\n]+/g, ' ')}\n`;
    if (body !== want) throw new Violation('reason', `service said ${JSON.stringify(body.slice(0, 200))}, codec says ${JSON.stringify(want.slice(0, 200))}`);
  }
}
