import fc from 'fast-check';
import { proverKey, type CountedProof, type ProverRun } from '../domain/block';
import { ChainBook } from '../sequencing/chain-book';
import { finalizedReport } from '../sequencing/finalized-report';
import type { BlockFinalizedReport } from '../workflows/sinks';
import { ProofQuorum } from '../domain/quorum';
import type { ChainConfig } from '../domain/chain';

/**
 * Multi-proof's quorum rule without a server: the block workflow's `ProofQuorum` (unit and
 * property tests over random outcome sequences) and the chain book's side of it (a block is
 * proved only by a report with `quorum` verified proofs; a retry carries what verified).
 */

const RUNS: ProverRun[] = [
  { prover: 'simulated', gpuClass: 'fast', segments: 4 },
  { prover: 'simulated', gpuClass: 'slow', segments: 2 },
  { prover: 'groth16', gpuClass: 'h100', segments: 1 },
];
const refOf = (tag: number): string => `sha256:${tag.toString(16).padStart(64, '0')}`;
const proofOf = (run: ProverRun, tag = 0): CountedProof => ({
  prover: run.prover,
  gpuClass: run.gpuClass,
  proofRef: refOf(tag),
  verified: true,
  provingMs: 10,
  gpuMs: 40,
});

describe('proof quorum', () => {
  it('is reached at the second verified proof of 2-of-3; the third is late and never counted', () => {
    const quorum = new ProofQuorum(RUNS, 2);
    expect(quorum.verified(proofOf(RUNS[0], 1))).toBe('counted');
    expect(quorum.reached).toBe(false);
    expect(quorum.verified(proofOf(RUNS[2], 3))).toBe('counted');
    expect(quorum.reached).toBe(true);
    expect(quorum.stillProving()).toEqual(['simulated@slow']);
    expect(quorum.verified(proofOf(RUNS[1], 2))).toBe('late');
    expect(quorum.counted().map(proverKey)).toEqual(['simulated@fast', 'groth16@h100']);
    expect(quorum.late().map(proverKey)).toEqual(['simulated@slow']);
  });

  it('never counts a forger: 3-of-3 with one failed verification cannot be reached, and says which prover failed and why', () => {
    const quorum = new ProofQuorum(RUNS, 3);
    quorum.verified(proofOf(RUNS[0]));
    quorum.failed('simulated@slow', 'block proof failed verification: digest does not match the block');
    expect(quorum.unreachable).toBe(true);
    expect(quorum.decided).toBe(true);
    expect(quorum.failureReason()).toMatch(/1 of the 3 verified proofs needed.*simulated@slow: block proof failed verification: digest/);
    // A forger's later "proof" does not count either: a failed prover stays failed.
    expect(quorum.verified(proofOf(RUNS[1]))).toBe('ignored');
    expect(quorum.counted()).toHaveLength(1);
  });

  it('is still reachable while enough provers run, and refuses a quorum larger than its provers', () => {
    const quorum = new ProofQuorum(RUNS, 2);
    quorum.failed('groth16@h100', 'prover crashed 5 times');
    expect(quorum.decided).toBe(false);
    quorum.cancelled('simulated@slow');
    expect(quorum.unreachable).toBe(true);
    expect(() => new ProofQuorum(RUNS, 4)).toThrow(/cannot be reached/);
  });

  type Event = { kind: 'verified' | 'failed' | 'cancelled'; prover: number };
  const event: fc.Arbitrary<Event> = fc.record({
    kind: fc.constantFrom('verified' as const, 'verified' as const, 'failed' as const, 'cancelled' as const),
    prover: fc.nat({ max: RUNS.length - 1 }),
  });

  it('over random outcome sequences: reached exactly when `quorum` provers verified, counting only the first `quorum`, each prover once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: RUNS.length }), fc.array(event, { maxLength: 12 }), (k, events) => {
        const quorum = new ProofQuorum(RUNS, k);
        const firstOutcome = new Map<string, Event['kind']>();
        const verifiedInOrder: string[] = [];
        for (const [index, { kind, prover }] of events.entries()) {
          const key = proverKey(RUNS[prover]);
          if (kind === 'verified') quorum.verified(proofOf(RUNS[prover], index));
          else if (kind === 'failed') quorum.failed(key, 'forged');
          else quorum.cancelled(key);
          if (!firstOutcome.has(key)) {
            firstOutcome.set(key, kind);
            if (kind === 'verified') verifiedInOrder.push(key);
          }
          // The model: a prover's first outcome is its outcome; a block finalizes exactly when k verified, never before.
          expect(quorum.reached).toBe(verifiedInOrder.length >= k);
          expect(quorum.counted().map(proverKey)).toEqual(verifiedInOrder.slice(0, k));
          expect(quorum.late().map(proverKey)).toEqual(verifiedInOrder.slice(k));
          const running = RUNS.length - firstOutcome.size;
          expect(quorum.unreachable).toBe(verifiedInOrder.length < k && verifiedInOrder.length + running < k);
          // Nothing failed or cancelled ever counts.
          for (const counted of quorum.counted()) expect(firstOutcome.get(proverKey(counted))).toBe('verified');
        }
      }),
      { seed: 20261207, numRuns: 2_000 },
    );
  });
});

