/** Phone messages for tests, built with the codec as a phone would send them. */
import { randomBytes } from 'node:crypto';
import { buildWorkpointMessage, type Item, type WorkpointMessage } from '../../src/main/wpi';

export const nonce = () => randomBytes(16).toString('hex').toUpperCase();

export function startUpItems(mac: string, overrides: Record<string, string> = {}): Item[] {
  const base: Record<string, string> = {
    'device-type': 'OpenStage 60',
    'related-device-type': 'OpenStage 60',
    'software-type': 'Siemens SIP',
    'related-software-type': 'Siemens SIP',
    'software-version': 'V3 R5.12.0',
    'related-software-version': 'V3 R5.12.0',
    'contact-me-uri': 'http://127.0.0.1:8085/contact_dls.html/ContactDLS',
    'mac-addr': mac,
    'configuration-changed-flag': 'true',
    'part-number': 'S30817-S7403-A101-015',
    e164: '49897223290',
    'basic-e164': '49897223290',
    ...overrides,
  };
  return [...Object.entries(base).map(([name, value]) => ({ name, value })), { name: 'gigabit-ethernet', value: '', status: 'failed' }];
}

export function message(m: Partial<WorkpointMessage> & Pick<WorkpointMessage, 'reason'>): string {
  return buildWorkpointMessage({ nonce: nonce(), maxItems: -1, items: [], ...m });
}
