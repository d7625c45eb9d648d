pragma circom 2.1.6;

include "circomlib/circuits/poseidon.circom";

// One segment of a block: a Poseidon hash chain over the segment's transactions (private)
// takes the state from `start` (public input) to `end` (public output).
template Segment(TRANSACTIONS) {
    signal input start;
    signal input transactions[TRANSACTIONS];
    signal output end;

    signal states[TRANSACTIONS + 1];
    component steps[TRANSACTIONS];
    states[0] <== start;
    for (var i = 0; i < TRANSACTIONS; i++) {
        steps[i] = Poseidon(2);
        steps[i].inputs[0] <== states[i];
        steps[i].inputs[1] <== transactions[i];
        states[i + 1] <== steps[i].out;
    }
    end <== states[TRANSACTIONS];
}

component main {public [start]} = Segment(8);
