import type { BlockProgress, ProverStatus } from '../domain/block';

/** Prover states that never change again within a run. */
const ENDED: readonly ProverStatus[] = ['verified', 'failed', 'cancelled'];

/** Whether every prover of a multi-proof block's run has ended: its answer to a progress query is final. */
export function proversEnded(progress: BlockProgress): boolean {
  const provers = progress.provers ?? [];
  return provers.length > 0 && provers.every((prover) => ENDED.includes(prover.status));
}

/**
 * The progress of block workflow runs whose provers have all ended, kept by the API process. It
 * never changes again, and a run that has closed answers a query only by replaying its whole
 * history on a worker: each is asked once, not on every poll of the chain page. Past `capacity`
 * runs the oldest is dropped (asked again if it is shown again).
 */
export class EndedRunProgress {
  private readonly byRun = new Map<string, BlockProgress>();

  constructor(readonly capacity = 4_096) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.byRun.size;
  }

  get(workflowId: string, runId: string): BlockProgress | undefined {
    return this.byRun.get(runKey(workflowId, runId));
  }

  /** Keeps `progress` if its provers have all ended; any other answer may still change and is not kept. */
  remember(workflowId: string, runId: string, progress: BlockProgress): void {
    if (!proversEnded(progress)) return;
    const key = runKey(workflowId, runId);
    this.byRun.delete(key);
    this.byRun.set(key, progress);
    if (this.byRun.size > this.capacity) {
      const oldest = this.byRun.keys().next();
      if (!oldest.done) this.byRun.delete(oldest.value);
    }
  }
}

function runKey(workflowId: string, runId: string): string {
  return `${workflowId}\u0000${runId}`;
}
