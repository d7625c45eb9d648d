import type { z } from 'zod';
import { describeIssues } from '../domain/block';
import { BadInputError, type ProverContext } from './backend';

/** Runtime helpers for prover backends; the contract itself is in `./backend`. */

/**
 * Calls `context.progress` every `progressIntervalMs` until the returned function is called: a
 * prover that is alive keeps its activity's heartbeat going.
 */
export function keepAlive(context: ProverContext): () => void {
  const alive = setInterval(() => context.progress(), context.progressIntervalMs);
  return () => clearInterval(alive);
}

/**
 * How often work with a heartbeat timeout reports progress: often enough that a few reports fit
 * in the timeout, seldom enough to cost nothing (the SDK throttles the heartbeats themselves).
 */
export function progressIntervalFor(heartbeatTimeoutMs: number): number {
  return heartbeatTimeoutMs > 0 ? Math.max(100, Math.min(1_000, heartbeatTimeoutMs / 4)) : 1_000;
}

/** A context for prover work outside any activity (key preparation, the bench's ideal run, contract tests). */
export function standaloneProverContext(
  options: Partial<Pick<ProverContext, 'progressIntervalMs' | 'device' | 'log'>> = {},
): ProverContext {
  return {
    signal: new AbortController().signal,
    progress: () => undefined,
    progressIntervalMs: options.progressIntervalMs ?? 1_000,
    device: options.device ?? 0,
    attempt: 1,
    log: options.log ?? (() => undefined),
  };
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
  const stopProgress = keepAlive(context);
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
    stopProgress();
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

/**
 * Why child proofs do not cover segments [from, to) in order, or undefined when they do: what an
 * aggregation checks before it combines them.
 */
export function contiguityProblem(children: { from: number; to: number }[], from: number, to: number): string | undefined {
  let expected = from;
  for (const child of children) {
    if (child.from !== expected) return `child proofs are not contiguous at segment ${expected}`;
    expected = child.to;
  }
  return expected === to ? undefined : `child proofs end at ${expected}, expected ${to}`;
}

/** Whether a process with this pid exists (signal 0 probes without touching it; EPERM means it exists as another user's). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
