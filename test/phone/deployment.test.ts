/** FileDeployment / SoftwareDeployment (manual p.52–58, p.177, p.245). */
import { afterEach, describe, expect, it } from 'vitest';
import type { Item } from '../../src/main/wpi';
import {
  allItems,
  deployedFiles,
  parseFileDeployment,
  parseSoftwareDeployment,
  SimulatedPhone,
  softwareVersionLabel,
  stamp,
  START_UP_ITEM_NAMES,
  type PhoneOptions,
} from '../../src/phone';
import { scriptedTransport, startService, type Script, type TestService } from './helpers';

const NOW = new Date(2024, 5, 10, 15, 35, 52).getTime(); // 10:06:2024 15:35:52 local time, as on p.54
const valueOf = (items: Item[], name: string, index?: number) => items.find((i) => i.name === name && (index === undefined || i.index === index))?.value;

function phoneWith(script: Script, options: Partial<PhoneOptions> = {}) {
  const transport = scriptedTransport(script);
  const phone = new SimulatedPhone({ server: 'https://127.0.0.1:1', mac: '00:1A:E8:00:07:01', transport, now: () => NOW, ...options });
  return { phone, transport };
}

/** Answers the first message with `action`, anything after with CleanUp. */
const once = (action: 'FileDeployment' | 'SoftwareDeployment', items: Item[]): Script => (m) => (m.reason === 'solicited' ? { action, items } : { action: 'CleanUp' });

const FTP_LOGO: Item[] = [
  { name: 'file-server', value: '127.0.0.1' },
  { name: 'file-port', value: '21' },
  { name: 'file-username', value: 'ftp' },
  { name: 'file-pwd', value: 'secret' },
  { name: 'file-path', value: '/media' },
  { name: 'file-name', value: 'Logo for OpenStage 80.png' },
  { name: 'file-type', value: 'LOGO' },
];

describe('FileDeployment, single file (p.52–54)', () => {
  it('sends RFC status with the basic items and file-deployment-* of the file, then stores it', async () => {
    const { phone, transport } = phoneWith(once('FileDeployment', FTP_LOGO));
    const before = deployedFiles(phone.config).length;
    const result = await phone.runInteraction('solicited');
    expect(result).toMatchObject({ ok: true, end: 'CleanUp', actions: ['FileDeployment', 'CleanUp'], files: [{ action: 'deploy', name: 'Logo for OpenStage 80.png', type: 'LOGO', status: 'ok', index: before + 1 }] });
    const status = transport.messages[1];
    expect(status.reason).toBe('status');
    expect(status.action).toBeUndefined();
    const names = status.items.map((i) => i.name);
    expect(names.slice(0, START_UP_ITEM_NAMES.length)).toEqual([...START_UP_ITEM_NAMES]);
    expect(valueOf(status.items, 'mac-addr')).toBe('00:1A:E8:00:07:01');
    expect(status.items.slice(START_UP_ITEM_NAMES.length)).toEqual([
      { name: 'file-deployment-status', index: before + 1, value: 'ok' },
      { name: 'file-deployment-date', index: before + 1, value: '10:06:2024' },
      { name: 'file-deployment-time', index: before + 1, value: '15:35:52' },
      { name: 'file-deployment-name', index: before + 1, value: 'Logo for OpenStage 80.png' },
      { name: 'file-deployment-type', index: before + 1, value: 'LOGO' },
    ]);
    // Reported by ReadAllItems from now on (p.245).
    const all = allItems(phone.config);
    expect(valueOf(all, 'file-deployment-name', before + 1)).toBe('Logo for OpenStage 80.png');
    expect(valueOf(all, 'file-deployment-status', before + 1)).toBe('ok');
  });

  it('takes the name from file-https-base-url and reports a failed download as failed', async () => {
    const { phone, transport } = phoneWith(once('FileDeployment', [{ name: 'file-https-base-url', value: 'https://127.0.0.1/media/missing%20ring.mp3' }, { name: 'file-type', value: 'RINGTONE' }]));
    const result = await phone.runInteraction('solicited');
    expect(result.files).toEqual([expect.objectContaining({ name: 'missing ring.mp3', status: 'failed' })]);
    expect(valueOf(transport.messages[1].items, 'file-deployment-status')).toBe('failed');
    expect(valueOf(transport.messages[1].items, 'file-deployment-name')).toBe('missing ring.mp3');
  });

  it('fails the names given in failFiles', async () => {
    const { phone, transport } = phoneWith(once('FileDeployment', FTP_LOGO), { failFiles: ['Logo for OpenStage 80.png'] });
    await phone.runInteraction('solicited');
    expect(valueOf(transport.messages[1].items, 'file-deployment-status')).toBe('failed');
  });

  it('redeploying the same name and type keeps its index', async () => {
    const { phone, transport } = phoneWith(once('FileDeployment', FTP_LOGO));
    await phone.runInteraction('solicited');
    await phone.runInteraction('solicited');
    const indexOf = (n: number) => transport.messages[n].items.find((i) => i.name === 'file-deployment-name')?.index;
    expect(indexOf(3)).toBe(indexOf(1));
  });

  it('answers items it cannot use with reply-to status="failed" (p.29)', async () => {
    const { phone, transport } = phoneWith(once('FileDeployment', [{ name: 'file-type', value: 'LOGO' }]));
    expect((await phone.runInteraction('solicited')).ok).toBe(true);
    expect(transport.messages[1]).toMatchObject({ reason: 'reply-to', action: 'FileDeployment', status: 'failed' });
  });
});

