// What a broker costs: resident memory and CPU time of every process in the process group
// the harness started it in, read from /proc (Linux).
import { readdirSync, readFileSync } from 'node:fs';

const clockTicksPerSecond = 100;
const pageBytes = 4096;

export interface ResourceSample {
  readonly rssBytes: number;
  readonly cpuSeconds: number;
}

/** Sums RSS (VmRSS of /proc/<pid>/status) and user+system CPU of the processes whose process group is `groupId`. */
export function sampleProcessGroup(groupId: number): ResourceSample {
  let rssBytes = 0;
  let cpuTicks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // the process ended while we looked
    }
    const fields = parseStat(stat);
    if (fields === undefined || fields.groupId !== groupId) continue;
    rssBytes += readVmRssBytes(Number(entry)) ?? fields.rssPages * pageBytes;
    cpuTicks += fields.userTicks + fields.systemTicks;
  }
  return { rssBytes, cpuSeconds: cpuTicks / clockTicksPerSecond };
}

/** /proc/<pid>/status VmRSS of one process, in bytes. */
export function readVmRssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

interface StatFields {
  readonly groupId: number;
  readonly userTicks: number;
  readonly systemTicks: number;
  readonly rssPages: number;
}

// proc(5): the command name is in parentheses and may hold spaces, so fields are counted
// from the last ')'. After it: state(3) ppid(4) pgrp(5) … utime(14) stime(15) … rss(24).
function parseStat(stat: string): StatFields | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat.slice(close + 2).split(' ');
  const field = (number: number): number => Number(fields[number - 3] ?? 'NaN');
  return { groupId: field(5), userTicks: field(14), systemTicks: field(15), rssPages: field(24) };
}

/** Samples a process group at an interval, for RSS-over-time charts. */
export class ResourceSampler {
  readonly points: { readonly seconds: number; readonly rssMb: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private startedAt = Date.now();
  peakRssBytes = 0;

  constructor(
    private readonly groupId: number,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.startedAt = Date.now();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  /** Seconds since start(), on the same axis as the points. */
  elapsedSeconds(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.sample();
  }

  private sample(): void {
    const { rssBytes } = sampleProcessGroup(this.groupId);
    this.peakRssBytes = Math.max(this.peakRssBytes, rssBytes);
    this.points.push({ seconds: (Date.now() - this.startedAt) / 1000, rssMb: rssBytes / 1048576 });
  }
}
