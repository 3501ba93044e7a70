/**
 * bootstrapToSend (app/bootstrap.ts) on its own: what the sending service makes of a bootstrap
 * job's sealed part for its secure port, including jobs that are odd or sealed by someone else.
 */
import { describe, expect, it } from 'vitest';
import { bootstrapToSend } from '../../src/main/app/bootstrap';
import { bootstrapMessage } from '../../src/main/provisioning';
import { passphraseProtector } from '../../src/main/pki';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();
const seal = (protector: ReturnType<typeof passphraseProtector>, o: unknown) => protector.seal(Buffer.from(JSON.stringify(o), 'utf8'));
const nopin = (port?: number) => ({ id: 7, items: [{ name: 'goto-secure-mode', value: 'nopin' }, ...(port ? [{ name: 'dls-secure-port', value: String(port) }] : [])] });

describe('bootstrapToSend', () => {
  const dir = newDir();
  const protector = passphraseProtector('bootstrap to send', dir, { scryptCost: 1024 });
  const sealed = seal(protector, { items: [{ name: 'dls-client-certificate', value: 'UEtDUzEy' }], serial: 'AB' });

  it('without PIN: one dls-secure-port, the service\'s, whether the job named another port or none', () => {
    for (const job of [nopin(18444), nopin()]) {
      const s = bootstrapToSend(protector, sealed, job, 28444);
      if ('hold' in s || 'refused' in s) throw new Error('not sendable');
      const sent = bootstrapMessage(job, s).items;
      expect(sent.filter((i) => i.name === 'dls-secure-port')).toEqual([{ name: 'dls-secure-port', value: '28444' }]);
      expect(s.serial).toBe('AB');
    }
    // The same port: nothing added, the job's item is sent.
    const same = bootstrapToSend(protector, sealed, nopin(28444), 28444);
    expect('items' in same && same.items.map((i) => i.name)).toEqual(['dls-client-certificate']);
  });

  it('Secure Mode off holds the job; a sealed part that does not open (other passphrase, no secret) refuses it', () => {
    expect(bootstrapToSend(undefined, sealed, nopin(18444), undefined)).toEqual({ hold: expect.stringMatching(/^held: Secure Mode is off/) as unknown });
    const other = passphraseProtector('another passphrase', newDir(), { scryptCost: 1024 });
    expect(bootstrapToSend(other, sealed, nopin(18444), 18444)).toEqual({ refused: expect.stringMatching(/^the bootstrap credentials cannot be opened/) as unknown });
    expect(bootstrapToSend(protector, undefined, nopin(18444), 18444)).toHaveProperty('refused');
  });

  it('a PIN job whose container is damaged is refused, naming the ports, never sent as it is', () => {
    const job = { id: 9, items: [{ name: 'goto-secure-mode', value: 'pin' }] };
    const damaged = seal(protector, { items: [{ name: 'secure-mode-data', value: 'TERTTQEB' }], tan: '678', pin: '12345678', securePort: 18444 });
    expect(bootstrapToSend(protector, damaged, job, 28444)).toEqual({ refused: expect.stringMatching(/^bootstrap job 9 was prepared for secure port 18444 and cannot be re-packed for this service's secure port 28444 \(secure-mode-data is truncated or damaged \(6 bytes\)\): nothing was sent; cancel it and bootstrap the phone again$/) as unknown });
  });
});
