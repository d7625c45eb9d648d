import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalSystem } from '../workers/local-system';

/** prooflane as deployed, on this machine, for the benchmark: a fresh SQLite file and spare ports. */
export async function startBenchSystem(options: { apiPort: number; temporalPort: number }): Promise<LocalSystem> {
  const workDir = mkdtempSync(path.join(tmpdir(), 'prooflane-bench-'));
  return LocalSystem.start({
    server: { dbFile: path.join(workDir, 'temporal.db'), port: options.temporalPort, headless: true, logLevel: 'error', stdio: 'ignore' },
    apiPort: options.apiPort,
    dataDir: path.join(workDir, 'data'),
    env: { PROOFLANE_LOG_LEVEL: 'ERROR' },
    quiet: true,
  });
}

/** Replaces the GPU pool with one node of `gpus` slots. */
export async function replaceGpuPool(system: LocalSystem, gpus: number): Promise<void> {
  await system.stopGpuWorkers();
  await system.addGpuWorker('h100', gpus, `bench-h100-${gpus}`, ['--provers', 'simulated']);
}
