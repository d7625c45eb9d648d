import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { BlockView } from '../api/schemas';
import { SEARCH_ATTRIBUTES } from '../domain/names';
import { publishedDir, uniqueChain } from './support/cluster';
import { publicationOrder, publications } from './support/history';
import { useTestStack } from './support/stack';

const BLOCKS = 30;

/** A fixed permutation of 0..n-1, so a failure reproduces. */
function shuffled(n: number, seed = 7): number[] {
  const numbers = Array.from({ length: n }, (_, i) => i);
  let state = seed;
  for (let i = n - 1; i > 0; i -= 1) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [numbers[i], numbers[j]] = [numbers[j], numbers[i]];
  }
  return numbers;
}

/** Most blocks proving at the same moment, from their [startedAt, provedAt] intervals. */
function maxConcurrent(views: BlockView[]): number {
  const edges = views.flatMap((view) => [
    { at: Date.parse(view.timings!.startedAt!), delta: 1 },
    { at: Date.parse(view.timings!.provedAt!), delta: -1 },
  ]);
  // An end and a start at the same millisecond do not overlap.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let max = 0;
  for (const edge of edges) {
    current += edge.delta;
    max = Math.max(max, current);
  }
  return max;
}

describe('head-of-chain ordering over HTTP', () => {
  const stack = useTestStack({
    pools: [['h100', 8, 'h100-node']],
    api: {},
  });

  it.each([
    ['sequential', 1],
    ['pipelined', 4],
  ] as const)(
    '%s mode: 30 blocks submitted out of order all finalize in order, never more than %i proving at once',
    async (mode, limit) => {
      const chainId = uniqueChain(mode);
      expect((await stack.api.configure(chainId, { mode, maxInFlight: 4, startNumber: 0 })).status).toBe(200);
      for (const number of shuffled(BLOCKS)) {
        const response = await stack.api.submit(chainId, number, {
          segments: 2,
          input: { simulate: { segmentMs: 40, aggregateMs: 5, jitter: 0.5, seed: number } },
        });
        expect(response.status).toBe(202);
      }
      let mostInFlight = 0;
      const done = await stack.api.waitForChain(chainId, 'all blocks to finalize', (view) => {
        mostInFlight = Math.max(mostInFlight, view.inFlight.length);
        return view.finalizedHead === BLOCKS - 1;
      });
      expect(done).toMatchObject({ queued: [], inFlight: [], proved: [], failed: [], gaps: [] });
      expect(mostInFlight).toBeLessThanOrEqual(limit);

      const views = await Promise.all(Array.from({ length: BLOCKS }, (_, number) => stack.api.block(chainId, number)));
      expect(views.every((view) => view.status === 'finalized' && view.proof?.verified === true)).toBe(true);
      // In order by publication sequence, each number once.
      expect(await publicationOrder(stack.cluster.client, chainId)).toEqual(Array.from({ length: BLOCKS }, (_, n) => n));
      for (const view of views) expect(Date.parse(view.timings!.finalizedAt!)).toBeGreaterThanOrEqual(Date.parse(view.timings!.provedAt!));
      expect(maxConcurrent(views)).toBeLessThanOrEqual(limit);
      // The Web UI sees the final status too: the block workflow closes once finalized.
      const lastBlock = stack.cluster.client.workflow.getHandle(views[BLOCKS - 1].workflowId);
      await lastBlock.result();
      expect((await lastBlock.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.BlockStatus)).toBe('finalized');
      if (mode === 'pipelined') expect(maxConcurrent(views)).toBeGreaterThan(1);
    },
  );

  it('keeps a gap visible and finalizes nothing past it until the missing block arrives', async () => {
    const chainId = uniqueChain('gap');
    await stack.api.configure(chainId, { mode: 'pipelined', maxInFlight: 4, startNumber: 5 });
    await stack.api.submit(chainId, 5);
    await stack.api.submit(chainId, 7);
    const waiting = await stack.api.waitForChain(
      chainId,
      'block 7 to be proved and block 5 finalized',
      (view) => view.proved.includes(7) && view.finalizedHead === 5,
    );
    expect(waiting.finalizedHead).toBe(5);
    expect(waiting.gaps).toEqual([6]);
    expect((await stack.api.block(chainId, 7)).status).toBe('proved');
    await stack.api.submit(chainId, 6);
    const complete = await stack.api.waitForChain(chainId, 'the chain to close the gap', (view) => view.finalizedHead === 7);
    expect(complete.gaps).toEqual([]);
  });

  it('publishes the blocks proved behind a slow head in one call, in order, each once', async () => {
    const chainId = uniqueChain('batch');
    await stack.api.configure(chainId, { mode: 'pipelined', maxInFlight: 6, startNumber: 0 });
    await stack.api.submit(chainId, 0, { segments: 1, input: { simulate: { segmentMs: 3_000 } } });
    for (const number of [1, 2, 3, 4, 5]) await stack.api.submit(chainId, number, { segments: 1, input: { simulate: { segmentMs: 20 } } });
    const waiting = await stack.api.waitForChain(chainId, 'blocks 1-5 proved behind the head', (view) => view.proved.length === 5);
    expect(waiting.finalizedHead).toBeNull();
    await stack.api.waitForChain(chainId, 'all six blocks to finalize', (view) => view.finalizedHead === 5);

    // One publication for the six (the Web UI shows one publishProofs local activity), blocks in ascending order.
    expect(await publications(stack.cluster.client, chainId)).toEqual([[0, 1, 2, 3, 4, 5]]);
    expect(readdirSync(path.join(publishedDir(), chainId)).sort()).toEqual(['0.json', '1.json', '2.json', '3.json', '4.json', '5.json']);
  });
});
