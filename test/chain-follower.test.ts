import fc from 'fast-check';
import type { BlockJobInput } from '../domain/block';
import type { ChainConfig } from '../domain/chain';
import { FailureTypes } from '../domain/failures';
import { ChainFollower, FollowerHalted } from '../feeding/chain-follower';
import type { ChainSource, SourceBlock } from '../feeding/chain-source';
import type { FeedChainState, FeedTarget, HeldBlock, SubmitAnswer } from '../feeding/feed-target';
import { segmentsFor } from '../feeding/segment-rule';
import { ChainBook, ChainRefusal } from '../sequencing/chain-book';

/**
 * The feeder's follower against the chain book itself (prooflane's chain rules, no Temporal)
 * and a model Ethereum chain that mines and reorganizes at random: whatever happens, prooflane
 * finalizes blocks in order, each once; a block it finalized that a reorg then replaced (a race
 * no follower can win: the block was canonical when it was proved) always halts the chain, as
 * does a reorg deeper than the follower's limit, and nothing else does; and once the chain
 * settles without a halt, exactly the canonical blocks of the grid up to the head are finalized.
 */

const CONFIG: ChainConfig = {
  mode: 'pipelined',
  maxInFlight: 4,
  slotSeconds: 12,
  maxAhead: 8,
  defaults: { gpuClass: 'h100', prover: 'simulated', segments: 1 },
  every: 1,
};

/** A chain that mines and reorganizes: the canonical blocks by height, every hash unique. */
class ModelChain implements ChainSource {
  readonly blocks: SourceBlock[] = [];
  private minted = 0;

  constructor(length: number) {
    this.mine(length);
  }

  mine(count: number): void {
    for (let i = 0; i < count; i += 1) {
      const number = this.blocks.length;
      const parentHash = number === 0 ? `0x${'0'.repeat(64)}` : this.blocks[number - 1].hash;
      this.minted += 1;
      const hash = `0x${this.minted.toString(16).padStart(64, '0')}`;
      this.blocks.push({ number, hash, parentHash, timestamp: 1_700_000_000 + number * 12, gasUsed: 0n, transactionCount: 0 });
    }
  }

  /** Replaces the top `depth` blocks by a branch of `depth + longer` new ones (at least block 0 stays). */
  reorg(depth: number, longer: number): number {
    const fork = Math.max(1, this.blocks.length - depth);
    this.blocks.length = fork;
    this.mine(depth + longer);
    return fork;
  }

  async latest(): Promise<SourceBlock> {
    return this.blocks[this.blocks.length - 1];
  }

  async byNumber(number: number): Promise<SourceBlock | undefined> {
    return this.blocks[number];
  }

  watchHeads(): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {}
}

/** prooflane's chain as the feeder sees it, answered by the chain book the sequencer runs, with provers that always succeed. */
class BookTarget implements FeedTarget {
  book: ChainBook | undefined;
  /** Every publication in order: what prooflane finalized. */
  readonly ledger: { number: number; hash: string }[] = [];

  async chain(): Promise<FeedChainState | undefined> {
    if (!this.book) return undefined;
    const view = this.book.snapshot();
    return { startNumber: view.startNumber, every: view.every, finalizedHead: view.finalizedHead, halted: view.halted };
  }

  async create(startNumber: number, every: number): Promise<FeedChainState> {
    this.book = ChainBook.create('followed', { ...CONFIG, startNumber, every });
    return (await this.chain()) as FeedChainState;
  }

  async held(): Promise<HeldBlock[]> {
    return (this.book as ChainBook)
      .recentEntries(256)
      .map((entry) => ({ number: entry.number, hash: entry.hash, finalized: entry.status === 'finalized' }))
      .sort((a, b) => a.number - b.number);
  }

  async submit(block: SourceBlock): Promise<SubmitAnswer> {
    const book = this.book as ChainBook;
    const submission = { number: block.number, hash: block.hash, parentHash: block.parentHash, timestamp: block.timestamp };
    try {
      const duplicate = book.checkSubmission(submission);
      if (duplicate) return { outcome: 'duplicate' };
    } catch (error) {
      if (!(error instanceof ChainRefusal)) throw error;
      if (error.type === FailureTypes.BeyondWindow) return { outcome: 'later' };
      if (error.type === FailureTypes.HashConflict) return { outcome: 'another', message: error.message };
      if (error.type === FailureTypes.AlreadyFinalized) return { outcome: 'final', message: error.message };
      if (error.type === FailureTypes.BelowStart) return { outcome: 'below_start', message: error.message };
      throw error;
    }
    book.submit(submission, 0);
    return { outcome: 'accepted' };
  }

