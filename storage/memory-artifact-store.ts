import { artifactRef, ArtifactNotFoundError, checkedContent, digestOf, sha256Hex, type ArtifactStore } from './artifact-store';

/**
 * Artifacts in this process's memory: for tests and single-process tools. Workers in other
 * processes cannot see them, so a cluster never uses it.
 */
export class MemoryArtifactStore implements ArtifactStore {
  private readonly artifacts = new Map<string, Uint8Array>();

  async put(bytes: Uint8Array): Promise<string> {
    const digest = sha256Hex(bytes);
    // A copy: the caller may reuse its buffer.
    if (!this.artifacts.has(digest)) this.artifacts.set(digest, Uint8Array.from(bytes));
    return artifactRef(digest);
  }

  async get(ref: string): Promise<Uint8Array> {
    const digest = digestOf(ref);
    const bytes = this.artifacts.get(digest);
    if (!bytes) throw new ArtifactNotFoundError(`artifact ${ref} is not in this process's memory store`);
    return Uint8Array.from(checkedContent(ref, digest, bytes));
  }

  async close(): Promise<void> {
    // The artifacts stay for other users of the same memory:// name.
  }
}
