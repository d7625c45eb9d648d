import { createHash } from 'node:crypto';
import { poseidon2, poseidon3 } from 'poseidon-lite';

/**
 * What the groth16 circuits talk about, computed outside the circuits: a block's stand-in
 * transactions, its genesis state, the state after each segment, and the commitment the
 * aggregation circuit binds a chain of transitions into. Must match `circuits/*.circom`.
 */
export const TRANSACTIONS_PER_SEGMENT = 8;

/** Children one aggregation proof binds (the aggregation circuit's `MAX_CHILDREN`). */
export const AGGREGATION_FAN_IN = 8;

export interface Transition {
  start: bigint;
  end: bigint;
}

/** A BN254 field element derived from text (sha256 truncated to 248 bits, below the modulus). */
function fieldOf(text: string): bigint {
  return BigInt(`0x${createHash('sha256').update(text).digest('hex').slice(0, 62)}`);
}

/** The block's deterministic stand-in transactions: what a rollup would pass as its witness. */
export function segmentTransactions(blockHash: string, index: number): bigint[] {
  return Array.from({ length: TRANSACTIONS_PER_SEGMENT }, (_, k) => fieldOf(`${blockHash}/${index}/${k}`));
}

export function genesisState(blockHash: string): bigint {
  return fieldOf(`${blockHash}/genesis`);
}

/** The state after the first `segments` segments of the block. */
export function stateAfter(blockHash: string, segments: number): bigint {
  let state = genesisState(blockHash);
  for (let index = 0; index < segments; index += 1) {
    for (const transaction of segmentTransactions(blockHash, index)) state = poseidon2([state, transaction]);
  }
  return state;
}

/** h_0 = 0, h_{i+1} = Poseidon(h_i, start_i, end_i): the aggregation circuit's `commitment`. */
export function chainCommitment(transitions: Transition[]): bigint {
  return transitions.reduce((acc, { start, end }) => poseidon3([acc, start, end]), 0n);
}
