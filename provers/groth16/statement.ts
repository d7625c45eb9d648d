import { poseidon2, poseidon3 } from 'poseidon-lite';
import { chainStateAfter } from '../stand-in-block';

/**
 * What the groth16 circuits talk about, computed outside the circuits: a block's stand-in
 * transactions, its genesis state, the state after each segment (BN254, circomlib's Poseidon),
 * and the commitment the aggregation circuit binds a chain of transitions into. Must match
 * `circuits/*.circom` (the segment circuit takes TRANSACTIONS_PER_SEGMENT transactions).
 */

/** Children one aggregation proof binds (the aggregation circuit's `MAX_CHILDREN`). */
export const AGGREGATION_FAN_IN = 8;

export interface Transition {
  start: bigint;
  end: bigint;
}

/** The state after the first `segments` segments of the block (provers/stand-in-block.ts). */
export function stateAfter(blockHash: string, segments: number): bigint {
  return chainStateAfter(
    blockHash,
    segments,
    (value) => value,
    (state, transaction) => poseidon2([state, transaction]),
  );
}

/** h_0 = 0, h_{i+1} = Poseidon(h_i, start_i, end_i): the aggregation circuit's `commitment`. */
export function chainCommitment(transitions: Transition[]): bigint {
  return transitions.reduce((acc, { start, end }) => poseidon3([acc, start, end]), 0n);
}
