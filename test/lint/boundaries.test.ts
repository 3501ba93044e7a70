/**
 * The lint rule that keeps dependencies pointing downwards (eslint.config.js): a file planted in
 * each layer with a wrong-direction import must fail, the same file with a right-direction import
 * must pass. Runs ESLint's Node API on real files in the tree, removed afterwards.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');

async function lintPlanted(relPath: string, source: string): Promise<string[]> {
  const file = join(ROOT, relPath);
  writeFileSync(file, source);
  try {
    const [result] = await new ESLint({ cwd: ROOT }).lintFiles([file]);
    return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
  } finally {
    rmSync(file, { force: true });
  }
}

const WRONG: [where: string, source: string, why: RegExp][] = [
  ['src/main/store/zz-planted.ts', "import { addJob } from '../commands';\nvoid addJob;\n", /protocol layer .* never imports the commands/],
  ['src/main/wpi/zz-planted.ts', "import { main } from '../cli/main';\nvoid main;\n", /protocol layer/],
  ['src/main/provisioning/zz-planted.ts', "import { registerIpc } from '../bridge/ipc';\nvoid registerIpc;\n", /protocol layer/],
  ['src/main/net/zz-planted.ts', "import { app } from 'electron';\nvoid app;\n", /electron is imported only by the shell/],
  ['src/main/pki/zz-planted.ts', "import { App } from '../../renderer/src/App';\nvoid App;\n", /never imports the renderer/],
  ['src/main/commands/zz-planted.ts', "import { jobCommand } from '../cli/job';\nvoid jobCommand;\n", /commands never import a front end/],
  ['src/main/commands/zz-planted.ts', "import { bridgeSocket } from '../bridge/ws-bridge';\nvoid bridgeSocket;\n", /commands never import a front end/],
  ['src/main/app/zz-planted.ts', "import { addJob } from '../commands';\nvoid addJob;\n", /the composition \(app\) never imports the commands/],
  ['src/main/app/zz-planted.ts', "import { main } from '../cli/main';\nvoid main;\n", /the composition \(app\) never imports/],
  ['src/main/files/zz-planted.ts', "import { Service } from '../app/service';\nvoid Service;\n", /protocol layer/],
  ['src/main/commands/zz-planted.ts', "import { listJobsNewest } from '../store/job-queries';\nvoid listJobsNewest;\n", /import the store through its index/],
  ['src/main/bridge/zz-planted.ts', "import BetterSqlite3 from 'better-sqlite3';\nvoid BetterSqlite3;\n", /only src\/main\/store opens the database/],
  ['src/main/app/zz-planted.ts', "import { RevocationTable } from '../store/revocations';\nvoid RevocationTable;\n", /import the store through its index/],
  ['src/main/cli/zz-planted.ts', "import { ipcMain } from 'electron';\nvoid ipcMain;\n", /electron is imported only/],
  ['src/renderer/src/zz-planted.ts', "import { Store } from '../../main/store';\nvoid Store;\n", /the renderer imports only src\/shared/],
  ['src/shared/zz-planted.ts', "import { Store } from '../main/store';\nvoid Store;\n", /src\/shared is the bottom layer/],
];

describe('the dependency direction is a lint rule', () => {
  it.each(WRONG)('refuses a wrong-direction import in %s', async (where, source, why) => {
    const messages = await lintPlanted(where, source);
    expect(messages.length, `${where} should fail`).toBe(1);
    expect(messages[0]).toMatch(why);
  });

  it('accepts the right direction', async () => {
    expect(await lintPlanted('src/main/commands/zz-planted.ts', "import { Store } from '../store';\nimport { normalizeMac } from '../../shared/mac';\nvoid Store;\nvoid normalizeMac;\n")).toEqual([]);
    expect(await lintPlanted('src/main/cli/zz-planted.ts', "import { addJob } from '../commands';\nvoid addJob;\n")).toEqual([]);
    // Inside the store, its own files and the database driver are its business.
    expect(await lintPlanted('src/main/store/zz-planted.ts', "import BetterSqlite3 from 'better-sqlite3';\nimport { toJob } from './jobs';\nvoid BetterSqlite3;\nvoid toJob;\n")).toEqual([]);
    expect(await lintPlanted('src/renderer/src/zz-planted.ts', "import { normalizeMac } from '../../shared/mac';\nvoid normalizeMac;\n")).toEqual([]);
    // The shell and the IPC bridge may import electron.
    expect(await lintPlanted('src/main/bridge/zz-planted.ts', "import { normalizeMac } from '../../shared/mac';\nvoid normalizeMac;\n")).toEqual([]);
  });
});
