import { createHash } from 'node:crypto';

/**
 * Where proof bytes live. Temporal payloads carry only references (`sha256:<hex>`), so a
 * 33 KB proof or a 2000-segment block never bloats workflow history. Every implementation
 * is content-addressed: `put` of the same bytes returns the same reference, and `get`
 * returns exactly the bytes that hash to it or throws.
 */
export interface ArtifactStore {
  /** Stores `bytes` durably (idempotent) and returns their reference. */
  put(bytes: Uint8Array): Promise<string>;
  /** The bytes behind `ref`; ArtifactNotFoundError when absent, ArtifactCorruptError when they no longer hash to it. */
  get(ref: string): Promise<Uint8Array>;
  /** Releases connections (a stopping worker, a test); the stored artifacts stay. */
  close(): Promise<void>;
}

export class ArtifactNotFoundError extends Error {
  override readonly name = 'ArtifactNotFoundError';
}

/** Stored bytes that no longer hash to their address: corruption or tampering, never healed by retrying. */
export class ArtifactCorruptError extends Error {
  override readonly name = 'ArtifactCorruptError';
}

const REF_PATTERN = /^sha256:([0-9a-f]{64})$/;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function artifactRef(digest: string): string {
  return `sha256:${digest}`;
}

/** The digest named by `ref`; only well-formed references get through, so no store ever sees a path it did not make. */
export function digestOf(ref: string): string {
  const match = REF_PATTERN.exec(ref);
  if (!match) throw new ArtifactNotFoundError(`not an artifact reference: ${ref}`);
  return match[1];
}

/** Returns `bytes` when they hash to `digest`; a changed artifact is never handed to a verifier as genuine. */
export function checkedContent(ref: string, digest: string, bytes: Uint8Array): Uint8Array {
  const actual = sha256Hex(bytes);
  if (actual !== digest) throw new ArtifactCorruptError(`artifact ${ref} is corrupt (content hashes to ${actual})`);
  return bytes;
}
