/**
 * CPU time and memory of another process, read from /proc/<pid>/stat and /proc/<pid>/status
 * (Linux). Used to measure the service process while a separate client process loads it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat (usually 100). */
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

export interface ProcSample {
  /** user + system CPU time so far, ms. */
  cpuMs: number;
  /** Resident set size now, kB. */
  rssKb: number;
  /** Peak resident set size so far (VmHWM), kB. */
  hwmKb: number;
}

/** null when the process is gone. */
export function sampleProc(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { cpuMs: ((utime + stime) * 1000) / clockTicks(), rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** Samples a process every `intervalMs` until stopped: CPU used in the window, peak RSS. */
export class ProcMonitor {
  private timer: NodeJS.Timeout | null = null;
  private first: ProcSample | null = null;
  private last: ProcSample | null = null;
  private peakRssKb = 0;
  private started = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.first = sampleProc(this.pid);
    this.last = this.first;
    this.peakRssKb = this.first?.rssKb ?? 0;
    this.started = performance.now();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
  }

  private tick(): void {
    const s = sampleProc(this.pid);
    if (!s) return;
    this.last = s;
    this.peakRssKb = Math.max(this.peakRssKb, s.rssKb);
  }

  /** CPU ms used since start(), the wall time, and the peak RSS (sampled and VmHWM). */
  stop(): { cpuMs: number; wallMs: number; peakRssMb: number; hwmMb: number; startRssMb: number } {
    if (this.timer) clearInterval(this.timer);
    this.tick();
    const wallMs = performance.now() - this.started;
    const cpuMs = (this.last?.cpuMs ?? 0) - (this.first?.cpuMs ?? 0);
    return { cpuMs, wallMs, peakRssMb: this.peakRssKb / 1024, hwmMb: (this.last?.hwmKb ?? 0) / 1024, startRssMb: (this.first?.rssKb ?? 0) / 1024 };
  }
}
