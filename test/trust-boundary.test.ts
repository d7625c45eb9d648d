import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BlockProofResult } from '../domain/block';
import { SEARCH_ATTRIBUTES, sequencerWorkflowId } from '../domain/names';
import { blockEntryQuery, blockSettledSignal } from '../workflows/definitions';
import { TestApi } from './support/api';
import { publishedDir, uniqueChain, waitFor } from './support/cluster';
import { useTestStack } from './support/stack';

/**
 * What an API client can make the workers do (docs/SECURITY.md): nothing on a path it chose,
 * no backend the cluster does not serve, GPU classes only of the safe alphabet.
 */
describe('trust boundary: API clients and the workers', () => {
  const stack = useTestStack({
    pools: [
      ['l4', 2, 'l4-node'],
      ['rtx5090', 2, 'rtx5090-node'],
    ],
    api: {},
  });

  /** A new chain that starts at 0 with these block defaults, with its block 0 submitted (202). */
  async function chainWithBlock0(prefix: string, defaults: Record<string, unknown>, input: Record<string, unknown>): Promise<string> {
    const chainId = uniqueChain(prefix);
    expect((await stack.api.configure(chainId, { mode: 'pipelined', startNumber: 0, defaults })).status).toBe(200);
    expect((await stack.api.submit(chainId, 0, { input })).status).toBe(202);
    return chainId;
  }

  it('no input field makes a prover write or probe a path the client chose, in plan or prove', async () => {
    const target = path.join(mkdtempSync(path.join(tmpdir(), 'prooflane-target-')), 'chosen-by-a-client');
    // The knobs an earlier example prover obeyed: write a pid to a path, fail unless a path exists.
    const chainId = await chainWithBlock0(
      'paths',
      { gpuClass: 'l4', prover: 'command', segments: 2 },
      { example: { pidFile: target, requireFile: target } },
    );
    // Planning ran the example prover on the orchestration worker, proving on the GPU pool.
    const finalized = await stack.api.waitUntilFinalized(chainId, 0);
    expect(finalized.finalizedHead).toBe(0);
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(path.dirname(target))).toEqual([]);
  });

  it('refuses blocks and chain defaults for a backend the cluster does not serve, naming the served ones', async () => {
    const narrow = await TestApi.start(stack.cluster, { servedProvers: ['simulated', 'o1js'] });
    try {
      const chainId = uniqueChain('unserved');
      const block = await narrow.submit(chainId, 0, { prover: 'command' });
      expect(block.status).toBe(400);
      expect(block.body.error.issues).toEqual([
        { path: 'prover', message: 'prover "command" is not served by this cluster (served: simulated, o1js)' },
      ]);
      const chain = await narrow.configure(chainId, { mode: 'pipelined', defaults: { prover: 'groth16' } });
      expect(chain.status).toBe(400);
      expect(chain.body.error.issues[0]).toEqual({
        path: 'defaults.prover',
        message: 'prover "groth16" is not served by this cluster (served: simulated, o1js)',
      });
      // Nothing was created: the chain does not exist.
      expect((await narrow.request('GET', `/v1/chains/${chainId}`)).status).toBe(404);
    } finally {
      await narrow.close();
    }
  });

  it('proves a block on an operator-named GPU class, whose name reaches task queues and search attributes', async () => {
    const chainId = await chainWithBlock0(
      'rtx',
      { gpuClass: 'rtx5090', prover: 'simulated', segments: 3 },
      { simulate: { segmentMs: 20, aggregateMs: 5 } },
    );
    await stack.api.waitUntilFinalized(chainId, 0);
    const { workflowId } = await stack.api.block(chainId, 0);
    const handle = stack.cluster.client.workflow.getHandle(workflowId);
    const result: BlockProofResult = await handle.result();
    expect(new Set(result.timings.segments.map((segment) => segment.worker))).toEqual(new Set(['rtx5090-node']));
    expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.GpuClass)).toBe('rtx5090');
  });

  it("never publishes a proof the block's own workflow did not produce: a forged report fails the block, a retry proves it", async () => {
    const chainId = await chainWithBlock0(
      'forged',
      { gpuClass: 'l4', prover: 'simulated', segments: 1 },
      { simulate: { segmentMs: 4_000, aggregateMs: 5 } },
    );
    const sequencer = stack.cluster.client.workflow.getHandle(sequencerWorkflowId(chainId));
    const entry = await waitFor('block 0 to be proving', async () => {
      const current = await sequencer.query(blockEntryQuery, 0);
      return current?.status === 'proving' ? current : undefined;
    });
    // Any client of the namespace can signal the sequencer; this one reports block 0 proved with a proof of its choosing.
    const forged = `sha256:${'f'.repeat(64)}`;
    await sequencer.signal(blockSettledSignal, {
      workflowId: entry.workflowId,
      number: 0,
      hash: entry.hash,
      ...(entry.inputRef !== undefined ? { inputRef: entry.inputRef } : {}),
      outcome: 'proved',
      proofRef: forged,
      segments: { total: 1, done: 1, running: 0, failed: 0 },
    });
    const refused = await stack.api.waitForChain(chainId, 'the forged report to be refused', (view) => view.failed.includes(0));
    expect(refused.failures[0].error).toMatch(/^report refused: block .*#0: its workflow .* did not produce proof sha256:f{64}/);
    expect(refused.finalizedHead).toBeNull();
    expect(existsSync(path.join(publishedDir(), chainId, '0.json'))).toBe(false);
    // The run it claimed to be was stopped; a retry proves the block for real.
    await waitFor('the original run to be cancelled', async () =>
      (await stack.cluster.client.workflow.getHandle(entry.workflowId).describe()).status.name === 'CANCELLED' ? true : undefined,
    );
    expect((await stack.api.request('POST', `/v1/chains/${chainId}/blocks/0/retry`)).status).toBe(202);
    await stack.api.waitUntilFinalized(chainId, 0);
    const published = JSON.parse(readFileSync(path.join(publishedDir(), chainId, '0.json'), 'utf8')) as { proofRef: string };
    expect(published.proofRef).not.toBe(forged);
    expect(published.proofRef).toBe((await stack.api.block(chainId, 0)).proof?.ref);
  });

  it.each(['RTX5090', 'rtx 5090', '-h100', 'a'.repeat(33), 'h100/../x'])('refuses the GPU class %j with 400', async (gpuClass) => {
    const response = await stack.api.submit(uniqueChain('bad-class'), 0, { gpuClass });
    expect(response.status).toBe(400);
    expect(response.body.error.issues).toEqual([{ path: 'gpuClass', message: 'a GPU class must match [a-z0-9][a-z0-9-]{0,31}' }]);
  });
});
