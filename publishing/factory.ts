import { fileURLToPath } from 'node:url';
import { memoryInstance, portFromUri } from '../config/port-uri';
import { FileProofPublisher } from './file-proof-publisher';
import { MemoryProofPublisher } from './memory-proof-publisher';
import type { ProofPublisher } from './proof-publisher';

const memoryPublishers = new Map<string, MemoryProofPublisher>();

/**
 * The publisher a URI names: `file:///data/published` (one record per block in a folder) or
 * `memory://name` (this process only; the same name gives the same publisher).
 */
export function createProofPublisher(uri: string): ProofPublisher {
  return portFromUri<ProofPublisher>('proof publisher', uri, {
    'file:': (url) => new FileProofPublisher(fileURLToPath(url)),
    'memory:': (url) => memoryInstance(memoryPublishers, url, () => new MemoryProofPublisher()),
  });
}
