import { ProverInputSchema, type ProverInput } from '../domain/block';
import type { ArtifactStore } from './artifact-store';

/**
 * A block's prover input is stored once, when the chain admits the block, and travels through
 * Temporal only as its reference: a sequencer's carried state, a block workflow's history and
 * each of its 2000 activities stay the same size whatever the input weighs.
 */
export async function putBlockInput(store: ArtifactStore, input: ProverInput | undefined): Promise<string | undefined> {
  if (input === undefined || Object.keys(input).length === 0) return undefined;
  return store.put(new TextEncoder().encode(JSON.stringify(input)));
}

export function decodeBlockInput(bytes: Uint8Array): ProverInput {
  return ProverInputSchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
}
