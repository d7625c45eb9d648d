import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ProverName } from '../domain/block';
import { FailureTypes } from '../domain/failures';
import { BadInputError, ProverFailedError, type ProverBackend, type ProverContext } from '../provers/backend';
import type { ProverRegistry } from '../provers/registry';
import { progressIntervalFor } from '../provers/runtime';

/** The backend a task names; a worker that does not serve it refuses the task for good. */
export function backendFor(provers: ProverRegistry, name: ProverName): ProverBackend {
  const backend = provers.get(name);
  if (!backend) throw ApplicationFailure.nonRetryable(`prover backend "${name}" is not served by this worker`, FailureTypes.BadInput);
  return backend;
}

/**
 * Runs prover work inside an activity: the prover's progress becomes Temporal
 * heartbeats (a dead worker is noticed within the heartbeat timeout), Temporal's
 * cancellation becomes an AbortSignal, and prover errors become failures the
 * retry policy can classify.
 */
export async function runProverWork<T>(
  device: number,
  work: (context: ProverContext) => Promise<T>,
  priorAttempts = 0,
  heartbeatDetails?: () => unknown,
): Promise<T> {
  const activity = Context.current();
  const began = Date.now();
  const heartbeatTimeoutMs = activity.info.heartbeatTimeoutMs ?? 0;
  const context: ProverContext = {
    signal: activity.cancellationSignal,
    // The SDK throttles heartbeats to a fraction of the timeout, so calling often is cheap.
    // Local activities (plan, verify) have no heartbeat: their liveness is the workflow task's.
    progress: activity.info.isLocal ? () => undefined : () => activity.heartbeat(heartbeatDetails?.()),
    progressIntervalMs: progressIntervalFor(heartbeatTimeoutMs),
    device,
    attempt: priorAttempts + activity.info.attempt,
    log: (message) => activity.log.info(message),
  };
  try {
    return await work(context);
  } catch (error) {
    throw activityFailureOf(error, Date.now() - began);
  }
}

/**
 * What a prover's error becomes when it leaves an activity: bad input fails for good; a prover
 * failure carries the GPU time it cost (the block counts it), for good once `spent` says the
 * block's budget for prover errors is used up (a lease retries on its node first); anything else
 * (cancellation, a lost store) goes out as it is.
 */
export function activityFailureOf(error: unknown, gpuMs: number, options: { spent?: boolean } = {}): unknown {
  if (error instanceof BadInputError) return ApplicationFailure.nonRetryable(error.message, FailureTypes.BadInput);
  if (!(error instanceof ProverFailedError)) return error;
  const cost: FailedAttemptCost = { gpuMs };
  return ApplicationFailure.create({
    message: error.message,
    type: FailureTypes.ProverFailed,
    ...(options.spent ? { nonRetryable: true } : {}),
    details: [cost],
  });
}

/** What a ProverFailed failure carries: the GPU time of the attempt that failed. */
export interface FailedAttemptCost {
  gpuMs: number;
}
