/**
 * The service's PKI, one per data directory (layout in docs/pki.md): a CA, the Secure-Mode
 * listener's certificate and one client certificate per phone, private keys sealed at rest by a
 * KeyProtector. Bootstrapping (manual p.62–68 §3.6.10) hands a phone its client certificate + key
 * and the CA certificate(s); afterwards the phone authenticates with it on the secure port (p.65).
 */
import { type KeyObject, X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import forge from 'node-forge';
import { type CaMaterial, checkCa, createLocalCa, readCaImport } from './ca';
import { ensurePrivateDir, errorMessage, writeFileAtomic } from './fs-util';
import { canonicalMac, macFileStem, macUrn, newSerialHex, normalizeSerial, parseMac } from './identifiers';
import type { KeyProtector } from './key-protector';
import { DEFAULT_KEY_POOL_SIZE, KeyPool, keyPoolDir } from './key-pool';
import {
  DAY_MS,
  type Signer,
  authorityKeyIdentifier,
  caCertificateFields,
  fingerprintHex,
  KEYGEN_SLOTS,
  generateRsaKeyPair,
  isSelfSigned,
  newCertificate,
  pemBlocks,
  signCertificate,
} from './x509';

/** How many certificates deviceIdentity remembers: more than a site's phones, a few MB at most. */
const IDENTITIES_KEPT = 4096;

export interface PkiOptions {
  /** RSA modulus length of new keys (CA, server, devices). Default 2048; never below 2048 outside tests. */
  keyBits?: number;
  /** Lifetime of a newly created local CA. Default 3650 days. */
  caValidityDays?: number;
  /** Lifetime of device client certificates (clamped to the CA's). Default 3650 days. */
  deviceValidityDays?: number;
  /** Lifetime of the Secure-Mode server certificate (clamped to the CA's). Default 3650 days. */
  serverValidityDays?: number;
  /** Host name in the local CA's common name. Default os.hostname(). */
  hostname?: string;
  /** Pre-generated device keys kept ready (pki/key-pool/, see key-pool.ts); 0 = none made. Default 64. */
  keyPoolSize?: number;
}

/** A phone's client credential: what `dls-client-certificate` / `secure-mode-data` carry (p.62). */
export interface DeviceCredential {
  /** Canonical `00:1A:E8:00:00:01`. */
  mac: string;
  /** Upper-case hex, as Node reports it (`PeerCertificate.serialNumber`). */
  serial: string;
  certPem: string;
  /** Unencrypted PKCS#8 PEM (in memory only; sealed on disk). */
  keyPem: string;
  /** ms since the epoch. */
  notAfter: number;
}

export interface ServerNames {
  dns: string[];
  ips: string[];
}

/** Ready for tls.createServer: `cert` is the leaf plus any intermediate CAs; `ca` is caChainPems(). */
export interface SecureServerIdentity {
  key: string;
  cert: string;
  ca: string[];
}

export interface DeviceIdentity {
  mac: string;
  serial: string;
}

export interface CaSummary {
  subject: string;
  /** SHA-256 of the DER, lower-case hex. */
  fingerprint: string;
  notAfter: number;
  /** Certificates above the CA that came with it. */
  chainLength: number;
  imported: boolean;
}

export interface BulkIssueOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

interface LoadedCa {
  material: CaMaterial;
  x509: X509Certificate;
  key: KeyObject;
  signer: Signer;
  fingerprint: string;
  imported: boolean;
}

interface ServerRecord {
  version: 1;
  names: ServerNames;
  caFingerprint: string;
  serial: string;
  notAfter: number;
}

/** Reissue the server certificate when it has less than this left. */
const SERVER_RENEW_BEFORE_MS = 30 * DAY_MS;

export class Pki {
  private readonly pkiDir: string;
  private readonly serverInFlight = new Map<string, Promise<SecureServerIdentity>>();
  /** Device keys made ahead of time; issueDeviceCertificate takes from it first. */
  readonly keyPool: KeyPool;
  private issuing = 0;
  /** deviceIdentity's answers by CA and certificate fingerprint, oldest first. */
  private readonly identities = new Map<string, { raw: Buffer; identity: DeviceIdentity | null }>();

  private constructor(
    readonly dataDir: string,
    private readonly protector: KeyProtector,
    private readonly options: Required<PkiOptions>,
    private ca: LoadedCa,
  ) {
    this.pkiDir = join(dataDir, 'pki');
    this.keyPool = new KeyPool(keyPoolDir(dataDir), protector, options.keyBits, options.keyPoolSize);
  }

  /** Loads the CA of `dataDir`, creating one on first use (key generated off the event loop). */
  static async open(dataDir: string, protector: KeyProtector, options: PkiOptions = {}): Promise<Pki> {
    const opts: Required<PkiOptions> = {
      keyBits: options.keyBits ?? 2048,
      caValidityDays: options.caValidityDays ?? 3650,
      deviceValidityDays: options.deviceValidityDays ?? 3650,
      serverValidityDays: options.serverValidityDays ?? 3650,
      hostname: options.hostname ?? osHostname(),
      keyPoolSize: options.keyPoolSize ?? DEFAULT_KEY_POOL_SIZE,
    };
    if (!Number.isInteger(opts.keyBits) || opts.keyBits < 1024 || opts.keyBits > 8192) throw new Error(`keyBits ${opts.keyBits} is not between 1024 and 8192`);
    for (const k of ['caValidityDays', 'deviceValidityDays', 'serverValidityDays'] as const) {
      if (!(opts[k] > 0)) throw new Error(`${k} must be a positive number of days`);
    }
    const pkiDir = join(dataDir, 'pki');
    ensurePrivateDir(pkiDir);
    checkProtectorKind(pkiDir, protector);
    const files = caFiles(pkiDir);
    const hasCert = exists(files.cert);
    const hasKey = exists(files.key);
    let ca: LoadedCa;
    if (hasCert && hasKey) {
      ca = loadCa(pkiDir, protector);
    } else if (!hasCert && !hasKey) {
      const material = await createLocalCa({ keyBits: opts.keyBits, validityDays: opts.caValidityDays, hostname: opts.hostname });
      writeCa(pkiDir, protector, material, false);
      ca = toLoaded(material, false);
    } else {
      const [has, missing] = hasKey ? ['ca.key.sealed', 'ca.crt'] : ['ca.crt', 'ca.key.sealed'];
      throw new Error(
        `${pkiDir} has ${has} but no ${missing}: restore the missing file, or remove both to create a new CA ` +
          '(phones bootstrapped with the old CA must then be bootstrapped again)',
      );
    }
    return new Pki(dataDir, protector, opts, ca);
  }

  /** The issuing CA certificate (PEM). */
  caCertificatePem(): string {
    return this.ca.material.certPem;
  }

  /** The issuing CA then the certificates above it: the `dls-server-ca` items (p.64) and the listener's `ca`. */
  caChainPems(): string[] {
    return [this.ca.material.certPem, ...this.ca.material.chainPems];
  }

  caSummary(): CaSummary {
    return {
      subject: this.ca.x509.subject.split('\n').join(', '),
      fingerprint: this.ca.fingerprint,
      notAfter: Date.parse(this.ca.x509.validTo),
      chainLength: this.ca.material.chainPems.length,
      imported: this.ca.imported,
    };
  }

  /**
   * Replaces the CA used for future issuance by a site CA (PEM with certificate(s) and private key,
   * the key possibly encrypted with `password`; or PKCS#12). Certificates already issued stay as
   * they are; the previous CA is archived under pki/previous-cas/.
   */
  async importCa(input: Buffer, password?: string): Promise<CaSummary> {
    const material = readCaImport(input, password);
    checkCa(material);
    const old = caFiles(this.pkiDir);
    const archive = join(this.pkiDir, 'previous-cas', `${new Date().toISOString().replace(/[:.]/g, '-')}-${this.ca.fingerprint.slice(0, 16)}`);
    ensurePrivateDir(archive);
    for (const f of [old.cert, old.chain, old.key]) if (exists(f)) writeFileAtomic(join(archive, f.slice(this.pkiDir.length + 1)), readFileSync(f));
    writeCa(this.pkiDir, this.protector, material, true);
    this.ca = toLoaded(material, true);
    return this.caSummary();
  }

  /**
   * The Secure-Mode listener's identity (serverAuth, SAN = `names`), signed by the CA. Kept on disk
   * (key sealed) and reissued when the names or the CA change, or when it is within 30 days of expiry.
   */
  async secureServerIdentity(names: ServerNames): Promise<SecureServerIdentity> {
    const wanted = normalizeNames(names);
    const memo = `${this.ca.fingerprint} ${JSON.stringify(wanted)}`;
    const running = this.serverInFlight.get(memo);
    if (running) return running;
    const job = this.loadOrIssueServer(wanted).finally(() => this.serverInFlight.delete(memo));
    this.serverInFlight.set(memo, job);
    return job;
  }

  /**
   * A new client certificate for the phone `mac` (CN = canonical MAC, SAN = urn:dev:mac:…,
   * extKeyUsage clientAuth), its key sealed in pki/devices/. Issuing again renews: the previous
   * certificate stays valid until revoked.
   */
  async issueDeviceCertificate(mac: string): Promise<DeviceCredential> {
    this.issuing++;
    try {
      return await this.issue(mac);
    } finally {
      this.issuing--;
    }
  }

  /** Whether device certificates are being issued in this process right now (the key pool waits meanwhile). */
  get isIssuing(): boolean {
    return this.issuing > 0;
  }

  private async issue(mac: string): Promise<DeviceCredential> {
    const canonical = canonicalMac(mac);
    const ca = this.usableCa();
    // A pre-generated key if one is ready (it leaves the pool for good), else a new one.
    const { privateKeyPem, publicKeyPem } = this.keyPool.take() ?? (await generateRsaKeyPair(this.options.keyBits));
    const cert = newCertificate({
      serialHex: newSerialHex(),
      publicKeyPem,
      subject: [
        { name: 'commonName', value: canonical },
        { name: 'organizationName', value: 'LocalDLS' },
      ],
      validityDays: this.options.deviceValidityDays,
    });
    clampToCa(cert, ca.x509);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 6, value: macUrn(canonical) }] },
      { name: 'subjectKeyIdentifier' },
      ...authorityKeyIdentifier(ca.signer),
    ]);
    const certPem = await signCertificate(cert, ca.signer);
    const dir = join(this.pkiDir, 'devices');
    ensurePrivateDir(dir);
    const stem = join(dir, macFileStem(canonical));
    writeFileAtomic(`${stem}.key.sealed`, this.protector.seal(Buffer.from(privateKeyPem, 'utf8')));
    writeFileAtomic(`${stem}.crt`, certPem);
    return credentialOf(canonical, certPem, privateKeyPem);
  }

  /**
   * issueDeviceCertificate for many phones (one key generation per core, KEYGEN_SLOTS), reporting progress.
   * Aborting stops before the next phone; credentials issued so far are kept on disk.
   */
  async issueDeviceCertificates(macs: string[], options: BulkIssueOptions = {}): Promise<DeviceCredential[]> {
    const canonical = macs.map(canonicalMac); // refuse a bad list before any work
    const out: DeviceCredential[] = new Array(canonical.length);
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (next < canonical.length) {
        options.signal?.throwIfAborted();
        const i = next++;
        out[i] = await this.issueDeviceCertificate(canonical[i] as string);
        options.onProgress?.(++done, canonical.length);
      }
    };
    // Let both workers settle before reporting an abort, so nothing is still writing afterwards.
    const settled = await Promise.allSettled(Array.from({ length: Math.min(KEYGEN_SLOTS, Math.max(1, canonical.length)) }, worker));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return out;
  }

  /** The stored credential of `mac` (to re-send it), or null when none was issued. */
  deviceCredential(mac: string): DeviceCredential | null {
    const canonical = canonicalMac(mac);
    const stem = join(this.pkiDir, 'devices', macFileStem(canonical));
    if (!exists(`${stem}.crt`)) return null;
    const certPem = readFileSync(`${stem}.crt`, 'utf8');
    const keyPem = openSealed(this.protector, `${stem}.key.sealed`);
    return credentialOf(canonical, certPem, keyPem);
  }

  /**
   * MAC and serial of a client certificate presented on the mutual-TLS port, or null when it is not
   * a device certificate signed by this CA. Revocations are the store's (Store.isRevoked): they
   * commit with the device change that causes them.
   */
  deviceIdentity(peer: PeerCertificate | DetailedPeerCertificate | null | undefined): DeviceIdentity | null {
    const raw = peer?.raw;
    if (!Buffer.isBuffer(raw) || raw.length === 0) return null;
    // Every message on the secure port asks (issue #14: parsing and verifying the certificate again
    // was about 6 % of the secure storm's CPU). The answer depends only on the bytes and the CA.
    const fingerprint = peer?.fingerprint256;
    if (!fingerprint) return this.checkDeviceCertificate(raw);
    const key = `${this.ca.fingerprint} ${fingerprint}`;
    const known = this.identities.get(key);
    if (known?.raw.equals(raw)) return known.identity;
    const identity = this.checkDeviceCertificate(raw);
    if (this.identities.size >= IDENTITIES_KEPT) this.identities.delete(this.identities.keys().next().value!);
    this.identities.set(key, { raw: Buffer.from(raw), identity });
    return identity;
  }

  private checkDeviceCertificate(raw: Buffer): DeviceIdentity | null {
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(raw);
    } catch {
      return null;
    }
    const ca = this.ca.x509;
    if (!x509.checkIssued(ca) || !x509.verify(ca.publicKey)) return null;
    const cn = x509.subject.split('\n').find((l) => l.startsWith('CN='));
    const mac = cn === undefined ? null : parseMac(cn.slice(3));
    return mac === null ? null : { mac, serial: normalizeSerial(x509.serialNumber) };
  }

  private usableCa(): LoadedCa {
    const { x509 } = this.ca;
    if (Date.parse(x509.validTo) <= Date.now()) {
      throw new Error(`the CA "${x509.subject.split('\n').join(', ')}" expired on ${x509.validTo}: import a new CA, or remove ${this.pkiDir}/ca.* to create a new one`);
    }
    return this.ca;
  }

  private async loadOrIssueServer(names: ServerNames): Promise<SecureServerIdentity> {
    const dir = join(this.pkiDir, 'server');
    const base = join(dir, 'secure-server');
    const ca = this.usableCa();
    const chainForServer = this.caChainPems().filter((pem) => !isSelfSigned(new X509Certificate(pem)));
    const record = readRecord(`${base}.json`);
    if (
      record !== null &&
      record.caFingerprint === ca.fingerprint &&
      JSON.stringify(record.names) === JSON.stringify(names) &&
      record.notAfter - Date.now() > SERVER_RENEW_BEFORE_MS &&
      exists(`${base}.crt`) &&
      exists(`${base}.key.sealed`)
    ) {
      const cert = readFileSync(`${base}.crt`, 'utf8');
      return { key: openSealed(this.protector, `${base}.key.sealed`), cert: [cert, ...chainForServer].join(''), ca: this.caChainPems() };
    }
    const { privateKeyPem, publicKeyPem } = await generateRsaKeyPair(this.options.keyBits);
    const cn = (names.dns[0] ?? names.ips[0] ?? 'LocalDLS secure port').slice(0, 64);
    const cert = newCertificate({
      serialHex: newSerialHex(),
      publicKeyPem,
      subject: [
        { name: 'commonName', value: cn },
        { name: 'organizationName', value: 'LocalDLS' },
      ],
      validityDays: this.options.serverValidityDays,
    });
    clampToCa(cert, ca.x509);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...names.dns.map((value) => ({ type: 2, value })), ...names.ips.map((ip) => ({ type: 7, ip }))] },
      { name: 'subjectKeyIdentifier' },
      ...authorityKeyIdentifier(ca.signer),
    ]);
    const certPem = await signCertificate(cert, ca.signer);
    ensurePrivateDir(dir);
    writeFileAtomic(`${base}.key.sealed`, this.protector.seal(Buffer.from(privateKeyPem, 'utf8')));
    writeFileAtomic(`${base}.crt`, certPem);
    const x509 = new X509Certificate(certPem);
    const rec: ServerRecord = { version: 1, names, caFingerprint: ca.fingerprint, serial: normalizeSerial(x509.serialNumber), notAfter: Date.parse(x509.validTo) };
    writeFileAtomic(`${base}.json`, `${JSON.stringify(rec, null, 2)}\n`);
    return { key: privateKeyPem, cert: [certPem, ...chainForServer].join(''), ca: this.caChainPems() };
  }
}

