/** The site's certificate authority: show it, import one (PEM or PKCS#12), export its certificate. */
import * as v from 'valibot';
import { ApiError, type SecureStatus } from '../../shared/api';
import { API_ARGS } from '../../shared/api-args';
import { keyPoolSizeFromEnvironment, type CaSummary } from '../pki';
import { keyPoolDir, readyPoolKeys } from '../pki/key-pool';
import { readPublicCa, type PublicCa } from '../pki/public-ca';
import { defineCommand } from './define';

/** The CA's certificate is public: read from the data directory, without the key passphrase. */
function publicCa(dataDir: string): PublicCa {
  const ca = readPublicCa(dataDir);
  if (!ca) throw new ApiError('not-found', `no CA in ${dataDir}/pki yet: LocalDLS makes one when Secure Mode is first used (serve with a key passphrase), or import the site's with \`localdls ca import\``);
  return ca;
}

export const showCa = defineCommand('showCa', [], (ctx): CaSummary => publicCa(ctx.dataDir).summary);

/**
 * The key pool (docs/pki.md "Key pool"): device keys a running service made ahead while idle,
 * sealed like every key, each used for one certificate. Counted by file name: no passphrase needed.
 */
export const keyPoolStatus = defineCommand('keyPoolStatus', [], (ctx): { ready: number; size: number } => {
  let size: number;
  try {
    size = keyPoolSizeFromEnvironment();
  } catch (e) {
    throw new ApiError('bad-argument', (e as Error).message);
  }
  return { ready: readyPoolKeys(keyPoolDir(ctx.dataDir)), size };
});

/** The CA chain as PEM, for phones' and browsers' trust stores. */
export const exportCaCertificate = defineCommand('exportCaCertificate', [], (ctx): string => publicCa(ctx.dataDir).chainPems.join(''));

export const importCa = defineCommand(
  'importCa',
  [['content', v.custom<Uint8Array>((x) => x instanceof Uint8Array, 'must be the file\'s bytes')], ['password', v.optional(v.string('must be a string'))]],
  async (ctx, content, password): Promise<CaSummary> => {
    const { pki } = await ctx.secure();
    try {
      return await pki.importCa(Buffer.from(content), password);
    } catch (e) {
      throw new ApiError('bad-argument', `not a CA this service can use: ${(e as Error).message}`);
    }
  },
);

/** Secure Mode at a glance; `reason` says why it is off and what to do. */
export const getSecureStatus = defineCommand('getSecureStatus', API_ARGS.getSecureStatus, async (ctx): Promise<SecureStatus> => {
  let parts;
  try {
    parts = await ctx.secure();
  } catch (e) {
    const relaying = ctx.relaying?.() ?? null;
    return { on: false, reason: e instanceof Error ? e.message.replace(/^Secure Mode is off: /, '') : String(e), ...(relaying ? { relaying } : {}), securePort: null, ca: null, protector: ctx.protectorKind ?? null, keyPool: null };
  }
  const ca = parts.pki.caSummary();
  return {
    on: true,
    reason: null,
    securePort: parts.securePort,
    ca: { subject: ca.subject, fingerprint: ca.fingerprint, notAfter: ca.notAfter, imported: ca.imported },
    protector: parts.protector.kind,
    // The pool this Pki really uses (its size from the service's configuration), counted by file name.
    keyPool: { ready: parts.pki.keyPool.count(), size: parts.pki.keyPool.size },
  };
});
