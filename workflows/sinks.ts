import { proxySinks, type Sinks } from '@temporalio/workflow';

/**
 * What the workflows tell the worker that runs them, outside their history: Temporal calls a
 * sink after the workflow task that made the call, never while replaying one, so a block is
 * reported once however often its sequencer is replayed. The orchestration worker turns these
 * into metrics and log lines (observability/block-metrics.ts).
 */
export interface BlockFinalizedReport {
  chainId: string;
  number: number;
  workflowId: string;
  gpuClass: string;
  prover: string;
  /** Epoch ms of each step the block went through. */
  submittedAt: number;
  startedAt?: number;
  provedAt?: number;
  finalizedAt: number;
  deadlineAt?: number;
  /** Prover time on the block's critical path, and what its workflow spent beyond it. */
  provingMs?: number;
  overheadMs?: number;
  gpuMs?: number;
}

export interface ChainSinks extends Sinks {
  chainEvents: {
    blockFinalized(report: BlockFinalizedReport): void;
  };
}

export const { chainEvents } = proxySinks<ChainSinks>();
