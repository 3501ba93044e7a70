/**
 * Secure Mode test doubles: a CA (the project's Pki, allowed in tests) in a temporary directory,
 * the bootstrapping items LocalDLS sends (manual p.64, p.67), a scripted Default-Mode service that
 * bootstraps each phone on its first start-up, and a Secure-Mode listener on 127.0.0.1 that
 * demands a client certificate from the CA (requestCert + rejectUnauthorized).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSecureModeData, dlsClientCertificate, passphraseProtector, Pki, type DeviceCredential, type ServerNames } from '../../src/main/pki';
import type { Item, WorkpointMessage } from '../../src/main/wpi';
import { startService, type Answer, type Script, type TestService } from './helpers';

export interface TestCa {
  pki: Pki;
  dir: string;
  caPems: string[];
  /** Every credential issued, by MAC (upper case, colons). */
  issued: Map<string, DeviceCredential>;
  remove(): void;
}

export async function testCa(label: string): Promise<TestCa> {
  const dir = mkdtempSync(join(tmpdir(), `localdls-phone-${label}-`));
  const pki = await Pki.open(dir, passphraseProtector('phone tests', dir, { scryptCost: 1024 }), { hostname: label });
  return { pki, dir, caPems: pki.caChainPems(), issued: new Map(), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function issue(ca: TestCa, mac: string): Promise<DeviceCredential> {
  const credential = await ca.pki.issueDeviceCertificate(mac);
  ca.issued.set(credential.mac, credential);
  return credential;
}

/** goto-secure-mode=nopin with the credential, the CA chain and the port (manual p.64). */
export async function nopinItems(ca: TestCa, mac: string, securePort: number): Promise<Item[]> {
  const credential = await issue(ca, mac);
  return [
    { name: 'goto-secure-mode', value: 'nopin' },
    { name: 'dls-client-certificate', value: dlsClientCertificate(credential, ca.caPems) },
    ...ca.caPems.map((pem, index) => ({ name: 'dls-server-ca', index, value: pem })),
    { name: 'dls-secure-port', value: String(securePort) },
  ];
}

/** goto-secure-mode=pin with secure-mode-data (localdls-1) and max-pin-retries (manual p.67). */
export async function pinItems(ca: TestCa, mac: string, securePort: number, pin: string, maxPinRetries = 3): Promise<Item[]> {
  const credential = await issue(ca, mac);
  return [
    { name: 'goto-secure-mode', value: 'pin' },
    { name: 'secure-mode-data', value: buildSecureModeData(credential, ca.caPems, securePort, pin) },
    { name: 'max-pin-retries', value: String(maxPinRetries) },
  ];
}

export const macOf = (m: WorkpointMessage) => m.items.find((i) => i.name === 'mac-addr')?.value ?? '';
export const valueOf = (items: readonly Item[], name: string) => items.find((i) => i.name === name)?.value;

/**
 * The Default-Mode service: the first start-up of each phone gets the bootstrapping WriteItems
 * built by `items` (null: no bootstrap for that phone); everything else CleanUp.
 */
export function bootstrapScript(items: (mac: string) => Promise<Item[] | null> | Item[] | null): Script {
  const seen = new Set<string>();
  return async (m): Promise<Answer> => {
    if (m.reason !== 'start-up' || seen.has(macOf(m))) return { action: 'CleanUp' };
    seen.add(macOf(m));
    const write = await items(macOf(m));
    return write ? { action: 'WriteItems', items: write } : { action: 'CleanUp' };
  };
}

/** TANs the secure service read, in order. */
export interface TanLog {
  tans: string[];
}

/**
 * The Secure-Mode service: asks every start-up for bootstrapping-tan (manual p.68) when
 * `expectedTan` is given, then ends with CleanUp — with "wrong TAN from device" (p.31) when the
 * TAN is not the expected one; `solicited` answers contact-me call-backs.
 */
export function secureScript(options: { expectedTan?: string; log?: TanLog; solicited?: (m: WorkpointMessage) => Answer } = {}): Script {
  return (m) => {
    if (m.reason === 'start-up' && options.expectedTan !== undefined) return { action: 'ReadItems', items: [{ name: 'bootstrapping-tan', value: '' }] };
    if (m.reason === 'solicited' && options.solicited) return options.solicited(m);
    if (m.reason === 'reply-to' && m.action === 'ReadItems') {
      const tan = valueOf(m.items, 'bootstrapping-tan') ?? '';
      options.log?.tans.push(tan);
      if (tan !== options.expectedTan) return { action: 'CleanUp', items: [{ name: 'cleanup-reason', value: 'wrong TAN from device' }] };
    }
    return { action: 'CleanUp' };
  };
}

/** A Secure-Mode listener (mutual TLS) with a certificate from `ca` for `names`. */
export async function startSecureService(ca: TestCa, script: Script, names: ServerNames = { dns: [], ips: ['127.0.0.1'] }, clientCa: TestCa = ca): Promise<TestService> {
  const id = await ca.pki.secureServerIdentity(names);
  return startService(script, 'JSESSIONID=SECURE42; path=/DeploymentService; secure', {
    key: id.key,
    cert: id.cert,
    ca: clientCa.caPems,
    requestCert: true,
    rejectUnauthorized: true,
  });
}
