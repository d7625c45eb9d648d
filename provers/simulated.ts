import { createHash } from 'node:crypto';
import { z } from 'zod';
import { buildAggregationTree, type TreeNode } from '../domain/aggregation-tree';
import { describeIssues, type BlockRef } from '../domain/block';
import {
  BadInputError,
  ProverFailedError,
  type AggregateRequest,
  type BlockPlan,
  type PlanRequest,
  type ProverBackend,
  type ProverContext,
  type SegmentRequest,
  type Verdict,
  type VerifyRequest,
} from './backend';
import { contiguityProblem, decodeJsonProof, encodeJsonProof, sleep, workFor } from './runtime';

/**
 * A prover that takes configured time and produces real bytes: each segment proof is
 * a hash bound to the block and its index, each aggregate a hash of its children, so
 * aggregation and verification check something and tampering is caught. Faults
 * (failures, hangs, jitter) are deterministic under `seed`.
 */
export const SimulationSchema = z
  .object({
    segmentMs: z.number().min(0).max(3_600_000),
    aggregateMs: z.number().min(0).max(3_600_000),
    verifyMs: z.number().min(0).max(3_600_000),
    /** Relative spread of durations: 0.1 means +-10%. */
    jitter: z.number().min(0).max(1),
    /** Probability that one attempt fails with a retryable prover error. */
    failureRate: z.number().min(0).max(1),
    /** Probability that one attempt stops responding (no heartbeats) until Temporal gives up on it. */
    hangProbability: z.number().min(0).max(1),
    seed: z.number().int(),
    /** Segment indexes whose every attempt fails with bad input (non-retryable). */
    badInputSegments: z.array(z.number().int().min(0)),
    /** Stragglers: segment index → proving ms of its first try only (a slow node, not slow work). */
    slowSegments: z.record(z.string().regex(/^\d+$/), z.number().min(0).max(3_600_000)),
    /** Crashing provers: segment index → how many of its first attempts fail with a retryable error. */
    crashingSegments: z.record(z.string().regex(/^\d+$/), z.number().int().min(0).max(1_000)),
    /** Hanging provers: segment index → how many of its first attempts stop responding. */
    hangingSegments: z.record(z.string().regex(/^\d+$/), z.number().int().min(0).max(1_000)),
    /**
     * An unsound prover: its proofs are well-formed and aggregate, but bind the wrong statement,
     * so verification refuses them (multi-proof's forger: a zkVM with a soundness bug).
     */
    forgeProofs: z.boolean(),
  })
  .strict();
export type Simulation = z.infer<typeof SimulationSchema>;

export const DEFAULT_SIMULATION: Simulation = {
  segmentMs: 200,
  aggregateMs: 50,
  verifyMs: 5,
  jitter: 0,
  failureRate: 0,
  hangProbability: 0,
  seed: 0,
  badInputSegments: [],
  slowSegments: {},
  crashingSegments: {},
  hangingSegments: {},
  forgeProofs: false,
};

interface SimulatedProof {
  v: 1;
  kind: 'segment' | 'aggregate';
  chainId: string;
  number: number;
  hash: string;
  from: number;
  to: number;
  digest: string;
}

const ProofSchema = z.object({
  v: z.literal(1),
  kind: z.enum(['segment', 'aggregate']),
  chainId: z.string(),
  number: z.number(),
  hash: z.string(),
  from: z.number().int(),
  to: z.number().int(),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
});

export class SimulatedProver implements ProverBackend {
  readonly name = 'simulated' as const;

  constructor(private readonly defaults: Simulation = DEFAULT_SIMULATION) {}

  async plan(request: PlanRequest): Promise<BlockPlan> {
    this.simulation(request.input); // reject a bad simulation spec before any work is scheduled
    return { segmentCount: request.requestedSegments, fanIn: request.defaultFanIn };
  }

  async proveSegment(request: SegmentRequest, context: ProverContext): Promise<Uint8Array> {
    const sim = this.simulation(request.input);
    if (sim.badInputSegments.includes(request.index)) {
      throw new BadInputError(`segment ${request.index} of block ${request.block.number}: input rejected by the prover`);
    }
    const slowFirstTry = context.attempt === 1 ? sim.slowSegments[String(request.index)] : undefined;
    if (context.attempt <= (sim.hangingSegments[String(request.index)] ?? 0)) await hang(`segment:${request.index}`, context);
    if (context.attempt <= (sim.crashingSegments[String(request.index)] ?? 0)) {
      await workFor(sim.segmentMs / 2, context);
      throw new ProverFailedError(`simulated prover crash in segment:${request.index} (attempt ${context.attempt})`);
    }
    await this.runAttempt(sim, `segment:${request.index}`, slowFirstTry ?? sim.segmentMs, request.block, context);
    return encodeJsonProof(segmentProof(request.block, request.index, sim.seed, sim.forgeProofs));
  }