  async reorg(fromNumber: number): Promise<{ refused?: string }> {
    const book = this.book as ChainBook;
    try {
      book.checkReorg({ fromNumber });
    } catch (error) {
      if (error instanceof ChainRefusal) return { refused: error.message };
      throw error;
    }
    book.reorg({ fromNumber });
    return {};
  }

  async halt(reason: string): Promise<void> {
    (this.book as ChainBook).halt(reason);
  }

  /** Healthy provers: up to `count` queued blocks start and prove, and what can be published is. */
  prove(count: number): void {
    const book = this.book;
    if (!book) return;
    for (const start of book.nextStarts(count, 0)) book.settle(proved(start.workflowId, start.job), 0);
    const batch = book.nextPublication();
    if (!batch) return;
    this.ledger.push(...batch.proofs.map(({ number, hash }) => ({ number, hash })));
    book.published(0);
  }
}

function proved(workflowId: string, job: BlockJobInput) {
  return {
    workflowId,
    number: job.number,
    hash: job.hash,
    ...(job.inputRef !== undefined ? { inputRef: job.inputRef } : {}),
    outcome: 'proved' as const,
    proofRef: `sha256:${'a'.repeat(64)}`,
    segments: { total: 1, done: 1, running: 0, failed: 0 },
  };
}

type Step =
  | { kind: 'mine'; count: number }
  | { kind: 'reorg'; depth: number; longer: number }
  | { kind: 'advance' }
  | { kind: 'prove'; count: number }
  | { kind: 'restart' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('mine' as const), count: fc.integer({ min: 1, max: 3 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('reorg' as const),
      depth: fc.integer({ min: 1, max: 6 }),
      longer: fc.integer({ min: 0, max: 2 }),
    }),
  },
  { weight: 4, arbitrary: fc.constant({ kind: 'advance' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('prove' as const), count: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

async function runScenario(steps: Step[], every: number, maxReorgDepth: number): Promise<void> {
  const source = new ModelChain(3);
  const target = new BookTarget();
  const options = { every, maxReorgDepth, from: 1, batch: 5 };
  let follower = new ChainFollower(source, target, options);
  let halted = false;
  /** A reorg deeper than the follower's limit below where it had walked: it may halt for it. */
  let tooDeep = false;
  /** Every block a reorg replaced. */
  const orphans = new Set<string>();
  const finalizedAnOrphan = (): boolean => target.ledger.some((entry) => orphans.has(entry.hash));
  const advance = async (): Promise<void> => {
    try {
      await follower.advance();
    } catch (error) {
      if (!(error instanceof FollowerHalted)) throw error;
      halted = true;
    }
  };

  for (const op of steps) {
    if (halted) break;
    switch (op.kind) {
      case 'mine':
        source.mine(op.count);
        break;
      case 'reorg': {
        const before = [...source.blocks];
        const fork = source.reorg(op.depth, op.longer);
        for (const block of before.slice(fork)) orphans.add(block.hash);
        if (follower.position - fork + 1 > maxReorgDepth) tooDeep = true;
        break;
      }
      case 'advance':
        await advance();
        break;
      case 'prove':
        target.prove(op.count);
        break;
      case 'restart':
        // A feeder process restarted: nothing of the old one but what prooflane holds.
        follower = new ChainFollower(source, target, options);
        break;
    }
    // Finalized in order along the grid, each once; every block finalized was canonical or replaced after it was proved.
    target.ledger.forEach((entry, i) => {
      if (i > 0) expect(entry.number).toBe(target.ledger[i - 1].number + every);
      expect(entry.hash === source.blocks[entry.number]?.hash || orphans.has(entry.hash)).toBe(true);
    });
    if (halted) expect(tooDeep || finalizedAnOrphan()).toBe(true);
  }
  if (halted) {
    expect(target.book?.snapshot().halted?.reason).toMatch(/^halted on request: /);
    return;
  }
  // The chain settles: the follower catches up and the provers drain the window.
  for (let round = 0; round < 200 && !halted; round += 1) {
    await advance();
    target.prove(8);
    const view = target.book?.snapshot();
    if (view && follower.position === source.blocks.length - 1 && view.waiting === 0) break;
  }
  if (halted) {
    expect(tooDeep || finalizedAnOrphan()).toBe(true);
    return;
  }
  // A finalized orphan never goes unnoticed.
  expect(finalizedAnOrphan()).toBe(false);
  const head = source.blocks.length - 1;
  const start = target.book?.snapshot().startNumber as number;
  const expected: { number: number; hash: string }[] = [];
  for (let number = start; number <= head; number += every) expected.push({ number, hash: source.blocks[number].hash });
  expect(target.ledger).toEqual(expected);
}

describe('feeder: following a chain that reorganizes', () => {
  it('finalizes exactly the canonical chain, each block once and in order, over 300 random histories of mining, reorgs and restarts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 40 }),
        fc.constantFrom(1, 2, 3),
        fc.constantFrom(3, 64),
        (steps, every, depth) => runScenario(steps, every, depth),
      ),
      { seed: 20261202, numRuns: 300 },
    );
  });

  it('halts instead of guessing on a reorg deeper than its limit, and on one that reaches a finalized block', async () => {
    const source = new ModelChain(8);
    const target = new BookTarget();
    const follower = new ChainFollower(source, target, { every: 1, maxReorgDepth: 2, from: 1 });
    await follower.advance();
    expect(target.book?.snapshot().highestNumber).toBe(7);
    source.reorg(3, 0);
    await expect(follower.advance()).rejects.toThrow(FollowerHalted);
    expect(target.book?.snapshot().halted?.reason).toMatch(/deeper than 2 blocks/);

    const finalized = new BookTarget();
    const chain = new ModelChain(4);
    const second = new ChainFollower(chain, finalized, { every: 1, maxReorgDepth: 64, from: 1 });
    await second.advance();
    finalized.prove(8);
    expect(finalized.ledger.map((entry) => entry.number)).toEqual([1, 2, 3]);
    chain.reorg(1, 1);
    await expect(second.advance()).rejects.toThrow(FollowerHalted);
    expect(finalized.book?.snapshot().halted?.reason).toMatch(/at or below the finalized head 3/);
    // Nothing of the new branch was finalized.
    finalized.prove(8);
    expect(finalized.ledger.map((entry) => entry.number)).toEqual([1, 2, 3]);
  });
});

