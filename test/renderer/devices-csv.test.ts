/** The device list as CSV, and the "unreachable" state from the contact-me bookkeeping. */
import { describe, expect, it } from 'vitest';
import type { DeviceView } from '../../src/shared/api';
import { csvCell, devicesCsv } from '../../src/renderer/src/lib/devices-csv';
import { deviceStates } from '../../src/renderer/src/lib/device-state';
import { i18next } from '../../src/renderer/src/i18n';

const device = (over: Partial<DeviceView> = {}): DeviceView => ({
  mac: '00:1A:E8:00:00:01', e164: '4989', deviceType: 'OpenStage 60', softwareVersion: 'V3 R5.12.0', partNumber: null, contactMeUri: null,
  lastAddress: '192.0.2.10', mode: 'default', state: 'idle', tlsProtocol: 'TLSv1.3', profile: null, lastContactMe: null, bootstrap: null,
  certSerial: null, firstContact: 0, lastContact: 86_400_000, contactFailures: 0, lastContactError: null, lastContactMeOutcome: null, lastContactMeError: null, jobs: { queued: 1, sent: 0, waitingBusy: 1 }, ...over,
});

const tDevices = i18next.getFixedT('en', 'devices');

describe('devices CSV', () => {
  it('has a header and one CRLF line per device, quoting what needs it', () => {
    const csv = devicesCsv([device(), device({ mac: '00:1A:E8:00:00:02', deviceType: 'Model "X", rev 2' })]);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('mac,e164,device_type,software_version,mode,state,bootstrap,jobs_waiting,last_address,tls,profile,first_contact,last_contact,last_contact_error');
    expect(lines[1]).toBe('00:1A:E8:00:00:01,4989,OpenStage 60,V3 R5.12.0,default,idle,,2,192.0.2.10,TLSv1.3,,1970-01-01T00:00:00.000Z,1970-01-02T00:00:00.000Z,');
    expect(lines[2]).toContain(',"Model ""X"", rev 2",');
    expect(lines.at(-1)).toBe('');
  });

  it('defuses what a spreadsheet would run as a formula (values a phone reports)', () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('+49 89')).toBe("'+49 89");
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell(null)).toBe('');
  });

  it('a phone whose contact-me failed is unreachable, with the reason, in the list and the CSV', () => {
    const d = device({ contactFailures: 3, lastContactError: 'connection refused by 192.0.2.10:8085' });
    expect(deviceStates(d, tDevices)).toContainEqual({ label: 'unreachable', tone: 'error', title: 'connection refused by 192.0.2.10:8085' });
    expect(devicesCsv([d])).toContain(',unreachable,');
    expect(deviceStates(device({ jobs: { queued: 1, sent: 0, waitingBusy: 0 } }), tDevices).map((s) => s.label)).toEqual(['idle']);
  });
});
