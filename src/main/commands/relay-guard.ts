/**
 * Relay mode acts on nothing (docs/relay.md): the phones' DLS is the upstream, so LocalDLS queues
 * no job, applies no profile, sends no contact-me and bootstraps no phone while it relays. One rule
 * for every front end: the app asks its own service; the CLI beside a `serve` reads what that
 * service recorded when it started (the setting RELAYING_SETTING), as long as it still runs.
 */
import { ApiError } from '../../shared/api';
import { RELAYING_SETTING, serviceSeemsRunning } from '../store';
import type { CommandContext } from './context';

/** The upstream the service on this data folder relays to, or null. */
export function relayingTo(ctx: CommandContext): string | null {
  if (ctx.relaying) return ctx.relaying();
  const upstream = ctx.store.setting(RELAYING_SETTING);
  // A service that stopped without clearing it (a crash) relays nothing.
  return upstream && serviceSeemsRunning(ctx.dataDir) ? upstream : null;
}

export function refuseWhileRelaying(ctx: CommandContext, what: string): void {
  const upstream = relayingTo(ctx);
  if (upstream) {
    throw new ApiError('unavailable', `LocalDLS relays to ${upstream} and does not ${what}: do it on that DLS, or run LocalDLS without an upstream`, [{ key: 'relayRefuses', params: { upstream } }]);
  }
}

/**
 * What is kept but not acted on while relaying (profiles, overrides): said beside the stored
 * result, as the service would not apply them (helper-81: accepted without a word). Null otherwise.
 */
export function keptWhileRelaying(ctx: CommandContext, what: string): string | null {
  const upstream = relayingTo(ctx);
  return upstream ? `LocalDLS relays to ${upstream} now: ${what} kept, and applied only when it answers phones itself` : null;
}
