import fc from 'fast-check';
import type { BlockJobInput, BlockSettlement, CountedProof } from '../domain/block';
import { MAX_PROVERS, PROVER_NAMES, proverKey } from '../domain/block';
import { MAX_AHEAD_LIMIT, type ChainConfig, type ChainConfigBody } from '../domain/chain';
import { FailureTypes, MAX_REASON_CHARS } from '../domain/failures';
import { ChainBook, ChainRefusal, FINALIZED_KEPT, STATE_BOUND_BYTES } from '../sequencing/chain-book';

/**
 * The chain's state machine without a server: unit tests of its admission rules, then a
 * model-based property test that drives it with random operation sequences (any order,
 * duplicates, conflicting hashes, settlements of every kind, reorgs, retries, pauses,
 * publications that fail, continue-as-new round trips) and checks the chain's invariants
 * after every step.
 */

const CONFIG: ChainConfig = {
  mode: 'pipelined',
  maxInFlight: 3,
  slotSeconds: 12,
  maxAhead: 16,
  defaults: { gpuClass: 'h100', prover: 'simulated', segments: 2 },
  every: 1,
};
const hashOf = (number: number, salt = 0): string => `0x${(number * 7 + salt).toString(16).padStart(62, '0')}a${salt}`;
const refOf = (tag: number): string => `sha256:${tag.toString(16).padStart(64, '0')}`;
const NOW = 1_760_000_000_000;

function refusal(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (error instanceof ChainRefusal) return error.type;
    throw error;
  }
}

/** The proofs a block workflow reports: of its first `count` provers (all by default), plus an unlisted one when `foreign`, the first twice when `repeated`. */
function proofsOf(
  job: Partial<Pick<BlockJobInput, 'prover' | 'gpuClass' | 'proofs'>> & Pick<BlockJobInput, 'number'>,
  count?: number,
  options: { foreign?: boolean; repeated?: boolean } = {},
): CountedProof[] {
  const provers = job.proofs?.provers ?? [{ prover: job.prover ?? 'simulated', gpuClass: job.gpuClass ?? 'h100' }];
  const proofs: CountedProof[] = provers.slice(0, count ?? provers.length).map((run, index) => ({
    prover: run.prover,
    gpuClass: run.gpuClass,
    proofRef: refOf(job.number * 16 + index),
    verified: true,
    provingMs: 1_000,
    gpuMs: 4_000,
  }));
  if (options.repeated && proofs.length > 0) proofs.push({ ...proofs[0], proofRef: refOf(job.number * 16 + 9) });
  if (options.foreign)
    proofs.push({
      prover: 'groth16',
      gpuClass: 'elsewhere',
      proofRef: refOf(job.number * 16 + 10),
      verified: true,
      provingMs: 1,
      gpuMs: 1,
    });
  return proofs;
}

/** A block workflow's report about `job`, as workflows/block.ts sends it (proved: with every prover's proof unless `proofs` says otherwise). */
function report(
  workflowId: string,
  job: Pick<BlockJobInput, 'number' | 'hash' | 'inputRef'> & Partial<Pick<BlockJobInput, 'prover' | 'gpuClass' | 'proofs'>>,
  outcome: BlockSettlement['outcome'],
  extra: Partial<BlockSettlement> = {},
): BlockSettlement {
  const proofs = extra.proofs ?? (outcome === 'proved' ? proofsOf(job) : []);
  return {
    workflowId,
    number: job.number,
    hash: job.hash,
    ...(job.inputRef !== undefined ? { inputRef: job.inputRef } : {}),
    outcome,
    segments: { total: 2, done: 2, running: 0, failed: 0 },
    ...(outcome === 'proved'
      ? { proofRef: proofs[0]?.proofRef ?? refOf(job.number), proofs }
      : { error: outcome === 'failed' ? 'bad input' : outcome, proofs }),
    ...extra,
  };
}

/** Starts what the book wants started and reports each start's job, as the workflow would. */
function startAll(book: ChainBook): Map<number, BlockJobInput> {
  return new Map(book.nextStarts(100, NOW).map((start) => [start.number, start.job]));
}

