/**
 * Review of the store's bootstrap operations (093005a): `bootstrap --forget` (the phone was reset
 * by hand) after a `bootstrap --undo` (factory reset over the secure channel) that the phone never
 * took. The user has said the phone is already back in Default Mode; nothing should reset it again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { FlowHarness } from '../support/handler';
import { startUpItems } from '../support/messages';
import { exchangeRecord } from '../support/records';
import { tempDirs } from '../support/tmp';
import { interaction, MAC, PEER } from '../web/api-harness';

const newDir = tempDirs();
const open: FlowHarness[] = [];
afterEach(() => open.splice(0).forEach((h) => h.close()));

function securePhone() {
  const dir = newDir();
  const h = new FlowHarness(dir);
  open.push(h);
  interaction(h);
  h.store.commit(exchangeRecord({ mac: MAC, ended: h.clock }), { mode: 'secure', bootstrap: 'done', certSerial: '0A1B2C' }, null);
  const cli = (...args: string[]) => runCli([...args, '--data-dir', dir]);
  return { h, cli };
}

describe('review: forget after an undo the phone never took', () => {
  // FINDING (medium): forgetCertificate() revokes and sets Default Mode but leaves the queued undo
  // (FactoryReset, source bootstrap:undo) pending: the phone, reset by hand, is factory-reset a
  // second time on its next start-up, wiping what was provisioned since. forget should cancel it
  // in the same transaction (or refuse while it is under way, as queueBootstrap does).
  it('leaves no factory reset waiting for a phone the user says was reset by hand', async () => {
    const { h, cli } = securePhone();
    expect(await cli('bootstrap', '--mac', MAC, '--undo')).toMatchObject({ code: 0 });
    expect(h.store.jobs.pending(MAC).map((j) => j.kind)).toEqual(['FactoryReset']);
    // Listed as the undo it is (helper-77: it read as a bootstrap).
    const [undo] = h.store.jobs.pending(MAC);
    expect((await cli('bootstrap', '--status')).stdout).toMatch(new RegExp(`${undo!.id} undo queued`));
    expect((await cli('job', 'list')).stdout).toMatch(new RegExp(`^${undo!.id} .* bootstrap undone: factory reset over the secure channel, back to Default Mode$`, 'm'));
    expect(await cli('bootstrap', '--mac', MAC, '--forget')).toMatchObject({ code: 0 });
    expect(h.store.device(MAC)).toMatchObject({ mode: 'default', certSerial: null });
    expect(h.store.isRevoked('0A1B2C')).toBe(true);

    expect.soft(h.store.jobs.pending(MAC), 'the undo job is still pending after forget').toEqual([]);
    // What the phone gets when it comes back on the Default-Mode port, as the user expects it.
    expect(h.say(PEER, { reason: 'start-up', items: startUpItems(MAC) }).action).toBe('ReadAllItems');
    const answer = h.say(PEER, { reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [] });
    expect(answer.body, 'the phone is factory-reset again (Restart, restart-type FactoryReset)').not.toContain('FactoryReset');
  });

  // FINDING (high): the factory-reset path cancels the jobs queued for a secure phone because
  // "they would now travel in clear text to whoever claims its MAC first" (decide.ts); forget does
  // the same mode change and cancels nothing. A WriteItems queued for the secure phone (here a SIP
  // password) is handed, in the clear Default-Mode channel, to any host that says start-up with
  // that mac-addr.
  it('sends nothing queued for the secure phone to whoever claims its MAC on the Default port after forget', async () => {
    const { h, cli } = securePhone();
    h.store.addJobs([{ mac: MAC, kind: 'WriteItems', items: [{ name: 'sip-pwd', value: 'secret-for-the-secure-channel' }] }], h.clock);
    expect(await cli('bootstrap', '--mac', MAC, '--forget')).toMatchObject({ code: 0 });
    const stranger = '192.0.2.99';
    expect(h.say(stranger, { reason: 'start-up', items: startUpItems(MAC) }).action).toBe('ReadAllItems');
    const answer = h.say(stranger, { reason: 'reply-to', action: 'ReadAllItems', status: 'accepted', items: [] });
    expect(answer.body, 'a job queued for Secure Mode went out on the Default port').not.toContain('secret-for-the-secure-channel');
  });

  // Same for a renewal queued before the forget: a nopin Bootstrap would be sent on the Default
  // port to a phone the user just declared reset. (Checked with the store's operation directly.)
  it('leaves no renewal waiting after forget', () => {
    const { h } = securePhone();
    h.store.queueBootstrap({ mac: MAC, kind: 'Bootstrap', items: [{ name: 'goto-secure-mode', value: 'nopin' }], source: 'bootstrap:renew' }, h.clock);
    h.store.forgetCertificate(MAC, h.clock + 1);
    expect(h.store.bootstrapUnderWay(MAC), 'a renewal is still under way after forget').toBeUndefined();
  });
});
