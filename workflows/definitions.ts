import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BlockProgress, BlockSettlement, BlockWork } from '../domain/block';
import type { BlockAdmission, BlockEntry, ChainConfigBody, ChainSnapshot, HaltBody, ReorgBody, SubmitResult } from '../domain/chain';

/** Answers a block's live progress: status and segment counts. */
export const blockProgressQuery = defineQuery<BlockProgress>('blockProgress');

/** Answers the work a block's workflow has seen finish so far: each segment's and aggregation's receipt, and the GPU time spent. */
export const blockWorkQuery = defineQuery<BlockWork>('blockWork');

/** Sent by a block workflow to its chain's sequencer when it ends (proved, failed or cancelled). */
export const blockSettledSignal = defineSignal<[BlockSettlement]>('blockSettled');

/** Sent by the sequencer to a proved block once it is finalized and published; the block workflow then ends. */
export const blockFinalizedSignal = defineSignal('blockFinalized');

export const submitBlockUpdate = defineUpdate<SubmitResult, [BlockAdmission]>('submitBlock');
export const configureChainUpdate = defineUpdate<ChainSnapshot, [ChainConfigBody]>('configureChain');
export const reorgUpdate = defineUpdate<{ cancelled: number[]; forgotten: number[] }, [ReorgBody]>('reorg');
export const retryBlockUpdate = defineUpdate<{ number: number; workflowId: string }, [number]>('retryBlock');
export const setPausedUpdate = defineUpdate<ChainSnapshot, [boolean]>('setPaused');
/** Stops finalization at the next block until the chain is resumed or reorged (docs/DESIGN.md, "Chain"). */
export const haltChainUpdate = defineUpdate<ChainSnapshot, [HaltBody]>('haltChain');

export const chainSnapshotQuery = defineQuery<ChainSnapshot>('chainSnapshot');
export const blockEntryQuery = defineQuery<BlockEntry | null, [number]>('blockEntry');
/** The newest blocks the chain holds, highest first, at most the given number. */
export const recentBlocksQuery = defineQuery<BlockEntry[], [number]>('recentBlocks');
