import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createHash, randomUUID } from 'node:crypto';
import type { GpuClass } from '../../domain/block';
import { startDirectBlock, type DirectBlockJob } from '../../cli/direct-block';
import { createArtifactStore } from '../../storage/factory';
import { artifactStoreUri, dataDir, publisherUri } from '../../config/storage';
import { temporalSettings } from '../../config/temporal';
import { proverSettings } from '../../config/provers';
import type { ProverName } from '../../domain/block';
import { createProverRegistry, type ProverRegistry } from '../../provers/registry';
import { GpuWorkerPool } from '../../workers/gpu-worker';
import { createOrchestrationWorker } from '../../workers/orchestration-worker';
import { spawnEntryPoint, stopProcess, untilReady } from '../../infra/processes';
import type { blockProofWorkflow } from '../../workflows';

/**
 * Real workers against the real test server: an in-process orchestration worker and
 * GPU pools (in-process or as OS processes), all stopped by `close()`.
 */
export class TestCluster {
  readonly client: Client;
  private readonly running: { worker: Worker; done: Promise<void> }[] = [];
  private readonly processes: ChildProcess[] = [];
  /** One registry for the in-process workers, so its prover processes are stopped with the cluster. */
  private readonly provers = testProvers();
  /** The store the workers share, where direct blocks' inputs go. */
  readonly store = createArtifactStore(artifactStoreUri());

  private constructor(
    private readonly nativeConnection: NativeConnection,
    private readonly clientConnection: Connection,
  ) {
    this.client = new Client({ connection: clientConnection, namespace: temporalSettings().namespace });
  }

  static async start(options: { orchestration?: boolean } = {}): Promise<TestCluster> {
    const { address } = temporalSettings();
    const cluster = new TestCluster(await NativeConnection.connect({ address }), await Connection.connect({ address }));
    if (options.orchestration !== false) await cluster.startOrchestrationWorker();
    return cluster;
  }

  /** An orchestration worker running `workflowBundlePath` (default: the test run's bundle); `stop()` shuts it down (an upgrade test's deploy). */
  async startOrchestrationWorker(workflowBundlePath = process.env.PROOFLANE_WORKFLOW_BUNDLE): Promise<{ stop(): Promise<void> }> {
    const worker = await createOrchestrationWorker({
      connection: this.nativeConnection,
      namespace: temporalSettings().namespace,
      artifactStore: artifactStoreUri(),
      publisher: publisherUri(),
      provers: this.provers,
      workflowBundlePath,
    });
    await this.runWorker(worker);
    const done = this.running.find((running) => running.worker === worker)?.done;
    return {
      stop: async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await done;
      },
    };
  }

  /** An in-process GPU pool; `provers` replaces its backends (a faulty node in a test), `artifactStore` its store (a misconfigured node). */
  async addGpuPool(
    gpuClass: GpuClass,
    gpus: number,
    identity: string,
    provers: ProverRegistry = this.provers,
    artifactStore = artifactStoreUri(),
  ): Promise<GpuWorkerPool> {
    const pool = await GpuWorkerPool.create({
      connection: this.nativeConnection,
      namespace: temporalSettings().namespace,
      gpuClass,
      gpus,
      identity,
      artifactStore,
      drainGraceMs: 1_000,
      provers,
    });
    for (const worker of pool.workers) await this.runWorker(worker);
    return pool;
  }

  /** A GPU pool as its own OS process (for kill tests); resolves once it polls. `env` adds to its environment. */
  async spawnGpuPool(gpuClass: GpuClass, gpus: number, identity: string, env: Record<string, string> = {}): Promise<ChildProcess> {
    const child = spawnEntryPoint('workers/gpu-worker.ts', ['--gpu-class', gpuClass, '--gpus', String(gpus), '--identity', identity], {
      env: { PROOFLANE_METRICS_PORT: '0', ...env }, // no metrics endpoint: the default port may be taken
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.processes.push(child);
    await untilReady(child, 'GPU worker', `GPU worker process ${identity}`);
    return child;
  }

  /** Starts a block outside any chain; its input goes to the cluster's artifact store first. */
  async startBlock(job: DirectBlockJob): Promise<WorkflowHandle<typeof blockProofWorkflow>> {
    return startDirectBlock(this.client, this.store, job);
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map((child) => stopProcess(child, 'SIGTERM', 5_000)));
    for (const { worker } of this.running) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.all(this.running.map(({ done }) => done));
    this.running.length = 0;
    await Promise.all([...this.provers.values()].map((backend) => backend.close?.()));
    await this.store.close();
    await this.clientConnection.close();
    await this.nativeConnection.close();
  }

  private async runWorker(worker: Worker): Promise<void> {
    const done = worker.run();
    this.running.push({ worker, done });
    // run() starts polling at once; a failed start surfaces here instead of later.
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 50))]);
  }
}

/** The backends of the test environment (global-setup serves all, the example prover behind `command`), or only `served`. */
export function testProvers(served?: ProverName[]): ProverRegistry {
  const settings = proverSettings();
  return createProverRegistry({ ...settings, served: served ?? settings.served });
}

/** A file in the example prover's state folder (global-setup's PROOFLANE_EXAMPLE_STATE_DIR): witnesses, recorded pids. */
export function exampleProverFile(name: string): string {
  const dir = process.env.PROOFLANE_EXAMPLE_STATE_DIR;
  if (!dir) throw new Error('PROOFLANE_EXAMPLE_STATE_DIR is not set (test/support/global-setup.ts sets it)');
  return path.join(dir, name);
}

/** The file publisher's folder of the test cluster (its default URI). */
export function publishedDir(): string {
  return path.join(dataDir(), 'published');
}

/** A fresh chain id per test, so tests never share workflow ids. */
export function uniqueChain(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function blockHash(chainId: string, number: number, salt = ''): string {
  return `0x${createHash('sha256').update(`${chainId}/${number}/${salt}`).digest('hex')}`;
}

/** A block job for the simulated prover (on h100 unless `gpuClass` says otherwise), its hash derived from chain and number. */
export function simulatedBlock(
  chainId: string,
  number: number,
  job: Omit<DirectBlockJob, 'chainId' | 'number' | 'hash' | 'prover' | 'gpuClass'> & Partial<Pick<DirectBlockJob, 'gpuClass'>>,
): DirectBlockJob {
  return { chainId, number, hash: blockHash(chainId, number), gpuClass: 'h100', prover: 'simulated', ...job };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until a workflow exists (a block the chain view shows in flight may be a start still on its way to the server). */
export async function untilWorkflowExists(client: Client, workflowId: string): Promise<void> {
  await waitFor(`workflow ${workflowId} to exist`, () =>
    client.workflow
      .getHandle(workflowId)
      .describe()
      .then(
        () => true,
        () => undefined,
      ),
  );
}
