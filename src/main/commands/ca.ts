/** The site's certificate authority: show it, import one (PEM or PKCS#12), export its certificate. */
import * as v from 'valibot';
import { ApiError, type SecureStatus } from '../../shared/api';
import { API_ARGS } from '../../shared/api-args';
import type { CaSummary } from '../pki';
import { defineCommand } from './define';

export const showCa = defineCommand('showCa', [], async (ctx): Promise<CaSummary> => (await ctx.secure()).pki.caSummary());

/** The CA chain as PEM, for phones' and browsers' trust stores. */
export const exportCaCertificate = defineCommand('exportCaCertificate', [], async (ctx): Promise<string> => (await ctx.secure()).pki.caChainPems().join(''));

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
    return { on: false, reason: e instanceof Error ? e.message.replace(/^Secure Mode is off: /, '') : String(e), securePort: null, ca: null, protector: ctx.protectorKind ?? null };
  }
  const ca = parts.pki.caSummary();
  return {
    on: true,
    reason: null,
    securePort: parts.securePort,
    ca: { subject: ca.subject, fingerprint: ca.fingerprint, notAfter: ca.notAfter, imported: ca.imported },
    protector: parts.protector.kind,
  };
});
