import type { z } from 'zod';
import { describeIssues, type BlockRef, type ProverInput, type ProverName } from '../domain/block';

/**
 * The contract every prover backend implements. The orchestrator never depends on
 * which backend runs: it hands over a block's identity, the opaque `input`, and proof
 * bytes; it gets proof bytes back. Bytes never travel through Temporal: activities
 * move them in and out of the artifact store.
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

/** Proof bytes for a backend whose proofs are JSON documents. */
export function encodeJsonProof(proof: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(proof));
}

/** Parses JSON proof bytes against `schema`; `what` names them in the BadInputError when they do not fit. */
export function decodeJsonProof<T>(bytes: Uint8Array, schema: z.ZodType<T>, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new BadInputError(`${what} is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new BadInputError(`${what} is malformed: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/**
 * Awaits `work`, calling `progress` meanwhile; rejects at once when the task is cancelled, leaving
 * `work` to finish in the background or to be stopped by the caller (a killed prover process).
 */
export async function whileAlive<T>(context: ProverContext, work: Promise<T>): Promise<T> {
  const alive = setInterval(() => context.progress(), context.progressIntervalMs);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(context.signal.reason ?? new Error('aborted'));
    if (context.signal.aborted) onAbort();
    else context.signal.addEventListener('abort', onAbort, { once: true });
  });
  work.catch(() => undefined); // after a cancellation nobody waits for it
  try {
    return await Promise.race([work, aborted]);
  } finally {
    clearInterval(alive);
    if (onAbort) context.signal.removeEventListener('abort', onAbort);
  }
}

/** Resolves after `ms`, calling `progress` at least every `context.progressIntervalMs`; rejects when aborted. */
export async function workFor(ms: number, context: ProverContext): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return;
    await sleep(Math.min(left, context.progressIntervalMs), context.signal);
    context.progress();
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}
