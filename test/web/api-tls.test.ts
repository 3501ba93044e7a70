/** setTlsProfile through the API: validation, the running service's listener, the status, and a service without it. */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { Service } from '../../src/main/app/service';
import { listenersOf } from '../../src/main/bridge/serve-ui';
import { ApiArgumentError, type ServiceStatus } from '../../src/shared/api';
import { validateArgs } from '../../src/shared/api-args';
import { FlowHarness } from '../support/handler';
import { tempDirs } from '../support/tmp';
import { apiOver } from './api-harness';

const newDir = tempDirs();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('setTlsProfile validation', () => {
  it('takes a listener (default | secure) and a profile (modern | legacy)', () => {
    expect(validateArgs('setTlsProfile', ['default', 'legacy'])).toEqual(['default', 'legacy']);
    expect(validateArgs('setTlsProfile', ['secure', 'modern'])).toEqual(['secure', 'modern']);
    expect(() => validateArgs('setTlsProfile', ['dcmp', 'legacy'])).toThrow(/setTlsProfile: listener must be one of default, secure/);
    expect(() => validateArgs('setTlsProfile', ['default', 'TLSv1'])).toThrow(/profile must be one of modern, legacy/);
    expect(() => validateArgs('setTlsProfile', ['default'])).toThrow(ApiArgumentError);
    expect(() => validateArgs('setTlsProfile', ['default', 'legacy', 'x'])).toThrow(/takes 2 arguments/);
  });
});

describe('LocalDlsApiHost.setTlsProfile', () => {
  it('changes the running Default-Mode listener, stores it, and the status shows it', async () => {
    const dataDir = newDir();
    const service = new Service({ dataDir, host: '127.0.0.1', port: 0 });
    cleanups.push(() => service.stop());
    const listening = await service.start();
    const api = new LocalDlsApiHost(service, { dataDir, networkInterfaces: () => ({}), listeners: listenersOf(listening) });
    cleanups.push(() => api.close());
    expect((await api.getStatus()).listeners[0]).toMatchObject({ kind: 'default', tlsProfile: 'modern' });

    const seen: ServiceStatus[] = [];
    api.onStatus((s) => seen.push(s));
    await api.call('setTlsProfile', ['default', 'legacy']);
    expect(service.tlsProfile('default')).toBe('legacy');
    expect(service.store.setting('tls_default')).toBe('legacy');
    expect((await api.getStatus()).listeners[0]).toMatchObject({ kind: 'default', port: listening.port, tlsProfile: 'legacy' });
    expect(seen.at(-1)?.listeners[0]?.tlsProfile).toBe('legacy');

    await expect(api.call('setTlsProfile', ['default', 'weak'])).rejects.toThrow(/profile must be one of modern, legacy/);
    expect(service.tlsProfile('default')).toBe('legacy');
  });

  it('is unavailable over a store without a running service', async () => {
    const h = new FlowHarness(newDir());
    const api = apiOver(h);
    cleanups.push(() => h.close(), () => api.close());
    await expect(api.setTlsProfile('default', 'legacy')).rejects.toMatchObject({ code: 'unavailable' });
  });
});
