/** Settings of the running service: the TLS compatibility profile of each WPI listener. */
import { isAbsolute } from 'node:path';
import { ApiError } from '../../shared/api';
import { API_ARGS } from '../../shared/api-args';
import { defineCommand } from './define';

export const setTlsProfile = defineCommand('setTlsProfile', API_ARGS.setTlsProfile, async (ctx, listener, profile): Promise<void> => {
  if (!ctx.setTlsProfile) throw new ApiError('unavailable', 'the TLS profile cannot be changed here: the service is not running', [{ key: 'serviceNotRunning', params: {} }]);
  await ctx.setTlsProfile(listener, profile);
});

/** Starts or stops the running service's TLS key log (for this run only; see app/tls-keylog.ts). */
export const setTlsKeyLog = defineCommand('setTlsKeyLog', API_ARGS.setTlsKeyLog, (ctx, path): { path: string | null } => {
  if (!ctx.setTlsKeyLog) throw new ApiError('unavailable', 'the TLS key log can only be switched in a running service (the app, or serve --tls-keylog)', [{ key: 'serviceNotRunning', params: {} }]);
  // The service opens it: a relative path would name a file in the service's working folder, not one the person chose.
  if (path !== null && !isAbsolute(path)) {
    const reason = `give the TLS key log's full path (e.g. /home/me/keys.log), not "${path.slice(0, 100)}": the service opens it, and a relative path would be read from its own working folder`;
    throw new ApiError('bad-argument', reason, [{ key: 'keyLogRefused', params: { path, reason } }]);
  }
  try {
    return { path: ctx.setTlsKeyLog(path) };
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new ApiError('bad-argument', reason, [{ key: 'keyLogRefused', params: { path: path ?? '', reason } }]);
  }
});
