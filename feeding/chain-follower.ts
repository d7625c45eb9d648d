import type { ChainSource, SourceBlock } from './chain-source';
import type { FeedChainState, FeedTarget } from './feed-target';

export interface FollowerOptions {
  /** The chain proves every `every`-th block (1: every block). */
  every: number;
  /** Where a chain prooflane does not know yet starts (default: the head when the feeder first runs). */
  from?: number;
  /** The deepest reorg followed by itself; a deeper one halts the chain instead of guessing where it forked. */
  maxReorgDepth: number;
  /** Blocks walked in one `advance` at most, so a long backfill yields to new heads and stops. */
  batch?: number;
}

/** What the follower tells its observers (the logs, the registry reporter, the metrics). */
export interface FollowerEvents {
  submitted?(block: SourceBlock, outcome: 'accepted' | 'duplicate'): void;
  reorged?(fromNumber: number, depth: number): void;
  halted?(reason: string): void;
}

/** The follower stopped because the chain is halted; it follows again after `sync` once the halt is lifted. */
export class FollowerHalted extends Error {
  override readonly name = 'FollowerHalted';
}

/** The chain prooflane holds cannot be followed with these options (another stride): an operator must decide. */
export class FollowerMisconfigured extends Error {
  override readonly name = 'FollowerMisconfigured';
}

/**
 * Follows one chain from a ChainSource into a FeedTarget: every canonical block on the chain's
 * grid (`start + k·every`) is submitted once, in order, and a reorg seen at the source is
 * answered by a reorg of prooflane's chain from the first block that is no longer canonical.
 *
 * It walks the source block by block from the last block it knows to be canonical, checking
 * each new block's parent hash against the hash it holds for the height below (so a reorg is
 * found from the chain itself, blocks off the grid included). On a mismatch it walks down
 * comparing its hashes with the canonical ones to find the fork: deeper than `maxReorgDepth`, or
 * reaching a finalized block, it halts the chain visibly (FollowerHalted) instead of guessing.
 *
 * It keeps no state of its own across restarts: `sync` rebuilds it from what prooflane holds,
 * comparing each held block with the canonical one at its height, so a feeder restarted after a
 * crash (or a reorg it did not see) resumes without gaps or duplicates.
 */
export class ChainFollower {
  /** Canonical hashes of the heights walked, the grid's and the others', down to `maxReorgDepth` below the cursor. */
  private readonly hashes = new Map<number, string>();
  /** The highest height walked and found canonical; the next block walked is `cursor + 1`. */
  private cursor = -1;
  /**
   * Heights at or below the floor were not walked by this follower (below a new chain's start,
   * or a finalized head whose hash it never saw): a fork walk that gets there without a known
   * hash stops there.
   */
  private floor = -1;
  private start = 0;
  private chain: FeedChainState | undefined;
  private synced = false;
  /**
   * The finalized head at the last halt for a reorg below it: once an operator resumed the
   * chain, the finalized blocks up to it are taken as they are, not halted for again.
   */
  private acceptedFinalized: number | null = null;

  constructor(
    private readonly source: ChainSource,
    private readonly target: FeedTarget,
    private readonly options: FollowerOptions,
    private readonly events: FollowerEvents = {},
  ) {}

  /** The highest height walked so far (the feeder's position on the chain). */
  get position(): number {
    return this.cursor;
  }

