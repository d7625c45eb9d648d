/**
 * What the feeder reads of the chain it follows (an Ethereum JSON-RPC endpoint in production,
 * feeding/rpc-chain-source.ts): the canonical block at a height, the head, and news of new heads.
 */
export interface ChainSource {
  /** The canonical head now. */
  latest(): Promise<SourceBlock>;
  /** The canonical block at `number` now, or undefined when the chain is not that high (any more). */
  byNumber(number: number): Promise<SourceBlock | undefined>;
  /** Calls `onHead` when a new head may have arrived (a hint: the feeder reads the chain itself); answers an unsubscribe. */
  watchHeads(onHead: () => void): () => void;
  close(): Promise<void>;
}

/** A block as the feeder needs it: what prooflane is told, and what the segment rule reads. */
export interface SourceBlock {
  number: number;
  /** 0x + 64 hex digits, lower case. */
  hash: string;
  parentHash: string;
  /** Unix seconds. */
  timestamp: number;
  gasUsed: bigint;
  transactionCount: number;
}
