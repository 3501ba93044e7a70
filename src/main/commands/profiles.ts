/**
 * Profiles: named item sets, site-wide or per device type, applied as a WriteItems of only what
 * differs (profile-apply.ts), and per-device overrides. Secret values leave masked; a masked value
 * sent back unchanged keeps the stored one.
 */
import { ApiArgumentError, ApiError, type ProfileApplyResult } from '../../shared/api';
import { API_ARGS } from '../../shared/api-args';
import type { ItemValue, Profile } from '../../shared/model';
import { LIMITS, ProfileName } from '../../shared/schemas';
import { MASK, maskItemValue, maskUrlPasswords } from '../../shared/secrets';
import { defineCommand } from './define';
import { deviceOrThrow } from './jobs';
import { maskItems, maskProfile } from './masking';
import { applyProfileTo } from './profile-apply';
import { refuseWhileRelaying } from './relay-guard';
import { itemKey, writeItemProblem } from '../../shared/item-rules';

/** Refuses items a write may not carry (shared/item-rules.ts), each problem also as a text to translate. */
function refuseItemProblems(command: string, items: readonly { name: string; index?: number; value: string }[]): void {
  const problems = items.map((i) => writeItemProblem(i)).filter((x) => x !== null);
  if (problems.length) throw new ApiArgumentError(`${command}: ${maskUrlPasswords(problems.map((x) => x.message).join('; '))}`, problems.map(({ key, params }) => ({ key, params })));
}

export const listProfiles = defineCommand('listProfiles', API_ARGS.listProfiles, (ctx): Profile[] => ctx.store.jobs.profiles().map(maskProfile));

export const getProfile = defineCommand('getProfile', [['name', ProfileName]], (ctx, name): Profile => {
  const p = ctx.store.jobs.profile(name);
  if (!p) throw new ApiError('not-found', `no profile "${name}": see localdls profile show (or "Apply profile…" in the Devices view) for the names there are`, [{ key: 'noProfile', params: { name } }]);
  return maskProfile(p);
});

export const setProfile = defineCommand('setProfile', API_ARGS.setProfile, (ctx, p): Profile => {
  const before = ctx.store.jobs.profile(p.name);
  const stored = new Map((before?.items ?? []).map((i) => [itemKey(i), i.value]));
  // A value sent back as it was shown keeps the stored one: a masked secret, or a file URL whose
  // password or query the view masked (the Edit dialog fills its rows from the masked profile).
  const items = p.items.map((i) => {
    const value = stored.get(itemKey(i));
    if (value !== undefined && i.value !== value && i.value === maskItemValue(i.name, value)) return { ...i, value };
    if (i.value === MASK) throw new ApiArgumentError(`setProfile: ${i.name} has the mask (${MASK}) as its value: type the real value`);
    // Edited around the mask the view showed (a URL's password or query): it would be stored broken.
    if (value !== undefined && maskItemValue(i.name, value) !== value && i.value.includes(MASK)) {
      throw new ApiArgumentError(`setProfile: ${i.name} holds the mask (${MASK}) in its value: type the whole value again`);
    }
    return i;
  });
  // The rules every write meets (an indexed item's index, a number's value): a profile is written to
  // every phone it matches, plug & play too, and `job add` would refuse the same items.
  refuseItemProblems('setProfile', items);
  return maskProfile(ctx.store.jobs.setProfile({ ...p, items }, Date.now()));
});

export const applyProfile = defineCommand('applyProfile', API_ARGS.applyProfile, (ctx, name, macs): ProfileApplyResult[] => {
  refuseWhileRelaying(ctx, 'apply profiles');
  const profile = ctx.store.jobs.profile(name);
  if (!profile) throw new ApiError('not-found', `no profile "${name}": see localdls profile show (or "Apply profile…" in the Devices view) for the names there are`, [{ key: 'noProfile', params: { name } }]);
  return applyProfileTo(ctx.store, profile, macs);
});

export const deleteProfile = defineCommand('deleteProfile', [['name', ProfileName]], (ctx, name): void => {
  if (!ctx.store.jobs.deleteProfile(name)) throw new ApiError('not-found', `no profile "${name}": see localdls profile show (or "Apply profile…" in the Devices view) for the names there are`, [{ key: 'noProfile', params: { name } }]);
});

/** A device's overrides, secrets masked. */
export const getOverrides = defineCommand('getOverrides', API_ARGS.getOverrides, (ctx, mac): ItemValue[] => {
  deviceOrThrow(ctx, mac);
  return maskItems(ctx.store.jobs.overrides(mac));
});

/** Removes a device's overrides: the named ones, or every one (null). Returns how many went. */
export const clearOverrides = defineCommand('clearOverrides', API_ARGS.clearOverrides, (ctx, mac, items): number => {
  deviceOrThrow(ctx, mac);
  return ctx.store.jobs.clearOverrides(mac, items);
});

/** A device's own values, laid over every profile applied to it. */
export const setOverrides = defineCommand('setOverrides', API_ARGS.setOverrides, (ctx, mac, items): number => {
  deviceOrThrow(ctx, mac, 'a phone must contact the service once before it can get overrides');
  // The mask as a value included: copied back from a masked view, the phone would get the bullets.
  refuseItemProblems('setOverrides', items);
  // The same item twice in one call: the last one counts, as it would in the store (helper-68).
  const distinct = [...new Map(items.map((i) => [itemKey(i), i])).values()];
  // Bounded like a write (LIMITS.items): one host must not grow a device's overrides without end (helper-68).
  const after = new Set([...ctx.store.jobs.overrides(mac).map(itemKey), ...distinct.map(itemKey)]).size;
  if (after > LIMITS.items) {
    throw new ApiArgumentError(`setOverrides: ${mac} would have ${after} overrides, more than ${LIMITS.items}: remove some first`, [{ key: 'tooManyOverrides', params: { mac, count: after, limit: LIMITS.items } }]);
  }
  ctx.store.jobs.setOverrides(mac, distinct);
  return distinct.length;
});
