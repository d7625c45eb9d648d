import { Registry } from 'prom-client';
import { BlockMetrics } from '../observability/block-metrics';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { sequencerWorkflowId } from '../domain/names';
import { TestApi } from './support/api';
import { TestCluster, uniqueChain } from './support/cluster';

/**
 * How a forever-running sequencer moves to new workflow code (docs/RELIABILITY.md, "Upgrades"):
 * the next build changes the sequencer's command sequence behind `patched()`, the orchestration
 * workers are replaced, and the running chain carries on: its old events replay as they ran, new
 * ones take the new path, and the next continue-as-new starts wholly on the new code.
 */
describe('upgrading the workflows under a running chain', () => {
  let cluster: TestCluster;
  let api: TestApi;
  let guarded: string;
  let unguarded: string;

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'prooflane-next-build-'));
    const build = async (variant: 'guarded' | 'unguarded'): Promise<string> => {
      const { code } = await bundleWorkflowCode({
        workflowsPath: require.resolve('../workflows'),
        workflowInterceptorModules: [require.resolve(`./fixtures/next-build/${variant}`)],
        logger: {
          log: () => undefined,
          trace: () => undefined,
          debug: () => undefined,
          info: () => undefined,
          warn: () => undefined,
          error: console.error,
        },
      });
      const file = path.join(dir, `${variant}.js`);
      writeFileSync(file, code);
      return file;
    };
    [guarded, unguarded] = [await build('guarded'), await build('unguarded')];
    cluster = await TestCluster.start({ orchestration: false });
    await cluster.addGpuPool('h100', 4, 'h100-node');
    api = await TestApi.start(cluster);
  });

  afterAll(async () => {
    await api?.close();
    await cluster?.close();
  });

  it('starts a chain on one build and finishes it on the next; the same change without patched() fails replay', async () => {
    const chainId = uniqueChain('upgrade');
    const fast = { input: { simulate: { segmentMs: 20, aggregateMs: 5 } } };
    const current = await cluster.startOrchestrationWorker();
    await api.configure(chainId, { mode: 'pipelined', maxInFlight: 2, startNumber: 0 });
    await api.submit(chainId, 0, fast);
    await api.waitUntilFinalized(chainId, 0);
    // Block 1 waits for an a100 node: it is in flight across the deploy.
    await api.submit(chainId, 1, { ...fast, gpuClass: 'a100' });
    await api.waitForChain(chainId, 'block 1 to start', (view) => view.inFlight.includes(1));
    const sequencer = cluster.client.workflow.getHandle(sequencerWorkflowId(chainId));
    const beforeDeploy = await sequencer.fetchHistory();

    // The deploy: the old build's workers stop, the next build's take over.
    await current.stop();
    const next = await cluster.startOrchestrationWorker(guarded);
    try {
      await api.submit(chainId, 2, fast);
      await cluster.addGpuPool('a100', 2, 'a100-node');
      await api.waitUntilFinalized(chainId, 2);
      const events = (await sequencer.fetchHistory()).events ?? [];
      expect(events.filter((event) => event.workflowTaskFailedEventAttributes)).toEqual([]);
      // The new code ran for the new submission, and only for it.
      expect((await sequencer.describe()).memo).toEqual({ lastSubmitted: 2 });
    } finally {
      await next.stop();
    }

    // The control: the same change without its guard cannot replay what the old build recorded.
    const sinks = new BlockMetrics(new Registry()).sinks();
    await expect(Worker.runReplayHistory({ workflowBundle: { codePath: guarded }, sinks }, beforeDeploy)).resolves.toBeUndefined();
    await expect(Worker.runReplayHistory({ workflowBundle: { codePath: unguarded }, sinks }, beforeDeploy)).rejects.toBeInstanceOf(
      DeterminismViolationError,
    );
  });
});