describe('chain book: multi-proof', () => {
  const CONFIG: ChainConfig = {
    mode: 'pipelined',
    maxInFlight: 4,
    slotSeconds: 12,
    maxAhead: 16,
    defaults: { gpuClass: 'h100', prover: 'simulated', segments: 4 },
    every: 1,
    startNumber: 0,
    proofs: {
      provers: [{ prover: 'simulated', gpuClass: 'fast' }, { prover: 'simulated', gpuClass: 'slow', segments: 2 }, { prover: 'groth16' }],
      quorum: 2,
      keepProving: false,
    },
  };
  const hash = `0x${'ab'.repeat(32)}`;

  it('gives every block its provers with the defaults filled in, and refuses a block naming its own prover', () => {
    const book = ChainBook.create('multi', CONFIG);
    book.submit({ number: 0, hash, segments: 8 }, 0);
    const [start] = book.nextStarts(1, 0);
    expect(start.job.proofs).toEqual({
      provers: [
        { prover: 'simulated', gpuClass: 'fast', segments: 8 },
        { prover: 'simulated', gpuClass: 'slow', segments: 2 },
        { prover: 'groth16', gpuClass: 'h100', segments: 8 },
      ],
      quorum: 2,
      keepProving: false,
      carried: [],
    });
    expect(() => book.checkSubmission({ number: 1, hash, prover: 'groth16' })).toThrow(/cannot name its own prover/);
  });

  it('refuses a policy whose provers coincide once defaults are filled in, or whose quorum exceeds them', () => {
    const book = ChainBook.create('multi', { ...CONFIG, proofs: undefined });
    expect(() =>
      book.checkConfigure({
        mode: 'pipelined',
        proofs: { provers: [{ prover: 'groth16' }, { prover: 'groth16', gpuClass: 'h100' }], quorum: 1 },
      }),
    ).toThrow(/lists groth16@h100 twice/);
    expect(() => book.checkConfigure({ mode: 'pipelined', proofs: { provers: [{ prover: 'groth16' }], quorum: 2 } })).toThrow(
      /quorum 2 is more than the 1 provers/,
    );
  });

  it('is proved only by a report with the quorum; a failed block keeps what verified, and its retry carries it to be verified again', () => {
    const book = ChainBook.create('multi', CONFIG);
    book.submit({ number: 0, hash }, 0);
    const [start] = book.nextStarts(1, 0);
    const runs = start.job.proofs!.provers;
    const report = (outcome: 'proved' | 'failed', proofs: CountedProof[]) => ({
      workflowId: start.workflowId,
      number: 0,
      hash,
      outcome,
      segments: { total: 14, done: 14, running: 0, failed: 0 },
      proofRef: proofs[0]?.proofRef,
      proofs,
      ...(outcome === 'failed' ? { error: 'quorum not reached: simulated@slow: forged' } : {}),
    });
    // One proof, and the same prover's twice, are not a quorum of two.
    expect(book.settle(report('proved', [proofOf(runs[0], 1), proofOf(runs[0], 2)]), 0)).toBe(true);
    expect(book.entry(0)).toMatchObject({ status: 'failed', error: 'reported proved with 1 of the 2 verified proofs its chain requires' });
    book.retry(0);
    const [second] = book.nextStarts(1, 0);
    expect(second.job.proofs?.carried).toEqual([proofOf(runs[0], 1)]);
    expect(book.settle({ ...report('proved', [proofOf(runs[0], 1), proofOf(runs[2], 3)]), workflowId: second.workflowId }, 0)).toBe(true);
    expect(book.entry(0)?.status).toBe('proved');
    const batch = book.nextPublication();
    expect(batch?.proofs[0].proofs?.map(proverKey)).toEqual(['simulated@fast', 'groth16@h100']);
  });

  it("reports a finalized block to the metrics under the prover whose proof completed the quorum, with every prover's GPU time", () => {
    const reports: BlockFinalizedReport[] = [];
    const book = ChainBook.create('multi', CONFIG, { onFinalized: (entry) => reports.push(finalizedReport('multi', entry)) });
    book.submit({ number: 0, hash }, 0);
    const [start] = book.nextStarts(1, 0);
    const runs = start.job.proofs!.provers;
    // The slow prover verified first, groth16 second: groth16's proof is the block's. Their proofs
    // are byte-identical (one reference), as two deterministic provers' can be: order decides.
    const proofs = [proofOf(runs[1], 2), proofOf(runs[2], 2)];
    book.settle(
      {
        workflowId: start.workflowId,
        number: 0,
        hash,
        outcome: 'proved',
        segments: { total: 1, done: 1, running: 0, failed: 0 },
        proofRef: proofs[1].proofRef,
        proofs,
        provingMs: 10,
        gpuMs: 80,
      },
      1_000,
    );
    book.nextPublication();
    book.published(2_000);
    expect(reports).toEqual([
      expect.objectContaining({ number: 0, prover: 'groth16', gpuClass: 'h100', provingMs: 10, gpuMs: 80, finalizedAt: 2_000 }),
    ]);
    // The counted proofs went out with the publication; the book no longer carries them.
    expect(book.entry(0)?.proofs).toBeUndefined();
  });
});
