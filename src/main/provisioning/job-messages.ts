/**
 * The DLSMessage each job kind sends (manual §3.6). WriteItems may need several messages when the
 * phone's maxItems or the 50 kB limit says so (manual p.71); related items stay together.
 */
import { itemGroup, splitItems, type Action, type Item } from '../wpi';
import type { Job, JobKind } from '../../shared/model';

/** The fixed factory-reset password every OpenStage phone expects (manual p.51). */
export const FACTORY_RESET_PASSWORD = '124816';

/** Jobs after which the phone reboots instead of replying; done when it starts up again. */
export const REBOOTING_KINDS: ReadonlySet<JobKind> = new Set<JobKind>(['Restart', 'FactoryReset', 'SoftwareDeployment']);

/**
 * Jobs that, once sent, wait for the phone to come back (reboot, its first secure contact) or to
 * report (a file deployment's status, possibly on a later connection), or to be checked (several
 * files: a ReadAllItems at its next contacts, decide.ts): never sent twice meanwhile.
 */
export const AWAITING_RETURN: ReadonlySet<JobKind> = new Set<JobKind>([...REBOOTING_KINDS, 'Bootstrap', 'FileDeployment']);

/** What a bootstrap job keeps sealed: the client credential or secure-mode-data, and the TAN. */
export interface JobSecret {
  items: { name: string; index?: number; value: string }[];
  /** Last 3 characters of the PIN (manual p.67–68); absent for a bootstrap without PIN. */
  tan?: string;
  /** Serial of the client certificate issued for this bootstrap: the only one it lets in. */
  serial?: string;
}

/**
 * A bootstrap job as the sending service can send it (app/bootstrap.ts bootstrapToSend): its
 * sealed items for this service's secure port; or `hold`: not now, the job stays queued (Secure
 * Mode is off here); or `refused`: never, the job fails before anything is sent.
 */
export type BootstrapSend = JobSecret | { hold: string } | { refused: string };

/** The manual's order for the bootstrap WriteItems (p.64, p.67). */
const BOOTSTRAP_ORDER = ['goto-secure-mode', 'dls-client-certificate', 'secure-mode-data', 'max-pin-retries', 'dls-server-ca', 'dls-secure-port'];

/**
 * The bootstrap WriteItems: public items with the sealed ones put back, never split (manual p.62).
 * A sealed item replaces a public one of the same name and index (the sending service's
 * `dls-secure-port`, see BootstrapSend).
 */
export function bootstrapMessage(job: Pick<Job, 'items'>, secret: JobSecret): JobAnswer {
  const key = (i: { name: string; index?: number }) => `${i.name}\u0000${i.index ?? ''}`;
  const sealed = new Set(secret.items.map(key));
  const all = [...job.items.filter((i) => !sealed.has(key(i))), ...secret.items].map((i): Item => (i.index === undefined ? { name: i.name, value: i.value } : { name: i.name, index: i.index, value: i.value }));
  const rank = (i: Item) => (BOOTSTRAP_ORDER.indexOf(i.name) + 1 || BOOTSTRAP_ORDER.length + 1) * 1000 + (i.index ?? 0);
  return { action: 'WriteItems', items: all.sort((a, b) => rank(a) - rank(b)) };
}

export interface JobAnswer {
  action: Action;
  items: Item[];
}

export function jobMessage(job: Pick<Job, 'kind' | 'items'>): JobAnswer {
  const items = job.items.map((i): Item => (i.index === undefined ? { name: i.name, value: i.value } : { name: i.name, index: i.index, value: i.value }));
  switch (job.kind) {
    case 'ReadItems':
      // A read lists the wanted items with empty values (manual p.30).
      return { action: 'ReadItems', items: items.map((i) => ({ ...i, value: '' })) };
    case 'ReadAllItems':
      return { action: 'ReadAllItems', items: [] };
    case 'Restart':
      return { action: 'Restart', items: [] };
    case 'FactoryReset':
      return {
        action: 'Restart',
        items: [
          { name: 'restart-password', value: FACTORY_RESET_PASSWORD },
          { name: 'restart-type', value: 'FactoryReset' },
        ],
      };
    case 'Bootstrap':
      // Needs its sealed secret: see bootstrapMessage.
      return { action: 'WriteItems', items };
    default:
      return { action: job.kind as Action, items };
  }
}

/** Kinds sent in parts when their items exceed the phone's maxItems or 50 kB (manual p.28, p.71). */
export const SPLIT_KINDS: ReadonlySet<string> = new Set(['WriteItems', 'ReadItems']);

/**
 * The messages a job needs: one, or for a large WriteItems or ReadItems one per part, each within
 * the phone's maxItems, "the maximum number of items allowed in a single message" (p.28). A
 * Bootstrap's items travel together whatever their number.
 */
export function jobMessages(job: Pick<Job, 'kind' | 'items'>, maxItems: number | undefined): JobAnswer[] {
  const whole = jobMessage(job);
  if (!SPLIT_KINDS.has(job.kind)) return [whole];
  // Related items stay together in a write (p.71); a read asks for each on its own, so none goes over maxItems (helper-68).
  return splitItems(whole.items, { maxItems, ...(job.kind === 'WriteItems' ? { groupOf: itemGroup } : {}) }).map((items) => ({ action: whole.action, items }));
}
