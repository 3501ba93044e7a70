/**
 * The folder's service lock on the error paths around it (helper-80): a lock taken and not handed
 * out must not stay held by the process, and a start that made the folder again after another
 * start took it back leaves nothing behind when it fails in turn.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireServiceLock } from '../../src/main/store';
import { Service } from '../../src/main/app/service';
import { runCli } from '../support/cli';
import { tempDirs } from '../support/tmp';

const newDir = tempDirs();

describe('the service lock on error paths', () => {
  it('is let go when its pid file cannot be written: the next start in this process is not refused as "another service"', async () => {
    const dir = newDir();
    mkdirSync(join(dir, 'service.pid'));
    expect(() => new Service({ dataDir: dir, host: '127.0.0.1', port: 0 })).toThrow(/cannot write .*service\.pid/);
    rmdirSync(join(dir, 'service.pid'));
    const service = new Service({ dataDir: dir, host: '127.0.0.1', port: 0 });
    await service.stop();
    acquireServiceLock(dir).release();
  });

  it('a serve that made the folder again while it waited for the lock, and fails too, takes it back', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    // Warm: the serve below must reach the lock while the other start still holds it.
    await runCli(['serve', '--help']);
    try {
      const site = join(newDir(), 'site');
      // Another start that made the folder, holds its lock, and takes the folder back (as
      // removeFreshDataDir does): this serve sees the folder made, so it is not its own at first.
      const other = spawn(process.execPath, ['--import', 'tsx', '-e', `
        const { acquireServiceLock } = await import(${JSON.stringify(new URL('../../src/main/store/service-lock.ts', import.meta.url).pathname)});
        const { mkdirSync, rmSync } = await import('node:fs');
        mkdirSync(${JSON.stringify(site)}, { recursive: true });
        const lock = acquireServiceLock(${JSON.stringify(site)});
        console.log('held');
        await new Promise((r) => setTimeout(r, 150));
        rmSync(${JSON.stringify(site)}, { recursive: true });
        lock.release();
      `], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = once(other, 'exit');
      await once(other.stdout!, 'data');
      const result = await runCli(['serve', '--data-dir', site, '--host', '127.0.0.1', '--port', String(port), '--no-auto-contact']);
      expect((await exited)[0]).toBe(0);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/in use by another program/);
      expect(existsSync(site)).toBe(false);
    } finally {
      busy.close();
    }
  }, 30_000);
});
