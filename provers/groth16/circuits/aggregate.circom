pragma circom 2.1.6;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/comparators.circom";

// Binds up to MAX_CHILDREN consecutive transitions (start_i -> end_i) into one commitment and
// proves that they chain (end_i == start_{i+1}). NOT recursive: it does not verify the children's
// proofs; whoever checks a block verifies every child proof and this one (see docs/PROVERS.md).
//
// Public: count (input); blockStart, blockEnd, commitment (outputs), where
// commitment = h_count with h_0 = 0, h_{i+1} = Poseidon(h_i, start_i, end_i).
template Aggregate(MAX_CHILDREN) {
    signal input count;
    signal input starts[MAX_CHILDREN];
    signal input ends[MAX_CHILDREN];
    signal output blockStart;
    signal output blockEnd;
    signal output commitment;

    component atLeastOne = GreaterEqThan(8);
    atLeastOne.in[0] <== count;
    atLeastOne.in[1] <== 1;
    atLeastOne.out === 1;
    component atMostMax = LessEqThan(8);
    atMostMax.in[0] <== count;
    atMostMax.in[1] <== MAX_CHILDREN;
    atMostMax.out === 1;

    component active[MAX_CHILDREN];   // i < count
    component isLast[MAX_CHILDREN];   // i == count - 1
    component hashes[MAX_CHILDREN];
    signal chain[MAX_CHILDREN + 1];
    signal step[MAX_CHILDREN];
    signal lastEnd[MAX_CHILDREN + 1];
    chain[0] <== 0;
    lastEnd[0] <== 0;
    for (var i = 0; i < MAX_CHILDREN; i++) {
        active[i] = LessThan(8);
        active[i].in[0] <== i;
        active[i].in[1] <== count;
        if (i > 0) {
            active[i].out * (starts[i] - ends[i - 1]) === 0;
        }
        hashes[i] = Poseidon(3);
        hashes[i].inputs[0] <== chain[i];
        hashes[i].inputs[1] <== starts[i];
        hashes[i].inputs[2] <== ends[i];
        step[i] <== active[i].out * (hashes[i].out - chain[i]);
        chain[i + 1] <== chain[i] + step[i];

        isLast[i] = IsEqual();
        isLast[i].in[0] <== i + 1;
        isLast[i].in[1] <== count;
        lastEnd[i + 1] <== lastEnd[i] + isLast[i].out * ends[i];
    }
    blockStart <== starts[0];
    blockEnd <== lastEnd[MAX_CHILDREN];
    commitment <== chain[MAX_CHILDREN];
}

component main {public [count]} = Aggregate(8);