describe('chain book: admission', () => {
  it('fixes the start at the first block when none is configured, and refuses lower numbers instead of stranding them', () => {
    const book = ChainBook.create('c', CONFIG);
    book.submit({ number: 10, hash: hashOf(10) }, NOW);
    expect(refusal(() => book.checkSubmission({ number: 9, hash: hashOf(9) }))).toBe(FailureTypes.BelowStart);
    expect(book.snapshot()).toMatchObject({ startNumber: 10, nextToFinalize: 10 });
  });

  it('moves the start only while the chain holds no blocks', () => {
    const book = ChainBook.create('c', CONFIG);
    book.configure({ mode: 'pipelined', startNumber: 5 });
    expect(book.snapshot().nextToFinalize).toBe(5);
    book.configure({ mode: 'pipelined', startNumber: 3 });
    expect(book.snapshot()).toMatchObject({ startNumber: 3, nextToFinalize: 3 });
    book.submit({ number: 4, hash: hashOf(4) }, NOW);
    expect(refusal(() => book.checkConfigure({ mode: 'pipelined', startNumber: 0 }))).toBe(FailureTypes.StartFixed);
    expect(refusal(() => book.checkConfigure({ mode: 'pipelined', startNumber: 3 }))).toBeUndefined();
    // A reorg that forgets every block frees the start again.
    book.reorg({ fromNumber: 3 });
    expect(refusal(() => book.checkConfigure({ mode: 'pipelined', startNumber: 0 }))).toBeUndefined();
  });

  it('answers a window of maxAhead blocks past the next to finalize, and 429 with a retry time beyond it', () => {
    const book = ChainBook.create('c', { ...CONFIG, maxAhead: 4, startNumber: 0 });
    expect(refusal(() => book.checkSubmission({ number: 3, hash: hashOf(3) }))).toBeUndefined();
    let error: unknown;
    try {
      book.checkSubmission({ number: 4, hash: hashOf(4) });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ type: FailureTypes.BeyondWindow, retryAfterSeconds: 12 });
    expect(refusal(() => book.checkSubmission({ number: Number.MAX_SAFE_INTEGER, hash: hashOf(1) }))).toBe(FailureTypes.BeyondWindow);
    expect(refusal(() => book.checkSubmission({ number: Number.MAX_SAFE_INTEGER + 1, hash: hashOf(1) }))).toBe(FailureTypes.InvalidRequest);
  });

  it('treats hashes without regard to case, refuses a second hash, and answers an identical resubmission as a duplicate', () => {
    const book = ChainBook.create('c', CONFIG);
    const hash = `0x${'AB'.repeat(32)}`;
    expect(book.submit({ number: 1, hash }, NOW).outcome).toBe('accepted');
    expect(book.submit({ number: 1, hash: hash.toLowerCase() }, NOW)).toMatchObject({ outcome: 'duplicate', hash: hash.toLowerCase() });
    expect(refusal(() => book.checkSubmission({ number: 1, hash: hashOf(1) }))).toBe(FailureTypes.HashConflict);
  });

  it('refuses numbers at or below the finalized head, also after the window forgot them', () => {
    const book = ChainBook.create('c', { ...CONFIG, startNumber: 0 });
    book.submit({ number: 0, hash: hashOf(0) }, NOW);
    const [start] = book.nextStarts(1, NOW);
    book.settle(report(start.workflowId, start.job, 'proved'), NOW);
    book.nextPublication();
    book.published(NOW);
    expect(book.submit({ number: 0, hash: hashOf(0) }, NOW).outcome).toBe('duplicate');
    expect(refusal(() => book.checkSubmission({ number: 0, hash: hashOf(0, 1) }))).toBe(FailureTypes.AlreadyFinalized);
    const recovered = ChainBook.create('c', CONFIG);
    recovered.recoverPublishedHead(41);
    expect(refusal(() => recovered.checkSubmission({ number: 41, hash: hashOf(41) }))).toBe(FailureTypes.AlreadyFinalized);
    expect(recovered.snapshot()).toMatchObject({ finalizedHead: 41, nextToFinalize: 42, startNumber: 42 });
    // A configured start above the recovered head stays the start.
    const ahead = ChainBook.create('c', { ...CONFIG, startNumber: 100 });
    ahead.recoverPublishedHead(41);
    expect(ahead.snapshot()).toMatchObject({ finalizedHead: 41, nextToFinalize: 100 });
    expect(refusal(() => ahead.checkSubmission({ number: 99, hash: hashOf(99) }))).toBe(FailureTypes.BelowStart);
  });
});

describe('chain book: a chain that proves every Nth block', () => {
  const everyThird: ChainConfig = { ...CONFIG, maxAhead: 4, every: 3, startNumber: 10 };

  it('accepts only numbers on its grid, counts its window in its own blocks, and finalizes along the grid', () => {
    const book = ChainBook.create('every', everyThird);
    expect(refusal(() => book.checkSubmission({ number: 11, hash: hashOf(11) }))).toBe(FailureTypes.InvalidRequest);
    // The window holds maxAhead of the chain's blocks: 10, 13, 16, 19.
    expect(refusal(() => book.checkSubmission({ number: 19, hash: hashOf(19) }))).toBeUndefined();
    expect(refusal(() => book.checkSubmission({ number: 22, hash: hashOf(22) }))).toBe(FailureTypes.BeyondWindow);
    for (const number of [10, 16]) book.submit({ number, hash: hashOf(number) }, NOW);
    // 13 is the gap; 11 and 12 are not the chain's blocks.
    expect(book.snapshot()).toMatchObject({ every: 3, gaps: [13], nextToFinalize: 10 });
    book.submit({ number: 13, hash: hashOf(13) }, NOW);
    for (const start of book.nextStarts(3, NOW)) book.settle(report(start.workflowId, start.job, 'proved'), NOW);
    expect(book.nextPublication()?.proofs.map((proof) => proof.number)).toEqual([10, 13, 16]);
    book.published(NOW);
    expect(book.snapshot()).toMatchObject({ finalizedHead: 16, nextToFinalize: 19, gaps: [] });
    // The window moved with the head: 19 to 28.
    expect(refusal(() => book.checkSubmission({ number: 28, hash: hashOf(28) }))).toBeUndefined();
    expect(refusal(() => book.checkSubmission({ number: 31, hash: hashOf(31) }))).toBe(FailureTypes.BeyondWindow);
  });

  it('keeps its stride fixed while it holds blocks, and resumes on its grid after a recovery', () => {
    const book = ChainBook.create('every', everyThird);
    book.submit({ number: 10, hash: hashOf(10) }, NOW);
    expect(refusal(() => book.checkConfigure({ mode: 'pipelined', every: 2 }))).toBe(FailureTypes.StartFixed);
    const recovered = ChainBook.create('every', { ...everyThird, startNumber: undefined });
    recovered.recoverPublishedHead(16);
    expect(recovered.snapshot()).toMatchObject({ nextToFinalize: 19, startNumber: 19 });
    expect(refusal(() => recovered.checkSubmission({ number: 20, hash: hashOf(20) }))).toBe(FailureTypes.InvalidRequest);
  });
});

