/**
 * A short run of the fuzzer (npm run fuzz runs the long one): a few thousand cases through the
 * parser and a few hundred over HTTPS against a real Service while a simulated phone keeps doing
 * full start-up interactions. Fixed seed, so a failure here is reproduced with
 * `npm run fuzz -- --seed 0x5EED0001 --replay <id>`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/main/app/service';
import { DEFAULT_LIMITS } from '../../src/main/net/wpi-listener';
import { buildWorkpointMessage, parseWorkpointMessage } from '../../src/main/wpi';
import { tempDirs } from '../support/tmp';
import { buildCorpus } from './fuzz/corpus';
import { CaseMaker } from './fuzz/mutate';
import { checkAnswer, checkParser, Violation } from './fuzz/oracle';
import { runParserCases, runSocketCases, servePhonesUntil, type Failure } from './fuzz/runner';
import { serialize } from './fuzz/xml-model';
import { withRawDb } from '../support/raw-db';

const SEED = 0x5eed0001;
const newDir = tempDirs();
const running: Service[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

const corpus = buildCorpus();
const show = (failures: Failure[]) => failures.slice(0, 5).map((f) => `${f.id} [${f.invariant}] ${f.detail.slice(0, 200)} ops=${f.ops.join(' | ').slice(0, 200)}`);

describe('fuzzing (smoke run)', () => {
  it('builds its corpus from the simulator: every seed is a valid phone message, in both of its forms', () => {
    expect(corpus.length).toBeGreaterThan(30);
    expect(corpus.some((s) => s.message.items.length > 500)).toBe(true);
    expect(corpus.some((s) => s.message.fragment === 'next')).toBe(true);
    for (const seed of corpus) {
      expect(parseWorkpointMessage(seed.bytes)).toEqual(seed.message);
      // The mutable tree prints exactly what the codec builds.
      expect(serialize(seed.doc)).toBe(buildWorkpointMessage(seed.message, { omitItemList: seed.omitItemList === true }));
    }
  });

  it('makes the same case from the same seed and case number', () => {
    const a = new CaseMaker(corpus, SEED).make('p', 4242);
    const b = new CaseMaker(corpus, SEED).make('p', 4242);
    expect(b.bytes.equals(a.bytes)).toBe(true);
    expect(b.ops).toEqual(a.ops);
    expect(new CaseMaker(corpus, SEED + 1).make('p', 4242).bytes.equals(a.bytes)).toBe(false);
  });

  it('has an oracle that catches what it should', () => {
    expect(() => checkAnswer({ parsed: checkParser(corpus[0]!.bytes) }, { status: 500, headers: { 'content-type': 'text/plain', 'content-length': '4' }, body: Buffer.from('boom') })).toThrow(Violation);
    const refused = checkParser(Buffer.from('<x'));
    expect(refused.ok).toBe(false);
    const reason = 'not well-formed XML: something else\n';
    expect(() => checkAnswer({ parsed: refused }, { status: 400, headers: { 'content-type': 'text/plain', 'content-length': String(reason.length) }, body: Buffer.from(reason) })).toThrow(/codec says/);
    const twoLines = 'a\nb\n';
    expect(() => checkAnswer({ parsed: checkParser(corpus[0]!.bytes) }, { status: 400, headers: { 'content-type': 'text/plain', 'content-length': '4' }, body: Buffer.from(twoLines) })).toThrow(/one line/);
  });

  it('parser: 3000 mutated and generated messages, each parsed within contract or refused with one line', () => {
    const failures: Failure[] = [];
    const p = runParserCases(new CaseMaker(corpus, SEED), { from: 0, to: 3000 }, (f) => failures.push(f));
    expect(show(failures)).toEqual([]);
    expect(p.done).toBe(3000);
    // Not degenerate: some cases get through the parser, most do not.
    expect(p.parsed).toBeGreaterThan(150);
    expect(p.parsed).toBeLessThan(2500);
    // The one-scan path agreed with the general one wherever it read a message (checkParser), and
    // it read a fair share of them: the comparison is not vacuous.
    expect(p.canonical).toBeGreaterThan(p.parsed / 4);
  });

  it('socket: 400 cases over HTTPS, all answered right and recorded, while a phone keeps being served', async () => {
    const service = new Service({ dataDir: newDir(), host: '127.0.0.1', port: 0, autoContact: false });
    running.push(service);
    const { port } = await service.start();
    const failures: Failure[] = [];
    let finished = false;
    const phones = servePhonesUntil(`https://127.0.0.1:${port}`, 1, () => finished, 2);
    const result = await runSocketCases({
      port,
      maker: new CaseMaker(corpus, SEED, { http: true, maxBytes: DEFAULT_LIMITS.maxBodyBytes + 16 * 1024 }),
      from: 0,
      to: 400,
      concurrency: 6,
      maxBodyBytes: DEFAULT_LIMITS.maxBodyBytes,
      timeoutMs: 20_000,
      onFailure: (f) => failures.push(f),
    }).finally(() => {
      finished = true;
    });
    const served = await phones;
    expect(show(failures)).toEqual([]);
    expect(result.done).toBe(400);
    expect(result.statuses[200]).toBeGreaterThan(10);
    expect(result.statuses[400]).toBeGreaterThan(100);
    expect(served.failures).toEqual([]);
    expect(served.ok).toBeGreaterThanOrEqual(2);
    const recorded = withRawDb(service.store.dataDir, (db) => db.prepare(`SELECT count(*) AS n FROM exchanges WHERE peer_address = '127.0.0.1'`).get() as { n: number });
    expect(recorded.n).toBe(400);
  });
});
