import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { NativeConnection, Worker } from '@temporalio/worker';
import { FileArtifactStore } from '../activities/artifact-store';
import { GpuSlots } from '../activities/gpu-slots';
import { createGpuActivities } from '../activities';
import { GpuClassSchema, type GpuClass } from '../domain/block';
import { gpuTaskQueue } from '../domain/names';
import { dataDir, temporalSettings } from '../infra/temporal/settings';
import { defaultProverRegistry, type ProverRegistry } from '../provers/registry';
import { installRuntime } from './runtime';

/**
 * One GPU node: a worker that polls only its GPU class's task queue, with one activity
 * slot per GPU. On SIGTERM/SIGINT it drains: stops polling, lets running proofs finish
 * within the grace time, then cancels the rest so Temporal retries them elsewhere.
 */
export interface GpuWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  gpuClass: GpuClass;
  gpus: number;
  artifactsDir: string;
  identity?: string;
  drainGraceMs?: number;
  provers?: ProverRegistry;
}

export async function createGpuWorker(options: GpuWorkerOptions): Promise<Worker> {
  const identity = options.identity ?? `${options.gpuClass}@${hostname()}:${process.pid}`;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: gpuTaskQueue(options.gpuClass),
    identity,
    activities: createGpuActivities({
      provers: options.provers ?? defaultProverRegistry(),
      store: new FileArtifactStore(options.artifactsDir),
      slots: new GpuSlots(options.gpus),
      identity,
    }),
    maxConcurrentActivityTaskExecutions: options.gpus,
    shutdownGraceTime: options.drainGraceMs ?? 30_000,
  });
}

/** The number of GPUs `nvidia-smi` reports, or undefined where there is none. */
export function detectGpuCount(): number | undefined {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=index', '--format=csv,noheader'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
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
    },
  });
  const gpuClass = GpuClassSchema.safeParse(values['gpu-class']);
  if (!gpuClass.success) throw new Error(`--gpu-class must be one of ${GpuClassSchema.options.join(', ')} (got ${values['gpu-class'] ?? 'nothing'})`);
  const gpus = values.gpus !== undefined ? Number(values.gpus) : detectGpuCount();
  if (gpus === undefined || !Number.isInteger(gpus) || gpus < 1) {
    throw new Error(values.gpus !== undefined ? `--gpus must be a positive integer (got ${values.gpus})` : 'no GPUs detected (nvidia-smi not found): pass --gpus N');
  }
  installRuntime();
  const settings = temporalSettings();
  const connection = await NativeConnection.connect({ address: settings.address });
  const provers = defaultProverRegistry();
  const worker = await createGpuWorker({
    provers,
    connection,
    namespace: settings.namespace,
    gpuClass: gpuClass.data,
    gpus,
    artifactsDir: path.join(dataDir(), 'artifacts'),
    identity: values.identity,
    drainGraceMs: Number(values['drain-seconds']) * 1_000,
  });
  console.log(`GPU worker ${worker.options.identity}: ${gpus} × ${gpuClass.data} slots on queue ${gpuTaskQueue(gpuClass.data)} (Temporal ${settings.address})`);
  try {
    await worker.run(); // returns after a drain on SIGTERM/SIGINT
  } finally {
    await Promise.all([...provers.values()].map((backend) => backend.close?.()));
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`gpu-worker: ${(error as Error).message}`);
    process.exit(1);
  });
}