describe('chain book: a requested halt', () => {
  it('stops publication at the next block until a resume or a reorg, while blocks keep proving', () => {
    const book = ChainBook.create('halt', { ...CONFIG, startNumber: 0 });
    for (const number of [0, 1]) book.submit({ number, hash: hashOf(number) }, NOW);
    book.halt('reorg of depth 70 is deeper than the feeder follows (64)');
    expect(book.snapshot().halted).toEqual({
      number: 0,
      reason: 'halted on request: reorg of depth 70 is deeper than the feeder follows (64)',
    });
    const starts = book.nextStarts(2, NOW);
    expect(starts).toHaveLength(2);
    for (const start of starts) book.settle(report(start.workflowId, start.job, 'proved'), NOW);
    expect(book.nextPublication()).toBeUndefined();
    // Carried through continue-as-new.
    const carried = ChainBook.fromState(book.toState());
    expect(carried.nextPublication()).toBeUndefined();
    carried.setPaused(false);
    expect(carried.snapshot().halted).toBeNull();
    expect(carried.nextPublication()?.proofs.map((proof) => proof.number)).toEqual([0, 1]);

    const reorged = ChainBook.fromState(book.toState());
    reorged.reorg({ fromNumber: 1 });
    expect(reorged.snapshot().halted).toBeNull();
    expect(refusal(() => reorged.checkHalt({ reason: '' }))).toBe(FailureTypes.InvalidRequest);
  });
});

