import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { GpuClass, ProverName } from './block';

/** Workflows and light activities (plan, verify, publish) run here. */
export const ORCHESTRATION_TASK_QUEUE = 'prooflane-orchestration';

/**
 * Each GPU class has its own task queues, one per prover backend: a GPU worker polls its class's
 * queues for the backends it serves, so a task never reaches a node that cannot prove it.
 */
export function gpuTaskQueue(gpuClass: GpuClass, prover: ProverName): string {
  return `prooflane-gpu-${gpuClass}-${prover}`;
}

/** Deterministic ids: a block is never proved twice by accident. */
export function blockWorkflowId(chainId: string, number: number): string {
  return `block-${chainId}-${number}`;
}

export function sequencerWorkflowId(chainId: string): string {
  return `chain-${chainId}`;
}

/** Custom search attributes registered by infra/temporal at server start; the Web UI filters on them. */
export const SEARCH_ATTRIBUTES = {
  ChainId: defineSearchAttributeKey('ChainId', SearchAttributeType.KEYWORD),
  BlockNumber: defineSearchAttributeKey('BlockNumber', SearchAttributeType.INT),
  BlockStatus: defineSearchAttributeKey('BlockStatus', SearchAttributeType.KEYWORD),
  DeadlineMissed: defineSearchAttributeKey('DeadlineMissed', SearchAttributeType.BOOL),
} as const;

/** The `temporal server start-dev --search-attribute` spellings of the same keys. */
export const SEARCH_ATTRIBUTE_CLI_TYPES: Record<keyof typeof SEARCH_ATTRIBUTES, string> = {
  ChainId: 'Keyword',
  BlockNumber: 'Int',
  BlockStatus: 'Keyword',
  DeadlineMissed: 'Bool',
};
