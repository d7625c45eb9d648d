import type { BlockRef, ProverInput, ProverName } from '../domain/block';

/**
 * The contract every prover backend implements. The orchestrator never depends on
 * which backend runs: it hands over a block's identity, the opaque `input`, and proof
 * bytes; it gets proof bytes back. Bytes never travel through Temporal: activities
 * move them in and out of the artifact store. Helpers for implementations (heartbeats,
 * JSON proofs, cancellable sleeps) are in `./runtime`.
 */
export interface ProverBackend {
  readonly name: ProverName;
  plan(request: PlanRequest, context: ProverContext): Promise<BlockPlan>;
  proveSegment(request: SegmentRequest, context: ProverContext): Promise<Uint8Array>;
  aggregate(request: AggregateRequest, context: ProverContext): Promise<Uint8Array>;
  verify(request: VerifyRequest, context: ProverContext): Promise<Verdict>;
  /** Stops whatever the backend keeps running (prover processes); called when its worker stops. */
  close?(): Promise<void>;
}

export interface ProverContext {
  /** Aborted when Temporal cancels the task (reorg, block failed, timeout, worker drain). */
  signal: AbortSignal;
  /** Call while the prover is alive and working; the activity turns it into heartbeats. */
  progress(): void;
  /** How often `progress` should be called at least. */
  progressIntervalMs: number;
  /** GPU index of the slot running this task (-1 when not on a GPU slot). */
  device: number;
  /** Attempt number of this unit of work, starting at 1, counting every earlier try (prover errors and lost workers). */
  attempt: number;
  log(message: string): void;
}

export interface PlanRequest {
  block: BlockRef;
  input: ProverInput;
  requestedSegments: number;
  defaultFanIn: number;
}

export interface BlockPlan {
  segmentCount: number;
  fanIn: number;
}

export interface SegmentRequest {
  block: BlockRef;
  input: ProverInput;
  index: number;
  segmentCount: number;
}

export interface AggregateRequest {
  block: BlockRef;
  input: ProverInput;
  /** Segment range [from, to) covered by the children, in order. */
  from: number;
  to: number;
  children: Uint8Array[];
}

export interface VerifyRequest {
  block: BlockRef;
  input: ProverInput;
  segmentCount: number;
  fanIn: number;
  proof: Uint8Array;
}

export interface Verdict {
  valid: boolean;
  reason?: string;
}

/** The request itself is wrong: retrying cannot help. Surfaces as a non-retryable failure. */
export class BadInputError extends Error {
  override readonly name = 'BadInputError';
}

/** The prover failed in a way another attempt may not (crash, resource exhaustion). */
export class ProverFailedError extends Error {
  override readonly name = 'ProverFailedError';
}