describe('chain book: failures and halts', () => {
  it('retries a failed block with the same number, hash and input under a new workflow id', () => {
    const book = ChainBook.create('c', { ...CONFIG, startNumber: 0 });
    book.submit({ number: 0, hash: hashOf(0), inputRef: refOf(99) }, NOW);
    const first = startAll(book).get(0)!;
    const [workflowId] = book.provingWorkflowIds();
    book.settle(report(workflowId, first, 'failed'), NOW);
    expect(book.halted()).toEqual({ number: 0, reason: 'bad input' });
    const retried = book.retry(0);
    expect(retried.workflowId).not.toBe(workflowId);
    const second = startAll(book).get(0)!;
    expect({ ...second, options: undefined }).toEqual({ ...first, options: undefined });
    expect(second.inputRef).toBe(refOf(99));
    expect(book.halted()).toBeNull();
  });

  it('fails a block whose workflow closed without reporting, so it can be retried, and ignores a late or stale report', () => {
    const book = ChainBook.create('c', { ...CONFIG, startNumber: 0 });
    book.submit({ number: 0, hash: hashOf(0) }, NOW);
    const job = startAll(book).get(0)!;
    const [workflowId] = book.provingWorkflowIds();
    expect(book.closedWithoutReport(workflowId, 'block workflow closed without reporting: TERMINATED')).toBe(true);
    expect(book.entry(0)).toMatchObject({ status: 'failed', error: 'block workflow closed without reporting: TERMINATED' });
    expect(refusal(() => book.checkRetry(0))).toBeUndefined();
    book.retry(0);
    startAll(book);
    expect(book.settle(report(workflowId, job, 'proved'), NOW)).toBe(false);
    expect(book.entry(0)?.status).toBe('proving');
  });

  it('counts a report only for the block it accepted: a workflow of the same id proving another hash or input changes nothing', () => {
    const book = ChainBook.create('c', { ...CONFIG, startNumber: 0 });
    book.submit({ number: 0, hash: hashOf(0), inputRef: refOf(1) }, NOW);
    const job = startAll(book).get(0)!;
    const [workflowId] = book.provingWorkflowIds();
    expect(book.settle(report(workflowId, { ...job, hash: hashOf(0, 1) }, 'proved'), NOW)).toBe(false);
    expect(book.settle(report(workflowId, { ...job, inputRef: refOf(2) }, 'proved'), NOW)).toBe(false);
    expect(book.settle(report(workflowId, job, 'proved'), NOW)).toBe(true);
  });

  it('counts only the report of the run it started, and names that run in the publication', () => {
    const book = ChainBook.create('c', { ...CONFIG, startNumber: 0 });
    book.submit({ number: 0, hash: hashOf(0) }, NOW);
    const job = startAll(book).get(0)!;
    const workflowId = book.provingWorkflowIds()[0];
    book.childStarted(workflowId, 'run-1');
    expect(book.settle({ ...report(workflowId, job, 'proved'), runId: 'run-2' }, NOW)).toBe(false);
    expect(book.settle({ ...report(workflowId, job, 'proved'), runId: 'run-1' }, NOW)).toBe(true);
    expect(book.nextPublication()?.sources).toEqual([{ workflowId, runId: 'run-1' }]);
  });

  it('fails a block whose workflow does not confirm its reported proof; the blocks before it are finalized; a retry proves it again', () => {
    const book = ChainBook.create('c', { ...CONFIG, startNumber: 0 });
    for (const number of [0, 1]) book.submit({ number, hash: hashOf(number) }, NOW);
    for (const [number, job] of startAll(book)) book.settle(report(book.entry(number)!.workflowId, job, 'proved'), NOW);
    const batch = book.nextPublication()!;
    expect(book.settlementRefuted('forged', 1, NOW)).toEqual({
      finalized: [batch.sources[0].workflowId],
      refuted: batch.sources[1].workflowId,
    });
    expect(book.snapshot()).toMatchObject({ finalizedHead: 0, failed: [1], halted: { number: 1 } });
    expect(book.entry(1)).toMatchObject({ status: 'failed', error: 'report refused: forged' });
    expect(book.entry(1)?.proofRef).toBeUndefined();
    expect(book.retry(1).workflowId).not.toBe(batch.sources[1].workflowId);
  });

  it('halts on a publication that fails for good, keeps the halt through continue-as-new, and resumes on retry', () => {
    const book = ChainBook.create('c', { ...CONFIG, startNumber: 0 });
    book.submit({ number: 0, hash: hashOf(0) }, NOW);
    const job = startAll(book).get(0)!;
    book.settle(report(book.provingWorkflowIds()[0], job, 'proved'), NOW);
    expect(book.nextPublication()?.proofs).toEqual([{ number: 0, hash: hashOf(0), proofRef: refOf(0), proofs: proofsOf(job) }]);
    book.publicationFailed('block c#0 was already published with hash 0x…', 0, NOW);
    const carried = ChainBook.fromState(JSON.parse(JSON.stringify(book.toState())));
    expect(carried.snapshot().halted).toEqual({ number: 0, reason: 'publication failed: block c#0 was already published with hash 0x…' });
    expect(carried.nextPublication()).toBeUndefined();
    carried.retry(0);
    expect(carried.nextPublication()?.proofs[0].number).toBe(0);
  });

  it('finalizes the blocks of a batch that went out before the one refused, and halts at that one', () => {
    const book = ChainBook.create('c', { ...CONFIG, startNumber: 0 });
    for (const number of [0, 1, 2]) book.submit({ number, hash: hashOf(number) }, NOW);
    for (const [number, job] of startAll(book)) book.settle(report(book.entry(number)!.workflowId, job, 'proved'), NOW);
    const batch = book.nextPublication()!;
    expect(batch.proofs.map((proof) => proof.number)).toEqual([0, 1, 2]);
    expect(book.publicationFailed('refused', 2, NOW)).toEqual(batch.sources.slice(0, 2).map((source) => source.workflowId));
    expect(book.snapshot()).toMatchObject({ finalizedHead: 1, halted: { number: 2, reason: 'publication failed: refused' } });
    expect(refusal(() => book.checkReorg({ fromNumber: 1 }))).toBe(FailureTypes.Conflict);
  });

  it('cuts failure reasons to one short line, so an error text never grows the carried state', () => {
    const book = ChainBook.create('c', { ...CONFIG, startNumber: 0 });
    book.submit({ number: 0, hash: hashOf(0) }, NOW);
    const job = startAll(book).get(0)!;
    book.settle(report(book.provingWorkflowIds()[0], job, 'failed', { error: 'line\n\u0000'.repeat(100_000) }), NOW);
    expect(book.entry(0)?.error).toHaveLength(MAX_REASON_CHARS);
    expect(book.entry(0)?.error).not.toMatch(/[\u0000-\u001f]/);
  });

  it('fills in what a state carried from an earlier build lacks', () => {
    const book = ChainBook.create('c', CONFIG);
    const state = book.toState();
    const { maxAhead: _dropped, ...olderConfig } = state.config;
    expect(ChainBook.fromState({ ...state, config: olderConfig as ChainConfig }).snapshot().maxAhead).toBe(256);
  });
});

