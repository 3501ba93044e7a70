/** Reads a V8 .cpuprofile (node --cpu-prof) into the functions and files with the most self time. */
import { readFileSync } from 'node:fs';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  functions: ProfileEntry[];
  files: ProfileEntry[];
}

/** `from`/`to` (µs since the profile's start) limit it to a window, e.g. the load. */
export function summarizeProfile(path: string, top = 15, root = ''): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0));
  }
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const fname = functionName || '(anonymous)';
    if (fname === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const file = shorten(url, root) || `(${fname.replace(/[()]/g, '')})`;
    const key = url ? `${fname} ${file}:${lineNumber + 1}` : fname;
    fns.set(key, (fns.get(key) ?? 0) + us);
    files.set(fileGroup(file), (files.get(fileGroup(file)) ?? 0) + us);
  }
  const list = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: total === 0 ? 0 : us / total }));
  return { totalMs: total / 1000, idleMs: idle / 1000, functions: list(fns), files: list(files) };
}

function shorten(url: string, root: string): string {
  let u = url.replace(/^file:\/\//, '');
  if (root && u.startsWith(root)) u = u.slice(root.length);
  return u.replace(/\?.*$/, '');
}

/** node_modules/<pkg> or node:internal/<area> or the source file. */
function fileGroup(file: string): string {
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (nm) return `node_modules/${nm[1]}`;
  const internal = /^node:internal\/([^/]+)/.exec(file);
  if (internal) return `node:internal/${internal[1]}`;
  return file;
}
