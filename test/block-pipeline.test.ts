import { WorkflowFailedError } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../domain/names';
import { blockProgressQuery } from '../workflows/definitions';
import { activityRuns } from './support/history';
import { simulatedBlock, testProvers, uniqueChain, waitFor } from './support/cluster';
import { useTestStack } from './support/stack';

describe('block proof workflow on a real Temporal server', () => {
  const stack = useTestStack({
    pools: [['h100', 8, 'h100-node']],
  });

  it('proves a block in one lease on one node: every segment runs exactly once and the aggregated proof verifies', async () => {
    const chainId = uniqueChain('pipeline');
    const handle = await stack.cluster.startBlock(
      simulatedBlock(chainId, 7, {
        segments: 6,
        input: { simulate: { segmentMs: 100, aggregateMs: 20 } },
      }),
    );
    const result = await handle.result();

    expect(result.verified).toBe(true);
    expect(result.proofRef).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.timings.segments.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(result.timings.segments.every((s) => s.worker === 'h100-node' && s.attempt === 1)).toBe(true);
    // The block fits one lease (8 segments by default): one GPU task, the block's whole tree.
    const gpuRuns = await activityRuns(handle);
    expect(gpuRuns).toEqual([{ type: 'proveLease', attempt: 1, identity: 'h100-node', completed: true }]);
    // 6 segments at fan-in 4: one aggregation of 4, one of 2, then the root.
    expect(result.aggregationLevels).toBe(2);
    expect(result.timings.aggregationLevels.map((level) => level.nodes)).toEqual([2, 1]);
    expect(result.timings.overheadMs).toBeGreaterThanOrEqual(0);
    expect(result.timings.totalMs).toBeGreaterThanOrEqual(result.timings.criticalPathMs);

    const progress = await handle.query(blockProgressQuery);
    expect(progress).toMatchObject({ status: 'proved', segments: { total: 6, done: 6, running: 0, failed: 0 } });
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.BlockStatus)).toBe('proved');
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.ChainId)).toBe(chainId);
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.BlockNumber)).toBe(7);
  });

  it('runs segments in parallel across GPU slots', async () => {
    const chainId = uniqueChain('parallel');
    const handle = await stack.cluster.startBlock(
      simulatedBlock(chainId, 1, {
        segments: 8,
        input: { simulate: { segmentMs: 500, aggregateMs: 10 } },
      }),
    );
    const progressWhileRunning = await waitFor('segments to be dispatched', async () => {
      const progress = await handle.query(blockProgressQuery);
      return progress.segments.running > 0 ? progress : undefined;
    });
    expect(progressWhileRunning.status).toBe('proving');
    const result = await handle.result();
    // Serial execution would take 8 × 500 ms; a generous bound that only parallel execution meets.
    expect(result.timings.totalMs).toBeLessThan(2_500);
    expect(new Set(result.timings.segments.map((s) => s.device)).size).toBeGreaterThan(1);
  });

  it('splits a block larger than a lease across leases, and aggregates above them in tasks of their own', async () => {
    const handle = await stack.cluster.startBlock(
      simulatedBlock(uniqueChain('leases'), 1, {
        segments: 8,
        input: { simulate: { segmentMs: 50, aggregateMs: 10 } },
        // Leases of 4 at fan-in 2: two subtrees of 4 segments each, and the root above them.
        options: { fanIn: 2, leaseSegments: 4 },
      }),
    );
    const result = await handle.result();
    expect(result.verified).toBe(true);
    expect(result.timings.segments.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const runs = await activityRuns(handle);
    expect(runs.map((run) => run.type)).toEqual(['proveLease', 'proveLease', 'aggregateProofs']);
    expect(runs.every((run) => run.completed && run.attempt === 1)).toBe(true);
    expect(result.timings.aggregationLevels.map((level) => level.nodes)).toEqual([4, 2, 1]);
  });

  it('builds the aggregation tree from the fan-in: 5 segments at fan-in 2 take 3 levels', async () => {
    const chainId = uniqueChain('tree');
    const result = await (
      await stack.cluster.startBlock(
        simulatedBlock(chainId, 1, {
          segments: 5,
          input: { simulate: { segmentMs: 10, aggregateMs: 10 } },
          options: { fanIn: 2 },
        }),
      )
    ).result();
    expect(result.aggregationLevels).toBe(3);
    expect(result.timings.aggregationLevels.map((level) => level.nodes)).toEqual([2, 1, 1]);
  });

  it('fails a block with bad input at once, without retrying, and says why', async () => {
    const chainId = uniqueChain('badinput');
    const handle = await stack.cluster.startBlock(
      simulatedBlock(chainId, 1, {
        segments: 3,
        input: { simulate: { segmentMs: 50, badInputSegments: [1] } },
      }),
    );
    const error: unknown = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(String((error as WorkflowFailedError).cause?.message)).toContain('segment 1 of block 1: input rejected by the prover');
    // Not retried: the lease ran once.
    expect(await activityRuns(handle)).toEqual([{ type: 'proveLease', attempt: 1, identity: 'h100-node', completed: false }]);
    const progress = await handle.query(blockProgressQuery);
    expect(progress.status).toBe('failed');
    // The segments of the failed lease, none proved.
    expect(progress.segments).toMatchObject({ failed: 3, done: 0, running: 0 });
    expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.BlockStatus)).toBe('failed');
  });

  it('fails a block, naming the missing artifact, when a GPU node uses a store the rest of the cluster does not share', async () => {
    await stack.cluster.addGpuPool('cpu', 2, 'cpu-node-own-store', undefined, `memory://not-shared-${uniqueChain('store')}`);
    const handle = await stack.cluster.startBlock(
      simulatedBlock(uniqueChain('unshared'), 1, { segments: 2, gpuClass: 'cpu', input: { simulate: { segmentMs: 10 } } }),
    );
    const error: unknown = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(String((error as WorkflowFailedError).cause?.message)).toMatch(
      /artifact sha256:[0-9a-f]{64} is not in this process's memory store/,
    );
    expect((await handle.query(blockProgressQuery)).status).toBe('failed');
  });

  it('rejects a malformed workflow input at the workflow boundary', async () => {
    const chainId = uniqueChain('boundary');
    const handle = await stack.cluster.startBlock({
      chainId,
      number: 1,
      hash: 'not-a-hash',
      segments: 0,
      gpuClass: 'h100',
      prover: 'simulated',
    });
    const error: unknown = await handle.result().catch((e: unknown) => e);
    expect(String((error as WorkflowFailedError).cause?.message)).toMatch(/invalid block job: .*hash.*segments/);
  });

  it('retries a segment whose prover crashes, and still proves the block', async () => {
    const chainId = uniqueChain('flaky');
    const result = await (
      await stack.cluster.startBlock(
        simulatedBlock(chainId, 1, {
          segments: 8,
          input: { simulate: { segmentMs: 20, aggregateMs: 5, crashingSegments: { '2': 2, '5': 1 } } },
          // No hedging: a hedged copy would win the race and hide the retries this test looks for.
          options: { maxAttempts: 5, hedgeFactor: 0 },
        }),
      )
    ).result();
    expect(result.verified).toBe(true);
    const retries = Object.fromEntries(result.timings.segments.map((s) => [s.index, s.proverRetries]));
    expect(retries).toEqual({ 0: 0, 1: 0, 2: 2, 3: 0, 4: 0, 5: 1, 6: 0, 7: 0 });
  });

  it('fails a block whose prover keeps crashing after its budget of prover errors, with the reason', async () => {
    const chainId = uniqueChain('budget');
    const handle = await stack.cluster.startBlock(
      simulatedBlock(chainId, 1, {
        segments: 1,
        input: { simulate: { segmentMs: 10, failureRate: 1 } },
        options: { maxAttempts: 3 },
      }),
    );
    const error: unknown = await handle.result().catch((e: unknown) => e);
    // Three tries on the node, the last one named; the lease is not retried by Temporal after that.
    expect((error as WorkflowFailedError).cause?.message).toContain('simulated prover crash in segment:0 (attempt 3)');
    expect(await activityRuns(handle)).toEqual([{ type: 'proveLease', attempt: 1, identity: 'h100-node', completed: false }]);
  });

  it('hedges a straggler: a second copy on a free slot cuts the tail, and only one result counts', async () => {
    const chainId = uniqueChain('hedge');
    const straggler = { segments: 4, input: { simulate: { segmentMs: 100, aggregateMs: 10, slowSegments: { '2': 4_000 } } } };
    const unhedged = await (
      await stack.cluster.startBlock(simulatedBlock(chainId, 1, { ...straggler, options: { hedgeFactor: 0 } }))
    ).result();
    const handle = await stack.cluster.startBlock(simulatedBlock(chainId, 2, { ...straggler, options: { hedgeFactor: 3 } }));
    const hedged = await handle.result();
    expect(unhedged.timings.totalMs).toBeGreaterThanOrEqual(4_000);
    expect(hedged.timings.totalMs).toBeLessThan(unhedged.timings.totalMs / 2);
    expect(hedged.timings.segments.map((s) => s.hedged)).toEqual([false, false, true, false]);
    expect(hedged.verified).toBe(true);
    // The copy ran on another device of the node, inside the lease: one task, its receipt the winner's.
    expect(await activityRuns(handle)).toEqual([{ type: 'proveLease', attempt: 1, identity: 'h100-node', completed: true }]);
    expect(hedged.timings.segments[2].attempt).toBeGreaterThan(1_000);
  });

  it('retries a segment whose prover hangs (stops heartbeating) and still proves the block', async () => {
    const chainId = uniqueChain('hang');
    const result = await (
      await stack.cluster.startBlock(
        simulatedBlock(chainId, 1, {
          segments: 4,
          input: { simulate: { segmentMs: 50, hangingSegments: { '1': 1 } } },
          // No hedging: a hedged copy would replace the hung attempt before its heartbeat times out.
          options: { heartbeatTimeoutMs: 1_000, hedgeFactor: 0 },
        }),
      )
    ).result();
    expect(result.verified).toBe(true);
    // A hang is caught by the heartbeat timeout and retried by Temporal: a later attempt, no prover error spent.
    const attempts = Object.fromEntries(result.timings.segments.map((s) => [s.index, [s.attempt, s.proverRetries]]));
    expect(attempts).toEqual({ 0: [1, 0], 1: [2, 0], 2: [1, 0], 3: [1, 0] });
  });
});