describe('chain book: carried state bound', () => {
  // The heaviest policy: MAX_PROVERS provers on the longest GPU class names, each one's proof counted.
  const heaviestPolicy = {
    provers: PROVER_NAMES.concat(PROVER_NAMES)
      .slice(0, MAX_PROVERS)
      .map((prover, index) => ({ prover, gpuClass: `${index}`.padEnd(32, 'g'), segments: 2000 })),
    quorum: MAX_PROVERS,
    keepProving: true,
  };
  it.each([
    ['one prover per block', undefined],
    [`${MAX_PROVERS} provers per block, every proof counted`, heaviestPolicy],
  ])(
    `stays under STATE_BOUND_BYTES at its largest: ${MAX_AHEAD_LIMIT} blocks ahead with the longest fields and ${FINALIZED_KEPT} finalized (%s)`,
    (_name, policy) => {
      const chainId = 'c'.repeat(64);
      const base = Number.MAX_SAFE_INTEGER - 10_000;
      const book = ChainBook.create(chainId, {
        ...CONFIG,
        maxInFlight: 256,
        maxAhead: MAX_AHEAD_LIMIT,
        startNumber: base,
        defaults: { ...CONFIG.defaults, heartbeatTimeoutMs: 600_000 },
        ...(policy ? { proofs: policy } : {}),
      });
      const submit = (number: number) =>
        book.submit(
          {
            number,
            hash: hashOf(number),
            parentHash: hashOf(number - 1),
            timestamp: 32_503_679_999,
            segments: 2000,
            ...(policy ? {} : { gpuClass: 'a'.repeat(32), prover: 'groth16' as const }),
            inputRef: refOf(number),
          },
          NOW,
        );
      const proveAll = () => {
        for (;;) {
          const starts = book.nextStarts(256, NOW);
          if (starts.length === 0) return;
          for (const start of starts) {
            book.childStarted(start.workflowId, '01a231e7-fa2e-7d96-90b0-c106269b7c1f');
            book.settle(
              report(start.workflowId, start.job, 'proved', {
                provingMs: 123456.78901234567,
                overheadMs: 98765.43210987654,
                segments: { total: 2000, done: 2000, running: 0, failed: 2000 },
              }),
              NOW,
            );
          }
        }
      };
      // Finalize blocks in windows until FINALIZED_KEPT are kept, then fill the window with failed blocks.
      let next = base;
      while (next < base + FINALIZED_KEPT + 1) {
        for (let n = next; n < next + MAX_AHEAD_LIMIT && n < base + FINALIZED_KEPT + 1; n += 1) submit(n);
        proveAll();
        while (book.nextPublication()) book.published(NOW);
        next = book.nextNumber as number;
      }
      for (let n = next; n < next + MAX_AHEAD_LIMIT; n += 1) submit(n);
      // The reason that weighs most as JSON: characters of 3 UTF-8 bytes (control characters become spaces).
      const heaviest = '\u20ac'.repeat(MAX_REASON_CHARS * 2);
      for (;;) {
        const starts = book.nextStarts(256, NOW);
        if (starts.length === 0) break;
        for (const start of starts) book.closedWithoutReport(start.workflowId, heaviest);
      }
      // Every one retried and failed again, with every field a failed block can carry: workflow ids
      // with an incarnation suffix, segment counts, the heaviest reason.
      for (let n = next; n < next + MAX_AHEAD_LIMIT; n += 1) book.retry(n);
      for (;;) {
        const starts = book.nextStarts(256, NOW);
        if (starts.length === 0) break;
        for (const start of starts)
          book.settle(
            report(start.workflowId, start.job, 'failed', {
              // Every prover but one verified: a retry carries their proofs.
              proofs: proofsOf(start.job, MAX_PROVERS - 1),
              error: heaviest,
              segments: { total: 2000, done: 1999, running: 2000, failed: 2000 },
            }),
            NOW,
          );
      }
      expect(book.snapshot().failed).toHaveLength(MAX_AHEAD_LIMIT);
      const state = book.toState();
      expect(state.blocks.length).toBe(FINALIZED_KEPT + MAX_AHEAD_LIMIT);
      const bytes = Buffer.byteLength(JSON.stringify(state));
      // Printed so docs/RELIABILITY.md can quote the measured size.
      process.stdout.write(`largest carried chain state: ${bytes} bytes (bound ${STATE_BOUND_BYTES}; Temporal's payload limit 2 MiB)\n`);
      expect(bytes).toBeLessThanOrEqual(STATE_BOUND_BYTES);
      expect(STATE_BOUND_BYTES).toBeLessThan(2 * 1024 * 1024);
    },
  );
});

// ---- model-based property test ------------------------------------------------------------------

type Operation =
  | { kind: 'submit'; offset: number; salt: number; withInput: boolean }
  | { kind: 'submitFar'; number: number }
  | { kind: 'configure'; body: ChainConfigBody }
  | { kind: 'pause'; paused: boolean }
  | { kind: 'halt' }
  | { kind: 'start'; max: number }
  | {
      kind: 'settle';
      pick: number;
      outcome: 'proved' | 'failed' | 'cancelled' | 'closed' | 'stale';
      /** Proofs reported (of the block's provers, in order; undefined: all); an unlisted prover's and a prover's second proof never count. */
      proofCount?: number;
      foreign: boolean;
      repeated: boolean;
    }
  | { kind: 'reorg'; offset: number }
  | { kind: 'retry'; pick: number }
  | { kind: 'publish' }
  | { kind: 'published'; ok: boolean; wentOut: number; refuted?: boolean }
  | { kind: 'continueAsNew' }
  | { kind: 'recover' };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('submit' as const),
      offset: fc.integer({ min: -3, max: 12 }),
      salt: fc.nat({ max: 2 }),
      withInput: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('submitFar' as const), number: fc.constantFrom(0, 1_000, Number.MAX_SAFE_INTEGER) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('configure' as const),
      body: fc.record(
        {
          mode: fc.constantFrom('sequential' as const, 'pipelined' as const),
          maxInFlight: fc.integer({ min: 1, max: 4 }),
          maxAhead: fc.integer({ min: 1, max: 12 }),
          startNumber: fc.nat({ max: 6 }),
          // Multi-proof: three provers on three GPU classes, any quorum.
          proofs: fc.record({
            provers: fc.constant<{ prover: 'simulated' | 'groth16'; gpuClass?: string }[]>([
              { prover: 'simulated', gpuClass: 'fast' },
              { prover: 'simulated', gpuClass: 'slow' },
              { prover: 'groth16' },
            ]),
            quorum: fc.integer({ min: 1, max: 3 }),
            keepProving: fc.boolean(),
          }),
        },
        { requiredKeys: ['mode'] },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pause' as const), paused: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'halt' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('start' as const), max: fc.integer({ min: 1, max: 4 }) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('settle' as const),
      pick: fc.nat(),
      outcome: fc.constantFrom(
        'proved' as const,
        'proved' as const,
        'proved' as const,
        'failed' as const,
        'cancelled' as const,
        'closed' as const,
        'stale' as const,
      ),
      proofCount: fc.option(fc.nat({ max: 3 }), { nil: undefined }),
      foreign: fc.boolean(),
      repeated: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reorg' as const), offset: fc.integer({ min: -1, max: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('retry' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'publish' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('published' as const),
      ok: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      // On a failure: how many blocks of the batch went out before it.
      wentOut: fc.nat({ max: 3 }),
      // On a failure: the next block's own workflow did not confirm its proof (a forged report), not a publisher refusal.
      refuted: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'continueAsNew' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'recover' as const }) },
);

