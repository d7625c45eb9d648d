import { ApplicationFailure } from '@temporalio/common';
import type { ProverInput } from '../domain/block';
import { FailureTypes } from '../domain/failures';
import { ArtifactCorruptError, ArtifactNotFoundError, type ArtifactStore } from '../storage/artifact-store';
import { decodeBlockInput } from '../storage/block-input';

/**
 * Reads a proof an activity needs. A missing or corrupt artifact fails the task for good instead
 * of being retried until the task's time budget runs out: neither heals by waiting. The block
 * workflow then proves the lost artifact again (workflows/block.ts).
 */
export async function readArtifact(store: ArtifactStore, ref: string): Promise<Uint8Array> {
  try {
    return await store.get(ref);
  } catch (error) {
    // The reference travels as the failure's detail: the block workflow proves that artifact again.
    if (error instanceof ArtifactNotFoundError)
      throw ApplicationFailure.create({ message: error.message, type: FailureTypes.ArtifactMissing, nonRetryable: true, details: [ref] });
    if (error instanceof ArtifactCorruptError)
      throw ApplicationFailure.create({ message: error.message, type: FailureTypes.ArtifactCorrupt, nonRetryable: true, details: [ref] });
    throw error;
  }
}

/** A block's prover input from its reference (none: `{}`); a lost input fails the block for good, since nothing can prove it again. */
export async function readBlockInput(store: ArtifactStore, ref: string | undefined): Promise<ProverInput> {
  return ref === undefined ? {} : decodeBlockInput(await readArtifact(store, ref));
}
