import { describe, expect, it } from 'vitest';
import { parseWorkpointMessage, refusedItemCount } from '../../src/main/wpi';
import { wpm } from './helpers';

const reply = (action: string, items: string, status = 'accepted') =>
  parseWorkpointMessage(wpm(`<ReasonForContact action="${action}" status="${status}">reply-to</ReasonForContact><ItemList>${items}</ItemList>`));

describe('refusedItemCount: items the phone refused in its reply to a write (manual p.82–83)', () => {
  it('counts the items with a status in a reply-to WriteItems, whatever the status says', () => {
    const items = '<Item name="device-type" status="read only">OpenStage 60</Item><Item name="no-such-item" status="unknown item"/><Item name="sntp-addr">pool.ntp.org</Item>';
    expect(refusedItemCount(reply('WriteItems', items))).toBe(2);
    expect(refusedItemCount(reply('WriteItems', '<Item name="e164" status="some new status"/>'))).toBe(1);
    expect(refusedItemCount(reply('WriteItems', ''))).toBe(0);
  });

  it('refuses nothing in a busy reply, or one whose status is not "accepted" as written', () => {
    const items = '<Item name="sntp-addr" status="invalid data"/>';
    expect(refusedItemCount(reply('WriteItems', items, 'busy'))).toBe(0);
    expect(refusedItemCount(reply('WriteItems', items, 'Accepted'))).toBe(0);
    expect(refusedItemCount(reply('WriteItems', items, 'failed'))).toBe(0);
  });

  it('refuses nothing in reads and start-ups, where a status marks an item the phone cannot provide', () => {
    expect(refusedItemCount(reply('ReadItems', '<Item name="no-such-item" status="unknown item"/>'))).toBe(0);
    const startUp = parseWorkpointMessage(wpm('<ReasonForContact>start-up</ReasonForContact><ItemList><Item name="mac-addr">00:1A:E8:00:00:01</Item><Item name="gigabit-ethernet" status="failed"/></ItemList>'));
    expect(refusedItemCount(startUp)).toBe(0);
  });
});