/** A chain in a world of block workflows and a publisher: drives the book the way the sequencer workflow does. */
class World {
  book: ChainBook;
  /** What each 202 promised: the hash and input accepted per number, until a reorg forgets it. */
  readonly accepted = new Map<number, { hash: string; inputRef?: string }>();
  /** Block workflows running: workflow id → the job it proves. */
  readonly running = new Map<string, BlockJobInput>();
  /** Workflows that ended or were superseded; a report from one must change nothing. */
  ended: { workflowId: string; job: BlockJobInput }[] = [];
  /** Every publication, in order. */
  readonly ledger: { number: number; hash: string }[] = [];
  /** The publication handed out and not yet reported. */
  pending: { number: number; hash: string }[] | undefined;
  private tag = 0;
  /** A halt was requested (the feeder's) and no resume or reorg has lifted it: nothing may be published. */
  private haltRequested = false;
  /** Each block the book reported finalized (its onFinalized hook: the sequencer's metrics sink), in order. */
  readonly reported: number[] = [];
  /** Publications made since the current book was created: what its `finalized` counter must say. */
  private ledgerAtCreation = 0;
  private readonly options: { finalizedKept: number; onFinalized: (entry: { number: number }) => void };

  constructor(options: { finalizedKept: number }) {
    this.options = { ...options, onFinalized: (entry) => this.reported.push(entry.number) };
    this.book = ChainBook.create('model', CONFIG, this.options);
  }

  /** What the chain's rules say about a submission, from this model alone: its refusal, 'duplicate', or 'accepted'. */
  private expectedAnswer(number: number, hash: string): string {
    const view = this.book.snapshot();
    if (!Number.isSafeInteger(number)) return FailureTypes.InvalidRequest;
    const promised = this.accepted.get(number);
    if (promised?.hash === hash && this.book.entry(number)) return 'duplicate';
    if (view.finalizedHead !== null && number <= view.finalizedHead) return FailureTypes.AlreadyFinalized;
    if (promised) return FailureTypes.HashConflict;
    const start = view.startNumber ?? view.nextToFinalize;
    if (start !== null && start !== undefined && number < start) return FailureTypes.BelowStart;
    if (view.nextToFinalize !== null && number >= view.nextToFinalize + view.maxAhead) return FailureTypes.BeyondWindow;
    return 'accepted';
  }

