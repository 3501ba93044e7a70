/** Settings of the running service: the TLS compatibility profile of each WPI listener. */
import { ApiError } from '../../shared/api';
import { API_ARGS } from '../../shared/api-args';
import { defineCommand } from './define';

export const setTlsProfile = defineCommand('setTlsProfile', API_ARGS.setTlsProfile, async (ctx, listener, profile): Promise<void> => {
  if (!ctx.setTlsProfile) throw new ApiError('unavailable', 'the TLS profile cannot be changed here: the service is not running');
  await ctx.setTlsProfile(listener, profile);
});
