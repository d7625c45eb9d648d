import type { SourceBlock } from './chain-source';

/**
 * What the feeder asks of prooflane for one chain (its HTTP API in production,
 * feeding/api-feed-target.ts; the chain book itself in the property test).
 */
export interface FeedTarget {
  /** The chain's state, or undefined when prooflane does not know the chain yet. */
  chain(): Promise<FeedChainState | undefined>;
  /** Creates the chain: it starts at `startNumber` and proves every `every`-th block. */
  create(startNumber: number, every: number): Promise<FeedChainState>;
  /** The blocks the chain holds (every one not finalized, and its last finalized ones), ascending. */
  held(): Promise<HeldBlock[]>;
  submit(block: SourceBlock): Promise<SubmitAnswer>;
  /** Forgets the chain's blocks from `fromNumber` up; a refusal (at or below the finalized head, being published) is answered, not thrown. */
  reorg(fromNumber: number): Promise<{ refused?: string }>;
  /** Stops the chain's finalization until an operator resumes or reorgs it. */
  halt(reason: string): Promise<void>;
}

export interface FeedChainState {
  startNumber?: number;
  every: number;
  finalizedHead: number | null;
  /** Why finalization stopped, if it did. */
  halted: { number: number; reason: string } | null;
}

export interface HeldBlock {
  number: number;
  hash: string;
  finalized: boolean;
}

/**
 * What became of a submission: taken (`accepted`, or `duplicate` of an identical one), `later`
 * (beyond the chain's window: the same block is sent again once the chain moves), or refused
 * because prooflane holds `another` hash for the number, or the number is `final`ized with
 * another hash, or below the chain's start.
 */
export type SubmitAnswer =
  { outcome: 'accepted' | 'duplicate' | 'later' } | { outcome: 'another' | 'final' | 'below_start'; message: string };
