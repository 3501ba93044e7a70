#!/usr/bin/env node
/**
 * Makes every app icon from resources/icon.svg (npm run icons), with Debian's tools:
 *   apt-get install librsvg2-bin icnsutils icoutils   (rsvg-convert, png2icns, icotool)
 * Writes, for electron-builder (buildResources = resources/) and the window:
 *   resources/icon.png          1024 px: the window icon (Linux, Windows) and electron-builder's fallback
 *   resources/icons/NxN.png     16–512 px: the Linux packages (hicolor sizes)
 *   resources/icon.icns         macOS (16–1024 px)
 *   resources/icon.ico          Windows (16–256 px)
 * The outputs are committed, so building the app does not need these tools.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const resources = join(dirname(fileURLToPath(import.meta.url)), '..', 'resources');
const svg = join(resources, 'icon.svg');

function tool(name, args) {
  try {
    execFileSync(name, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const missing = e.code === 'ENOENT';
    console.error(missing ? `icons: ${name} is not installed: apt-get install librsvg2-bin icnsutils icoutils` : `icons: ${name} ${args.join(' ')} failed:\n${e.stderr ?? e.message}`);
    process.exit(1);
  }
}

const png = (size, out) => tool('rsvg-convert', ['--width', String(size), '--height', String(size), '--keep-aspect-ratio', svg, '--output', out]);

const work = mkdtempSync(join(tmpdir(), 'localdls-icons-'));
try {
  png(1024, join(resources, 'icon.png'));
  mkdirSync(join(resources, 'icons'), { recursive: true });
  for (const size of [16, 24, 32, 48, 64, 128, 256, 512]) png(size, join(resources, 'icons', `${size}x${size}.png`));
  // png2icns picks each image's slot by its size.
  const icns = [16, 32, 48, 128, 256, 512, 1024].map((size) => {
    const out = join(work, `icns-${size}.png`);
    png(size, out);
    return out;
  });
  tool('png2icns', [join(resources, 'icon.icns'), ...icns]);
  const ico = [16, 24, 32, 48, 64, 128, 256].map((size) => join(resources, 'icons', `${size}x${size}.png`));
  tool('icotool', ['--create', '--raw=' + ico.at(-1), '--output', join(resources, 'icon.ico'), ...ico.slice(0, -1)]);
  console.log(`icons: ${resources}/icon.png, icons/*.png, icon.icns, icon.ico from icon.svg`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