  /**
   * Rebuilds the follower's view from prooflane's chain: creates the chain if it is new, checks
   * every block it holds against the canonical chain, and reorgs (or halts) where they differ.
   */
  async sync(): Promise<void> {
    this.synced = false;
    this.hashes.clear();
    let chain = await this.target.chain();
    if (!chain) {
      const from = this.options.from ?? (await this.source.latest()).number;
      chain = await this.target.create(from, this.options.every);
    }
    if (chain.every !== this.options.every) {
      throw new FollowerMisconfigured(
        `chain proves every ${chain.every} block(s), the feeder was asked for every ${this.options.every}: change one of them (the chain's only while it holds no blocks)`,
      );
    }
    if (chain.halted) throw new FollowerHalted(`chain is halted at ${chain.halted.number}: ${chain.halted.reason}`);
    this.chain = chain;
    const held = await this.target.held();
    this.start = chain.startNumber ?? this.options.from ?? held[0]?.number ?? (await this.source.latest()).number;
    // Below what prooflane holds, the feeder walks from the start (a new chain) or the finalized head.
    this.cursor = chain.finalizedHead ?? this.start - 1;
    this.floor = this.cursor;
    // The walk resumes above the highest held block with no gap below it: a gap (a block never
    // submitted, or forgotten) is walked again, and the held blocks above it are sent again (200).
    let walkedTo = this.cursor;
    const reached = (number: number): void => {
      if (number === this.nextOnGrid(walkedTo + 1)) walkedTo = number;
    };
    for (const block of held) {
      if (block.finalized && this.acceptedFinalized !== null && block.number <= this.acceptedFinalized) {
        reached(block.number);
        continue;
      }
      const canonical = await this.source.byNumber(block.number);
      if (!canonical) {
        // Not "another block": the endpoint is behind prooflane (a lagging node behind a load balancer). Looked at again next poll.
        throw new Error(`the endpoint has no block ${block.number} yet, which prooflane holds: it is behind; waiting for it`);
      }
      if (canonical.hash === block.hash) {
        this.hashes.set(block.number, block.hash);
        reached(block.number);
        continue;
      }
      const top = held[held.length - 1].number;
      if (block.finalized) {
        this.acceptedFinalized = chain.finalizedHead;
        await this.haltChain(
          `block ${block.number} is finalized with hash ${block.hash}, but the canonical block ${block.number} is ${canonical.hash}: a reorg below the finalized head`,
        );
      }
      this.cursor = top;
      const depth = top - block.number + 1;
      if (depth > this.options.maxReorgDepth) {
        await this.haltChain(
          `the chain reorganized from block ${block.number}, ${depth} blocks below ${top}, deeper than ${this.options.maxReorgDepth} (the feeder's limit): check the fork point, reorg the chain from it, then resume`,
        );
      }
      await this.reorgFrom(block.number, depth);
      break;
    }
    this.cursor = walkedTo;
    for (const height of [...this.hashes.keys()]) if (height > this.cursor) this.hashes.delete(height);
    // The heights just below the cursor, off the grid too, as the endpoint has them now (canonical,
    // as the cursor's block is): a fork walk after a restart compares against them.
    for (let height = this.cursor - 1; height > this.floor && height >= this.cursor - this.options.maxReorgDepth; height -= 1) {
      if (this.hashes.has(height)) continue;
      const block = await this.source.byNumber(height);
      if (block) this.hashes.set(height, block.hash);
    }
    this.prune();
    this.synced = true;
  }

  /**
   * Walks the source from the cursor towards its head, submitting the grid's blocks, and answers
   * a reorg where the walk finds one. Stops at the head, at the chain's window (the rest is
   * sent on a later call), or after `batch` blocks; answers which. Throws FollowerHalted when it
   * halted the chain.
   */
  async advance(): Promise<'head' | 'window' | 'more'> {
    if (!this.synced) await this.sync();
    const head = await this.source.latest();
    const batch = this.options.batch ?? 256;
    // A head at or below the cursor: nothing new, a lagging endpoint, or (when that height's hash changed) a fork.
    if (head.number <= this.cursor) {
      const held = this.hashes.get(head.number);
      if (held === undefined || held === head.hash) return 'head';
      await this.findFork(head.number);
    }
    for (let walked = 0; walked < batch && this.cursor < head.number; walked += 1) {
      const number = this.cursor + 1;
      const block = await this.source.byNumber(number);
      if (!block) return 'head'; // the head moved back since; the next call looks again
      const below = this.hashes.get(this.cursor);
      if (below !== undefined && block.parentHash !== below) {
        await this.findFork(this.cursor);
        continue;
      }
      if (this.onGrid(number)) {
        const answer = await this.target.submit(block);
        if (answer.outcome === 'later') return 'window';
        if (answer.outcome === 'another') {
          // prooflane holds another hash at this height (sent before a restart, or by another client): it is not canonical.
          await this.refuseIfHaltRequested();
          const { refused } = await this.target.reorg(number);
          if (refused !== undefined)
            await this.haltChain(
              `block ${number} is held with another hash than the canonical ${block.hash}, and prooflane refused the reorg: ${refused}`,
            );
          this.events.reorged?.(number, 1);
          continue;
        }
        if (answer.outcome === 'final') {
          await this.haltChain(`block ${number} is finalized with another hash than the canonical ${block.hash}: ${answer.message}`);
        }
        if (answer.outcome === 'accepted' || answer.outcome === 'duplicate') this.events.submitted?.(block, answer.outcome);
      }
      this.hashes.set(number, block.hash);
      this.cursor = number;
      this.prune();
    }
    return this.cursor >= head.number ? 'head' : 'more';
  }

