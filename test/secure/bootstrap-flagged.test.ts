/**
 * A bootstrap that fails in an exchange (wrong TAN, PIN typed wrong too often) flags that exchange
 * as an error, so the traffic view shows it red and "errors only" finds it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { prepareBootstraps } from '../../src/main/app/bootstrap';
import { Service } from '../../src/main/app/service';
import { passphraseProtector, unpackSecureModeData } from '../../src/main/pki';
import { parseDLSMessage, type DLSMessage } from '../../src/main/wpi';
import { post, securePost } from '../support/https-client';
import { message, startUpItems } from '../support/messages';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const running: Service[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

const MAC = '00:1A:E8:00:00:31';
const known = (mac: string) => startUpItems(mac, { 'configuration-changed-flag': 'false' });

async function secureService() {
  const dataDir = newDir();
  const protector = passphraseProtector('correct horse battery staple', dataDir, { scryptCost: 1024 });
  const service = new Service({ dataDir, host: '127.0.0.1', port: 0, securePort: 0, keyProtector: protector, autoContact: false });
  running.push(service);
  const info = await service.start();
  await post(info.port, message({ reason: 'start-up', items: startUpItems(MAC) }));
  service.sweep(Date.now() + 10 * 60_000);
  return { service, protector, port: info.port, securePort: info.securePort! };
}

async function takeBootstrap(port: number): Promise<DLSMessage> {
  const first = await post(port, message({ reason: 'solicited', items: known(MAC) }));
  const cookie = String(first.headers['set-cookie']).split(';')[0];
  await post(port, message({ reason: 'reply-to', action: 'WriteItems', status: 'accepted' }), { headers: { Cookie: `${cookie}; path=/DeploymentService; secure` } });
  return parseDLSMessage(first.body);
}


const errorsOnly = (service: Service) => service.store.exchanges({ limit: 100 }).filter((x) => x.error !== null);

describe('failed bootstraps are errors in the traffic', () => {
  it('PIN retries exceeded', async () => {
    const { service, protector, port, securePort } = await secureService();
    await prepareBootstraps(service.store, service.pki!, protector, [MAC], { pin: { kind: 'auto' }, securePort });
    await takeBootstrap(port);
    expect(errorsOnly(service)).toEqual([]);
    await post(port, message({ reason: 'clean-up', items: [...known(MAC), { name: 'cleanup-reason', value: 'password retries exceeded' }] }));
    const flagged = errorsOnly(service);
    expect(flagged).toHaveLength(1);
    expect(flagged[0]).toMatchObject({ reason: 'clean-up', httpStatus: 200, error: 'bootstrap failed: password retries exceeded: the PIN was typed wrong too often on the phone' });
  });

  it('a wrong TAN', async () => {
    const { service, protector, port, securePort } = await secureService();
    await prepareBootstraps(service.store, service.pki!, protector, [MAC], { pin: { kind: 'given', pin: '12345678' }, securePort });
    const w = await takeBootstrap(port);
    const inside = unpackSecureModeData(w.items.find((i) => i.name === 'secure-mode-data')!.value, '12345');
    const client = { pfx: inside.pkcs12, passphrase: '', ca: inside.caPems, servername: 'localhost' };
    const s1 = await securePost(securePort, message({ reason: 'start-up', items: known(MAC) }), client);
    await securePost(securePort, message({ reason: 'reply-to', action: 'ReadItems', status: 'accepted', items: [{ name: 'bootstrapping-tan', value: '999' }] }), client, s1.cookie);
    const flagged = errorsOnly(service);
    expect(flagged).toHaveLength(1);
    expect(flagged[0]).toMatchObject({ listener: 'secure', httpStatus: 200, error: expect.stringMatching(/^bootstrap failed: wrong TAN from device/) });
  });
});
