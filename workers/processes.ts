import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

/**
 * Starts one of our TypeScript entry points as its own OS process (one node process,
 * TypeScript loaded through tsx), as a GPU node or service would run in production.
 */
export function spawnTsProcess(
  script: string,
  args: string[] = [],
  options: { env?: NodeJS.ProcessEnv; stdio?: StdioOptions } = {},
): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...process.env, ...options.env },
    stdio: options.stdio ?? 'inherit',
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
