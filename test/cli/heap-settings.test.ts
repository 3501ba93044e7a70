/**
 * The V8 heap settings a service process applies at start (src/main/app/heap-settings.ts), in a
 * process of their own (they are process-wide): V8 knows the flag (no "unrecognized flag"), and a
 * user's own value of it on node's command line is left alone.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVICE_HEAP_FLAGS } from '../../src/main/app/heap-settings';

const ROOT = resolve(__dirname, '../..');
const SCRIPT = `
import { applyServiceHeapSettings } from './src/main/app/heap-settings.ts';
console.log(JSON.stringify(applyServiceHeapSettings()));
`;

function applied(nodeArgs: string[] = []): { flags: string[]; stderr: string } {
  const r = spawnSync(process.execPath, [...nodeArgs, '--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  expect(r.status, r.stderr).toBe(0);
  return { flags: JSON.parse(r.stdout.trim()) as string[], stderr: r.stderr };
}

describe('service heap settings', () => {
  it('are applied, and V8 knows every flag', () => {
    const r = applied();
    expect(r.flags).toEqual([...SERVICE_HEAP_FLAGS]);
    expect(SERVICE_HEAP_FLAGS).toContain('--heap-growing-percent=50');
    expect(r.stderr).not.toMatch(/unrecognized flag/i);
  });

  it("leave a user's own value alone (node's command line, either spelling)", () => {
    expect(applied(['--heap-growing-percent=80']).flags).toEqual([]);
    expect(applied(['--heap_growing_percent=80']).flags).toEqual([]);
  });
});
