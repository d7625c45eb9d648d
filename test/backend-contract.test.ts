import { buildAggregationTree, type TreeNode } from '../domain/aggregation-tree';
import type { BlockRef } from '../domain/block';
import type { ProverBackend, ProverContext } from '../provers/backend';
import { standaloneProverContext } from '../provers/runtime';
import { testProvers } from './support/cluster';

/** The suite every prover backend passes: plan, prove, aggregate with its fan-in, verify, reject tampering. */
const block: BlockRef = { chainId: 'contract', number: 42, hash: `0x${'ab'.repeat(32)}` };
const input = { simulate: { segmentMs: 1, aggregateMs: 1, verifyMs: 0 } };

function context(): ProverContext {
  return standaloneProverContext({ progressIntervalMs: 100 });
}

async function proveTree(backend: ProverBackend, node: TreeNode, segmentCount: number): Promise<Uint8Array> {
  if (node.kind === 'segment') return backend.proveSegment({ block, input, index: node.index, segmentCount }, context());
  const children = await Promise.all(node.children.map((child) => proveTree(backend, child, segmentCount)));
  return backend.aggregate({ block, input, from: node.from, to: node.to, children }, context());
}

const registry = testProvers();
// Real provers take seconds per proof: they prove the smallest tree that still aggregates.
const SIZES: Record<string, number[]> = { simulated: [1, 2, 5], command: [1, 2, 5], o1js: [2], groth16: [1, 9] };

afterAll(async () => {
  await Promise.all([...registry.values()].map((backend) => backend.close?.()));
});

describe.each([...registry.values()].map((backend) => [backend.name, backend] as const))('prover backend "%s"', (name, backend) => {
  it.each(SIZES[name])(
    'proves, aggregates and verifies a block of %i segments',
    async (segments) => {
      const plan = await backend.plan({ block, input, requestedSegments: segments, defaultFanIn: 2 }, context());
      expect(plan.segmentCount).toBeGreaterThanOrEqual(1);
      expect(plan.fanIn).toBeGreaterThanOrEqual(2);
      const proof = await proveTree(backend, buildAggregationTree(plan.segmentCount, plan.fanIn), plan.segmentCount);
      await expect(
        backend.verify({ block, input, segmentCount: plan.segmentCount, fanIn: plan.fanIn, proof }, context()),
      ).resolves.toMatchObject({ valid: true });
    },
    600_000,
  );

  it('rejects a tampered proof, a proof of another block and a partial proof', async () => {
    const plan = await backend.plan({ block, input, requestedSegments: 2, defaultFanIn: 2 }, context());
    const tree = buildAggregationTree(plan.segmentCount, plan.fanIn);
    const proof = await proveTree(backend, tree, plan.segmentCount);
    const verify = (bytes: Uint8Array, ref: BlockRef = block, segmentCount = plan.segmentCount) =>
      backend.verify({ block: ref, input, segmentCount, fanIn: plan.fanIn, proof: bytes }, context());

    // One character changed in the middle of the proof's longest field (a digest or the proof body).
    const text = Buffer.from(proof).toString('utf8');
    const longest = [...text.matchAll(/[A-Za-z0-9+/]{40,}/g)].sort((a, b) => b[0].length - a[0].length)[0];
    const at = (longest.index ?? 0) + Math.floor(longest[0].length / 2);
    const tampered = Buffer.from(text.slice(0, at) + (text[at] === 'a' ? 'b' : 'a') + text.slice(at + 1));
    expect((await verify(tampered)).valid).toBe(false);
    expect((await verify(Buffer.from('not a proof'))).valid).toBe(false);
    expect((await verify(proof, { ...block, hash: `0x${'cd'.repeat(32)}` })).valid).toBe(false);
    expect((await verify(proof, block, plan.segmentCount + 1)).valid).toBe(false);
  }, 600_000);
});
