/**
 * electron-builder afterPack hook (electron-builder.yml): refuses a package that lacks the
 * better-sqlite3 build for the platform and CPU it was packed for (the app would start without a
 * database engine), and prints what the app weighs. CommonJS: electron-builder requires hooks.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- electron-builder loads this hook with require() */
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const ARCH = ['ia32', 'x64', 'armv7l', 'arm64', 'universal'];

function sizeOf(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

exports.default = async function afterPack(context) {
  const platform = context.electronPlatformName === 'mas' ? 'darwin' : context.electronPlatformName;
  const arch = ARCH[context.arch] ?? String(context.arch);
  const electron = context.packager.info.framework.version;
  const resources =
    platform === 'darwin' ? join(context.appOutDir, `${context.packager.appInfo.productFilename}.app`, 'Contents', 'Resources') : join(context.appOutDir, 'resources');
  const folder = `electron-${electron}-${platform}-${arch}`;
  const binding = join(resources, 'app.asar.unpacked', 'native', folder, 'better_sqlite3.node');
  if (!existsSync(binding)) {
    throw new Error(
      `after-pack: ${binding} is missing: this ${platform}-${arch} package would start without its database engine. ` +
        `Build it on a ${platform}-${arch} machine with \`node scripts/electron-native.mjs --for-package\` (npm run dist does), then package again.`,
    );
  }
  const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
  const asar = join(resources, 'app.asar');
  const unpacked = join(resources, 'app.asar.unpacked');
  console.log(`after-pack: ${platform}-${arch}: app.asar ${mb(sizeOf(asar))}, app.asar.unpacked ${mb(sizeOf(unpacked))}, whole app ${mb(sizeOf(context.appOutDir))}`);
};
