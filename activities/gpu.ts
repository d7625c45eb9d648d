import { Context } from '@temporalio/activity';
import type { WorkReceipt } from '../domain/block';
import type { ProverRegistry } from '../provers/registry';
import type { ArtifactStore } from '../storage/artifact-store';
import { readArtifact, readBlockInput } from './artifacts';
import { backendFor, runProverWork } from './prover-context';
import type { AggregateProofsInput, GpuActivities, ProveSegmentInput } from './types';

/** A node's accelerators as the GPU activities see them: one device held per running task (`workers/gpu-slots.ts`). */
export interface DeviceSlots {
  /** Runs `run` on a free device; `waiting` is called every second while none is free. */
  withDevice<T>(run: (device: number) => Promise<T>, options?: { signal?: AbortSignal; waiting?: () => void }): Promise<T>;
}

/** Heavy work: runs on GPU workers, one task per GPU slot. */
export function createGpuActivities(deps: {
  provers: ProverRegistry;
  store: ArtifactStore;
  slots: DeviceSlots;
  identity: string;
}): GpuActivities {
  const { provers, store, slots, identity } = deps;

  async function timed(work: (device: number) => Promise<Uint8Array>): Promise<WorkReceipt> {
    const context = Context.current();
    const info = context.info;
    const startedAt = Date.now();
    return slots.withDevice(
      async (device) => {
        const proving = performance.now();
        const bytes = await work(device);
        const provingMs = performance.now() - proving;
        const proofRef = await store.put(bytes);
        return {
          proofRef,
          scheduledAt: info.currentAttemptScheduledTimestampMs,
          startedAt,
          finishedAt: Date.now(),
          provingMs,
          attempt: info.attempt,
          worker: identity,
          device,
        };
      },
      { signal: context.cancellationSignal, waiting: () => context.heartbeat() },
    );
  }

  return {
    async proveSegment(task: ProveSegmentInput): Promise<WorkReceipt> {
      const backend = backendFor(provers, task.prover);
      const input = await readBlockInput(store, task.inputRef);
      return timed((device) =>
        runProverWork(
          device,
          (context) => backend.proveSegment({ block: task.block, input, index: task.index, segmentCount: task.segmentCount }, context),
          task.priorAttempts,
        ),
      );
    },

    async aggregateProofs(task: AggregateProofsInput): Promise<WorkReceipt> {
      const backend = backendFor(provers, task.prover);
      const [input, children] = await Promise.all([
        readBlockInput(store, task.inputRef),
        Promise.all(task.childRefs.map((ref) => readArtifact(store, ref))),
      ]);
      return timed((device) =>
        runProverWork(
          device,
          (context) => backend.aggregate({ block: task.block, input, from: task.from, to: task.to, children }, context),
          task.priorAttempts,
        ),
      );
    },
  };
}
