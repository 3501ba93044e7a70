/** `localdls ca`: show, import or export the site's certificate authority. */
import { readFileSync, writeFileSync } from 'node:fs';
import * as commands from '../commands';
import { withContext, type CliIo } from './context';
import { parseCli, UsageError } from './format';

export const CA_USAGE = `localdls ca show [--json]
localdls ca import FILE [--password P]   a site CA as PEM (certificate + key) or PKCS#12
localdls ca export-public [FILE]         the CA certificate (PEM), to stdout or FILE
(all take --data-dir D; import also --key-passphrase-file F: show and export-public need no
passphrase, the CA certificate is public)

The CA signs the secure port's certificate and each phone's client certificate. It is made on
first use; its key is stored encrypted with the key passphrase. After an import, restart \`serve\`;
phones bootstrapped before it trust the old CA and must be bootstrapped again.

Example:
  localdls ca export-public site-ca.pem`;

export async function caCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const { values: v, positionals } = parseCli(rest, { 'data-dir': { type: 'string' }, 'key-passphrase-file': { type: 'string' }, json: { type: 'boolean' }, password: { type: 'string' } });
  const passphrase = v['key-passphrase-file'] !== undefined ? { passphraseFile: v['key-passphrase-file'] } : {};
  switch (sub) {
    case 'show':
      return withContext(v['data-dir'], 'read', passphrase, async (ctx) => {
        const s = await commands.showCa(ctx);
        const pool = await commands.keyPoolStatus(ctx);
        const poolLine = pool.size === 0
          ? `key pool: off (LOCALDLS_KEY_POOL_SIZE=0)${pool.ready > 0 ? `; ${pool.ready} keys left from before, deleted when serve starts` : ''}`
          : `key pool: ${pool.ready} device keys ready (at most ${pool.size}, LOCALDLS_KEY_POOL_SIZE; made by serve while idle, sealed, each used once)`;
        io.out(v.json ? JSON.stringify({ ...s, keyPool: pool }) : `subject: ${s.subject}\nfingerprint (SHA-256): ${s.fingerprint}\nvalid until: ${new Date(s.notAfter).toISOString().replace('T', ' ').slice(0, 19)} UTC\nchain: ${s.chainLength} certificate(s)\nimported: ${s.imported ? 'yes' : 'no (made by LocalDLS)'}\n${poolLine}`);
        return 0;
      });
    case 'import': {
      const file = positionals[0];
      if (!file) throw new UsageError('ca import needs a FILE (PEM or PKCS#12)');
      let content: Buffer;
      try {
        content = readFileSync(file);
      } catch (e) {
        throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      }
      return withContext(v['data-dir'], 'read', passphrase, async (ctx) => {
        let s;
        try {
          s = await commands.importCa(ctx, content, v.password);
        } catch (e) {
          throw new Error(`${file}: ${(e as Error).message}`);
        }
        io.out(`imported CA ${s.subject} (${s.fingerprint}); restart \`serve\`, and bootstrap again phones that trusted the old CA`);
        return 0;
      });
    }
    case 'export-public':
      return withContext(v['data-dir'], 'read', passphrase, async (ctx) => {
        const pem = await commands.exportCaCertificate(ctx);
        if (positionals[0]) {
          writeFileSync(positionals[0], pem, { mode: 0o644 });
          io.out(`CA certificate written to ${positionals[0]}`);
        } else io.out(pem.trimEnd());
        return 0;
      });
    default:
      throw new UsageError(sub ? `unknown ca command "${sub}"` : 'ca needs a command: show, import or export-public');
  }
}