describe('FileDeployment, multiple files (p.55)', () => {
  it('applies every index (deploy and delete) and sends no status: reply-to accepted with <ItemList/>', async () => {
    // Every phone starts with the same three stored files (same MAC); delete the first.
    const existing = deployedFiles(phoneWith(() => ({ action: 'CleanUp' })).phone.config)[0];
    const items: Item[] = [
      { name: 'file-server', value: '127.0.0.1' }, // shared by every index
      { name: 'file-action', index: 1, value: 'deploy' },
      { name: 'file-name', index: 1, value: 'moh-jazz.mp3' },
      { name: 'file-type', index: 1, value: 'MOH' },
      { name: 'file-action', index: 2, value: 'deploy' },
      { name: 'file-https-base-url', index: 2, value: 'https://127.0.0.1/pics/team.jpg' },
      { name: 'file-type', index: 2, value: 'PIC' },
      { name: 'file-action', index: 3, value: 'delete' },
      { name: 'file-name', index: 3, value: existing.name },
      { name: 'file-type', index: 3, value: existing.type },
    ];
    const { phone: p2, transport: t2 } = phoneWith(once('FileDeployment', items));
    const result = await p2.runInteraction('solicited');
    expect(result).toMatchObject({ ok: true, actions: ['FileDeployment', 'CleanUp'] });
    expect(result.files?.map((f) => [f.action, f.name, f.status])).toEqual([
      ['deploy', 'moh-jazz.mp3', 'ok'],
      ['deploy', 'team.jpg', 'ok'],
      ['delete', existing.name, 'ok'],
    ]);
    expect(t2.messages.map((m) => m.reason)).toEqual(['solicited', 'reply-to']);
    expect(t2.messages[1]).toMatchObject({ action: 'FileDeployment', status: 'accepted', items: [] });
    expect(t2.sent[1]).toContain('<ItemList/>');
    const names = deployedFiles(p2.config).map((f) => f.name);
    expect(names).toContain('moh-jazz.mp3');
    expect(names).toContain('team.jpg');
    expect(names).not.toContain(existing.name);
  });

  it('parses the single and multiple forms', () => {
    expect(parseFileDeployment(FTP_LOGO)).toEqual({ multiple: false, files: [{ action: 'deploy', name: 'Logo for OpenStage 80.png', type: 'LOGO', source: 'ftp://127.0.0.1:21/media/Logo for OpenStage 80.png' }] });
    expect(parseFileDeployment([{ name: 'file-action', index: 1, value: 'move' }, { name: 'file-type', index: 1, value: 'LOGO' }])).toEqual({ error: 'index 1: file-action "move" is neither deploy nor delete' });
    expect(parseFileDeployment([{ name: 'file-https-base-url', value: 'http://127.0.0.1/a.png' }, { name: 'file-type', value: 'LOGO' }])).toEqual({ error: 'file-https-base-url must be https://, not http://' });
  });
});

