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
    default:
      return { action: job.kind as Action, items };
  }
}

/** The messages a job needs: one, or for a large WriteItems one per part. */
export function jobMessages(job: Pick<Job, 'kind' | 'items'>, maxItems: number | undefined): JobAnswer[] {
  const whole = jobMessage(job);
  if (job.kind !== 'WriteItems') return [whole];
  return splitItems(whole.items, { maxItems, groupOf: itemGroup }).map((items) => ({ action: 'WriteItems' as const, items }));
}
