import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU seconds spent per role (several processes may share a role) between `start` and `stop`. */
export type CpuShares = Record<string, number>;

let ticksPerSecond: number | undefined;

/** User + system CPU seconds of one process so far, from /proc (Linux); undefined elsewhere or when it is gone. */
function processCpuSeconds(pid: number): number | undefined {
  try {
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are fields 14 and 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/**
 * Measures where the machine's CPU goes during one part of the benchmark: each process of
 * the system by role, plus this benchmark client itself.
 */
export class CpuMeter {
  private readonly startedAt = Date.now();
  private readonly clientStart = process.cpuUsage();
  private readonly start: { role: string; pid: number; seconds: number }[];

  constructor(processes: { role: string; pid: number }[]) {
    this.start = processes.flatMap(({ role, pid }) => {
      const seconds = processCpuSeconds(pid);
      return seconds === undefined ? [] : [{ role, pid, seconds }];
    });
  }

  /** CPU seconds per role since construction, and the wall seconds they were spent in. */
  stop(): { wallSeconds: number; cpuSeconds: CpuShares } {
    const cpuSeconds: CpuShares = {};
    for (const { role, pid, seconds } of this.start) {
      const now = processCpuSeconds(pid);
      if (now !== undefined) cpuSeconds[role] = (cpuSeconds[role] ?? 0) + now - seconds;
    }
    const client = process.cpuUsage(this.clientStart);
    cpuSeconds['benchmark client'] = (client.user + client.system) / 1e6;
    return { wallSeconds: (Date.now() - this.startedAt) / 1000, cpuSeconds };
  }
}
