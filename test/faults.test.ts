import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { BlockProofResult } from '../domain/block';
import { blockWorkflowId } from '../domain/names';
import { LocalSystem } from '../workers/local-system';
import type { blockProofWorkflow } from '../workflows';
import { activityRuns, publicationOrder } from './support/history';
import { TestApi } from './support/api';
import { waitFor } from './support/cluster';

/**
 * Faults against real processes: a Temporal server (dev on SQLite, or on PostgreSQL), an orchestration
 * worker, GPU workers and the API, each its own OS process, killed and restarted.
 */
interface Harness {
  system: LocalSystem;
  api: TestApi;
  client: Client;
  dataDir: string;
  close(): Promise<void>;
}

async function startSystem(): Promise<Harness> {
  const system = await LocalSystem.startTemporary({
    name: 'faults',
    env: {
      PROOFLANE_WORKFLOW_BUNDLE: process.env.PROOFLANE_WORKFLOW_BUNDLE,
      // The project's store where it names one (the postgres project's S3 bucket); else the system's own folder.
      ...(process.env.PROOFLANE_ARTIFACT_STORE ? { PROOFLANE_ARTIFACT_STORE: process.env.PROOFLANE_ARTIFACT_STORE } : {}),
    },
  });
  let connection = await Connection.connect({ address: system.server.address });
  const harness: Harness = {
    system,
    api: TestApi.forUrl(system.apiUrl),
    client: new Client({ connection }),
    dataDir: system.dataDir,
    close: async () => {
      await connection.close();
      await system.stop();
    },
  };
  // After a server restart the client reconnects through a fresh connection.
  system.onServerRestart(async (server) => {
    await connection.close().catch(() => undefined);
    connection = await Connection.connect({ address: server.address });
    harness.client = new Client({ connection });
  });
  return harness;
}

const simulate = (segmentMs: number) => ({ input: { simulate: { segmentMs, aggregateMs: 10 } } });

async function blockResult(h: Harness, chainId: string, number: number): Promise<BlockProofResult> {
  const view = await h.api.block(chainId, number);
  return h.client.workflow.getHandle<typeof blockProofWorkflow>(view.workflowId).result();
}

function published(h: Harness, chainId: string): string[] {
  const dir = path.join(h.dataDir, 'published', chainId);
  return existsSync(dir) ? readdirSync(dir).sort((a, b) => parseInt(a) - parseInt(b)) : [];
}

