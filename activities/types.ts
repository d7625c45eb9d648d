import type { BlockRef, ProverInput, ProverName, WorkReceipt } from '../domain/block';
import type { BlockPlan, Verdict } from '../provers/backend';
import type { PublicationBatch, PublishReceipt } from '../publishing/proof-publisher';

/**
 * What the workflows send to activities and get back. Workflows import this file only, and
 * only as types: activity code never enters the workflow bundle.
 */
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

/** Heavy work, on GPU workers (`./gpu.ts`): one task per GPU slot. */
export interface GpuActivities {
  proveSegment(task: ProveSegmentInput): Promise<WorkReceipt>;
  aggregateProofs(task: AggregateProofsInput): Promise<WorkReceipt>;
}

/** Light work, on the orchestration worker beside the workflows (`./orchestration.ts`). */
export interface OrchestrationActivities {
  /** Publishes consecutive finalized blocks, in the given (ascending) order; a retry skips what already went out. */
  publishProofs(batch: PublicationBatch): Promise<PublishReceipt[]>;
  planBlock(task: PlanBlockInput): Promise<BlockPlan>;
  verifyBlockProof(task: VerifyBlockProofInput): Promise<VerifyResult>;
}
