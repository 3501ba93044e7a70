/**
 * Review of the store's start (093005a): a legacy pki/revoked.json that does not import.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/main/store';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();

describe('review: legacy revocation list', () => {
  // FINDING (low): one entry that is not a hex serial (a hand edit, "0x…") makes every open of the
  // data folder fail, the service's and every CLI command's, with only `"0x0A1C" is not a
  // certificate serial number (hex)`: the message names neither pki/revoked.json nor what to do.
  it('names the file and what to do when an entry cannot be imported', () => {
    const dir = newDir();
    mkdirSync(join(dir, 'pki'));
    writeFileSync(join(dir, 'pki', 'revoked.json'), JSON.stringify({ version: 1, revoked: [{ serial: '0A1B', revokedAt: '2025-01-01T00:00:00Z' }, { serial: '0x0A1C' }] }));
    let message = '';
    try {
      new Store(dir).close();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message === '' || /revoked\.json/.test(message), `refused with: ${message}`).toBe(true);
  });
});
