import type { blockProofWorkflow } from '../workflows';
import { uniqueChain, waitFor } from './support/cluster';
import { useTestStack } from './support/stack';

describe('GPU slots are scarce: the chain head goes first', () => {
  const stack = useTestStack({
    pools: [
      ['a100', 1, 'single-gpu-node'],
      ['l4', 2, 'two-gpu-node'],
    ],
    api: {},
  });

  it("starts the head block's segments before later blocks' segments that were queued earlier", async () => {
    const chainId = uniqueChain('priority');
    const slow = { gpuClass: 'a100', segments: 8, input: { simulate: { segmentMs: 400, aggregateMs: 10 } } };
    // Leases of one segment, the GPUs of the node: a larger lease would queue its segments on the node.
    await stack.api.configure(chainId, { mode: 'pipelined', maxInFlight: 3, startNumber: 1, defaults: { leaseSegments: 1 } });
    // Blocks 2 and 3 arrive first: their 16 segments (6.4 s of work) queue up for the one GPU.
    await stack.api.submit(chainId, 2, slow);
    await stack.api.submit(chainId, 3, slow);
    await waitFor('blocks 2 and 3 to dispatch all their segments', async () => {
      const views = await Promise.all([stack.api.block(chainId, 2), stack.api.block(chainId, 3)]);
      return views.every((view) => (view.segments?.running ?? 0) + (view.segments?.done ?? 0) === 8) ? true : undefined;
    });
    // Then the head arrives. In arrival order it would wait for all 16; with priority it goes next.
    await stack.api.submit(chainId, 1, { ...slow, segments: 2 });
    await stack.api.waitForChain(chainId, 'all three blocks to finalize', (view) => view.finalizedHead === 3);

    // Every segment of the head starts before the later blocks' segments that were already waiting
    // (at most one may have been handed to the GPU at the moment the head's arrived).
    const results = await Promise.all(
      [1, 2, 3].map(async (number) =>
        stack.cluster.client.workflow.getHandle<typeof blockProofWorkflow>((await stack.api.block(chainId, number)).workflowId).result(),
      ),
    );
    const head = results[0].timings.segments;
    const headScheduled = Math.max(...head.map((segment) => segment.scheduledAt));
    const headLastStart = Math.max(...head.map((segment) => segment.startedAt));
    const overtaken = results
      .slice(1)
      .flatMap((result) => result.timings.segments)
      .filter((segment) => segment.startedAt > headScheduled);
    expect(overtaken.length).toBeGreaterThan(2);
    const startedBeforeHead = overtaken.filter((segment) => segment.startedAt < headLastStart);
    expect(startedBeforeHead.length).toBeLessThanOrEqual(1);
  });

  it("aggregates a block whose segments are done before later blocks' queued segments, so it does not hold its place in the window", async () => {
    const chainId = uniqueChain('aggfirst');
    const work = { gpuClass: 'l4', input: { simulate: { segmentMs: 600, aggregateMs: 10 } } };
    await stack.api.configure(chainId, { mode: 'pipelined', maxInFlight: 3, startNumber: 1 });
    // The head (1) is not there yet. Block 3's two segments take both GPUs; then block 2's four
    // segments queue up behind them, nearer the head than block 3.
    await stack.api.submit(chainId, 3, { ...work, segments: 2 });
    await waitFor("block 3's segments to run", async () =>
      (await stack.api.block(chainId, 3)).segments?.running === 2 ? true : undefined,
    );
    await stack.api.submit(chainId, 2, { ...work, segments: 4 });
    await stack.api.waitForChain(chainId, 'blocks 2 and 3 to be proved', (view) => view.proved.includes(2) && view.proved.includes(3));
    await stack.api.submit(chainId, 1, { ...work, segments: 1 });
    await stack.api.waitForChain(chainId, 'the chain to finalize', (view) => view.finalizedHead === 3);

    const [block2, block3] = await Promise.all(
      [2, 3].map(async (number) =>
        stack.cluster.client.workflow.getHandle<typeof blockProofWorkflow>((await stack.api.block(chainId, number)).workflowId).result(),
      ),
    );
    // Block 3's aggregation takes the first GPU that frees up after it is scheduled, before block
    // 2's last two segments, which were queued earlier and are nearer the head.
    const aggregationStart = block3.timings.aggregationLevels[0].startedAt;
    const block2Starts = block2.timings.segments.map((segment) => segment.startedAt).sort((a, b) => a - b);
    expect(aggregationStart).toBeLessThan(block2Starts[3]);
  });
});
