import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The metric conventions every prooflane process follows (docs/METRICS.md): names start with
 * `prooflane_`, durations are in seconds, labels are snake_case (`chain`, `gpu_class`, `prover`,
 * `worker`, `task_queue`). The Temporal SDK's own metrics keep their `temporal_` names.
 */

/** Histogram buckets of block latencies: resolve 5 ms (orchestration overhead) to 60 s (a slow proof). */
export const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 7.5, 10, 12, 15, 20, 30, 45, 60];

/** Histogram buckets of a block's GPU cost. */
export const GPU_SECONDS_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

/** A process's registry, with Node's process metrics (CPU, memory, event-loop lag) in it. */
export function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