describe('SoftwareDeployment (p.56–57)', () => {
  const FTP_FIRMWARE: Item[] = [
    { name: 'file-server', value: '127.0.0.1' },
    { name: 'file-port', value: '21' },
    { name: 'file-username', value: 'ftp' },
    { name: 'file-pwd', value: 'ftp' },
    { name: 'file-path', value: '/OS/SIP/HI' },
    { name: 'file-name', value: 'opera_bl_ip_sip_v1_r4_9_0.img' },
    { name: 'file-type', value: 'APP' },
    { name: 'file-sw-type', value: 'Siemens SIP' },
    { name: 'file-sw-version', value: '1.4.9.0' },
    { name: 'file-priority', value: 'normal' },
  ];

  it('ends the interaction without a reply, reboots and reports the new software-version at start-up', async () => {
    const { phone, transport } = phoneWith(once('SoftwareDeployment', FTP_FIRMWARE));
    const result = await phone.runInteraction('solicited');
    expect(result).toMatchObject({ ok: true, end: 'SoftwareDeployment', exchanges: 1, softwareVersion: 'V1 R4.9.0' });
    expect(transport.sent).toHaveLength(1);
    expect(phone.reboots).toBe(1);
    const next = await phone.runInteraction('solicited');
    expect(next.reason).toBe('start-up');
    expect(valueOf(transport.messages[1].items, 'software-version')).toBe('V1 R4.9.0');
    expect(valueOf(transport.messages[1].items, 'related-software-version')).toBe('V1 R4.9.0');
    // A factory reset keeps the firmware.
    phone.factoryReset();
    expect(valueOf(allItems(phone.config), 'software-version')).toBe('V1 R4.9.0');
  });

  it('answers reply-to failed for an unusable version or a failed download, and stays up', async () => {
    for (const items of [
      FTP_FIRMWARE.map((i) => (i.name === 'file-sw-version' ? { ...i, value: 'latest' } : i)),
      FTP_FIRMWARE.map((i) => (i.name === 'file-name' ? { ...i, value: 'missing.img' } : i)),
      FTP_FIRMWARE.map((i) => (i.name === 'file-priority' ? { ...i, value: '1' } : i)),
    ]) {
      const { phone, transport } = phoneWith(once('SoftwareDeployment', items));
      expect((await phone.runInteraction('solicited')).end).toBe('CleanUp');
      expect(transport.messages[1]).toMatchObject({ reason: 'reply-to', action: 'SoftwareDeployment', status: 'failed' });
      expect(phone.reboots).toBe(0);
    }
  });

  it('maps file-sw-version to software-version', () => {
    expect(softwareVersionLabel('1.4.9.0')).toBe('V1 R4.9.0');
    expect(softwareVersionLabel('3.5.12.0')).toBe('V3 R5.12.0');
    expect(softwareVersionLabel('V3 R5.12.0')).toBe('V3 R5.12.0');
    expect(softwareVersionLabel('3.5')).toBeUndefined();
    expect(parseSoftwareDeployment(FTP_FIRMWARE)).toMatchObject({ version: '1.4.9.0', label: 'V1 R4.9.0', priority: 'normal', source: 'ftp://127.0.0.1:21/OS/SIP/HI/opera_bl_ip_sip_v1_r4_9_0.img' });
    expect(parseSoftwareDeployment(FTP_FIRMWARE.filter((i) => i.name !== 'file-priority'))).toMatchObject({ priority: 'immediate' });
  });

  it('formats dates as dd:mm:yyyy and hh:mm:ss', () => {
    expect(stamp(new Date(2008, 5, 10, 15, 5, 2))).toEqual({ date: '10:06:2008', time: '15:05:02' });
  });
});

describe('deployment over HTTPS', () => {
  let service: TestService | undefined;
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  it('sends the status message in the same session (with the cookie) and takes the next action', async () => {
    service = await startService((m) => {
      if (m.reason === 'solicited') return { action: 'FileDeployment', items: FTP_LOGO };
      if (m.reason === 'status') return { action: 'ReadItems', items: [{ name: 'file-deployment-name', value: '' }] };
      return { action: 'CleanUp' };
    });
    const phone = new SimulatedPhone({ server: service.url, mac: '00:1A:E8:00:07:09' });
    const result = await phone.runInteraction('solicited');
    expect(result).toMatchObject({ ok: true, actions: ['FileDeployment', 'ReadItems', 'CleanUp'] });
    const [first, status, reply] = service.requests;
    expect(first.message.reason).toBe('solicited');
    expect(status.message.reason).toBe('status');
    expect(status.headers.cookie).toBe('JSESSIONID=ABC123; path=/DeploymentService; secure');
    expect(reply.message.items.map((i) => i.value)).toContain('Logo for OpenStage 80.png');
  });
});
