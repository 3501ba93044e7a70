/**
 * Relay mode as chosen in the app (docs/relay.md): the upstream DLS, checked and stored for the
 * service's next start. `serve --upstream` flags win over it; `serve --no-upstream` ignores it.
 */
import { X509Certificate } from 'node:crypto';
import { ApiArgumentError, type UpstreamSettingView } from '../../shared/api';
import { API_ARGS } from '../../shared/api-args';
import { readCaFile, UPSTREAM_SETTING, type UpstreamSetting } from '../app/service';
import { normalizeFingerprint, parseUpstreamUrl } from '../net/upstream-client';
import type { Store } from '../store';
import { defineCommand } from './define';

export const setUpstream = defineCommand('setUpstream', API_ARGS.setUpstream, (ctx, setting): UpstreamSettingView | null => {
  if (setting === null) {
    ctx.store.setSetting(UPSTREAM_SETTING, '');
    return null;
  }
  let origin: string;
  try {
    const url = parseUpstreamUrl(setting.url);
    origin = `https://${url.host}`;
  } catch (e) {
    throw new ApiArgumentError(`setting.url: ${(e as Error).message}`, [{ key: 'upstreamUrl', params: { reason: (e as Error).message } }]);
  }
  const fingerprints = (setting.fingerprints ?? []).filter((f) => f !== '').map((raw, i) => {
    const f = normalizeFingerprint(raw);
    if (!f) throw new ApiArgumentError(`setting.fingerprints[${i}] "${raw.slice(0, 100)}" is not a SHA-256 fingerprint (64 hex digits, colons optional)`, [{ key: 'upstreamFingerprint', params: { value: raw.slice(0, 100) } }]);
    return f;
  });
  if (setting.caFile !== undefined) {
    let pem: string;
    try {
      pem = readCaFile(setting.caFile);
      new X509Certificate(pem);
    } catch (e) {
      const reason = (e as Error).message.startsWith('cannot read') ? (e as Error).message : `${setting.caFile} is not a PEM certificate (${(e as Error).message})`;
      throw new ApiArgumentError(`setting.caFile: ${reason}`, [{ key: 'upstreamCaFile', params: { reason } }]);
    }
  }
  const stored: UpstreamSetting = { url: origin, fingerprints, ...(setting.caFile !== undefined ? { caFile: setting.caFile } : {}) };
  ctx.store.setSetting(UPSTREAM_SETTING, JSON.stringify(stored));
  return viewOf(stored);
});

/** The stored choice, or null (none, or unreadable: the service says so at its start). */
export function upstreamSetting(store: Store): UpstreamSettingView | null {
  const raw = store.setting(UPSTREAM_SETTING);
  if (!raw) return null;
  try {
    return viewOf(JSON.parse(raw) as UpstreamSetting);
  } catch {
    return null;
  }
}

function viewOf(s: UpstreamSetting): UpstreamSettingView {
  return { url: s.url, caFile: s.caFile ?? null, fingerprints: s.fingerprints ?? [] };
}
