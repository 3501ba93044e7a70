/**
 * What a start of `serve` would make in its data folder, taken before it makes anything: the
 * folders it creates, or what it puts in an empty one (cli/fresh-data-dir.ts takes it back when
 * the start fails). Here, not in cli/: the store takes it again when it makes the folder anew
 * (store/data-dir.ts lockFolder).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** What this start may remove if it fails: the folders it creates, or what it puts in an empty one (and that one's mode). */
export type FreshDataDir = { dir: string; made: 'folder'; top: string } | { dir: string; made: 'contents'; mode: number } | null;

/** Taken before anything is opened or written. */
export function freshDataDir(dir: string): FreshDataDir {
  if (!existsSync(dir)) {
    // The highest folder of the path that is not there yet: a start makes them all (mkdir -p).
    let top = dir;
    while (dirname(top) !== top && !existsSync(dirname(top))) top = dirname(top);
    return { dir, made: 'folder', top };
  }
  try {
    return readdirSync(dir).length === 0 ? { dir, made: 'contents', mode: statSync(dir).mode & 0o7777 } : null;
  } catch {
    return null; // not a folder we can read: the start says why, and nothing is removed
  }
}
