/**
 * Every failure type prooflane raises, in one place: activities raise them, workflows decide
 * on retries from them, the API maps the rejections among them to HTTP statuses. A failure's
 * type travels as `ApplicationFailure.type`.
 */
export const FailureTypes = {
  /** The block's input is wrong for its prover (or names a backend the worker does not serve). */
  BadInput: 'BadInput',
  /** The prover crashed or gave up; another attempt may succeed. */
  ProverFailed: 'ProverFailed',
  /** The block proof was produced but does not verify. */
  VerificationFailed: 'VerificationFailed',
  /** Fewer provers than a block's quorum can still produce a verified proof (multi-proof): the block fails, naming each prover's reason. */
  QuorumNotReached: 'QuorumNotReached',
  /** A block workflow was started with a job that does not fit the schema. */
  InvalidBlockJob: 'InvalidBlockJob',
  /** A block workflow's own failure, wrapping the cause that failed the block. */
  BlockFailed: 'BlockFailed',
  /** Another proof, or another hash, is already published for the block. */
  PublicationConflict: 'PublicationConflict',
  /** A block's report names a proof its own workflow run did not produce and verify (a forged or stale report): never published. */
  UnconfirmedSettlement: 'UnconfirmedSettlement',
  /** A proof the task needs is not in the worker's artifact store (workers that do not share one, or lost data). */
  ArtifactMissing: 'ArtifactMissing',
  /** A stored proof no longer hashes to its address: corruption or tampering. */
  ArtifactCorrupt: 'ArtifactCorrupt',
  /** A chain refused a request: the request itself is malformed. */
  InvalidRequest: 'InvalidRequest',
  /** A chain refused a request: it contradicts the chain's state (a retry of a block that has not failed, a reorg of published blocks). */
  Conflict: 'Conflict',
  /** A chain refused a request: it names a block the chain does not know. */
  NotFound: 'NotFound',
  /** A chain refused a block: its number is below the chain's start, so it can never finalize. */
  BelowStart: 'BelowStart',
  /** A chain refused a block: its number is at or below the finalized head and already published. */
  AlreadyFinalized: 'AlreadyFinalized',
  /** A chain refused a block: another hash was accepted for its number (reorg first to replace it). */
  HashConflict: 'HashConflict',
  /** A chain refused a new start number: it holds blocks, so moving its start would strand them. */
  StartFixed: 'StartFixed',
  /** A chain refused a block for now: it is too far ahead of the next block to finalize (the chain's `maxAhead`). */
  BeyondWindow: 'BeyondWindow',
  /** The chain's sequencer is closed (terminated, failed): it answers nothing until an operator recovers it. */
  ChainStopped: 'ChainStopped',
} as const;

export type FailureType = (typeof FailureTypes)[keyof typeof FailureTypes];

/**
 * How often each failure is tried again:
 * - `never`: retrying cannot change the outcome;
 * - `limited`: another attempt may succeed, at most `maxAttempts` tries of the same work in all
 *   (GPU tasks: the block workflow retries them as new tasks; local activities: Temporal's policy);
 * Failures with no type (a lost worker, a timeout) are retried by Temporal as often as needed
 * within the task's time budget: they are not the task's fault.
 */
export const RETRY_OF: Record<FailureType, 'never' | 'limited'> = {
  BadInput: 'never',
  ProverFailed: 'limited',
  VerificationFailed: 'never',
  QuorumNotReached: 'never',
  InvalidBlockJob: 'never',
  BlockFailed: 'never',
  PublicationConflict: 'never',
  UnconfirmedSettlement: 'never',
  ArtifactMissing: 'never',
  ArtifactCorrupt: 'never',
  InvalidRequest: 'never',
  Conflict: 'never',
  NotFound: 'never',
  BelowStart: 'never',
  AlreadyFinalized: 'never',
  HashConflict: 'never',
  StartFixed: 'never',
  BeyondWindow: 'never',
  ChainStopped: 'never',
};

/** The failure types Temporal's retry policy must never retry (`nonRetryableErrorTypes`). */
export const NEVER_RETRIED: FailureType[] = (Object.keys(RETRY_OF) as FailureType[]).filter((type) => RETRY_OF[type] === 'never');

/** The failures a chain answers a request with; the API maps each to one HTTP status. */
export const REJECTION_TYPES = [
  FailureTypes.InvalidRequest,
  FailureTypes.Conflict,
  FailureTypes.NotFound,
  FailureTypes.BelowStart,
  FailureTypes.AlreadyFinalized,
  FailureTypes.HashConflict,
  FailureTypes.StartFixed,
  FailureTypes.BeyondWindow,
  FailureTypes.ChainStopped,
] as const;
export type RejectionType = (typeof REJECTION_TYPES)[number];

export function isRejectionType(type: string | null | undefined): type is RejectionType {
  return (REJECTION_TYPES as readonly string[]).includes(type ?? '');
}

/** Failure reasons kept in chain state and views are cut to this many characters: an error text never grows them. */
export const MAX_REASON_CHARS = 200;

/** A failure reason as state and views keep it: one line of at most `max` characters, control characters as spaces. */
export function clip(reason: string, max = MAX_REASON_CHARS): string {
  const line = reason.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

/** The innermost message of a failure chain (Temporal wraps causes in ActivityFailure, ChildWorkflowFailure, ...): what actually went wrong, clipped. */
export function describeFailure(error: unknown): string {
  let current: unknown = error;
  let message = error instanceof Error ? error.message || error.name : String(error);
  while (current instanceof Error && current.cause) {
    current = current.cause;
    if (current instanceof Error) message = current.message || current.name;
  }
  return clip(message);
}
