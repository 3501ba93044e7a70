/**
 * Profiles: named item sets (site-wide or per device type) with per-device overrides. Applying
 * one writes only what differs from what the phone last reported.
 */
import { itemKey } from '../../shared/item-rules';
import type { Device, ItemValue, Profile } from '../../shared/model';


/** The profile's items with the device's overrides laid over them. */
export function effectiveItems(profile: readonly ItemValue[], overrides: readonly ItemValue[]): ItemValue[] {
  const byKey = new Map(profile.map((i) => [itemKey(i), i]));
  for (const o of overrides) byKey.set(itemKey(o), o);
  return [...byKey.values()];
}

/** What a WriteItems must carry so the phone matches the profile; empty when nothing differs. */
export function profileDiff(
  profile: readonly ItemValue[],
  overrides: readonly ItemValue[],
  current: readonly { name: string; index?: number | null; value: string; status?: string | null }[],
): ItemValue[] {
  const now = new Map(current.map((i) => [itemKey(i), i]));
  return effectiveItems(profile, overrides).filter((want) => {
    const have = now.get(itemKey(want));
    return have === undefined || have.value !== want.value;
  });
}

/**
 * `*` any run of characters, `?` one character; case-insensitive, whole string. Matched without a
 * regular expression: the value is the phone's own (its e164), and `.*` runs backtrack
 * exponentially on a crafted one (a pattern with three stars froze the service for seconds). Here
 * a mismatch goes back to the last star only: at most pattern × value steps.
 */
export function globMatch(pattern: string, value: string): boolean {
  // One character against one (case folded each on its own): folding whole strings can change
  // their length (İ becomes two characters) and shift every position after it.
  const same = (a: string, b: string) => a === b || a.toLowerCase() === b.toLowerCase() || a.toUpperCase() === b.toUpperCase();
  const p = pattern;
  const v = value;
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  while (j < v.length) {
    if (i < p.length && p[i] !== '*' && (p[i] === '?' || same(p[i]!, v[j]!))) {
      i++;
      j++;
    } else if (i < p.length && p[i] === '*') {
      star = i++;
      resume = j;
    } else if (star >= 0) {
      i = star + 1;
      j = ++resume;
    } else {
      return false;
    }
  }
  while (p[i] === '*') i++;
  return i === p.length;
}

/** The plug & play profile for a device: the first (by name) whose patterns and device type match. */
export function matchProfile(profiles: readonly Profile[], device: Pick<Device, 'mac' | 'e164' | 'deviceType'>): Profile | undefined {
  return profiles.find((p) => {
    if (p.matchMac === null && p.matchE164 === null) return false;
    if (p.deviceType !== null && p.deviceType !== device.deviceType) return false;
    if (p.matchMac !== null && !globMatch(p.matchMac, device.mac)) return false;
    if (p.matchE164 !== null && !globMatch(p.matchE164, device.e164 ?? '')) return false;
    return true;
  });
}
