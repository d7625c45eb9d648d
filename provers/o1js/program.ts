import { Field, Poseidon, Provable, SelfProof, Struct, ZkProgram } from 'o1js';
import { chainStateAfter, genesisValue, TRANSACTIONS_PER_SEGMENT, transactionValues } from '../stand-in-block';

/**
 * The o1js block program: a block's state transition proved recursively.
 * - `chunk` proves one segment: a Poseidon hash chain over the segment's transactions takes
 *   the state from `start` to `end` (the public input).
 * - `merge` verifies two child proofs inside the circuit and that they chain
 *   (`left.end == right.start`), proving the joined transition `left.start → right.end`.
 * The root proof, with the verification key, shows that the whole block's transactions take
 * the genesis state of the block to its final state.
 */
export class Transition extends Struct({ start: Field, end: Field }) {}

export const BlockProgram = ZkProgram({
  name: 'prooflane-block',
  publicInput: Transition,
  methods: {
    chunk: {
      privateInputs: [Provable.Array(Field, TRANSACTIONS_PER_SEGMENT)],
      async method(transition: Transition, transactions: Field[]) {
        let state = transition.start;
        for (const transaction of transactions) state = Poseidon.hash([state, transaction]);
        state.assertEquals(transition.end);
      },
    },
    merge: {
      privateInputs: [SelfProof, SelfProof],
      async method(transition: Transition, left: SelfProof<Transition, void>, right: SelfProof<Transition, void>) {
        left.verify();
        right.verify();
        left.publicInput.start.assertEquals(transition.start);
        left.publicInput.end.assertEquals(right.publicInput.start);
        right.publicInput.end.assertEquals(transition.end);
      },
    },
  },
});

export class BlockProof extends ZkProgram.Proof(BlockProgram) {}

/** The segment's stand-in transactions as field elements (see provers/stand-in-block.ts). */
export function segmentTransactions(blockHash: string, index: number): Field[] {
  return transactionValues(blockHash, index).map((value) => Field(value));
}

export function genesisState(blockHash: string): Field {
  return Field(genesisValue(blockHash));
}

/** The state after the first `segments` segments of the block (computed outside the circuit). */
export function stateAfter(blockHash: string, segments: number): Field {
  return chainStateAfter(
    blockHash,
    segments,
    (value) => Field(value),
    (state, transaction) => Poseidon.hash([state, transaction]),
  );
}