  private onGrid(number: number): boolean {
    return number >= this.start && (number - this.start) % this.options.every === 0;
  }

  /**
   * The block walked at `from` (or above it) is no longer canonical: walks down, comparing the
   * hashes held with the canonical ones, to the highest height where they agree; everything
   * above it is reorged out of prooflane's chain.
   */
  private async findFork(from: number): Promise<void> {
    const top = this.cursor;
    for (let height = Math.min(from, top); height >= top - this.options.maxReorgDepth; height -= 1) {
      const held = this.hashes.get(height);
      if (held === undefined) {
        // Never walked this low (a new chain's start, an unseen finalized head): the fork is just above.
        if (height <= this.floor) {
          await this.reorgFrom(height + 1, top - height);
          return;
        }
        continue;
      }
      const canonical = await this.source.byNumber(height);
      if (canonical?.hash === held) {
        await this.reorgFrom(height + 1, top - height);
        return;
      }
    }
    await this.haltChain(
      `the chain reorganized deeper than ${this.options.maxReorgDepth} blocks below ${top} (the feeder's limit): find the fork point, reorg the chain from it, then resume`,
    );
  }

  /** Reorgs prooflane's chain from the first grid block at or above `fork`, and walks again from below the fork. */
  private async reorgFrom(fork: number, depth: number): Promise<void> {
    const chain = (await this.target.chain()) ?? this.chain;
    const finalizedHead = chain?.finalizedHead ?? null;
    const firstOnGrid = this.nextOnGrid(fork);
    if (finalizedHead !== null && firstOnGrid <= finalizedHead) {
      this.acceptedFinalized = finalizedHead;
      await this.haltChain(
        `the chain reorganized from block ${fork}, at or below the finalized head ${finalizedHead}: proofs of blocks that are no longer canonical are published`,
      );
    }
    if (firstOnGrid <= this.cursor) {
      await this.refuseIfHaltRequested(chain);
      const { refused } = await this.target.reorg(firstOnGrid);
      if (refused !== undefined)
        await this.haltChain(`the chain reorganized from block ${fork}, and prooflane refused the reorg: ${refused}`);
      this.events.reorged?.(firstOnGrid, depth);
    }
    for (const height of [...this.hashes.keys()]) if (height >= fork) this.hashes.delete(height);
    this.cursor = fork - 1;
  }

  /** A reorg lifts a requested halt: the follower leaves one it did not just ask for (an operator's) standing, and waits. */
  private async refuseIfHaltRequested(known?: FeedChainState): Promise<void> {
    const chain = known ?? (await this.target.chain());
    if (chain?.halted && chain.halted.reason.startsWith('halted on request')) {
      this.synced = false;
      throw new FollowerHalted(`chain is halted at ${chain.halted.number}: ${chain.halted.reason}; the reorg waits until it is lifted`);
    }
  }

  private nextOnGrid(number: number): number {
    if (number <= this.start) return this.start;
    const steps = Math.ceil((number - this.start) / this.options.every);
    return this.start + steps * this.options.every;
  }

  private async haltChain(reason: string): Promise<never> {
    await this.target.halt(reason);
    this.events.halted?.(reason);
    this.synced = false;
    throw new FollowerHalted(reason);
  }

  private prune(): void {
    for (const height of this.hashes.keys()) if (height < this.cursor - this.options.maxReorgDepth) this.hashes.delete(height);
  }
}
