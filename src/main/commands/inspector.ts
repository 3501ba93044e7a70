/**
 * The inspector's views of what happened: one interaction as a ladder (phone <-> LocalDLS), and a
 * device's timeline (interactions with the items they changed, jobs queued and finished,
 * contact-me and other exchanges outside interactions). Secret values are masked.
 */
import { ApiError, type DeviceTimeline, type InteractionLadder, type ItemChangeView, type TimelineEntry } from '../../shared/api';
import { API_ARGS } from '../../shared/api-args';
import { isSecretItem, maskItemValue } from '../../shared/secrets';
import type { Job } from '../../shared/model';
import { FIRST_READ, type ItemChangeInContext } from '../store';
import { defineCommand } from './define';
import { deviceOrThrow } from './jobs';
import { maskJob } from './masking';

const LADDER_LIMIT = 500;
/** Per kind of entry: a phone's history over weeks, not its whole life. */
const TIMELINE_LIMIT = 300;
const CHANGE_LIMIT = 2000;

export function changeView(c: Pick<ItemChangeInContext, 'name' | 'index' | 'oldValue' | 'newValue'>): ItemChangeView {
  if (c.name === FIRST_READ) return { name: '', index: null, oldValue: null, newValue: null, secret: false, firstRead: Number(c.newValue) };
  const mask = (value: string | null) => (value === null ? null : maskItemValue(c.name, value));
  return {
    name: c.name, index: c.index, oldValue: mask(c.oldValue), newValue: mask(c.newValue),
    secret: isSecretItem(c.name) && ((c.oldValue ?? '') !== '' || (c.newValue ?? '') !== ''),
  };
}

export const getInteraction = defineCommand('getInteraction', API_ARGS.getInteraction, (ctx, id): InteractionLadder => {
  const interaction = ctx.store.interaction(id);
  if (!interaction) throw new ApiError('not-found', `no interaction ${id}: it may have been purged`, [{ key: 'noInteraction', params: { id } }]);
  const exchanges = ctx.store.exchanges({ interactionId: id, newestFirst: false, limit: LADDER_LIMIT });
  let previousId: number | null = null;
  let nextId: number | null = null;
  let jobs: Job[] = [];
  if (interaction.mac) {
    const until = interaction.ended ?? Number.MAX_SAFE_INTEGER;
    const within = (t: number | null) => t !== null && t >= interaction.started && t <= until;
    jobs = ctx.store.inspector.jobsOf(interaction.mac, 1000).filter((j) => within(j.sent) || within(j.finished)).map(maskJob).reverse();
    ({ previousId, nextId } = ctx.store.inspector.neighbours(interaction.mac, id));
  }
  // Relayed: the answers are the upstream DLS's, not LocalDLS's (helper-81: the ladder credited LocalDLS).
  const relayedTo = exchanges.length > 0 ? (ctx.store.relay.of(exchanges[0]!.id)?.url ?? null) : null;
  return { interaction, exchanges, jobs, previousId, nextId, relayedTo };
});

export const getDeviceTimeline = defineCommand('getDeviceTimeline', API_ARGS.getDeviceTimeline, (ctx, mac): DeviceTimeline => {
  deviceOrThrow(ctx, mac);
  const { inspector } = ctx.store;
  const interactions = inspector.interactionsOf(mac, TIMELINE_LIMIT);
  const changes = inspector.itemChangesOf(mac, CHANGE_LIMIT);
  const jobs = inspector.jobsOf(mac, TIMELINE_LIMIT).map(maskJob);
  const loose = inspector.looseExchangesOf(mac, TIMELINE_LIMIT);

  const byInteraction = new Map<number, ItemChangeView[]>();
  const outside = new Map<string, { at: number; exchangeId: number | null; changes: ItemChangeView[] }>();
  for (const c of [...changes].reverse()) {
    if (c.interactionId !== null) {
      const list = byInteraction.get(c.interactionId) ?? [];
      list.push(changeView(c));
      byInteraction.set(c.interactionId, list);
    } else {
      const key = `${c.exchangeId ?? 'none'}|${c.at}`;
      const group = outside.get(key) ?? { at: c.at, exchangeId: c.exchangeId, changes: [] };
      group.changes.push(changeView(c));
      outside.set(key, group);
    }
  }
  const entries: TimelineEntry[] = [
    ...interactions.map((i): TimelineEntry => ({
      kind: 'interaction', at: i.started, exchanges: i.exchanges, errors: i.errors, changes: byInteraction.get(i.id) ?? [],
      interaction: { id: i.id, mac: i.mac, peer: i.peer, listener: i.listener, reason: i.reason, started: i.started, ended: i.ended, endReason: i.endReason },
    })),
    ...jobs.flatMap((job): TimelineEntry[] => [
      { kind: 'job', at: job.created, event: 'queued', job },
      ...(job.finished !== null ? [{ kind: 'job', at: job.finished, event: 'finished', job } as TimelineEntry] : []),
    ]),
    ...loose.map((exchange): TimelineEntry => ({ kind: 'exchange', at: exchange.started, exchange })),
    ...[...outside.values()].map((g): TimelineEntry => ({ kind: 'items', at: g.at, exchangeId: g.exchangeId, changes: g.changes })),
  ];
  // Newest first; at the same moment, the later kind of event first (a job finishes after its interaction starts).
  entries.sort((a, b) => b.at - a.at);
  const truncated = interactions.length === TIMELINE_LIMIT || changes.length === CHANGE_LIMIT || jobs.length === TIMELINE_LIMIT || loose.length === TIMELINE_LIMIT;
  return { mac, entries, truncated };
});
