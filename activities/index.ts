import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { BlockRef, ProverInput, ProverName, WorkReceipt } from '../domain/block';
import type { BlockPlan, Verdict } from '../provers/backend';
import type { ProverRegistry } from '../provers/registry';
import type { ArtifactStore } from './artifact-store';
import type { GpuSlots } from './gpu-slots';
import { ConflictingPublicationError, type ProofPublisher, type PublicationBatch, type PublishReceipt } from './publisher';
import { FailureTypes, runProverWork } from './prover-context';

export interface ProverTask {
  block: BlockRef;
  prover: ProverName;
  input: ProverInput;
  /** Earlier tasks for the same work that ended in a prover error (the workflow retries those). */
  priorAttempts?: number;
}

export interface PlanBlockInput extends ProverTask {
  requestedSegments: number;
  defaultFanIn: number;
}

export interface ProveSegmentInput extends ProverTask {
  index: number;
  segmentCount: number;
}

export interface AggregateProofsInput extends ProverTask {
  from: number;
  to: number;
  childRefs: string[];
}

export interface VerifyBlockProofInput extends ProverTask {
  proofRef: string;
  segmentCount: number;
  fanIn: number;
}

export interface VerifyResult extends Verdict {
  provingMs: number;
}

function backendFor(provers: ProverRegistry, name: ProverName) {
  const backend = provers.get(name);
  if (!backend) throw ApplicationFailure.nonRetryable(`prover backend "${name}" is not served by this worker`, FailureTypes.BadInput);
  return backend;
}

/** Heavy work: runs on GPU workers, one task per GPU slot. */
export function createGpuActivities(deps: { provers: ProverRegistry; store: ArtifactStore; slots: GpuSlots; identity: string }) {
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
      return timed((device) =>
        runProverWork(
          device,
          (context) =>
            backend.proveSegment({ block: task.block, input: task.input, index: task.index, segmentCount: task.segmentCount }, context),
          task.priorAttempts,
        ),
      );
    },

    async aggregateProofs(task: AggregateProofsInput): Promise<WorkReceipt> {
      const backend = backendFor(provers, task.prover);
      const children = await Promise.all(task.childRefs.map((ref) => store.get(ref)));
      return timed((device) =>
        runProverWork(
          device,
          (context) => backend.aggregate({ block: task.block, input: task.input, from: task.from, to: task.to, children }, context),
          task.priorAttempts,
        ),
      );
    },
  };
}

/** Light work: runs on the orchestration worker beside the workflows. */
export function createOrchestrationActivities(deps: { provers: ProverRegistry; store: ArtifactStore; publisher: ProofPublisher }) {
  const { provers, store, publisher } = deps;
  return {
    /** Publishes consecutive finalized blocks, in the given (ascending) order; a retry skips what already went out. */
    async publishProofs(batch: PublicationBatch): Promise<PublishReceipt[]> {
      const receipts: PublishReceipt[] = [];
      for (const proof of batch.proofs) {
        try {
          receipts.push(await publisher.publish({ chainId: batch.chainId, ...proof }));
        } catch (error) {
          if (error instanceof ConflictingPublicationError) throw ApplicationFailure.nonRetryable(error.message, FailureTypes.BadInput);
          throw error;
        }
      }
      return receipts;
    },

    async planBlock(task: PlanBlockInput): Promise<BlockPlan> {
      const backend = backendFor(provers, task.prover);
      return runProverWork(-1, (context) =>
        backend.plan(
          { block: task.block, input: task.input, requestedSegments: task.requestedSegments, defaultFanIn: task.defaultFanIn },
          context,
        ),
      );
    },

    async verifyBlockProof(task: VerifyBlockProofInput): Promise<VerifyResult> {
      const backend = backendFor(provers, task.prover);
      const proof = await store.get(task.proofRef);
      const started = performance.now();
      const verdict = await runProverWork(-1, (context) =>
        backend.verify({ block: task.block, input: task.input, segmentCount: task.segmentCount, fanIn: task.fanIn, proof }, context),
      );
      return { ...verdict, provingMs: performance.now() - started };
    },
  };
}

export type GpuActivities = ReturnType<typeof createGpuActivities>;
export type OrchestrationActivities = ReturnType<typeof createOrchestrationActivities>;