  apply(op: Operation): void {
    const book = this.book;
    const base = book.nextNumber ?? 0;
    switch (op.kind) {
      case 'submit':
      case 'submitFar': {
        const number = op.kind === 'submit' ? Math.max(0, base + op.offset) : op.number;
        const submission = {
          number,
          hash: hashOf(number, op.kind === 'submit' ? op.salt : 0),
          ...(op.kind === 'submit' && op.withInput ? { inputRef: refOf((this.tag += 1)) } : {}),
        };
        // Every answer, refusals included, is the one the rules give: a book that refused everything fails here.
        const expected = this.expectedAnswer(number, submission.hash);
        const refused = refusal(() => book.checkSubmission(submission));
        if (refused !== undefined) {
          expect(refused).toBe(expected);
          return;
        }
        const result = book.submit(submission, NOW);
        expect(result.outcome).toBe(expected);
        if (result.outcome === 'accepted') this.accepted.set(number, { hash: submission.hash, inputRef: submission.inputRef });
        else expect(result.hash).toBe(this.accepted.get(number)?.hash);
        return;
      }
      case 'configure':
        if (refusal(() => book.checkConfigure(op.body)) === undefined) book.configure(op.body);
        return;
      case 'pause':
        book.setPaused(op.paused);
        if (!op.paused) this.haltRequested = false;
        return;
      case 'halt':
        book.halt('the feeder saw a reorg deeper than it follows');
        this.haltRequested = true;
        return;
      case 'start':
        for (const start of book.nextStarts(op.max, NOW)) {
          // A retry proves exactly the block that failed: same number, hash and input as accepted.
          const promised = this.accepted.get(start.number);
          expect(promised).toBeDefined();
          expect(start.job.hash).toBe(promised?.hash);
          expect(start.job.inputRef).toBe(promised?.inputRef);
          expect(this.running.has(start.workflowId)).toBe(false);
          this.running.set(start.workflowId, start.job);
        }
        return;
      case 'settle': {
        if (op.outcome === 'stale') {
          const stale = this.ended[op.pick % Math.max(1, this.ended.length)];
          if (!stale) return;
          const before = JSON.stringify(book.snapshot());
          book.settle(report(stale.workflowId, stale.job, 'proved'), NOW);
          expect(JSON.stringify(book.snapshot())).toBe(before);
          return;
        }
        const ids = [...this.running.keys()];
        const workflowId = ids[op.pick % Math.max(1, ids.length)];
        if (!workflowId) return;
        const job = this.running.get(workflowId) as BlockJobInput;
        if (op.outcome === 'closed') book.closedWithoutReport(workflowId, 'block workflow closed without reporting: TERMINATED');
        else {
          const proofs = proofsOf(job, op.proofCount, op);
          const counted = book.settle(report(workflowId, job, op.outcome, { proofs }), NOW);
          if (op.outcome === 'proved' && counted) {
            // The quorum rule: proved exactly when `quorum` distinct listed provers' proofs are verified, never before.
            const listed = new Set((job.proofs?.provers ?? [{ prover: job.prover, gpuClass: job.gpuClass }]).map(proverKey));
            const distinct = new Set(proofs.map(proverKey).filter((key) => listed.has(key)));
            const quorum = job.proofs?.quorum ?? 1;
            const entry = book.entry(job.number);
            expect(entry?.status).toBe(distinct.size >= quorum ? 'proved' : 'failed');
            if (entry?.status === 'proved') expect(entry.proofs).toHaveLength(quorum);
            if (entry?.status === 'failed') {
              expect(entry.error).toMatch(/verified proofs its chain requires/);
              this.end(workflowId);
            }
          }
        }
        // A proved block's workflow stays open until finalized; the others end here.
        if (op.outcome !== 'proved') this.end(workflowId);
        return;
      }
      case 'reorg': {
        const body = { fromNumber: Math.max(0, base + op.offset) };
        if (refusal(() => book.checkReorg(body)) !== undefined) return;
        const { cancel, forgotten } = book.reorg(body);
        this.haltRequested = false;
        for (const { workflowId } of cancel) this.end(workflowId);
        for (const number of forgotten) this.accepted.delete(number);
        for (const number of [...this.accepted.keys()]) if (number >= body.fromNumber) this.accepted.delete(number);
        return;
      }
      case 'retry': {
        const failed = book.snapshot().failed;
        const number = failed[op.pick % Math.max(1, failed.length)];
        if (number === undefined || refusal(() => book.checkRetry(number)) !== undefined) return;
        book.retry(number);
        return;
      }
      case 'publish': {
        const batch = book.nextPublication();
        // A requested halt stops every publication until it is lifted.
        if (this.haltRequested) expect(batch).toBeUndefined();
        if (!batch) return;
        expect(this.pending).toBeUndefined();
        this.pending = batch.proofs.map(({ number, hash }) => ({ number, hash }));
        for (const proof of batch.proofs) {
          // Published with the hash of the submission accepted for it.
          expect(proof.hash).toBe(this.accepted.get(proof.number)?.hash);
          // With every proof that counted: as many as the block's quorum, each of a different listed prover, the block's proof among them.
          const entry = book.entry(proof.number);
          const quorum = entry?.policy?.quorum ?? 1;
          expect(proof.proofs).toHaveLength(quorum);
          expect(new Set(proof.proofs?.map(proverKey)).size).toBe(quorum);
          expect(proof.proofs?.map((counted) => counted.proofRef)).toContain(proof.proofRef);
        }
        return;
      }
      case 'published': {
        const batch = this.pending;
        if (!batch) return;
        this.pending = undefined;
        if (!op.ok && op.refuted) {
          const { finalized, refuted } = book.settlementRefuted('its workflow did not produce this proof', op.wentOut, NOW);
          const wentOut = Math.min(op.wentOut, batch.length - 1);
          expect(finalized).toHaveLength(wentOut);
          this.ledger.push(...batch.slice(0, wentOut));
          // The refused block failed (a retry proves it again) and its workflow is cancelled.
          expect(book.entry(batch[wentOut].number)).toMatchObject({ status: 'failed', error: expect.stringContaining('report refused') });
          for (const workflowId of [...finalized, refuted]) this.end(workflowId);
          return;
        }
        if (!op.ok) {
          const finalized = book.publicationFailed('publisher refused', op.wentOut, NOW);
          const wentOut = Math.min(op.wentOut, batch.length - 1);
          expect(finalized).toHaveLength(wentOut);
          this.ledger.push(...batch.slice(0, wentOut));
          for (const workflowId of finalized) this.end(workflowId);
          return;
        }
        const finalized = book.published(NOW);
        expect(finalized.length).toBe(batch.length);
        this.ledger.push(...batch);
        // Their workflows hear the news and end (one closed early, terminated while waiting, is already gone).
        for (const workflowId of finalized) this.end(workflowId);
        return;
      }
      case 'continueAsNew': {
        if (this.pending) return;
        const state = book.toState();
        const carried = ChainBook.fromState(JSON.parse(JSON.stringify(state)), this.options);
        expect(carried.toState()).toEqual(state);
        expect(carried.snapshot()).toEqual(book.snapshot());
        this.book = carried;
        return;
      }
      case 'recover': {
        // The sequencer is lost; an operator recovers it: its configuration, the head from the publication records.
        if (this.pending) return;
        const { config } = book.toState();
        this.book = ChainBook.create('model', config, this.options);
        this.ledgerAtCreation = this.ledger.length;
        this.book.recoverPublishedHead(this.ledger.at(-1)?.number ?? null);
        this.haltRequested = false;
        // What was not finalized is forgotten (its clients submit it again); its workflows were terminated.
        const head = this.ledger.at(-1)?.number ?? -1;
        for (const number of [...this.accepted.keys()]) if (number > head) this.accepted.delete(number);
        this.running.clear();
        this.ended = [];
        return;
      }
    }
  }

