import { createHash } from 'node:crypto';

/**
 * A block's deterministic stand-in witness (what a rollup would pass as its transactions),
 * shared by the real backends so that o1js and groth16 prove the same statement: a Poseidon
 * chain over each segment's transactions from the block's genesis state to its final state.
 * Values are sha256 truncated to 248 bits: below both BN254's and Pallas's field moduli.
 */
export const TRANSACTIONS_PER_SEGMENT = 8;

function valueOf(text: string): bigint {
  return BigInt(`0x${createHash('sha256').update(text).digest('hex').slice(0, 62)}`);
}

export function transactionValues(blockHash: string, index: number): bigint[] {
  return Array.from({ length: TRANSACTIONS_PER_SEGMENT }, (_, k) => valueOf(`${blockHash}/${index}/${k}`));
}

export function genesisValue(blockHash: string): bigint {
  return valueOf(`${blockHash}/genesis`);
}

/** The state after the first `segments` segments, in the backend's field and with its hash. */
export function chainStateAfter<F>(
  blockHash: string,
  segments: number,
  toField: (value: bigint) => F,
  hash: (state: F, transaction: F) => F,
): F {
  let state = toField(genesisValue(blockHash));
  for (let index = 0; index < segments; index += 1) {
    for (const transaction of transactionValues(blockHash, index)) state = hash(state, toField(transaction));
  }
  return state;
}
