import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createGpuActivities } from '../activities/gpu';
import { artifactStoreUri } from '../config/storage';
import { temporalSettings } from '../config/temporal';
import { GpuClassSchema, PROVER_NAMES, ProverNameSchema, type GpuClass } from '../domain/block';
import { gpuTaskQueue } from '../domain/names';
import { defaultProverRegistry, type ProverRegistry } from '../provers/registry';
import { createArtifactStore } from '../storage/factory';
import { GpuSlots } from './gpu-slots';
import { installRuntime } from './runtime';

/**
 * One GPU node: a worker pool that polls its GPU class's task queue of each prover backend it
 * serves, with one activity slot per GPU (per backend: see GpuSlots for a node serving several).
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
  /** The backends this node serves (default: all). */
  provers?: ProverRegistry;
}

/** A node's pool: one Temporal worker per served backend, sharing the node's GPUs. */
export class GpuWorkerPool {
  private constructor(
    readonly identity: string,
    readonly workers: readonly Worker[],
  ) {}

  static async create(options: GpuWorkerOptions): Promise<GpuWorkerPool> {
    const identity = options.identity ?? `${options.gpuClass}@${hostname()}:${process.pid}`;
    const provers = options.provers ?? defaultProverRegistry();
    if (provers.size === 0) throw new Error('a GPU worker must serve at least one prover backend');
    const activities = createGpuActivities({
      provers,
      store: createArtifactStore(options.artifactStore),
      slots: new GpuSlots(options.gpus),
      identity,
    });
    const workers = await Promise.all(
      [...provers.keys()].map((prover) =>
        Worker.create({
          connection: options.connection,
          namespace: options.namespace,
          taskQueue: gpuTaskQueue(options.gpuClass, prover),
          identity,
          activities,
          maxConcurrentActivityTaskExecutions: options.gpus,
          // One open poll per free GPU (the SDK's default stops at 10): a block's segments, scheduled
          // together, start together instead of waiting for pollers to come back. (SDK 1.24 reads
          // the poller behaviour, not `maxConcurrentActivityTaskPolls`.)
          activityTaskPollerBehavior: { type: 'simple-maximum', maximum: options.gpus },
          shutdownGraceTime: options.drainGraceMs ?? 30_000,
        }),
      ),
    );
    return new GpuWorkerPool(identity, workers);
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
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  }

  shutdown(): void {
    for (const worker of this.workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  }
}

/** Parses `--provers simulated,o1js`: the backends a node serves. */
export function servedProvers(list: string | undefined, all: ProverRegistry): ProverRegistry {
  if (list === undefined || list.trim() === '') return all;
  const names = list.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !ProverNameSchema.safeParse(name).success);
  if (unknown.length > 0) throw new Error(`--provers: unknown backend ${unknown.join(', ')} (known: ${PROVER_NAMES.join(', ')})`);
  return new Map([...all].filter(([name]) => names.includes(name)));
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
      'gpu-class': { type: 'string', default: process.env.PROOFLANE_GPU_CLASS },
      gpus: { type: 'string', default: process.env.PROOFLANE_GPUS },
      identity: { type: 'string' },
      'drain-seconds': { type: 'string', default: process.env.PROOFLANE_DRAIN_SECONDS ?? '30' },
      provers: { type: 'string', default: process.env.PROOFLANE_PROVERS },
    },
  });
  const gpuClass = GpuClassSchema.safeParse(values['gpu-class']);
  if (!gpuClass.success)
    throw new Error(`--gpu-class must be one of ${GpuClassSchema.options.join(', ')} (got ${values['gpu-class'] ?? 'nothing'})`);
  const gpus = values.gpus !== undefined ? Number(values.gpus) : detectGpuCount();
  if (gpus === undefined || !Number.isInteger(gpus) || gpus < 1) {
    throw new Error(
      values.gpus !== undefined
        ? `--gpus must be a positive integer (got ${values.gpus})`
        : 'no GPUs detected (nvidia-smi not found): pass --gpus N',
    );
  }
  installRuntime();
  const settings = temporalSettings();
  const connection = await NativeConnection.connect({ address: settings.address });
  const all = defaultProverRegistry();
  const provers = servedProvers(values.provers, all);
  const pool = await GpuWorkerPool.create({
    provers,
    connection,
    namespace: settings.namespace,
    gpuClass: gpuClass.data,
    gpus,
    artifactStore: artifactStoreUri(),
    identity: values.identity,
    drainGraceMs: Number(values['drain-seconds']) * 1_000,
  });
  console.log(
    `GPU worker ${pool.identity}: ${gpus} × ${gpuClass.data} slots serving ${[...provers.keys()].join(', ')} on queues ${pool.taskQueues.join(', ')} (Temporal ${settings.address})`,
  );
  try {
    await pool.run(); // returns after a drain on SIGTERM/SIGINT
  } finally {
    await Promise.all([...all.values()].map((backend) => backend.close?.()));
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`gpu-worker: ${(error as Error).message}`);
    process.exit(1);
  });
}