  private end(workflowId: string): void {
    const job = this.running.get(workflowId);
    if (!job) return;
    this.running.delete(workflowId);
    this.ended.push({ workflowId, job });
  }

  checkInvariants(): void {
    const book = this.book;
    const view = book.snapshot();
    // Finalization is strictly ascending and contiguous from the chain's start, each number once.
    this.ledger.forEach((entry, i) => expect(entry.number).toBe(this.ledger[0].number + i));
    if (this.ledger.length > 0) {
      expect(this.ledger[0].number).toBe(view.startNumber);
      expect(view.finalizedHead).toBe(this.ledger.at(-1)?.number);
    }
    // No accepted block is stranded: each is finalized, or in the book where it can still finalize
    // (at or above the next number to finalize); a failed one can be retried.
    for (const [number, promised] of this.accepted) {
      if (view.finalizedHead !== null && number <= view.finalizedHead) {
        expect(this.ledger.find((entry) => entry.number === number)?.hash).toBe(promised.hash);
        continue;
      }
      const entry = book.entry(number);
      expect(entry?.hash).toBe(promised.hash);
      expect(number).toBeGreaterThanOrEqual(view.nextToFinalize as number);
      if (entry?.status === 'failed' || entry?.status === 'cancelled') expect(refusal(() => book.checkRetry(number))).toBeUndefined();
    }
    // Every proving block has a running workflow (or it would hold the chain forever).
    for (const workflowId of book.provingWorkflowIds()) expect(this.running.has(workflowId)).toBe(true);
    // The carried state is bounded.
    if (!this.pending) expect(Buffer.byteLength(JSON.stringify(book.toState()))).toBeLessThanOrEqual(STATE_BOUND_BYTES);
    // Every finalized block is reported once, in finalization order; the counters agree with what happened.
    expect(this.reported).toEqual(this.ledger.map((entry) => entry.number));
    expect(view.counters.finalized).toBe(this.ledger.length - this.ledgerAtCreation);
    expect(view.counters.proved).toBeGreaterThanOrEqual(view.counters.finalized);
    expect(view.waiting).toBe(view.inFlight.length + view.queued.length + view.proved.length + view.failed.length);
    if (view.waiting === 0) expect(view.waitingSince).toBeNull();
    // The chain halts exactly when the next block needs an operator.
    const next = view.nextToFinalize === null ? undefined : book.entry(view.nextToFinalize);
    if (view.halted === null) expect(next?.status === 'failed' || next?.status === 'cancelled').toBe(false);
    // A requested halt shows until it is lifted (a publication halt, shown first, may cover it).
    if (this.haltRequested) expect(view.halted).not.toBeNull();
    else expect(view.halted?.reason ?? '').not.toMatch(/^halted on request/);
  }

  /** What an operator and healthy workers do from here: afterwards every accepted block must be finalized. */
  drain(): void {
    const book = this.book;
    if (this.pending) this.apply({ kind: 'published', ok: true, wentOut: 0 });
    book.setPaused(false);
    this.haltRequested = false;
    book.configure({ mode: 'pipelined', maxInFlight: 256, maxAhead: MAX_AHEAD_LIMIT });
    for (let round = 0; round < 500; round += 1) {
      const view = book.snapshot();
      if (view.halted) {
        book.retry(view.halted.number);
        continue;
      }
      for (const number of view.failed) book.retry(number);
      for (const number of view.gaps) {
        const hash = hashOf(number, 9);
        book.submit({ number, hash }, NOW);
        this.accepted.set(number, { hash });
      }
      this.apply({ kind: 'start', max: 256 });
      for (const [workflowId, job] of [...this.running]) {
        if (book.entry(job.number)?.workflowId === workflowId && book.entry(job.number)?.status === 'proving') {
          book.settle(report(workflowId, job, 'proved'), NOW);
        }
      }
      this.apply({ kind: 'publish' });
      this.apply({ kind: 'published', ok: true, wentOut: 0 });
      this.checkInvariants();
      const after = book.snapshot();
      if (after.queued.length + after.inFlight.length + after.proved.length + after.failed.length === 0) break;
    }
    const view = book.snapshot();
    for (const number of this.accepted.keys()) expect(number).toBeLessThanOrEqual(view.finalizedHead as number);
  }
}

describe('chain book: model-based property', () => {
  it('keeps its invariants over 1,000 random operation sequences, and finalizes every accepted block once operators and workers are healthy', () => {
    fc.assert(
      // Half the runs keep only 2 finalized blocks, so pruning and refusals after it are exercised too.
      fc.property(fc.array(operation, { minLength: 1, maxLength: 60 }), fc.constantFrom(2, FINALIZED_KEPT), (operations, finalizedKept) => {
        const world = new World({ finalizedKept });
        for (const op of operations) {
          world.apply(op);
          world.checkInvariants();
        }
        world.drain();
      }),
      { seed: 20261201, numRuns: 1_000 },
    );
  });
});
