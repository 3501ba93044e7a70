/**
 * Applying a profile to devices: the profile's items with each device's overrides, compared to
 * what the phone last reported; a WriteItems of only what differs. Shared by `localdls profile
 * apply` and the UI's `applyProfile`.
 */
import type { Profile } from '../../shared/model';
import { profileDiff } from '../provisioning';
import { unsendableItem } from '../../shared/item-rules';
import type { Store } from '../store';
import { skip, skipText, type Skip } from '../../shared/skip-reasons';

export interface ProfileApplyOutcome {
  mac: string;
  /** The WriteItems queued; null when nothing differs or the device was skipped. */
  jobId: number | null;
  differs: number;
  /** Why the device was skipped (another device type, unknown device), in English and as a key. */
  skipped?: string;
  skip?: Skip;
}

const skipped = (mac: string, differs: number, why: Skip): ProfileApplyOutcome => ({ mac, jobId: null, differs, skipped: skipText(why), skip: why });

export function applyProfileTo(store: Store, profile: Profile, macs: readonly string[], source = `profile:${profile.name}`, now = Date.now()): ProfileApplyOutcome[] {
  // Applied to several phones, its jobs are one rollout: one moment claimed for all of them.
  const rollout = macs.length > 1 ? store.rollouts.claimTime(now, 'WriteItems') : undefined;
  return macs.map((mac) => {
    const device = store.device(mac);
    if (!device) return skipped(mac, 0, skip('profileNoDevice', { mac }));
    if (profile.deviceType && device.deviceType !== profile.deviceType) {
      return skipped(mac, 0, skip('profileOtherType', { profile: profile.name, profileType: profile.deviceType, deviceType: device.deviceType ?? '' }));
    }
    // Items an older version stored that no job may send are left out, as plug & play leaves them (helper-65).
    const diff = profileDiff(profile.items, store.jobs.overrides(mac), store.items(mac)).filter((i) => unsendableItem([i]) === null);
    const { job, waiting } = store.assignProfile(mac, profile.name, diff, source, now, rollout);
    if (job === null && waiting.length > 0) {
      return skipped(mac, diff.length, skip('profileQueued', { jobs: waiting.join(', ') }));
    }
    // What the new job writes: the rest is on its way in a job queued before.
    return { mac, jobId: job?.id ?? null, differs: job?.items.length ?? 0 };
  });
}