function caFiles(pkiDir: string): { cert: string; chain: string; key: string } {
  return { cert: join(pkiDir, 'ca.crt'), chain: join(pkiDir, 'ca-chain.pem'), key: join(pkiDir, 'ca.key.sealed') };
}

function loadCa(pkiDir: string, protector: KeyProtector): LoadedCa {
  const files = caFiles(pkiDir);
  const material: CaMaterial = {
    certPem: readFileSync(files.cert, 'utf8'),
    chainPems: exists(files.chain) ? pemBlocks(readFileSync(files.chain, 'utf8'), 'CERTIFICATE') : [],
    keyPem: openSealed(protector, files.key),
  };
  const meta = readMeta(pkiDir);
  const loaded = toLoaded(material, meta.imported);
  if (!loaded.x509.checkPrivateKey(loaded.key)) throw new Error(`${files.key} does not hold the key of ${files.cert}: restore the matching pair`);
  return loaded;
}

function writeCa(pkiDir: string, protector: KeyProtector, material: CaMaterial, imported: boolean): void {
  const files = caFiles(pkiDir);
  writeFileAtomic(files.key, protector.seal(Buffer.from(material.keyPem, 'utf8')));
  if (material.chainPems.length > 0) writeFileAtomic(files.chain, material.chainPems.join(''));
  else rmSync(files.chain, { force: true });
  writeFileAtomic(files.cert, material.certPem);
  writeMeta(pkiDir, { ...readMeta(pkiDir), imported });
}

