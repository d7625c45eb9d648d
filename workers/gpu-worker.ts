import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { NativeConnection, Worker, type State } from '@temporalio/worker';
import { Registry } from 'prom-client';
import { createGpuActivities } from '../activities/gpu';
import { ConfigError, loadConfig, runMain } from '../config/env';
import { GpuWorkerConfigSchema } from '../config/processes';
import { proverSettings } from '../config/provers';
import { storageSettings } from '../config/storage';
import { temporalSettings } from '../config/temporal';
import type { GpuClass } from '../domain/block';
import { gpuTaskQueue } from '../domain/names';
import { createProverRegistry, type ProverRegistry } from '../provers/registry';
import type { ArtifactStore } from '../storage/artifact-store';
import { createArtifactStore } from '../storage/factory';
import { GpuWorkerMetrics } from '../observability/gpu-metrics';
import { lifecycleLogger, type Logger } from '../observability/logger';
import { startProcessTelemetry } from '../observability/process-telemetry';
import { GpuSlots } from './gpu-slots';

/**
 * One GPU node: a worker pool that polls its GPU class's task queue of each prover backend it
 * serves while one of its GPUs is free (GpuSlots counts the devices across backends).
 * On SIGTERM/SIGINT it drains: stops polling, lets running proofs finish within the grace time,
 * then cancels the rest so Temporal retries them elsewhere.
 */
export interface GpuWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  gpuClass: GpuClass;
  gpus: number;
  /** The artifact store's URI (see storage/factory.ts): the same store as the orchestration worker's. */
  artifactStore: string;
  identity?: string;
  drainGraceMs?: number;
  /** The backends this node serves: exactly these (config/provers.ts). */
  provers: ProverRegistry;
  /** Where the node's metrics go (observability/gpu-metrics.ts); default: a registry of its own. */
  metrics?: Registry;
  logger?: Logger;
}

/** Worker states in which a node no longer takes tasks but may still finish some. */
const DRAINING_STATES: readonly State[] = ['STOPPING', 'DRAINING', 'DRAINED'];

/** A node's pool: one Temporal worker per served backend, sharing the node's GPUs. */
export class GpuWorkerPool {
  private constructor(
    readonly identity: string,
    readonly workers: readonly Worker[],
    private readonly store: ArtifactStore,
  ) {}

  static async create(options: GpuWorkerOptions): Promise<GpuWorkerPool> {
    const identity = options.identity ?? `${options.gpuClass}@${hostname()}:${process.pid}`;
    const { provers } = options;
    if (provers.size === 0) throw new Error('a GPU worker must serve at least one prover backend');
    const store = createArtifactStore(options.artifactStore);
    const slots = new GpuSlots(options.gpus);
    const activities = createGpuActivities({ provers, store, slots, identity });
    const workers: Worker[] = [];
    const metrics = new GpuWorkerMetrics(
      options.metrics ?? new Registry(),
      {
        gpuClass: options.gpuClass,
        worker: identity,
        slots,
        draining: () => workers.some((worker) => DRAINING_STATES.includes(worker.getState())),
      },
      options.logger,
    );
    workers.push(
      ...(await Promise.all(
        [...provers.keys()].map((prover) =>
          Worker.create({
            connection: options.connection,
            namespace: options.namespace,
            taskQueue: gpuTaskQueue(options.gpuClass, prover),
            identity,
            activities,
            // Each task claims the GPUs it will need as it starts, so the node polls only for what is left.
            interceptors: { activity: [slots.claims(), metrics.interceptor()] },
            // A slot (and a poll) only while a GPU is free that no task on the node still needs: a
            // lease holds one slot but a device per running segment, so slots are counted in GPUs.
            tuner: {
              activityTaskSlotSupplier: slots.slotSupplier(),
              workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
              localActivityTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
              nexusTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
            },
            // Up to one open poll per GPU (the SDK's default stops at 10), so a burst of tasks starts
            // together. (SDK 1.24 reads the poller behaviour, not `maxConcurrentActivityTaskPolls`.)
            activityTaskPollerBehavior: { type: 'simple-maximum', maximum: options.gpus },
            shutdownGraceTime: options.drainGraceMs ?? 30_000,
          }),
        ),
      )),
    );
    return new GpuWorkerPool(identity, workers, store);
  }

  get taskQueues(): string[] {
    return this.workers.map((worker) => worker.options.taskQueue);
  }

  /** Runs until every worker has stopped (shutdown() or SIGTERM/SIGINT, which drain). */
  async run(): Promise<void> {
    // If one worker fails, stop the others too, then report the failure.
    const runs = this.workers.map((worker) =>
      worker.run().catch((error: unknown) => {
        this.shutdown();
        throw error;
      }),
    );
    const outcomes = await Promise.allSettled(runs);
    await this.store.close();
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  }

  shutdown(): void {
    for (const worker of this.workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  }
}

/** The number of GPUs `nvidia-smi` reports, or undefined where there is none. */
export function detectGpuCount(): number | undefined {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=index', '--format=csv,noheader'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const count = out.split('\n').filter((line) => line.trim()).length;
    return count > 0 ? count : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'gpu-class': { type: 'string' },
      gpus: { type: 'string' },
      identity: { type: 'string' },
      'drain-seconds': { type: 'string' },
      provers: { type: 'string' },
    },
  });
  // Flags win over the environment: they are written into it, so every part of this process (and
  // the prover processes it starts) reads one configuration, validated here by one schema.
  const flags = {
    PROOFLANE_GPU_CLASS: values['gpu-class'],
    PROOFLANE_GPUS: values.gpus,
    PROOFLANE_WORKER_IDENTITY: values.identity,
    PROOFLANE_DRAIN_SECONDS: values['drain-seconds'],
    PROOFLANE_PROVERS: values.provers,
  };
  for (const [name, value] of Object.entries(flags)) if (value !== undefined) process.env[name] = value;
  const env = process.env;
  const config = loadConfig('gpu-worker', GpuWorkerConfigSchema, env);
  const gpus = config.PROOFLANE_GPUS ?? detectGpuCount();
  if (gpus === undefined) throw new ConfigError('gpu-worker: no GPUs detected (nvidia-smi not found): pass --gpus N or set PROOFLANE_GPUS');
  const telemetry = await startProcessTelemetry('gpu-worker', config);
  const { logger } = telemetry;
  const settings = temporalSettings(env);
  const provers = createProverRegistry(proverSettings(env));
  try {
    const connection = await NativeConnection.connect(settings.connection);
    try {
      const pool = await GpuWorkerPool.create({
        provers,
        connection,
        namespace: settings.namespace,
        gpuClass: config.PROOFLANE_GPU_CLASS,
        gpus,
        artifactStore: storageSettings(env).artifactStore,
        identity: config.PROOFLANE_WORKER_IDENTITY,
        drainGraceMs: config.PROOFLANE_DRAIN_SECONDS * 1_000,
        metrics: telemetry.registry,
        logger,
      });
      lifecycleLogger(logger).info(
        { worker: pool.identity, gpuClass: config.PROOFLANE_GPU_CLASS, gpus, taskQueues: pool.taskQueues, temporal: settings.address },
        `GPU worker ${pool.identity}: ${gpus} × ${config.PROOFLANE_GPU_CLASS} slots serving ${[...provers.keys()].join(', ')}`,
      );
      await pool.run(); // returns after a drain on SIGTERM/SIGINT
    } finally {
      await connection.close();
    }
  } finally {
    await Promise.all([...provers.values()].map((backend) => backend.close?.()));
    await telemetry.close();
  }
}

if (require.main === module) runMain('gpu-worker', main);
