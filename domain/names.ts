import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import type { BlockStatus, GpuClass, ProverName } from './block';

/** Workflows and light activities (plan, verify, publish) run here. */
export const ORCHESTRATION_TASK_QUEUE = 'prooflane-orchestration';

/**
 * Each GPU class has its own task queues, one per prover backend: a GPU worker polls its class's
 * queues for the backends it serves, so a task never reaches a node that cannot prove it.
 */
export function gpuTaskQueue(gpuClass: GpuClass, prover: ProverName): string {
  return `prooflane-gpu-${gpuClass}-${prover}`;
}

/**
 * The one rule for a chain block's workflow id. Deterministic, so a block is never proved twice
 * by accident; each retry or reorg of the same number is a new incarnation with its own id
 * (`block-<chain>-<n>`, then `block-<chain>-<n>.r1`, `.r2`, ...), so a new attempt never collides
 * with one still winding down.
 */
export function blockWorkflowId(chainId: string, number: number, incarnation = 0): string {
  const first = `block-${chainId}-${number}`;
  return incarnation === 0 ? first : `${first}.r${incarnation}`;
}

/** A block proved directly (`npm run prove`), outside any chain: its own id space, never a chain block's. */
export function directBlockWorkflowId(chainId: string, number: number): string {
  return `prove-${chainId}-${number}`;
}

/**
 * The visibility query that finds the finalized incarnation of a chain block, whatever its id
 * (used for blocks that have left their sequencer's window). `chainId` is schema-checked
 * (`[a-z0-9-]`), so it cannot break out of the quotes.
 */
export function finalizedBlockQuery(chainId: string, number: number): string {
  return `WorkflowType = 'blockProofWorkflow' AND ChainId = '${chainId}' AND BlockNumber = ${number} AND BlockStatus = 'finalized' AND ExecutionStatus = 'Completed'`;
}

/** The block workflows of a chain still running: what a recovered chain's orphans are. */
export function runningBlocksQuery(chainId: string): string {
  return `WorkflowType = 'blockProofWorkflow' AND ChainId = '${chainId}' AND ExecutionStatus = 'Running'`;
}

/** Every chain's sequencer runs, open and closed, except the runs that continued as new. */
export const SEQUENCERS_QUERY = `WorkflowType = 'chainSequencerWorkflow' AND ExecutionStatus != 'ContinuedAsNew'`;

export function sequencerWorkflowId(chainId: string): string {
  return `chain-${chainId}`;
}

/** Custom search attributes registered by infra/temporal at server start; the Web UI filters on them. */
export const SEARCH_ATTRIBUTES = {
  ChainId: defineSearchAttributeKey('ChainId', SearchAttributeType.KEYWORD),
  BlockNumber: defineSearchAttributeKey('BlockNumber', SearchAttributeType.INT),
  BlockStatus: defineSearchAttributeKey('BlockStatus', SearchAttributeType.KEYWORD),
  DeadlineMissed: defineSearchAttributeKey('DeadlineMissed', SearchAttributeType.BOOL),
  /** The operator-named GPU class its segments run on (`h100`, `rtx5090`, ...). */
  GpuClass: defineSearchAttributeKey('GpuClass', SearchAttributeType.KEYWORD),
} as const;

/** The `temporal server start-dev --search-attribute` spellings of the same keys. */
export const SEARCH_ATTRIBUTE_CLI_TYPES: Record<keyof typeof SEARCH_ATTRIBUTES, string> = {
  ChainId: 'Keyword',
  BlockNumber: 'Int',
  BlockStatus: 'Keyword',
  DeadlineMissed: 'Bool',
  GpuClass: 'Keyword',
};

/** A block workflow's search attributes at start: which chain and number it proves, its status and (when known) its GPU class. */
export function blockSearchAttributes(chainId: string, number: number, status: BlockStatus, gpuClass?: GpuClass): SearchAttributePair[] {
  return [
    { key: SEARCH_ATTRIBUTES.ChainId, value: chainId },
    { key: SEARCH_ATTRIBUTES.BlockNumber, value: number },
    { key: SEARCH_ATTRIBUTES.BlockStatus, value: status },
    ...(gpuClass !== undefined ? [{ key: SEARCH_ATTRIBUTES.GpuClass, value: gpuClass }] : []),
  ];
}
