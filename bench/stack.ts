import { LocalSystem } from '../workers/local-system';

/** prooflane as deployed, on this machine, for the benchmark: a fresh SQLite file, fixed ports. */
export function startBenchSystem(options: { apiPort: number; temporalPort: number }): Promise<LocalSystem> {
  return LocalSystem.startTemporary({ name: 'bench', ...options });
}

/** Replaces the GPU pool with one node of `gpus` slots. */
export async function replaceGpuPool(system: LocalSystem, gpus: number): Promise<void> {
  await system.stopGpuWorkers();
  await system.addGpuWorker('h100', gpus, `bench-h100-${gpus}`, ['--provers', 'simulated']);
}

/** The bench's and the soak run's block hash for number `n`: distinct per number, stable across runs. */
export function hashOf(n: number): string {
  return `0x${n.toString(16).padStart(64, '0')}`;
}