describe('faults against real processes', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startSystem();
  });

  afterEach(async () => {
    await h?.close();
  });

  it('a GPU worker killed mid-lease: its segments run again on another worker within the heartbeat timeout; the proof is published once', async () => {
    const heartbeatTimeoutMs = 2_000;
    await h.api.configure('crash', { mode: 'sequential', startNumber: 0, defaults: { gpuClass: 'h100', segments: 2, heartbeatTimeoutMs } });
    await h.system.addGpuWorker('h100', 2, 'victim');
    expect((await h.api.submit('crash', 0, simulate(6_000))).status).toBe(202);
    // The block's lease runs on the victim and has heartbeated a second or more into its segments' work.
    await waitFor('the lease to run a second on the victim', async () => {
      const view = await h.api.block('crash', 0);
      if (view.status !== 'proving') return undefined;
      const pending = (await h.client.workflow.getHandle(view.workflowId).describe()).raw.pendingActivities ?? [];
      const seconds = (time: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
        time ? Number(time.seconds) + (time.nanos ?? 0) / 1e9 : 0;
      const running = pending.filter(
        (a) => a.lastWorkerIdentity === 'victim' && a.lastStartedTime && seconds(a.lastHeartbeatTime) - seconds(a.lastStartedTime) >= 1,
      );
      return running.length === 1 ? true : undefined;
    });
    await h.system.addGpuWorker('h100', 2, 'survivor');
    const killedAt = Date.now();
    await h.system.stopGpuWorker('victim', 'SIGKILL');
    await h.api.waitForChain('crash', 'block 0 to finalize', (view) => view.finalizedHead === 0);

    const result = await blockResult(h, 'crash', 0);
    expect(result.timings.segments.map((s) => [s.worker, s.attempt])).toEqual([
      ['survivor', 2],
      ['survivor', 2],
    ]);
    // The GPU time the lost attempts held (a second or more each, up to their last heartbeat) is counted with the winners'.
    const winnersMs = result.timings.segments.reduce((sum, s) => sum + (s.finishedAt - s.startedAt), 0);
    expect(result.timings.gpuMs).toBeGreaterThanOrEqual(winnersMs + 2 * 900);
    const recoveryMs = Math.max(...result.timings.segments.map((s) => s.startedAt)) - killedAt;
    console.log(
      `[reliability] GPU worker SIGKILL: segments restarted on another worker ${recoveryMs} ms after the kill (heartbeat timeout ${heartbeatTimeoutMs} ms)`,
    );
    expect(recoveryMs).toBeLessThan(heartbeatTimeoutMs + 3_000);
    expect(published(h, 'crash')).toEqual(['0.json']);
    expect(JSON.parse(readFileSync(path.join(h.dataDir, 'published', 'crash', '0.json'), 'utf8')).proofRef).toBe(result.proofRef);
  });

  it('every GPU worker killed: work waits, nothing fails, and it completes when a worker comes back', async () => {
    await h.api.configure('outage', {
      mode: 'pipelined',
      maxInFlight: 2,
      startNumber: 0,
      defaults: { gpuClass: 'h100', segments: 2, heartbeatTimeoutMs: 1_000 },
    });
    await h.system.addGpuWorker('h100', 2, 'node-a');
    await h.system.addGpuWorker('h100', 2, 'node-b');
    for (const n of [0, 1]) await h.api.submit('outage', n, simulate(2_000));
    await h.api.waitForChain('outage', 'both blocks to prove', (view) => view.inFlight.length === 2);
    await h.system.stopGpuWorkers('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const during = await h.api.chain('outage');
    expect(during).toMatchObject({ inFlight: [0, 1], failed: [], finalizedHead: null });
    const restartedAt = Date.now();
    await h.system.addGpuWorker('h100', 4, 'node-c');
    await h.api.waitForChain('outage', 'the chain to finalize after the outage', (view) => view.finalizedHead === 1);
    console.log(
      `[reliability] all GPU workers killed for 6 s: both blocks finalized ${Date.now() - restartedAt} ms after a worker came back`,
    );
    expect(published(h, 'outage')).toEqual(['0.json', '1.json']);
  });

  it('the orchestration worker killed and restarted: blocks resume, finished leases are not proved again', async () => {
    await h.api.configure('orch', { mode: 'pipelined', maxInFlight: 3, startNumber: 0, defaults: { gpuClass: 'h100', segments: 4 } });
    await h.system.addGpuWorker('h100', 12, 'node');
    for (const n of [0, 1, 2]) await h.api.submit('orch', n, simulate(2_500));
    await h.api.waitForChain('orch', 'three blocks proving', (view) => view.inFlight.length === 3);
    await h.system.killOrchestration('SIGKILL');
    // Segments finish while no orchestration worker runs; Temporal records their results.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const restartedAt = Date.now();
    await h.system.startOrchestration();
    await h.api.waitForChain('orch', 'the chain to finalize', (view) => view.finalizedHead === 2);
    console.log(`[reliability] orchestration worker SIGKILL: 3 blocks finalized ${Date.now() - restartedAt} ms after its restart`);
    for (const n of [0, 1, 2]) {
      const view = await h.api.block('orch', n);
      const runs = await activityRuns(h.client.workflow.getHandle(view.workflowId));
      expect(runs.map((run) => [run.type, run.attempt])).toEqual([['proveLease', 1]]);
      expect((await blockResult(h, 'orch', n)).timings.segments.map((s) => s.attempt)).toEqual([1, 1, 1, 1]);
    }
    expect(published(h, 'orch')).toEqual(['0.json', '1.json', '2.json']);
  });

  it('the Temporal server killed and restarted on its database with 20 blocks in flight: all finalize in order, none lost or proved twice', async () => {
    await h.api.configure('server', { mode: 'pipelined', maxInFlight: 20, startNumber: 0, defaults: { gpuClass: 'h100', segments: 2 } });
    await h.system.addGpuWorker('h100', 8, 'node');
    for (let n = 0; n < 20; n += 1) expect((await h.api.submit('server', n, simulate(1_500))).status).toBe(202);
    await h.api.waitForChain(
      'server',
      '20 blocks in flight',
      (view) => view.inFlight.length + view.proved.length + (view.finalizedHead ?? -1) + 1 === 20 && view.queued.length === 0,
    );
    const killedAt = Date.now();
    await h.system.restartServer('SIGKILL');
    await h.api.waitForChain('server', 'all 20 blocks to finalize', (view) => view.finalizedHead === 19, 180_000);
    console.log(`[reliability] Temporal server SIGKILL with 20 blocks in flight: all finalized ${Date.now() - killedAt} ms after the kill`);
    expect(await publicationOrder(h.client, 'server')).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(published(h, 'server')).toHaveLength(20);
    const blockRuns: string[] = [];
    for await (const run of h.client.workflow.list({ query: `ChainId = 'server' AND WorkflowType = 'blockProofWorkflow'` }))
      blockRuns.push(run.workflowId);
    expect(blockRuns.sort()).toEqual(Array.from({ length: 20 }, (_, n) => blockWorkflowId('server', n)).sort());
  });

  it('the API killed and restarted: no accepted block is lost; a client retry gets 200, not a second proof', async () => {
    await h.api.configure('api', { mode: 'pipelined', maxInFlight: 2, startNumber: 0, defaults: { gpuClass: 'h100', segments: 2 } });
    await h.system.addGpuWorker('h100', 4, 'node');
    for (const n of [0, 1, 2]) expect((await h.api.submit('api', n, simulate(500))).status).toBe(202);
    await h.system.killApi('SIGKILL');
    await h.system.startApi();
    for (const n of [0, 1, 2]) expect((await h.api.submit('api', n, simulate(500))).status).toBe(200);
    await h.api.waitForChain('api', 'all blocks to finalize', (view) => view.finalizedHead === 2);
    expect(published(h, 'api')).toEqual(['0.json', '1.json', '2.json']);
  });

  it('SIGTERM drains a GPU worker: segments that finish within the grace count, the rest of its lease goes to another worker', async () => {
    // Four 3 s segments on two GPUs: two finish within the 5 s grace (and are heartbeated, every 0.8 s
    // with a 1 s timeout), the other two are still running when the grace ends.
    await h.api.configure('drain', {
      mode: 'sequential',
      startNumber: 0,
      defaults: { gpuClass: 'h100', segments: 4, heartbeatTimeoutMs: 1_000 },
    });
    await h.system.addGpuWorker('h100', 2, 'draining', ['--drain-seconds', '5']);
    await h.api.submit('drain', 0, simulate(3_000));
    await waitFor('the lease to run on the draining worker', async () => {
      const view = await h.api.block('drain', 0);
      if (view.status !== 'proving') return undefined;
      const pending = (await h.client.workflow.getHandle(view.workflowId).describe()).raw.pendingActivities ?? [];
      return pending.some((a) => a.lastWorkerIdentity === 'draining' && a.lastStartedTime) ? true : undefined;
    });
    const draining = h.system.stopGpuWorker('draining', 'SIGTERM');
    await h.system.addGpuWorker('h100', 2, 'fresh');
    await draining;
    await h.api.waitForChain('drain', 'block 0 to finalize', (view) => view.finalizedHead === 0);
    const result = await blockResult(h, 'drain', 0);
    // The retry on the fresh worker (the lease's attempt 2) proved only the two the drain cut off.
    const byWorker = result.timings.segments.map((s) => `${s.worker}#${s.attempt}`).sort();
    expect(byWorker).toEqual(['draining#1', 'draining#1', 'fresh#2', 'fresh#2']);
  });
});
