import type { AggregationTiming, BlockRef, ProverName, WorkReceipt } from '../domain/block';
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

/** Segments [from, to) of a block: the subtree of its aggregation tree that covers exactly them. */
export interface SegmentRange {
  from: number;
  to: number;
}

/** One GPU node's share of a block (activities/lease.ts): consecutive subtrees, proved in one activity. */
export interface ProveLeaseInput extends ProverTask {
  segmentCount: number;
  fanIn: number;
  roots: SegmentRange[];
  /** Prover errors each segment or aggregation may hit, in all, before the lease (and the block) fails. */
  maxAttempts: number;
  /** Straggler hedging inside the lease (ProofOptions.hedgeFactor); 0 turns it off. */
  hedgeFactor: number;
  /** The lease's Temporal priority key, also its place in the node's queue for devices. */
  priorityKey: number;
}

export interface LeaseSegmentReceipt extends WorkReceipt {
  index: number;
  /** Prover errors this segment survived, each retried on the node. */
  proverRetries: number;
  /** A second copy ran for this straggler; the receipt is the winner's. */
  hedged: boolean;
}

export interface LeaseRootProof extends SegmentRange {
  proofRef: string;
  /** Prover time on the slowest path from a segment up to this root. */
  criticalPathMs: number;
}

export interface LeaseResult {
  roots: LeaseRootProof[];
  /** Every segment's receipt: which worker, device and attempt made it, and when. */
  segments: LeaseSegmentReceipt[];
  aggregations: AggregationTiming[];
  /** GPU time the lease cost, every attempt counted (lost, failed, hedged copies). */
  gpuMs: number;
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

/** Heavy work, on GPU workers (`./gpu.ts`). */
export interface GpuActivities {
  /** A node's share of a block: its segments on the node's GPUs at once, and the aggregations inside it. */
  proveLease(task: ProveLeaseInput): Promise<LeaseResult>;
  /** One segment (blocks started before leases, and aggregations above a block's leases). */
  proveSegment(task: ProveSegmentInput): Promise<WorkReceipt>;
  aggregateProofs(task: AggregateProofsInput): Promise<WorkReceipt>;
}

/** The workflow run whose report put a proof in a publication batch. */
export interface ProofSource {
  workflowId: string;
  /** The run the sequencer started; absent for blocks carried from before runs were recorded (then the latest run). */
  runId?: string;
}

/** A proof that went out, by block number: what a publication's result (and so its history event) names. */
export interface PublishedProof extends PublishReceipt {
  number: number;
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
  publishProofs(batch: PublishProofsInput): Promise<PublishedProof[]>;
  /** The highest block number published for the chain (a recovered chain's finalized head), or null. */
  publishedHead(query: { chainId: string }): Promise<number | null>;
  /** Which of these block workflows are closed: the sequencer's check on blocks an earlier run started. */
  closedBlockWorkflows(query: { workflowIds: string[] }): Promise<ClosedWorkflow[]>;
  planBlock(task: PlanBlockInput): Promise<BlockPlan>;
  verifyBlockProof(task: VerifyBlockProofInput): Promise<VerifyResult>;
}
