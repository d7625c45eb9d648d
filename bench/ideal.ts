import { buildAggregationTree, type TreeNode } from '../domain/aggregation-tree';
import type { BlockRef } from '../domain/block';
import type { ProverContext } from '../provers/backend';
import { standaloneProverContext } from '../provers/runtime';
import { SimulatedProver } from '../provers/simulated';

export interface BlockMeasurement {
  segmentMs: number;
  segments: number;
  wallMs: number;
  criticalPathMs: number;
  overheadMs: number;
}

/**
 * The physical limit: the same simulated prover and workload run in this process with no
 * orchestration at all (every segment at once, each aggregation node as soon as its children).
 */
export async function runIdealBlock(
  block: BlockRef,
  segments: number,
  segmentMs: number,
  aggregateMs: number,
  fanIn: number,
): Promise<BlockMeasurement> {
  const prover = new SimulatedProver();
  const input = { simulate: { segmentMs, aggregateMs, verifyMs: 0 } };
  const context = (): ProverContext => standaloneProverContext();
  const timed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
    const started = performance.now();
    const value = await work();
    return [value, performance.now() - started];
  };
  const prove = async (node: TreeNode): Promise<{ proof: Uint8Array; pathMs: number }> => {
    if (node.kind === 'segment') {
      const [proof, ms] = await timed(() => prover.proveSegment({ block, input, index: node.index, segmentCount: segments }, context()));
      return { proof, pathMs: ms };
    }
    const children = await Promise.all(node.children.map(prove));
    const [proof, ms] = await timed(() =>
      prover.aggregate({ block, input, from: node.from, to: node.to, children: children.map((c) => c.proof) }, context()),
    );
    return { proof, pathMs: ms + Math.max(...children.map((c) => c.pathMs)) };
  };
  const started = performance.now();
  const root = await prove(buildAggregationTree(segments, fanIn));
  const [verdict, verifyMs] = await timed(() =>
    prover.verify({ block, input, segmentCount: segments, fanIn, proof: root.proof }, context()),
  );
  if (!verdict.valid) throw new Error('ideal run produced an invalid proof');
  const wallMs = performance.now() - started;
  const criticalPathMs = root.pathMs + verifyMs;
  return { segmentMs, segments, wallMs, criticalPathMs, overheadMs: wallMs - criticalPathMs };
}
