import * as snarkjs from 'snarkjs';
import type { Groth16Proof, PublicSignals } from 'snarkjs';
import { z } from 'zod';
import {
  BadInputError,
  type AggregateRequest,
  type BlockPlan,
  type PlanRequest,
  type ProverBackend,
  type ProverContext,
  type SegmentRequest,
  type Verdict,
  type VerifyRequest,
} from '../backend';
import { contiguityProblem, decodeJsonProof, encodeJsonProof, whileAlive } from '../runtime';
import { groth16Keys, groth16VerificationKeys, type CircuitName, type Groth16Keys } from './keys';
import { genesisValue, transactionValues } from '../stand-in-block';
import { AGGREGATION_FAN_IN, chainCommitment, stateAfter, type Transition } from './statement';

/**
 * Groth16 proofs with snarkjs over circom2 circuits: fast segment proofs, and an aggregation
 * that is NOT recursive. An aggregation proof binds up to 8 chained child transitions into one
 * commitment, after the prover checked each child proof with `groth16.verify`; it does not
 * verify them inside a circuit. So a block artifact carries every proof of its tree (K segment
 * proofs and the aggregation proofs above them), and whoever checks it verifies all of them.
 *
 * Proving runs in the worker process: snarkjs computes on ffjavascript's worker threads and the
 * event loop stays free for heartbeats. A cancelled task returns at once; the proof it was
 * computing (about half a second) finishes in the background and is dropped.
 */
const ProofSchema = z.object({
  pi_a: z.array(z.string()),
  pi_b: z.array(z.array(z.string())),
  pi_c: z.array(z.string()),
  protocol: z.literal('groth16'),
  curve: z.literal('bn128'),
});
const SignalsSchema = z.array(z.string().regex(/^\d+$/));

const SegmentArtifactSchema = z.object({
  kind: z.literal('segment'),
  index: z.number().int().min(0),
  proof: ProofSchema,
  /** [end, start]: snarkjs lists outputs before public inputs. */
  publicSignals: SignalsSchema.length(2),
});

interface AggregateArtifact {
  kind: 'aggregate';
  from: number;
  to: number;
  children: Artifact[];
  proof: Groth16Proof;
  /** [blockStart, blockEnd, commitment, count]. */
  publicSignals: PublicSignals;
}
type SegmentArtifact = z.infer<typeof SegmentArtifactSchema>;
type Artifact = SegmentArtifact | AggregateArtifact;

const ArtifactSchema: z.ZodType<Artifact> = z.lazy(() =>
  z.union([
    SegmentArtifactSchema,
    z.object({
      kind: z.literal('aggregate'),
      from: z.number().int().min(0),
      to: z.number().int().min(1),
      children: z.array(ArtifactSchema).min(1).max(AGGREGATION_FAN_IN),
      proof: ProofSchema,
      publicSignals: SignalsSchema.length(4),
    }),
  ]),
);

export class Groth16Prover implements ProverBackend {
  readonly name = 'groth16' as const;

  async plan(request: PlanRequest): Promise<BlockPlan> {
    return { segmentCount: request.requestedSegments, fanIn: AGGREGATION_FAN_IN };
  }

  async proveSegment(request: SegmentRequest, context: ProverContext): Promise<Uint8Array> {
    const keys = await this.keys(context);
    const start = stateAfter(request.block.hash, request.index);
    const input = { start: String(start), transactions: transactionValues(request.block.hash, request.index).map(String) };
    const { proof, publicSignals } = await whileAlive(context, snarkjs.groth16.fullProve(input, keys.segment.wasm, keys.segment.zkey));
    return encodeJsonProof({ kind: 'segment', index: request.index, proof, publicSignals });
  }

  async aggregate(request: AggregateRequest, context: ProverContext): Promise<Uint8Array> {
    const keys = await this.keys(context);
    if (request.children.length > AGGREGATION_FAN_IN)
      throw new BadInputError(`groth16 aggregates at most ${AGGREGATION_FAN_IN} proofs, got ${request.children.length}`);
    const children = request.children.map((bytes, i) => decodeJsonProof(bytes, ArtifactSchema, `child proof ${i}`));
    const gap = contiguityProblem(children.map(rangeOf), request.from, request.to);
    if (gap) throw new BadInputError(gap);
    for (const [i, child] of children.entries()) {
      const range = rangeOf(child);
      if (!(await whileAlive(context, verifyTop({ segment: keys.segment.vkey, aggregate: keys.aggregate.vkey }, child))))
        throw new BadInputError(`child proof ${i} (segments ${range.from}-${range.to}) does not verify`);
    }
    const transitions = children.map(transitionOf);
    const pad = (values: bigint[]): string[] => [...values, ...Array<bigint>(AGGREGATION_FAN_IN - values.length).fill(0n)].map(String);
    const input = {
      count: String(children.length),
      starts: pad(transitions.map((t) => t.start)),
      ends: pad(transitions.map((t) => t.end)),
    };
    // The circuit refuses children that do not chain: witness generation fails on its constraint.
    const { proof, publicSignals } = await whileAlive(
      context,
      snarkjs.groth16.fullProve(input, keys.aggregate.wasm, keys.aggregate.zkey),
    ).catch((error: unknown) => {
      if (error instanceof Error && /Assert Failed|Error in template/.test(error.message))
        throw new BadInputError(`child proofs do not chain: ${error.message}`);
      throw error;
    });
    return encodeJsonProof({ kind: 'aggregate', from: request.from, to: request.to, children, proof, publicSignals });
  }

