import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Where finalized block proofs go: an L1 contract, a DA layer, a message bus. The
 * sequencer publishes strictly in block order, once per block; a retried publish of
 * the same proof is recognised and not repeated.
 */
export interface ProofPublisher {
  publish(publication: Publication): Promise<PublishReceipt>;
}

export interface Publication {
  chainId: string;
  number: number;
  hash: string;
  proofRef: string;
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

export class ConflictingPublicationError extends Error {
  override readonly name = 'ConflictingPublicationError';
}

/** The default: one JSON record per block under `<root>/<chainId>/<number>.json`, created exclusively. */
export class FileProofPublisher implements ProofPublisher {
  constructor(readonly root: string) {}

  async publish(publication: Publication): Promise<PublishReceipt> {
    const file = path.join(this.root, publication.chainId, `${publication.number}.json`);
    await mkdir(path.dirname(file), { recursive: true });
    const publishedAt = Date.now();
    try {
      await writeFile(file, JSON.stringify({ ...publication, publishedAt }), { flag: 'wx' });
      return { publishedAt, alreadyPublished: false };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const existing = JSON.parse(await readFile(file, 'utf8')) as Publication & { publishedAt: number };
    if (existing.hash !== publication.hash || existing.proofRef !== publication.proofRef) {
      throw new ConflictingPublicationError(
        `block ${publication.chainId}#${publication.number} was already published with another proof (${existing.proofRef})`,
      );
    }
    return { publishedAt: existing.publishedAt, alreadyPublished: true };
  }
}
