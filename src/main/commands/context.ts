/**
 * What a command runs against: the store of one data directory and, where the front end has them,
 * Secure Mode, contact-me and the running listeners. The desktop app and `serve --ui` give the
 * running service's parts; the CLI opens the data directory (and the CA, with the key passphrase)
 * for one command.
 */
import type { TlsListener, TlsProfileName } from '../../shared/schemas';
import type { ContactOutcome, Contacts } from '../app/contact';
import type { KeyProtector, Pki } from '../pki';
import type { Store } from '../store';
import type { BootstrapRuns } from './bootstrap-runs';

export interface SecureParts {
  pki: Pki;
  protector: KeyProtector;
  /** The port Secure-Mode phones must use (dls-secure-port). */
  securePort: number;
}

export interface CommandContext {
  readonly store: Store;
  readonly dataDir: string;
  /** Who asked, recorded as the source of the jobs a command queues. */
  readonly source: 'ui' | 'cli';
  /** The CA and key protector, or an ApiError('unavailable') saying why Secure Mode is off. */
  secure(): Promise<SecureParts>;
  /** Which key protector seals the keys, when one is set up (shown while Secure Mode is off). */
  readonly protectorKind?: string;
  /** Contact-me; absent where nothing can send it. */
  readonly contacts?: Pick<Contacts, 'contactMany'>;
  /** Applies a TLS profile to a running listener; absent where no service runs. */
  readonly setTlsProfile?: (listener: TlsListener, profile: TlsProfileName) => Promise<void>;
  /** Starts (file) or stops (null) the running service's TLS key log; returns the file in use. */
  readonly setTlsKeyLog?: (path: string | null) => string | null;
  /** The UI's bootstrap runs (kept by the running service, with their PINs in memory). */
  readonly bootstrapRuns?: BootstrapRuns;
  /** Progress of long commands (certificates issued: done of total). */
  readonly progress?: (done: number, total: number, mac: string) => void;
  /** Each contact-me outcome as it comes (the CLI prints them one by one). */
  readonly contactProgress?: (outcome: ContactOutcome) => void;
  /** The upstream the running service relays to, or null; absent where none runs here (relay-guard.ts). */
  readonly relaying?: () => string | null;
}
