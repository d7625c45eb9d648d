import type { BlockRef, ProverName, PublicationAnswer, PublicationClaim, WorkReceipt } from '../domain/block';
import type { BlockPlan, Verdict } from '../provers/backend';
import type { Publication, PublishReceipt } from '../publishing/proof-publisher';

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

export interface ClaimPublicationInput {
  /** The chain's sequencer (the block workflow's parent). */
  sequencerWorkflowId: string;
  claim: PublicationClaim;
}

export interface PublishProofInput extends Publication {
  /** The block that must be published first (the sequencer's grant says which); null for a chain's first block. */
  after: number | null;
}

/** Light work, on the orchestration worker beside the workflows (`./orchestration.ts`). */
export interface OrchestrationActivities {
  /** Asks the block's sequencer, by update, whether the block may publish now (run by the block workflow). */
  claimPublication(input: ClaimPublicationInput): Promise<PublicationAnswer>;
  /**
   * Publishes one block's proof, by the block workflow's run that produced and verified it, once
   * the block before it (`after`) is published; repeating a publication that went out is answered
   * as already published, another proof for the block is refused (PublicationConflict).
   */
  publishProof(publication: PublishProofInput): Promise<PublishReceipt>;
  /** The proof published for a block, if any: the sequencer's check on a granted block whose run closed without reporting. */
  publishedProof(query: { chainId: string; number: number }): Promise<{ proofRef: string; hash: string } | null>;
  /** The highest block number published for the chain (a recovered chain's finalized head), or null. */
  publishedHead(query: { chainId: string }): Promise<number | null>;
  /** Which of these block workflows are closed: the sequencer's check on blocks an earlier run started. */
  closedBlockWorkflows(query: { workflowIds: string[] }): Promise<ClosedWorkflow[]>;
  planBlock(task: PlanBlockInput): Promise<BlockPlan>;
  verifyBlockProof(task: VerifyBlockProofInput): Promise<VerifyResult>;
}
