import type { CountedProof } from '../domain/block';

/**
 * Where finalized block proofs go: an L1 contract, a DA layer, a proof registry, a message bus.
 * The sequencer publishes strictly in block order and at most once per block: `publish` of a
 * proof that is already out is recognised and answered with `alreadyPublished`, and a second,
 * different proof for the same block is refused.
 */
export interface ProofPublisher {
  publish(publication: Publication): Promise<PublishReceipt>;
  /** The record published for a block, or undefined when none is. */
  lookup(chainId: string, number: number): Promise<PublishedRecord | undefined>;
  /** The highest block number published for the chain, or null when none is: a lost chain's finalized head. */
  head(chainId: string): Promise<number | null>;
}

export interface Publication {
  chainId: string;
  number: number;
  hash: string;
  /** The block's proof: with several provers, the one that completed the quorum. */
  proofRef: string;
  /**
   * Every proof that counted towards the block's quorum (its prover, reference, verification,
   * proving time and GPU time); absent from publications of builds before multi-proof.
   */
  proofs?: CountedProof[];
}

export interface PublishedRecord extends Publication {
  publishedAt: number;
}

/** Consecutive blocks of one chain, ascending: what the sequencer finalizes in one go. */
export interface PublicationBatch {
  chainId: string;
  proofs: Omit<Publication, 'chainId'>[];
}

export interface PublishReceipt {
  publishedAt: number;
  /** True when this exact proof had been published before (a retry after a crash). */
  alreadyPublished: boolean;
}

/** Another proof, or another hash, is already published for this block: never overwritten. */
export class ConflictingPublicationError extends Error {
  override readonly name = 'ConflictingPublicationError';
}

/** The same block with the same proof: what makes a publication safe to repeat. */
export function samePublication(a: Publication, b: Publication): boolean {
  const refs = (publication: Publication) =>
    (publication.proofs ?? [])
      .map((proof) => proof.proofRef)
      .sort()
      .join(',');
  return (
    a.chainId === b.chainId &&
    a.number === b.number &&
    a.hash.toLowerCase() === b.hash.toLowerCase() &&
    a.proofRef === b.proofRef &&
    refs(a) === refs(b)
  );
}

export function conflictWith(existing: PublishedRecord): ConflictingPublicationError {
  return new ConflictingPublicationError(
    `block ${existing.chainId}#${existing.number} was already published with hash ${existing.hash} and proof ${existing.proofRef}`,
  );
}
