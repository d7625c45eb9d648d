import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Where proof bytes live. Temporal payloads carry only references (`sha256:<hex>`),
 * so a 33 KB proof or a 2000-segment block never bloats workflow history. The file
 * store is the default; an object store (S3, GCS) implements the same two calls.
 */
export interface ArtifactStore {
  put(bytes: Uint8Array): Promise<string>;
  get(ref: string): Promise<Uint8Array>;
}

const REF_PATTERN = /^sha256:([0-9a-f]{64})$/;

export class ArtifactNotFoundError extends Error {
  override readonly name = 'ArtifactNotFoundError';
}

/** Content-addressed files: `<root>/sha256/ab/abcdef...`. Writes are atomic and idempotent. */
export class FileArtifactStore implements ArtifactStore {
  constructor(readonly root: string) {}

  async put(bytes: Uint8Array): Promise<string> {
    const digest = createHash('sha256').update(bytes).digest('hex');
    const file = this.pathOf(digest);
    await mkdir(path.dirname(file), { recursive: true });
    const staging = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(staging, bytes);
    await rename(staging, file);
    return `sha256:${digest}`;
  }

  async get(ref: string): Promise<Uint8Array> {
    const match = REF_PATTERN.exec(ref);
    if (!match) throw new ArtifactNotFoundError(`not an artifact reference: ${ref}`);
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(match[1]));
    } catch {
      throw new ArtifactNotFoundError(`artifact ${ref} is not in the store at ${this.root}`);
    }
    // A changed file under a content address is corruption or tampering: never hand it to a verifier as genuine.
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== match[1]) throw new ArtifactNotFoundError(`artifact ${ref} is corrupt (content hashes to ${actual})`);
    return bytes;
  }

  private pathOf(digest: string): string {
    return path.join(this.root, 'sha256', digest.slice(0, 2), digest);
  }
}