describe('routing by GPU class', () => {
  const stack = useTestStack({
    pools: [
      ['a100', 2, 'a100-node'],
      ['h100', 4, 'idle-h100-node'],
      // Two l4 nodes: one declares only the `command` backend, the other only `simulated`.
      ['l4', 4, 'l4-command-node', testProvers(['command'])],
      ['l4', 1, 'l4-simulated-node', testProvers(['simulated'])],
    ],
  });

  it('proves an a100 block only on a100 workers while an h100 worker idles beside them', async () => {
    const chainId = uniqueChain('routing');
    const handle = await stack.cluster.startBlock(
      simulatedBlock(chainId, 1, {
        segments: 4,
        gpuClass: 'a100',
        input: { simulate: { segmentMs: 50, aggregateMs: 10 } },
      }),
    );
    const result = await handle.result();
    expect(result.gpuClass).toBe('a100');
    expect(await activityRuns(handle)).toEqual([{ type: 'proveLease', attempt: 1, identity: 'a100-node', completed: true }]);
    expect(result.timings.segments.every((s) => s.worker === 'a100-node')).toBe(true);
  });

  it('sends a block only to nodes that declare its prover backend', async () => {
    const chainId = uniqueChain('backend-routing');
    const handle = await stack.cluster.startBlock(
      simulatedBlock(chainId, 1, {
        segments: 4,
        gpuClass: 'l4',
        input: { simulate: { segmentMs: 20, aggregateMs: 5 } },
      }),
    );
    const result = await handle.result();
    expect(result.verified).toBe(true);
    // The command-only node has four idle slots, yet the lease went to the node with one simulated GPU, its segments one by one.
    expect(await activityRuns(handle)).toEqual([{ type: 'proveLease', attempt: 1, identity: 'l4-simulated-node', completed: true }]);
    expect(result.timings.segments.map((s) => s.device)).toEqual([0, 0, 0, 0]);
  });
});