function toLoaded(material: CaMaterial, imported: boolean): LoadedCa {
  const x509 = new X509Certificate(material.certPem);
  const key = createPrivateKey(material.keyPem);
  const fields = caCertificateFields(x509);
  return { material, x509, key, imported, fingerprint: fingerprintHex(x509), signer: { key, subject: fields.subject, keyIdentifier: fields.keyIdentifier } };
}

interface PkiMeta {
  version: 1;
  /** KeyProtector.kind that sealed the keys of this directory. */
  protector: string;
  imported: boolean;
}

function readMeta(pkiDir: string): PkiMeta {
  const path = join(pkiDir, 'pki.json');
  if (!exists(path)) return { version: 1, protector: '', imported: false };
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<PkiMeta>;
    return { version: 1, protector: String(v.protector ?? ''), imported: v.imported === true };
  } catch (e) {
    throw new Error(`cannot read ${path}: ${errorMessage(e)}`);
  }
}

function writeMeta(pkiDir: string, meta: PkiMeta): void {
  writeFileAtomic(join(pkiDir, 'pki.json'), `${JSON.stringify(meta, null, 2)}\n`);
}

/** A data directory's keys are sealed by one kind of protector; another kind cannot open them. */
function checkProtectorKind(pkiDir: string, protector: KeyProtector): void {
  const meta = readMeta(pkiDir);
  if (meta.protector === '') {
    writeMeta(pkiDir, { ...meta, protector: protector.kind });
  } else if (meta.protector !== protector.kind) {
    throw new Error(
      `the keys in ${pkiDir} are sealed with the "${meta.protector}" key protector, not "${protector.kind}": ` +
        `start LocalDLS the way that created them (re-sealing with another protector is not supported yet)`,
    );
  }
}

