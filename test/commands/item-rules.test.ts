/**
 * What a written item must have, by the catalogue: an index when the item is indexed, a value when
 * its type has no empty value. One rule (src/shared/item-rules.ts, also the UI dialog's pre-check), the same refusal from the CLI's
 * `job add write` and the UI's addJob, and nothing queued for any of the selected phones.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalDlsApiHost } from '../../src/main/bridge/api-host';
import { writeItemProblem } from '../../src/main/commands/job-spec';
import type { ApiError } from '../../src/shared/api';
import type { ExchangeSummary } from '../../src/shared/model';
import { runCli } from '../support/cli';
import { FlowHarness } from '../support/handler';
import { tempDirs } from '../support/tmp';
import { interaction, MAC } from '../web/api-harness';

const newDir = tempDirs();
const B = '00:1A:E8:00:00:02';
const open: { h: FlowHarness; api: LocalDlsApiHost }[] = [];
afterEach(async () => {
  for (const { h, api } of open.splice(0)) {
    await api.close();
    h.close();
  }
});

function site() {
  const dir = newDir();
  const h = new FlowHarness(dir);
  const api = new LocalDlsApiHost(
    {
      store: h.store,
      onExchange: (cb: (x: ExchangeSummary) => void) => {
        h.handler.events.on('exchange', cb);
        return () => h.handler.events.off('exchange', cb);
      },
    },
    { dataDir: dir, batchMs: 5, networkInterfaces: () => ({}) },
  );
  open.push({ h, api });
  interaction(h);
  interaction(h, B, '192.0.2.11');
  const cli = (...args: string[]) => runCli([...args, '--data-dir', dir]);
  return { h, api, cli };
}

const refusal = (p: Promise<unknown>) => p.then(() => 'accepted', (e: unknown) => (e instanceof Error ? e.message : String(e)));

describe('items a write must have', () => {
  it('refuses an indexed item without its index, in both front ends, and queues nothing', async () => {
    const { h, api, cli } = site();
    const ui = await refusal(api.addJob([MAC, B], { kind: 'write', items: [{ name: 'function-key-def', value: '3' }] }));
    expect(ui).toContain('function-key-def is indexed (index: key no.): say which one, e.g. function-key-def[1]=3');
    const run = await cli('job', 'add', '--mac', MAC, '--mac', B, 'write', 'function-key-def=3');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('function-key-def is indexed (index: key no.): say which one, e.g. function-key-def[1]=3');
    expect(h.store.jobs.list({})).toEqual([]);
  });

  it('refuses a known item named in other case (the phone would answer "unknown item"), for writes, reads, profiles and overrides, in both front ends; an unknown name in any case passes with its note', async () => {
    const { h, api, cli } = site();
    const said = 'FUNCTION-KEY-DEF is not an item name the phone knows: item names are case-sensitive (function-key-def)';
    expect(await refusal(api.addJob([MAC, B], { kind: 'write', items: [{ name: 'FUNCTION-KEY-DEF', value: '3' }] }))).toContain(said);
    const run = await cli('job', 'add', '--mac', MAC, '--mac', B, 'write', 'FUNCTION-KEY-DEF[1]=3');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(said);
    expect((await cli('job', 'add', '--mac', MAC, 'read', 'Sntp-Addr')).stderr).toContain('Sntp-Addr is not an item name the phone knows: item names are case-sensitive (sntp-addr)');
    expect(await refusal(api.addJob([MAC], { kind: 'read', items: [{ name: 'SNTP-ADDR' }] }))).toContain('(sntp-addr)');
    expect(await refusal(api.setOverrides(MAC, [{ name: 'E164', value: '100' }]))).toContain('E164 is not an item name the phone knows: item names are case-sensitive (e164)');
    const profile = await cli('profile', 'set', 'site', 'Sntp-Addr=pool.ntp.org');
    expect(profile.stderr).toContain('(sntp-addr)');
    // Refused, it is not also called unknown (helper-77: a note said so before the refusal).
    expect(profile.stderr).not.toContain('note:');
    expect(h.store.jobs.list({})).toEqual([]);
    expect(h.store.jobs.profiles()).toEqual([]);
    // Translatable for the UI.
    const e = (await api.addJob([MAC], { kind: 'write', items: [{ name: 'FUNCTION-KEY-DEF', index: 1, value: '3' }] }).catch((x: unknown) => x)) as ApiError;
    expect(e.texts).toEqual([{ key: 'itemNameCase', params: { item: 'FUNCTION-KEY-DEF', known: 'function-key-def' } }]);
    // Not in the catalogue in any case: queued, with the note that says so.
    const unknown = await cli('job', 'add', '--mac', MAC, 'write', 'ACME-THING=1');
    expect(unknown.code, unknown.stderr).toBe(0);
    expect(unknown.stderr).toContain('not in LocalDLS\'s item catalogue');
  });

  it('refuses a catalogue item written in mixed case (enable-WBM, Canonical-lookup-local-code) in any other case, lower case too; as written it passes the catalogue\'s rules', async () => {
    const { h, api, cli } = site();
    // Written all lower case, as the refusal of FUNCTION-KEY-DEF would suggest: still not the phone's name.
    expect(await refusal(api.addJob([MAC], { kind: 'write', items: [{ name: 'enable-wbm', value: 'true' }] }))).toContain('enable-wbm is not an item name the phone knows: item names are case-sensitive (enable-WBM)');
    expect((await cli('job', 'add', '--mac', MAC, 'read', 'canonical-lookup-local-code[1]')).stderr).toContain('(Canonical-lookup-local-code)');
    expect(await refusal(api.setOverrides(MAC, [{ name: 'XML-APP-NAME', index: 1, value: 'x' }]))).toContain('XML-APP-NAME is not an item name the phone knows: item names are case-sensitive (XML-app-name)');
    expect(h.store.jobs.list({})).toEqual([]);
    // As the catalogue writes it: its rules apply (a flag needs a value), and a good value is queued.
    expect(await refusal(api.addJob([MAC], { kind: 'write', items: [{ name: 'enable-WBM', value: '' }] }))).toContain('enable-WBM is empty, but it needs true or false');
    expect((await cli('job', 'add', '--mac', MAC, 'write', 'enable-WBM=true')).code).toBe(0);
    // FUNCTION-KEY-DEF is refused as before, with the same words.
    expect(writeItemProblem({ name: 'FUNCTION-KEY-DEF', index: 1, value: '3' })?.message).toBe('FUNCTION-KEY-DEF is not an item name the phone knows: item names are case-sensitive (function-key-def)');
  });

  it('gives the UI each problem as a text to translate (key and values), a secret value never echoed', async () => {
    const { api } = site();
    const e = (await api.addJob([MAC], { kind: 'write', items: [{ name: 'function-key-def', value: '3' }, { name: 'pwd-retries', value: '' }] }).catch((x: unknown) => x)) as ApiError;
    expect(e.texts).toEqual([
      { key: 'itemNeedsIndexOf', params: { item: 'function-key-def', which: 'key no.', example: 'function-key-def[1]=3' } },
      { key: 'itemNeedsNumber', params: { item: 'pwd-retries', type: 'int', values: '0|2|3|4|5' } },
    ]);
    // A URL's password in a value is masked in the texts as in the message.
    const url = (await api.addJob([MAC], { kind: 'write', items: [{ name: 'function-key-def', value: 'ftp://u:hunter2@h/x' }] }).catch((x: unknown) => x)) as ApiError;
    expect(JSON.stringify(url.texts)).not.toContain('hunter2');
    expect(url.message).not.toContain('hunter2');
  });

  it('refuses an empty value where the type needs one (a number, a flag), in both front ends', async () => {
    const { h, api, cli } = site();
    const ui = await refusal(api.addJob([MAC], { kind: 'write', items: [{ name: 'function-key-def', index: 1, value: '' }, { name: 'pwd-retries', value: '' }] }));
    expect(ui).toContain('function-key-def[1] is empty, but it needs a number');
    expect(ui).toContain('pwd-retries is empty, but it needs a number (0|2|3|4|5)');
    const run = await cli('job', 'add', '--mac', MAC, 'write', 'function-key-def[1]=', 'pwd-retries=');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('function-key-def[1] is empty, but it needs a number');
    expect(run.stderr).toContain('pwd-retries is empty, but it needs a number (0|2|3|4|5)');
    expect(h.store.jobs.list({})).toEqual([]);
  });

  it('never quotes a secret value in the refusal', async () => {
    const { api } = site();
    const ui = await refusal(api.addJob([MAC], { kind: 'write', items: [{ name: 'line-sip-pwd', value: 'hunter2-sip' }] }));
    expect(ui).toContain('line-sip-pwd is indexed');
    expect(ui).not.toContain('hunter2-sip');
  });

  it('refuses key material and goto-secure-mode outside a bootstrap, in writes, profiles and overrides from both front ends, and keeps nothing of the value (helper-62)', async () => {
    const { h, api, cli } = site();
    for (const name of ['dls-client-certificate', 'secure-mode-data', 'bootstrapping-tan', 'goto-secure-mode', ' Secure-Mode-Data ']) {
      const said = `is sent only by a bootstrap (localdls bootstrap, or the Secure Mode view), with the phone's own certificate: not in a write, a profile or an override`;
      expect(await refusal(api.addJob([MAC], { kind: 'write', items: [{ name: name.trim(), value: 'KEY-MATERIAL-Z9' }] }))).toContain(`${name.trim()} ${said}`);
      const run = await cli('job', 'add', '--mac', MAC, 'write', `${name.trim()}=KEY-MATERIAL-Z9`);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain(said);
      expect(await refusal(api.setProfile({ name: 'p1', deviceType: null, matchMac: null, matchE164: null, items: [{ name: name.trim(), value: 'KEY-MATERIAL-Z9' }] }))).toContain(said);
      expect((await cli('profile', 'override', '--mac', MAC, `${name.trim()}=KEY-MATERIAL-Z9`)).stderr).toContain(said);
      expect((await cli('profile', 'set', 'p2', `${name.trim()}=KEY-MATERIAL-Z9`)).stderr).toContain(said);
    }
    expect(writeItemProblem({ name: ' Secure-Mode-Data ', value: 'x' })?.key).toBe('itemBootstrapOnly');
    // The UI gets it as a text to translate, from a write and a profile alike (helper-64: the schema refused it first, in English only).
    for (const call of [api.addJob([MAC], { kind: 'write', items: [{ name: 'secure-mode-data', value: 'x' }] }), api.setProfile({ name: 'p3', deviceType: null, matchMac: null, matchE164: null, items: [{ name: 'secure-mode-data', value: 'x' }] })]) {
      expect(((await call.catch((x: unknown) => x)) as ApiError).texts).toEqual([{ key: 'itemBootstrapOnly', params: { item: 'secure-mode-data' } }]);
    }
    expect(h.store.jobs.list({})).toEqual([]);
    expect(h.store.jobs.profiles()).toEqual([]);
    expect(h.store.jobs.overrides(MAC)).toEqual([]);
  });

  it('holds profiles and overrides to the same rules as writes, from both front ends (helper-61: plug & play sent what job add refuses)', async () => {
    const { h, api, cli } = site();
    const indexed = 'function-key-def is indexed (index: key no.): say which one, e.g. function-key-def[1]=5';
    const empty = 'sntp-tz-offset is empty, but it needs a number';
    const profile = (items: { name: string; index?: number; value: string }[]) => api.setProfile({ name: 'site', deviceType: null, matchMac: '00:1A:E8:*', matchE164: null, items });
    expect(await refusal(profile([{ name: 'function-key-def', value: '5' }]))).toContain(indexed);
    const e = (await profile([{ name: 'sntp-tz-offset', value: '' }]).catch((x: unknown) => x)) as ApiError;
    expect(e.message).toContain(empty);
    expect(e.texts?.[0]?.key).toBe('itemNeedsNumber');
    for (const args of [['profile', 'set', 'site', 'function-key-def=5'], ['profile', 'set', 'site', 'sntp-tz-offset='], ['profile', 'override', '--mac', MAC, 'function-key-def=5']]) {
      const run = await cli(...args);
      expect(run.code, args.join(' ')).not.toBe(0);
      expect(run.stderr).toMatch(/function-key-def is indexed|sntp-tz-offset is empty/);
    }
    expect(h.store.jobs.profiles()).toEqual([]);
    expect(h.store.jobs.overrides(MAC)).toEqual([]);
    // Right, they pass; a profile's secret sent back masked keeps its stored value (the Edit dialog).
    await profile([{ name: 'function-key-def', index: 1, value: '5' }, { name: 'admin-pwd', value: 'Prof-Secret-1' }]);
    await profile([{ name: 'function-key-def', index: 1, value: '6' }, { name: 'admin-pwd', value: '••••••' }]);
    expect(h.store.jobs.profile('site')!.items).toEqual([{ name: 'function-key-def', index: 1, value: '6' }, { name: 'admin-pwd', value: 'Prof-Secret-1' }]);
    expect(writeItemProblem({ name: 'admin-pwd', value: '••••••' }, 'kept')).toBeNull();
  });

  it('lists a device\'s overrides (secrets masked) and removes them, by name or all (helper-61: they could be set only)', async () => {
    const { h, cli } = site();
    expect((await cli('profile', 'override', '--mac', MAC, 'sntp-tz-offset=60', 'admin-pwd=Ovr-Secret-5', 'function-key-def[2]=3')).code).toBe(0);
    const shown = await cli('profile', 'override', '--mac', MAC);
    expect(shown.stdout).toBe(`${MAC}: 3 overrides\n  admin-pwd=••••••\n  function-key-def[2]=3\n  sntp-tz-offset=60\n`);
    expect(JSON.parse((await cli('profile', 'override', '--mac', MAC, '--json')).stdout)).toEqual([{ name: 'admin-pwd', value: '••••••' }, { name: 'function-key-def', index: 2, value: '3' }, { name: 'sntp-tz-offset', value: '60' }]);
    const cleared = await cli('profile', 'override', '--mac', MAC, '--clear', 'function-key-def[2]', 'no-such-item', 'function-key-def[3]');
    expect(cleared.stdout).toBe(`${MAC}: 1 override removed; the phone keeps what it has until something writes it\n`);
    // The names that were no override are said (helper-77: passed over), with what there is.
    expect(cleared.stderr).toBe(`no override no-such-item, function-key-def[3] on ${MAC} (its overrides: admin-pwd, sntp-tz-offset)\n`);
    expect(h.store.jobs.overrides(MAC).map((i) => i.name)).toEqual(['admin-pwd', 'sntp-tz-offset']);
    expect((await cli('profile', 'override', '--mac', MAC, '--clear')).stdout).toContain('2 overrides removed');
    expect((await cli('profile', 'override', '--mac', MAC)).stdout).toBe(`${MAC}: no overrides\n`);
    const unknown = await cli('profile', 'override', '--mac', '00:1A:E8:00:09:99');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no device 00:1A:E8:00:09:99');
  });

  it('refuses the mask as a value (a job copied from a masked view): the phone would keep the bullets as its password', async () => {
    const { h, api, cli } = site();
    const said = 'admin-pwd has the mask (••••••) as its value: type the real value';
    expect(await refusal(api.addJob([MAC], { kind: 'write', items: [{ name: 'admin-pwd', value: '••••••' }] }))).toContain(said);
    const run = await cli('job', 'add', '--mac', MAC, 'write', 'admin-pwd=••••••');
    expect(run.code).toBe(2);
    // The reason alone: no page of usage after a value refused (helper-61).
    expect(run.stderr).toBe(`localdls job: ${said}\n`);
    const override = await cli('profile', 'override', '--mac', MAC, 'admin-pwd=••••••');
    expect(override.code).not.toBe(0);
    expect(override.stderr).toContain('admin-pwd has the mask (••••••) as its value: type the real value');
    expect(h.store.jobs.overrides(MAC)).toEqual([]);
    expect(h.store.jobs.list({})).toEqual([]);
    // Bullets inside a value are a value (a display text), not the mask.
    expect(writeItemProblem({ name: 'display-id-unicode', value: '•••••• Hello' })).toBeNull();
    // Around the mask, in a value views mask (a file URL's password or query, copied from a masked view): refused (helper-63).
    const url = 'file-https-base-url=https://u:••••••@h/x?tok=••••••';
    for (const args of [['job', 'add', '--mac', MAC, 'write', url], ['profile', 'override', '--mac', MAC, url]]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).toContain('file-https-base-url holds the mask (••••••) in its value: type the whole value again');
    }
    expect(h.store.jobs.list({})).toEqual([]);
    expect(h.store.jobs.overrides(MAC)).toEqual([]);
  });

  it('accepts what is right: indexed with an index (0 too), a string cleared with an empty value, items the catalogue does not know', async () => {
    const { h, api, cli } = site();
    const r = await api.addJob([MAC], { kind: 'write', items: [{ name: 'function-key-def', index: 0, value: '3' }, { name: 'sntp-addr', value: '' }] });
    expect(r.jobs).toHaveLength(1);
    const run = await cli('job', 'add', '--mac', B, 'write', 'key-label[2]=Hold', 'my-own-item=');
    expect(run.code, run.stderr).toBe(0);
    expect(h.store.jobs.list({})).toHaveLength(2);
    expect(writeItemProblem({ name: 'my-own-item', value: '' })).toBeNull();
    expect(writeItemProblem({ name: 'key-label', index: 2, value: '' })).toBeNull();
    // One file's deployment items go without an index (several files are indexed).
    expect(writeItemProblem({ name: 'file-type', value: 'LOGO' })).toBeNull();
  });
});
