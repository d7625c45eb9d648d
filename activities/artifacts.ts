import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../domain/failures';
import { ArtifactCorruptError, ArtifactNotFoundError, type ArtifactStore } from '../storage/artifact-store';

/**
 * Reads a proof an activity needs. A missing or corrupt artifact fails the task for good instead
 * of being retried until the task's time budget runs out: neither heals by waiting (a missing one
 * means the workers do not share a store, or the data is lost).
 */
export async function readArtifact(store: ArtifactStore, ref: string): Promise<Uint8Array> {
  try {
    return await store.get(ref);
  } catch (error) {
    if (error instanceof ArtifactNotFoundError) throw ApplicationFailure.nonRetryable(error.message, FailureTypes.ArtifactMissing);
    if (error instanceof ArtifactCorruptError) throw ApplicationFailure.nonRetryable(error.message, FailureTypes.ArtifactCorrupt);
    throw error;
  }
}