  async verify(request: VerifyRequest, context: ProverContext): Promise<Verdict> {
    await sharedCurve();
    // The verifier's own keys (PROOFLANE_VERIFIER_KEYS), not the provers' cache.
    const keys = await whileAlive(context, groth16VerificationKeys(context.log));
    let root: Artifact;
    try {
      root = decodeJsonProof(request.proof, ArtifactSchema, 'block proof');
    } catch (error) {
      return { valid: false, reason: (error as Error).message };
    }
    const range = rangeOf(root);
    if (range.from !== 0 || range.to !== request.segmentCount)
      return { valid: false, reason: `the proof covers segments ${range.from}-${range.to}, the block has ${request.segmentCount}` };
    const transition = transitionOf(root);
    if (transition.start !== genesisValue(request.block.hash))
      return { valid: false, reason: 'the proof does not start at the genesis state of this block' };
    if (transition.end !== stateAfter(request.block.hash, request.segmentCount))
      return { valid: false, reason: "the proof does not end at this block's final state" };
    const failure = await whileAlive(context, verifyTree(keys, root));
    return failure ? { valid: false, reason: failure } : { valid: true };
  }

  /** Stops ffjavascript's worker threads, which would otherwise keep the process alive. */
  async close(): Promise<void> {
    const curve = curveReady;
    curveReady = undefined;
    await (await curve)?.terminate();
  }

  private async keys(context: ProverContext): Promise<Groth16Keys> {
    await sharedCurve();
    // The first call on a machine runs the setup (minutes): keep heartbeating through it.
    return whileAlive(context, groth16Keys(context.log));
  }
}

let curveReady: Promise<snarkjs.Curve> | undefined;

/**
 * snarkjs asks ffjavascript for the BN254 curve on every proof; ffjavascript keeps one per process
 * but builds a new one (with its own worker threads) for each call made before the first build
 * ends. Two proofs starting together would leak one curve's threads: build it once, up front.
 */
function sharedCurve(): Promise<snarkjs.Curve> {
  curveReady ??= snarkjs.curves.getCurveFromName('bn128');
  return curveReady;
}

type VerificationKeys = Record<CircuitName, snarkjs.VerificationKey>;

/** Every proof of the tree verifies, and each aggregate's public signals match its children. */
async function verifyTree(keys: VerificationKeys, node: Artifact): Promise<string | undefined> {
  if (!(await verifyTop(keys, node))) {
    const range = rangeOf(node);
    return `the ${node.kind} proof of segments ${range.from}-${range.to} does not verify`;
  }
  if (node.kind === 'segment') return undefined;
  const transitions = node.children.map(transitionOf);
  const [blockStart, blockEnd, commitment, count] = node.publicSignals.map(BigInt);
  const gap = contiguityProblem(node.children.map(rangeOf), node.from, node.to);
  if (gap) return `aggregate ${node.from}-${node.to}: ${gap}`;
  if (
    count !== BigInt(node.children.length) ||
    blockStart !== transitions[0].start ||
    blockEnd !== transitions[transitions.length - 1].end ||
    commitment !== chainCommitment(transitions)
  ) {
    return `aggregate ${node.from}-${node.to}: its public signals do not match its children`;
  }
  for (const child of node.children) {
    const failure = await verifyTree(keys, child);
    if (failure) return failure;
  }
  return undefined;
}

async function verifyTop(keys: VerificationKeys, node: Artifact): Promise<boolean> {
  const circuit: CircuitName = node.kind;
  try {
    return await snarkjs.groth16.verify(keys[circuit], node.publicSignals, node.proof);
  } catch {
    return false; // a malformed point is an invalid proof, not a crash
  }
}

function transitionOf(node: Artifact): Transition {
  const [a, b] = node.publicSignals.map(BigInt);
  return node.kind === 'segment' ? { start: b, end: a } : { start: a, end: b };
}

function rangeOf(node: Artifact): { from: number; to: number } {
  return node.kind === 'segment' ? { from: node.index, to: node.index + 1 } : { from: node.from, to: node.to };
}
