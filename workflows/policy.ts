import type { RetryPolicy } from '@temporalio/common';
import { FailureTypes, NEVER_RETRIED } from '../domain/failures';

/**
 * How prooflane orders and repeats work, in one place. Temporal's matcher is the scheduler; these
 * are the decisions that feed it: which task goes first when GPU slots are scarce, how failed
 * work is retried, and when a slow segment gets a second copy. Pure and deterministic, so the
 * workflows can use them.
 */

/**
 * GPU task priority (Temporal priority keys, 1 = first, 5 levels). The chain head's work goes
 * first; then every other block's aggregations, which are short and finish blocks already
 * started (an aggregation queued behind segments kept its block, and its place in the chain's
 * in-flight window, waiting a whole segment time); then other blocks' segments, nearer the head first.
 */
export function segmentPriority(headDistance: number): number {
  return headDistance <= 0 ? 1 : Math.min(5, 2 + headDistance);
}

export function aggregationPriority(segmentPriorityKey: number): number {
  return Math.min(segmentPriorityKey, 2);
}

/**
 * Temporal's retry of a GPU task: lost workers (heartbeat timeout, drain, crash) are retried as
 * often as needed within the task's time budget (no maximumAttempts); prover errors are not
 * retried here but by the block workflow as new tasks (`proverRetryDelayMs`), so losing workers
 * never spends the prover-error budget.
 */
export const GPU_TASK_RETRY: RetryPolicy = {
  initialInterval: '200 ms',
  backoffCoefficient: 2,
  maximumInterval: '10 seconds',
  nonRetryableErrorTypes: [...NEVER_RETRIED, FailureTypes.ProverFailed],
};

/** The wait before the block workflow tries prover work again after its `retry`-th prover error (from 0). */
export function proverRetryDelayMs(retry: number): number {
  return Math.min(10_000, 200 * 2 ** retry);
}

/** Plan and verify, local activities on the orchestration worker: Temporal counts their prover errors. */
export const LOCAL_ACTIVITY_RETRY: RetryPolicy = {
  initialInterval: '200 ms',
  maximumInterval: '5 seconds',
  maximumAttempts: 5,
  nonRetryableErrorTypes: NEVER_RETRIED,
};

/** Publication of finalized proofs: retried until it succeeds, except when another proof is already out. */
export const PUBLICATION_RETRY: RetryPolicy = {
  initialInterval: '500 ms',
  maximumInterval: '30 seconds',
  nonRetryableErrorTypes: NEVER_RETRIED,
};

/** Attempt numbers of a hedge copy start here, so a prover sees it as a different try. */
export const HEDGE_ATTEMPT_OFFSET = 1000;

/**
 * When a straggler at the tail of a block gets a second copy: once it has run `hedgeFactor`
 * times the median of the block's finished segments since it was dispatched. Callers ask only
 * when every other segment is done, so their slots are free.
 */
export function hedgeDueAt(dispatchedAt: number, hedgeFactor: number, finishedSegmentMs: number[]): number {
  return dispatchedAt + hedgeFactor * median(finishedSegmentMs);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
