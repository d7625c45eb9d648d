import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { codePath, NODE_LOADER_ARGS } from './entry-points';

/**
 * Starts one of our entry points (a source path from the repository root, e.g.
 * workers/gpu-worker.ts) as its own OS process, as a GPU node or service would run in
 * production: node on the build when this process runs from it, else tsx on the source.
 */
export function spawnEntryPoint(
  entryPoint: string,
  args: string[] = [],
  options: { env?: NodeJS.ProcessEnv; stdio?: StdioOptions } = {},
): ChildProcess {
  return spawn(process.execPath, [...NODE_LOADER_ARGS, codePath(entryPoint), ...args], {
    env: { ...process.env, ...options.env },
    stdio: options.stdio ?? 'inherit',
  });
}

/**
 * Resolves once `child` prints a stdout line containing `readyLine` (each line also goes to
 * `echo`); rejects if it exits first. The child's stdout must be piped.
 */
export function untilReady(child: ChildProcess, readyLine: string, what: string, echo?: (line: string) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      echo?.(line);
      if (line.includes(readyLine)) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`${what} exited (${signal ?? `code ${code}`}) before it was ready`)));
  });
}

/** Sends `signal` and resolves when the process has exited (SIGKILL after `graceMs`). */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A TCP port on loopback that nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
