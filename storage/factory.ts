import { fileURLToPath } from 'node:url';
import { memoryInstance, portFromUri } from '../config/port-uri';
import type { ArtifactStore } from './artifact-store';
import { FileArtifactStore } from './file-artifact-store';
import { MemoryArtifactStore } from './memory-artifact-store';
import { S3ArtifactStore, s3OptionsFromUrl } from './s3-artifact-store';

const memoryStores = new Map<string, MemoryArtifactStore>();

/**
 * The artifact store a URI names: `file:///data/artifacts` (a folder, shared by every worker
 * of a cluster), `s3://bucket/prefix?endpoint=…` (an S3 bucket, for workers that share no volume;
 * see storage/s3-artifact-store.ts) or `memory://name` (this process only; the same name gives
 * the same store).
 */
export function createArtifactStore(uri: string): ArtifactStore {
  return portFromUri<ArtifactStore>('artifact store', uri, {
    'file:': (url) => new FileArtifactStore(fileURLToPath(url)),
    's3:': (url) => new S3ArtifactStore(s3OptionsFromUrl(url)),
    'memory:': (url) => memoryInstance(memoryStores, url, () => new MemoryArtifactStore()),
  });
}
