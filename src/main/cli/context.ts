/**
 * What a CLI command runs against: the data directory's store (opened for this one command, while
 * `serve` may be using it: WAL allows readers and a writer) and, when a command needs it, the CA
 * opened with the key passphrase.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ApiError } from '../../shared/api';
import type { CommandContext, SecureParts } from '../commands';
import { keyPoolSizeFromEnvironment, Pki, protectorFromEnvironment, type KeyProtector } from '../pki';
import { DEFAULT_SECURE_PORT } from '../app/service';
import { Store } from '../store';
import type { Out } from './format';

export interface CliIo {
  out: Out;
  err: Out;
}

export function dataDirOf(value: string | undefined): string {
  return resolve(value ?? process.env.LOCALDLS_DATA_DIR ?? join(homedir(), '.localdls'));
}

export function openStore(dataDirArg: string | undefined, mode: 'read' | 'write'): Store {
  const dir = dataDirOf(dataDirArg);
  if (!existsSync(join(dir, 'localdls.sqlite'))) {
    throw new Error(`no LocalDLS data in ${dir}: start \`localdls serve --data-dir ${dir}\` first, or pass the right --data-dir`);
  }
  return new Store(dir, { readonly: mode === 'read' });
}

export function protectorFor(dataDir: string, passphraseFile: string | undefined): KeyProtector {
  return protectorFromEnvironment({ env: process.env, dataDir, ...(passphraseFile !== undefined ? { passphraseFile } : {}) });
}

export interface CliContextOptions {
  passphraseFile?: string;
  progress?: CommandContext['progress'];
  contacts?: CommandContext['contacts'];
  contactProgress?: CommandContext['contactProgress'];
}

/** A command context over one opened store; Secure Mode is opened on first use. */
export function cliContext(store: Store, options: CliContextOptions = {}): CommandContext {
  let secure: Promise<SecureParts> | null = null;
  return {
    store,
    dataDir: store.dataDir,
    source: 'cli',
    secure: () =>
      (secure ??= (async () => {
        let protector: KeyProtector;
        try {
          protector = protectorFor(store.dataDir, options.passphraseFile);
        } catch (e) {
          throw new ApiError('unavailable', (e as Error).message);
        }
        let keyPoolSize: number;
        try {
          keyPoolSize = keyPoolSizeFromEnvironment();
        } catch (e) {
          throw new ApiError('bad-argument', (e as Error).message);
        }
        // The same pool setting as `serve`: 0 means this command makes every key itself.
        const pki = await Pki.open(store.dataDir, protector, { keyPoolSize });
        return { pki, protector, securePort: Number(store.setting('secure_port') ?? DEFAULT_SECURE_PORT) };
      })()),
    ...(options.progress ? { progress: options.progress } : {}),
    ...(options.contacts ? { contacts: options.contacts } : {}),
    ...(options.contactProgress ? { contactProgress: options.contactProgress } : {}),
  };
}

/** Runs `fn` with a context over the data directory, closing the store afterwards. */
export async function withContext<T>(dataDirArg: string | undefined, mode: 'read' | 'write', options: CliContextOptions, fn: (ctx: CommandContext) => Promise<T>): Promise<T> {
  const store = openStore(dataDirArg, mode);
  try {
    return await fn(cliContext(store, options));
  } finally {
    store.close();
  }
}
