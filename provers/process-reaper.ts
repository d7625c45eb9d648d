import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import path from 'node:path';

const REAPER_SCRIPT = path.join(__dirname, 'reaper.mjs');

/**
 * Kills external provers' process groups when their worker dies, however it dies. A prover runs
 * in its own process group (so cancellation can kill it and everything it started), which also
 * means nothing kills it when a SIGKILLed worker leaves it behind on the GPU. One small reaper
 * process per worker holds the list of live groups and kills them when the worker's end of its
 * stdin pipe closes.
 */
export class ProcessReaper {
  private reaper?: ChildProcess;
  /** The live groups: a reaper started again (the last one died) is told all of them. */
  private readonly groups = new Set<number>();

  track(pgid: number): void {
    this.groups.add(pgid);
    this.send(`+${pgid}`);
  }

  untrack(pgid: number): void {
    this.groups.delete(pgid);
    this.send(`-${pgid}`);
  }

  private send(line: string): void {
    const reaper = this.start();
    reaper.stdin?.write(`${line}\n`);
  }

  private start(): ChildProcess {
    if (this.reaper && this.reaper.exitCode === null && this.reaper.signalCode === null) return this.reaper;
    const reaper = this.spawnReaper();
    for (const pgid of this.groups) reaper.stdin?.write(`+${pgid}\n`);
    return reaper;
  }

  private spawnReaper(): ChildProcess {
    // Its own session: a Ctrl-C to the worker's terminal must not kill the reaper before the provers.
    const reaper = spawn(process.execPath, [REAPER_SCRIPT], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    reaper.on('error', () => undefined);
    reaper.stdin?.on('error', () => undefined);
    // The reaper never keeps its worker alive; it ends when the worker does.
    reaper.unref();
    (reaper.stdin as Socket | null)?.unref();
    this.reaper = reaper;
    return reaper;
  }
}

/** The process's reaper, shared by every command prover in it. */
export const processReaper = new ProcessReaper();
