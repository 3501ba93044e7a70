/**
 * Real phone messages to mutate, built the way the simulator builds them (src/phone's item
 * generator + the codec's buildWorkpointMessage): start-up and the other first messages, the
 * ReadAllItems reply with hundreds of items whole and in fragments, ReadItems / WriteItems
 * replies, busy, status after a file deployment, clean-up. Deterministic: fixed MACs, fixed nonces.
 */
import { buildWorkpointMessage, splitItems, type Item, type WorkpointMessage } from '../../../src/main/wpi';
import {
  allItems,
  applyWriteItems,
  createPhoneConfig,
  deploymentItems,
  inventoryItems,
  phoneIdentity,
  readItems,
  recordFile,
  startUpItems,
} from '../../../src/phone';
import { workpointDoc, type Doc } from './xml-model';

export interface Seed {
  label: string;
  message: WorkpointMessage;
  omitItemList?: boolean;
  /** Canonical bytes (buildWorkpointMessage). */
  bytes: Buffer;
  doc: Doc;
  /** Relative pick weight: small messages are cheap and exercise as much of the parser. */
  weight: number;
}

/** MACs the fuzzer uses; the phones that must keep being served use a different range. */
export const FUZZ_MAC_BASE = '00:1A:E8:F0:00:';

export function buildCorpus(): Seed[] {
  const seeds: Seed[] = [];
  const add = (label: string, message: WorkpointMessage, weight: number, omitItemList = false) => {
    const bytes = Buffer.from(buildWorkpointMessage(message, { omitItemList }), 'utf8');
    seeds.push({ label, message, omitItemList, bytes, doc: workpointDoc(message, { omitItemList }), weight });
  };
  const at = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
  for (const [n, maxItems, deviceType] of [
    [1, -1, 'OpenStage 60'],
    [2, 50, 'OpenStage 40'],
    [3, 20, 'OpenScape Desk Phone IP 55G'],
  ] as const) {
    const mac = `${FUZZ_MAC_BASE}${String(n).padStart(2, '0')}`;
    const config = createPhoneConfig(phoneIdentity({ mac, deviceType }));
    const nonce = `F00D${n}${'0'.repeat(27)}`;
    const base = { nonce, maxItems };
    const startUp = startUpItems(config);
    add(`start-up/${n}`, { ...base, reason: 'start-up', items: startUp }, 8);
    add(`solicited/${n}`, { ...base, reason: 'solicited', items: startUp }, 3);
    add(`local-changes/${n}`, { ...base, reason: 'local-changes', items: [...startUp, { name: 'sntp-addr', value: 'pool.ntp.org' }, { name: 'function-key-def', index: 3, value: '12' }] }, 3);
    add(`inventory-changes/${n}`, { ...base, reason: 'inventory-changes', items: [...startUp, ...inventoryItems(config)] }, 2);
    const all = allItems(config);
    const fragments = splitItems(all, { maxItems, maxBytes: 50 * 1024 });
    fragments.forEach((items, i) => {
      const fragment = i < fragments.length - 1 ? 'next' : 'final';
      // A phone with maxItems -1 sends its whole reply in one message (hundreds of items, ~35 kB).
      add(`reply-to ReadAllItems ${fragment} ${i + 1}/${fragments.length} (maxItems ${maxItems})/${n}`, { ...base, fragment, reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items }, maxItems === -1 ? 0.5 : 6 / fragments.length);
    });
    add(`reply-to ReadItems/${n}`, { ...base, fragment: 'final', reason: 'reply-to', action: 'ReadItems', status: 'accepted', items: readItems(config, ['sntp-addr', 'e164', { name: 'function-key-def', index: 2 }, 'no-such-item', { name: 'ldap-server-address', index: 9 }]) }, 3);
    const write = applyWriteItems(config, [{ name: 'sntp-addr', value: 'ntp.example' }, { name: 'device-type', value: 'x' }, { name: 'bogus-item', value: '1' }] as Item[]);
    add(`reply-to WriteItems accepted/${n}`, { ...base, fragment: 'final', reason: 'reply-to', action: 'WriteItems', status: 'accepted', items: write.failed }, 3);
    add(`reply-to WriteItems busy/${n}`, { ...base, fragment: 'final', reason: 'reply-to', action: 'WriteItems', status: 'busy', items: [] }, 2, true);
    add(`reply-to Restart failed/${n}`, { ...base, fragment: 'final', reason: 'reply-to', action: 'Restart', status: 'failed', items: [] }, 1);
    const file = recordFile(config, { name: 'logo.png', type: 'LOGO', status: n === 2 ? 'failed' : 'ok' }, at);
    add(`status FileDeployment/${n}`, { ...base, reason: 'status', items: [...startUp, ...deploymentItems(file)] }, 2);
    add(`clean-up/${n}`, { ...base, reason: 'clean-up', items: [{ name: 'cleanup-reason', value: 'password retries exceeded' }] }, 2);
  }
  return seeds;
}
