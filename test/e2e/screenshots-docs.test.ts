/**
 * The pictures in the docs are the UI as it is: every docs/screenshots/*.png the README shows
 * exists, each picture there is described in docs/screenshots/README.md, and a browser test takes
 * each one (so `npm run screenshots` renews them all, none is left over from an older UI).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support';

const DIR = join(ROOT, 'docs/screenshots');
const pictures = readdirSync(DIR).filter((f) => f.endsWith('.png')).sort();
const named = (text: string) => [...new Set([...text.matchAll(/docs\/screenshots\/([\w.-]+\.png)/g)].map((m) => m[1]!))];

/** The names the browser tests write: join(shots, NAME.png), and shoot(NAME) (NAME.png and NAME-dark.png). */
function taken(): Set<string> {
  const names = new Set<string>();
  for (const f of readdirSync(join(ROOT, 'test/e2e')).filter((f) => f.endsWith('.test.ts'))) {
    const text = readFileSync(join(ROOT, 'test/e2e', f), 'utf8');
    for (const m of text.matchAll(/shots, '([\w.-]+\.png)'/g)) names.add(m[1]!);
    for (const m of text.matchAll(/\bshoot\('([\w.-]+)'\)/g)) names.add(`${m[1]}.png`).add(`${m[1]}-dark.png`);
  }
  return names;
}

describe('docs/screenshots', () => {
  it('has every picture the README shows', () => {
    const readme = named(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(readme.length).toBeGreaterThan(10);
    expect(readme.filter((f) => !existsSync(join(DIR, f)))).toEqual([]);
    // The ladder, the timeline and the rollouts, light and dark.
    expect(readme).toEqual(expect.arrayContaining(['ladder.png', 'ladder-dark.png', 'timeline.png', 'timeline-dark.png', 'rollouts.png', 'rollouts-dark.png']));
  });

  it('describes each picture it holds, and a browser test takes each one', () => {
    const described = readFileSync(join(DIR, 'README.md'), 'utf8');
    expect(pictures.filter((f) => !described.includes(`\`${f}\``))).toEqual([]);
    const made = taken();
    expect(pictures.filter((f) => !made.has(f))).toEqual([]);
    expect([...made].filter((f) => !pictures.includes(f)).sort()).toEqual([]);
  });
});