describe('feeder: what it meets after a restart', () => {
  it('replaces a block prooflane holds with another hash by the canonical one', async () => {
    const source = new ModelChain(4);
    const target = new BookTarget();
    await target.create(1, 1);
    // Another client (or a submission before a reorg the feeder never saw) put another block 3 there.
    target.book?.submit({ number: 3, hash: `0x${'f'.repeat(64)}` }, 0);
    const follower = new ChainFollower(source, target, { every: 1, maxReorgDepth: 64 });
    // At the first look block 3 is held, so the sync finds it stale and reorgs it out.
    await follower.advance();
    target.prove(8);
    expect(target.ledger).toEqual([1, 2, 3].map((number) => ({ number, hash: source.blocks[number].hash })));

    const other = new BookTarget();
    await other.create(1, 1);
    const feeder = new ChainFollower(source, other, { every: 1, maxReorgDepth: 64 });
    await feeder.advance();
    // Block 4 arrives at prooflane from elsewhere with another hash just before the feeder sends its own.
    source.mine(1);
    other.book?.submit({ number: 4, hash: `0x${'e'.repeat(64)}` }, 0);
    await feeder.advance();
    other.prove(8);
    expect(other.ledger.map((entry) => entry.hash)).toEqual([1, 2, 3, 4].map((number) => source.blocks[number].hash));
  });

  it('halts on a reorg deeper than its limit that happened while it was down, and waits for an endpoint that is behind', async () => {
    const source = new ModelChain(8);
    const target = new BookTarget();
    await new ChainFollower(source, target, { every: 1, maxReorgDepth: 2, from: 1 }).advance();
    source.reorg(4, 0);
    await expect(new ChainFollower(source, target, { every: 1, maxReorgDepth: 2 }).advance()).rejects.toThrow(FollowerHalted);
    expect(target.book?.snapshot().halted?.reason).toMatch(/deeper than 2/);

    const behind = new ModelChain(6);
    const lagging = new BookTarget();
    await new ChainFollower(behind, lagging, { every: 1, maxReorgDepth: 64, from: 1 }).advance();
    behind.blocks.length = 4; // an endpoint that has not seen blocks 4 and 5 yet
    await expect(new ChainFollower(behind, lagging, { every: 1, maxReorgDepth: 64 }).advance()).rejects.toThrow(/behind/);
    expect(lagging.book?.snapshot()).toMatchObject({ halted: null, highestNumber: 5, counters: { reorged: 0 } });
  });
});

describe('feeder: segments from gas', () => {
  it('takes one segment per gasPerSegment of gas used, within its bounds', () => {
    const rule = { gasPerSegment: 1_000_000, minSegments: 2, maxSegments: 10 };
    expect(segmentsFor({ gasUsed: 0n }, rule)).toBe(2);
    expect(segmentsFor({ gasUsed: 2_500_000n }, rule)).toBe(3);
    expect(segmentsFor({ gasUsed: 30_000_000n }, rule)).toBe(10);
  });
});
