/**
 * Which program holds a TCP port, for the desktop app's "port in use" dialog. Best effort and
 * read-only: Linux reads /proc (sockets of processes this user may see); macOS asks lsof; Windows
 * asks netstat and tasklist. null when it cannot tell (another user's process, tools missing).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface PortOwner {
  pid: number;
  /** The program's name, e.g. "node", "LocalDLS". */
  name: string;
}

export async function portOwner(port: number, platform: NodeJS.Platform = process.platform): Promise<PortOwner | null> {
  try {
    if (platform === 'linux') return linuxPortOwner(port);
    if (platform === 'darwin') return await macPortOwner(port);
    if (platform === 'win32') return await windowsPortOwner(port);
  } catch {
    // The dialog then says "another program".
  }
  return null;
}

/** Listening sockets on `port` from /proc/net/tcp{,6}, then the process holding that socket inode. */
export function linuxPortOwner(port: number, proc = '/proc'): PortOwner | null {
  const inodes = new Set<string>();
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`${proc}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; field 9 is the inode.
      const local = f[1]?.split(':')[1];
      if (local && parseInt(local, 16) === port && f[3] === '0A' && f[9] && f[9] !== '0') inodes.add(`socket:[${f[9]}]`);
    }
  }
  if (inodes.size === 0) return null;
  for (const pid of readdirSync(proc).filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = readdirSync(`${proc}/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`${proc}/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (inodes.has(target)) return { pid: Number(pid), name: readFileSync(`${proc}/${pid}/comm`, 'utf8').trim() };
    }
  }
  return null;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, { timeout: 3000, windowsHide: true }, (err, out) => (err ? reject(err) : resolve(out))));
}

async function macPortOwner(port: number): Promise<PortOwner | null> {
  // -F pc: one field per line, "p<pid>" then "c<command>".
  const out = await run('/usr/sbin/lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-F', 'pc']);
  const pid = /^p(\d+)$/m.exec(out)?.[1];
  const name = /^c(.+)$/m.exec(out)?.[1];
  return pid && name ? { pid: Number(pid), name } : null;
}

async function windowsPortOwner(port: number): Promise<PortOwner | null> {
  const out = await run('netstat', ['-ano', '-p', 'TCP']);
  const line = out.split(/\r?\n/).find((l) => new RegExp(`^\\s*TCP\\s+\\S+:${port}\\s+\\S+\\s+LISTENING\\s+\\d+`).test(l));
  const pid = line?.trim().split(/\s+/).at(-1);
  if (!pid) return null;
  const list = await run('tasklist', ['/FI', `PID eq ${pid}`, '/FO', 'CSV', '/NH']);
  const name = /^"([^"]+)"/.exec(list.trim())?.[1];
  return { pid: Number(pid), name: name ?? 'unknown' };
}
