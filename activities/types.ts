import type { BlockRef, ProverName, WorkReceipt } from '../domain/block';
import type { BlockPlan, Verdict } from '../provers/backend';
import type { PublicationBatch, PublishReceipt } from '../publishing/proof-publisher';

/**
 * What the workflows send to activities and get back. Workflows import this file only, and
 * only as types: activity code never enters the workflow bundle.
 */
export interface ProverTask {
  block: BlockRef;
  prover: ProverName;
  /** The block's input in the artifact store (none: `{}`): every activity reads it there, so no payload carries it. */
  inputRef?: string;
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

/** A block workflow that is no longer running, as Temporal describes it. */
export interface ClosedWorkflow {
  workflowId: string;
  /** TERMINATED, TIMED_OUT, FAILED, CANCELLED, COMPLETED, CONTINUED_AS_NEW, or NOT_FOUND (gone past retention). */
  status: string;
}

/** Heavy work, on GPU workers (`./gpu.ts`): one task per GPU slot. */
export interface GpuActivities {
  proveSegment(task: ProveSegmentInput): Promise<WorkReceipt>;
  aggregateProofs(task: AggregateProofsInput): Promise<WorkReceipt>;
}

/** The workflow run whose report put a proof in a publication batch. */
export interface ProofSource {
  workflowId: string;
  /** The run the sequencer started; absent for blocks carried from before runs were recorded (then the latest run). */
  runId?: string;
}

export interface PublishProofsInput extends PublicationBatch {
  /** Per proof, in order. Absent only in batches scheduled by builds before confirmation existed, which publish as they did. */
  sources?: ProofSource[];
}

/** Light work, on the orchestration worker beside the workflows (`./orchestration.ts`). */
export interface OrchestrationActivities {
  /**
   * Publishes consecutive finalized blocks, in the given (ascending) order; a retry skips what
   * already went out. Each proof is published only once the block's own workflow run (`sources`,
   * one per proof) confirms it produced and verified it.
   */
  publishProofs(batch: PublishProofsInput): Promise<PublishReceipt[]>;
  /** The highest block number published for the chain (a recovered chain's finalized head), or null. */
  publishedHead(query: { chainId: string }): Promise<number | null>;
  /** Which of these block workflows are closed: the sequencer's check on blocks an earlier run started. */
  closedBlockWorkflows(query: { workflowIds: string[] }): Promise<ClosedWorkflow[]>;
  planBlock(task: PlanBlockInput): Promise<BlockPlan>;
  verifyBlockProof(task: VerifyBlockProofInput): Promise<VerifyResult>;
}