  async aggregate(request: AggregateRequest, context: ProverContext): Promise<Uint8Array> {
    const sim = this.simulation(request.input);
    const children = request.children.map((bytes, i) => decodeJsonProof(bytes, ProofSchema, `child proof ${i}`));
    if (children.some((child) => !sameBlock(child, request.block))) throw new BadInputError('child proof belongs to another block');
    const gap = contiguityProblem(children, request.from, request.to);
    if (gap) throw new BadInputError(gap);
    await this.runAttempt(sim, `aggregate:${request.from}-${request.to}`, sim.aggregateMs, request.block, context);
    return encodeJsonProof(aggregateProof(request.block, children));
  }

  async verify(request: VerifyRequest, context: ProverContext): Promise<Verdict> {
    const sim = this.simulation(request.input);
    await workFor(sim.verifyMs, context);
    let proof: SimulatedProof;
    try {
      proof = decodeJsonProof(request.proof, ProofSchema, 'block proof');
    } catch (error) {
      return { valid: false, reason: (error as Error).message };
    }
    const expected = expectedProof(request.block, buildAggregationTree(request.segmentCount, request.fanIn), sim.seed);
    if (!sameBlock(proof, request.block)) return { valid: false, reason: 'proof is for another block' };
    if (proof.from !== 0 || proof.to !== request.segmentCount) {
      return { valid: false, reason: `proof covers segments [${proof.from}, ${proof.to}), expected [0, ${request.segmentCount})` };
    }
    if (proof.digest !== expected.digest) return { valid: false, reason: 'digest does not match the block' };
    return { valid: true };
  }

  private simulation(input: Record<string, unknown>): Simulation {
    const parsed = SimulationSchema.partial().safeParse(input.simulate ?? {});
    if (!parsed.success) {
      throw new BadInputError(`input.simulate is invalid: ${describeIssues(parsed.error)}`);
    }
    return { ...this.defaults, ...parsed.data };
  }

  private async runAttempt(sim: Simulation, task: string, baseMs: number, block: BlockRef, context: ProverContext): Promise<void> {
    const draw = (purpose: string): number =>
      uniform(`${sim.seed}|${block.chainId}|${block.number}|${block.hash}|${task}|${context.attempt}|${purpose}`);
    const ms = baseMs * (1 + sim.jitter * (2 * draw('jitter') - 1));
    if (draw('hang') < sim.hangProbability) await hang(task, context);
    if (draw('fail') < sim.failureRate) {
      await workFor(ms / 2, context);
      throw new ProverFailedError(`simulated prover crash in ${task} (attempt ${context.attempt})`);
    }
    await workFor(ms, context);
  }
}

/** A hung prover stops reporting progress; Temporal's heartbeat timeout reclaims the task. */
async function hang(task: string, context: ProverContext): Promise<void> {
  context.log(`simulated hang in ${task} (attempt ${context.attempt})`);
  await sleep(24 * 3_600_000, context.signal);
}

function segmentProof(block: BlockRef, index: number, seed: number, forged = false): SimulatedProof {
  const digest = sha256(`${forged ? 'forged|' : ''}segment|${block.chainId}|${block.number}|${block.hash}|${index}|${seed}`);
  return { v: 1, kind: 'segment', chainId: block.chainId, number: block.number, hash: block.hash, from: index, to: index + 1, digest };
}

function aggregateProof(block: BlockRef, children: SimulatedProof[]): SimulatedProof {
  const digest = sha256(`aggregate|${children.map((c) => c.digest).join('|')}`);
  return {
    v: 1,
    kind: 'aggregate',
    chainId: block.chainId,
    number: block.number,
    hash: block.hash,
    from: children[0].from,
    to: children[children.length - 1].to,
    digest,
  };
}

function expectedProof(block: BlockRef, node: TreeNode, seed: number): SimulatedProof {
  if (node.kind === 'segment') return segmentProof(block, node.index, seed);
  return aggregateProof(
    block,
    node.children.map((child) => expectedProof(block, child, seed)),
  );
}

function sameBlock(proof: SimulatedProof, block: BlockRef): boolean {
  return proof.chainId === block.chainId && proof.number === block.number && proof.hash === block.hash;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A uniform draw in [0, 1) fixed by `key`: the same seed always injects the same faults. */
function uniform(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 2 ** 32;
}
