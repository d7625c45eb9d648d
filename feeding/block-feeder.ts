import type { Logger } from '../observability/logger';
import { ChainFollower, FollowerHalted, FollowerMisconfigured, type FollowerEvents, type FollowerOptions } from './chain-follower';
import type { ChainSource } from './chain-source';
import type { FeedTarget } from './feed-target';

export interface BlockFeederOptions extends FollowerOptions {
  chainId: string;
  /** How often the source is read when no new head is announced (the fallback for a silent or absent WebSocket). */
  pollMs: number;
  logger: Logger;
  /** Told of what the follower does (the registry reporter listens for accepted blocks). */
  events?: FollowerEvents;
  /** Called when the feeder cannot go on without an operator changing its configuration. */
  onFatal?: (error: Error) => void;
}

/**
 * Runs a ChainFollower: on every announced head and every poll, one step at a time (a step
 * that finds more to walk runs again at once). A source or API that is down is logged once per
 * outage and tried again on the next poll, so the feeder outlives either going away. While the
 * chain is halted (by the follower or anyone), it only watches for the halt to be lifted, then
 * follows again from what prooflane holds.
 */
export class BlockFeeder {
  private readonly follower: ChainFollower;
  private timer: NodeJS.Timeout | undefined;
  private unwatch: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private halted = false;
  private failing: string | undefined;

  constructor(
    private readonly source: ChainSource,
    private readonly target: FeedTarget,
    private readonly options: BlockFeederOptions,
  ) {
    const { logger } = options;
    this.follower = new ChainFollower(source, target, options, {
      submitted: (block, outcome) => {
        logger.debug({ chainId: options.chainId, number: block.number, hash: block.hash, outcome }, 'block submitted');
        options.events?.submitted?.(block, outcome);
      },
      reorged: (fromNumber, depth) => {
        logger.warn({ chainId: options.chainId, fromNumber, depth }, `reorg of depth ${depth}: chain reorged from ${fromNumber}`);
        options.events?.reorged?.(fromNumber, depth);
      },
      halted: (reason) => {
        logger.error({ chainId: options.chainId, reason }, 'chain halted by the feeder');
        options.events?.halted?.(reason);
      },
    });
  }

  /** The highest block height followed so far. */
  get position(): number {
    return this.follower.position;
  }

  start(): void {
    this.stopped = false;
    this.unwatch = this.source.watchHeads(() => this.kick());
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.unwatch?.();
    await this.running;
  }

  /** Looks at the source now (a new head was announced, or the poll is due). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.running = this.run().finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.kick();
      } else {
        this.timer = setTimeout(() => this.kick(), this.options.pollMs);
      }
    });
  }

  private async run(): Promise<void> {
    const { logger, chainId } = this.options;
    try {
      if (this.halted) {
        const chain = await this.target.chain();
        if (chain?.halted) return;
        this.halted = false;
        logger.info({ chainId }, 'chain no longer halted: following it again from what prooflane holds');
        await this.follower.sync();
      }
      for (let steps = 0; steps < 64 && !this.stopped; steps += 1) {
        const reached = await this.follower.advance();
        if (reached !== 'more') break;
      }
      if (this.failing !== undefined) logger.info({ chainId }, `following again after: ${this.failing}`);
      this.failing = undefined;
    } catch (error) {
      if (error instanceof FollowerHalted) {
        this.halted = true;
        return;
      }
      if (error instanceof FollowerMisconfigured) {
        this.stopped = true;
        this.options.onFatal?.(error);
        return;
      }
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      // One line per outage, not one per poll.
      if (this.failing === undefined)
        logger.warn({ chainId, err: error }, `cannot follow the chain now (tried again every poll): ${message}`);
      this.failing = message;
    }
  }
}