function openSealed(protector: KeyProtector, path: string): string {
  try {
    return protector.open(readFileSync(path)).toString('utf8');
  } catch (e) {
    throw new Error(`cannot open ${path} with the "${protector.kind}" key protector: ${errorMessage(e)}`);
  }
}

function readRecord(path: string): ServerRecord | null {
  if (!exists(path)) return null;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as ServerRecord;
    return v.version === 1 ? v : null;
  } catch {
    return null; // reissue
  }
}

function credentialOf(mac: string, certPem: string, keyPem: string): DeviceCredential {
  const x509 = new X509Certificate(certPem);
  return { mac, serial: normalizeSerial(x509.serialNumber), certPem, keyPem, notAfter: Date.parse(x509.validTo) };
}

function clampToCa(cert: forge.pki.Certificate, ca: X509Certificate): void {
  const caEnd = Date.parse(ca.validTo);
  if (cert.validity.notAfter.getTime() > caEnd) cert.validity.notAfter = new Date(caEnd);
}

/** Lower-case, de-duplicated, sorted names; IP literals checked; unspecified addresses refused. */
export function normalizeNames(names: ServerNames): ServerNames {
  const dns = [...new Set(names.dns.map((d) => d.trim().toLowerCase()))].sort();
  const ips = [...new Set(names.ips.map((i) => i.trim().toLowerCase()))].sort();
  for (const d of dns) if (!/^[a-z0-9*_]([a-z0-9_.-]*[a-z0-9_])?$/.test(d)) throw new Error(`"${d}" is not a DNS name for the server certificate`);
  for (const ip of ips) {
    if (isIP(ip) === 0) throw new Error(`"${ip}" is not an IP address for the server certificate`);
    if (ip === '0.0.0.0' || ip === '::') throw new Error(`${ip} is not an address a phone can connect to: give the host's own addresses`);
  }
  if (dns.length === 0 && ips.length === 0) throw new Error('the server certificate needs at least one DNS name or IP address');
  return { dns, ips };
}

function exists(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false }) !== undefined;
}

/** Files under the data directory's pki/ folder (for diagnostics and tests). */
export function listPkiFiles(dataDir: string): string[] {
  const root = join(dataDir, 'pki');
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  if (exists(root)) walk(root);
  return out.sort();
}
