/**
 * Service errors in the UI's language: an ApiError's texts (stable key + values) survive the wire,
 * malformed ones from a confused or hostile peer are dropped (the English message stays), the
 * renderer translates known keys and falls back to the message for unknown ones, and every key
 * the service sends has an English and a German text.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, fromWireError, toWireError } from '../../src/shared/api';
import { validateArgs } from '../../src/shared/api-args';
import { CATALOGUE } from '../../src/shared/catalogue';
import { writeItemProblem } from '../../src/shared/item-rules';
import { errorText } from '../../src/renderer/src/lib/api-error';
import { i18next } from '../../src/renderer/src/i18n';
import en from '../../src/renderer/src/i18n/locales/en/errors.json';
import de from '../../src/renderer/src/i18n/locales/de/errors.json';

afterEach(() => void i18next.changeLanguage('en'));

const conflict = new ApiError('conflict', '00:1A:E8:00:00:01 has a bootstrap under way (job 7, queued): cancel that job first to start again', [
  { key: 'bootstrapUnderWay', params: { mac: '00:1A:E8:00:00:01', job: 7, state: 'queued' } },
]);

describe('ApiError texts on the wire', () => {
  it('cross a transport intact', () => {
    const back = fromWireError(JSON.parse(JSON.stringify(toWireError(conflict))));
    expect(back).toMatchObject({ code: 'conflict', message: conflict.message, texts: conflict.texts });
    // An error without texts stays without.
    expect(fromWireError(toWireError(new ApiError('not-found', 'gone'))).texts).toBeUndefined();
    expect(toWireError(new Error('boom'))).toEqual({ code: 'internal', message: 'boom' });
  });

  it('drops malformed texts and keeps the message', () => {
    const bad: unknown[] = [
      'bootstrapUnderWay',
      [{ key: '__proto__', params: {} }],
      [{ key: 'errors:noJob', params: {} }],
      [{ key: 'x'.repeat(65), params: {} }],
      [{ key: 'noJob', params: { id: { nested: 1 } } }],
      [{ key: 'noJob', params: { 'a.b': 1 } }],
      [{ key: 'noJob', params: { id: true } }],
      Array.from({ length: 51 }, () => ({ key: 'noJob', params: {} })),
      [],
    ];
    for (const texts of bad) {
      const e = fromWireError({ code: 'not-found', message: 'no job 3', texts });
      expect(e.texts, JSON.stringify(texts).slice(0, 80)).toBeUndefined();
      expect(e.message).toBe('no job 3');
    }
    // Long values are cut, not refused.
    expect(fromWireError({ code: 'not-found', message: 'm', texts: [{ key: 'noProfile', params: { name: 'n'.repeat(5000) } }] }).texts![0]!.params.name).toHaveLength(2000);
  });
});

describe('errorText', () => {
  it('says a known error in the UI language and an unknown one as the service worded it', async () => {
    expect(errorText(conflict)).toBe('00:1A:E8:00:00:01 has a bootstrap under way (job #7, queued): cancel that job first to start again.');
    await i18next.changeLanguage('de');
    expect(errorText(conflict)).toBe('Für 00:1A:E8:00:00:01 läuft bereits ein Bootstrap (Job #7, eingereiht): Brechen Sie diesen Job zuerst ab, um neu zu beginnen.');
    // Several problems: each translated, in order.
    const two = new ApiError('bad-argument', 'addJob: …', [writeItemProblem({ name: 'function-key-def', value: '1' })!, writeItemProblem({ name: 'e164', index: null, value: '' }) ?? { key: 'noJob', params: { id: 1 } }]);
    expect(errorText(two)).toMatch(/^function-key-def ist indiziert.*; /);
    // A key this UI does not know (a newer service): the English message, not a raw key.
    expect(errorText(new ApiError('conflict', 'something new happened', [{ key: 'somethingNew', params: {} }]))).toBe('something new happened');
    expect(errorText(new Error('plain'))).toBe('plain');
    expect(errorText('text')).toBe('text');
  });
});

describe('a refused argument', () => {
  const refusal = (method: Parameters<typeof validateArgs>[0], args: unknown[]) => {
    try {
      validateArgs(method, args);
    } catch (e) {
      return fromWireError(JSON.parse(JSON.stringify(toWireError(e))));
    }
    throw new Error(`${method} accepted ${JSON.stringify(args)}`);
  };

  it('is said in the UI language with the value as given, not the internal method name', async () => {
    const mac = refusal('getDeviceTimeline', ['garbage']);
    // The English message keeps the detail (CLI, logs).
    expect(mac.message).toMatch(/^getDeviceTimeline: mac/);
    await i18next.changeLanguage('de');
    expect(errorText(mac)).toBe('„garbage“ ist keine MAC-Adresse: Die MAC eines Telefons besteht aus sechs Hex-Paaren, z. B. 00:1A:E8:12:34:56.');
    expect(errorText(refusal('getInteraction', ['x1']))).toBe('„x1“ ist hier nicht gültig (id): Prüfen Sie die Adresse oder Ihre Eingabe.');
    // A structured argument keeps the validator's precise words (and a hostile object is not echoed).
    const spec = refusal('addJob', [['00:1A:E8:00:00:01'], { kind: 'write', items: [{ name: 'a b', value: '1' }] }]);
    expect([spec.texts, errorText(spec)]).toEqual([undefined, spec.message]);
    expect(refusal('getDeviceTimeline', [{ toString: 'x' }]).texts).toBeUndefined();
    // A long value is cut.
    expect(errorText(refusal('getDeviceTimeline', ['g'.repeat(500)])).length).toBeLessThan(200);
    for (const m of [mac, refusal('getInteraction', ['x1'])]) expect(errorText(m)).not.toMatch(/getDeviceTimeline|getInteraction/);
  });
});

describe('every text the service sends', () => {
  /** The service's sources, as text: the keys written there as `[{ key: 'name', params:`. */
  const SOURCES = import.meta.glob<string>(['../../src/main/**/*.ts', '../../src/shared/**/*.ts'], { query: '?raw', import: 'default', eager: true });

  it('has an English and a German translation', () => {
    const keys = new Set(Object.values(SOURCES).flatMap((text) => [...text.matchAll(/\[\{ key: '(\w+)', params:/g)].map((m) => m[1]!)));
    expect(keys).toContain('bootstrapUnderWay');
    for (const entry of CATALOGUE) {
      for (const probe of [{ name: entry.name, value: '' }, { name: entry.name, index: 1, value: '' }]) {
        const p = writeItemProblem(probe);
        if (p) keys.add(p.key);
      }
    }
    expect(keys.size).toBeGreaterThan(15);
    for (const key of keys) {
      expect(Object.keys(en), key).toContain(key);
      expect(Object.keys(de), key).toContain(key);
    }
  });
});
