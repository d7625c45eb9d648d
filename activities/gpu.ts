import { Context } from '@temporalio/activity';
import type { WorkReceipt } from '../domain/block';
import type { ProverRegistry } from '../provers/registry';
import type { ArtifactStore } from '../storage/artifact-store';
import { readArtifact, readBlockInput } from './artifacts';
import { LeaseFailure, LeaseRun } from './lease';
import { activityFailureOf, backendFor, runProverWork } from './prover-context';
import type { AggregateProofsInput, GpuActivities, LeaseResult, ProveLeaseInput, ProveSegmentInput } from './types';

export interface DeviceOptions {
  /** Stops waiting for a device (the task was cancelled). */
  signal?: AbortSignal;
  /** Called every second while no device is free. */
  waiting?: () => void;
  /** The task's Temporal priority key (1 = first): who gets the next free device. */
  priority?: number;
}

/** A node's accelerators as the GPU activities see them: one device held per running unit of work (`workers/gpu-slots.ts`). */
export interface DeviceSlots {
  /** Runs `run` on a free device, waiting for one in priority order. */
  withDevice<T>(run: (device: number) => Promise<T>, options?: DeviceOptions): Promise<T>;
}

/** Heavy work: runs on GPU workers, one task per GPU slot. */
export function createGpuActivities(deps: {
  provers: ProverRegistry;
  store: ArtifactStore;
  slots: DeviceSlots;
  identity: string;
}): GpuActivities {
  const { provers, store, slots, identity } = deps;

  async function timed(work: (device: number, heartbeatDetails: () => AttemptHeartbeat) => Promise<Uint8Array>): Promise<WorkReceipt> {
    const context = Context.current();
    const info = context.info;
    const startedAt = Date.now();
    // An earlier attempt's last heartbeat says how long it held a device before it was lost.
    const lostMs = lostAttemptsMs(info.heartbeatDetails);
    let deviceSince: number | undefined;
    const heartbeatDetails = (): AttemptHeartbeat => ({
      lostMs,
      beatAt: Date.now(),
      ...(deviceSince !== undefined ? { deviceSince } : {}),
    });
    return slots.withDevice(
      async (device) => {
        deviceSince = Date.now();
        const proving = performance.now();
        const bytes = await work(device, heartbeatDetails);
        const provingMs = performance.now() - proving;
        const proofRef = await store.put(bytes);
        const finishedAt = Date.now();
        return {
          proofRef,
          scheduledAt: info.currentAttemptScheduledTimestampMs,
          startedAt,
          finishedAt,
          provingMs,
          attempt: info.attempt,
          worker: identity,
          device,
          gpuMs: lostMs + (finishedAt - deviceSince),
        };
      },
      { signal: context.cancellationSignal, waiting: () => context.heartbeat(heartbeatDetails()) },
    );
  }

  return {
    async proveLease(task: ProveLeaseInput): Promise<LeaseResult> {
      const backend = backendFor(provers, task.prover);
      const input = await readBlockInput(store, task.inputRef);
      const context = Context.current();
      const { info } = context;
      const block = task.block;
      try {
        const run = new LeaseRun(task, {
          prover: {
            proveSegment: (index, proverContext) =>
              backend.proveSegment({ block, input, index, segmentCount: task.segmentCount }, proverContext),
            aggregate: (node, children, proverContext) =>
              backend.aggregate({ block, input, from: node.from, to: node.to, children }, proverContext),
          },
          store,
          slots,
          identity,
          signal: context.cancellationSignal,
          attempt: info.attempt,
          scheduledAt: info.currentAttemptScheduledTimestampMs,
          heartbeatTimeoutMs: info.heartbeatTimeoutMs ?? 0,
          checkpoint: info.heartbeatDetails,
          beat: (checkpoint) => context.heartbeat(checkpoint),
          log: (message) => context.log.info(message),
        });
        return await run.run();
      } catch (error) {
        // A lease that cannot even be laid out (its roots are not nodes of the block's tree) is bad input too.
        if (!(error instanceof LeaseFailure)) throw activityFailureOf(error, 0);
        // A prover error out of a lease has spent the block's budget (the lease retried it on the node).
        throw activityFailureOf(error.cause, error.gpuMs, { spent: true });
      }
    },

    async proveSegment(task: ProveSegmentInput): Promise<WorkReceipt> {
      const backend = backendFor(provers, task.prover);
      const input = await readBlockInput(store, task.inputRef);
      return timed((device, heartbeatDetails) =>
        runProverWork(
          device,
          (context) => backend.proveSegment({ block: task.block, input, index: task.index, segmentCount: task.segmentCount }, context),
          task.priorAttempts,
          heartbeatDetails,
        ),
      );
    },

    async aggregateProofs(task: AggregateProofsInput): Promise<WorkReceipt> {
      const backend = backendFor(provers, task.prover);
      const [input, children] = await Promise.all([
        readBlockInput(store, task.inputRef),
        Promise.all(task.childRefs.map((ref) => readArtifact(store, ref))),
      ]);
      return timed((device, heartbeatDetails) =>
        runProverWork(
          device,
          (context) => backend.aggregate({ block: task.block, input, from: task.from, to: task.to, children }, context),
          task.priorAttempts,
          heartbeatDetails,
        ),
      );
    },
  };
}

/** What a GPU task's heartbeats carry: enough for the next attempt to count a lost one's GPU time. */
interface AttemptHeartbeat {
  /** GPU time of attempts before this one that were lost. */
  lostMs: number;
  /** When this attempt got its device (absent while it waits for one). */
  deviceSince?: number;
  beatAt: number;
}

/** The GPU time held by the lost attempts before this one, from the last heartbeat Temporal kept. */
function lostAttemptsMs(details: unknown): number {
  const last = details as Partial<AttemptHeartbeat> | undefined;
  if (!last || typeof last.lostMs !== 'number' || typeof last.beatAt !== 'number') return 0;
  return last.lostMs + (typeof last.deviceSince === 'number' ? Math.max(0, last.beatAt - last.deviceSince) : 0);
}
