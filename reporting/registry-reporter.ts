import type { ProoflaneClient } from '../api/client';
import type { BlockView } from '../api/schemas';
import type { Logger } from '../observability/logger';
import { RegistryRefused, type ProofRegistry, type RegistryReport, type RegistryStatus } from './proof-registry';

export interface ReporterOptions {
  /** How often the chain's blocks are read from prooflane's API. */
  pollMs: number;
  /** Longest wait between tries of a report the registry did not take (back-off from 1 s). */
  maxRetryMs?: number;
  logger?: Logger;
}

const STATUSES: RegistryStatus[] = ['queued', 'proving', 'proved'];
/** Blocks read per poll: as many as the API answers at once. */
const READ_LIMIT = 256;
/** Blocks that left the newest READ_LIMIT before their `proved` was queued, looked up one by one per poll at most. */
const LOOKUPS_PER_READ = 32;

/** Where a block view stands in the registry's order, or undefined when nothing more will be reported of it. */
function rankOf(status: BlockView['status']): number | undefined {
  switch (status) {
    case 'queued':
      return 0;
    case 'proving':
    case 'aggregating':
    case 'proved':
      return 1;
    case 'finalized':
      return 2;
    default:
      return undefined; // failed or cancelled: reported again when a retry or a reorg brings it back
  }
}

interface PendingReport {
  number: number;
  hash: string;
  status: RegistryStatus;
}

/**
 * Reports one chain's blocks to a proof registry: `queued` when the chain takes a block,
 * `proving` when it starts, `proved` (the proof and its proving time) when it is finalized, so
 * what the registry shows is what the chain stands behind. It reads the chain through
 * prooflane's public API (GET …/blocks, …/blocks/:n/proof) on its own timer, so a registry that
 * is down or slow never touches the chain: its reports wait in order, in memory, and are sent
 * again with back-off. A block that moves through several states between two polls gets each
 * report, in order. After a restart, each block the chain holds gets its current state once
 * more (a registry takes a repeated report as done), never an earlier one.
 */
export class RegistryReporter {
  /** Per block (number and hash: a reorged number is a new block), the highest state queued for the registry. */
  private readonly reported = new Map<string, number>();
  private readonly pending: PendingReport[] = [];
  private firstRead = true;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private retryMs = 0;
  private retryAt = 0;

  constructor(
    private readonly registry: ProofRegistry,
    private readonly api: ProoflaneClient,
    private readonly chainId: string,
    private readonly options: ReporterOptions,
  ) {}

  /** Reports currently waiting for the registry. */
  get backlog(): number {
    return this.pending.length;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** The chain took a block (the feeder's submission was accepted): `queued` goes out before the next read. */
  taken(number: number, hash: string): void {
    this.advanceTo(number, hash, 0, -1);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => this.schedule(this.options.pollMs));
    }, delayMs);
  }

  private async tick(): Promise<void> {
    try {
      await this.read();
    } catch (error) {
      this.options.logger?.warn({ err: error, chainId: this.chainId }, 'registry reporter: could not read the chain from the API');
    }
    await this.deliver();
  }

  /** Reads the chain's blocks and queues each state a block reached since the last read. */
  private async read(): Promise<void> {
    const blocks = (await this.api.recentBlocks(this.chainId, READ_LIMIT)).sort((a, b) => a.number - b.number);
    const held = new Set<string>();
    for (const block of blocks) {
      const rank = rankOf(block.status);
      held.add(keyOf(block.number, block.hash));
      if (rank === undefined) continue;
      // On the first read after a start, a block's earlier states were reported by the run before.
      this.advanceTo(block.number, block.hash, rank, this.firstRead ? rank - 1 : -1);
    }
    this.firstRead = false;
    // A block below the newest READ_LIMIT (a backfill, a full window) finalizes out of sight: it is asked for by number.
    let lookups = 0;
    for (const [key, rank] of [...this.reported]) {
      if (held.has(key) || rank >= STATUSES.length - 1) {
        if (!held.has(key) && !this.pending.some((report) => keyOf(report.number, report.hash) === key)) this.reported.delete(key);
        continue;
      }
      if (lookups >= LOOKUPS_PER_READ) break;
      lookups += 1;
      const [number, hash] = key.split(':');
      const response = await this.api.request('GET', `/v1/chains/${this.chainId}/blocks/${number}`);
      const view = response.status === 200 ? (response.body as BlockView) : undefined;
      if (response.status !== 200 && response.status !== 404) continue; // asked again next poll
      const now = view && view.hash === hash ? rankOf(view.status) : undefined;
      if (now === undefined)
        this.reported.delete(key); // reorged away, failed, or gone
      else this.advanceTo(Number(number), hash, now, -1);
    }
  }

  private advanceTo(number: number, hash: string, rank: number, assumedReported: number): void {
    const key = keyOf(number, hash);
    const last = this.reported.get(key) ?? assumedReported;
    for (let next = last + 1; next <= rank; next += 1) this.pending.push({ number, hash, status: STATUSES[next] });
    if (rank > last) this.reported.set(key, rank);
  }

  /** Sends the waiting reports in order; stops at the first the registry did not take, and tries it again after a back-off. */
  private async deliver(): Promise<void> {
    if (Date.now() < this.retryAt) return;
    while (this.pending.length > 0 && !this.stopped) {
      const next = this.pending[0];
      try {
        await this.registry.report(await this.reportOf(next));
        this.retryMs = 0;
        this.pending.shift();
      } catch (error) {
        if (error instanceof RegistryRefused && !error.unauthorized) {
          this.options.logger?.error({ err: error, chainId: this.chainId, block: next.number }, 'registry refused a report; it is dropped');
          this.pending.shift();
          continue;
        }
        this.retryMs = Math.min(this.options.maxRetryMs ?? 30_000, Math.max(1_000, this.retryMs * 2));
        this.retryAt = Date.now() + this.retryMs;
        this.options.logger?.warn(
          {
            err: error,
            chainId: this.chainId,
            block: next.number,
            status: next.status,
            retryInMs: this.retryMs,
            backlog: this.pending.length,
          },
          'registry report not delivered; it is sent again later',
        );
        return;
      }
    }
  }

  private async reportOf(report: PendingReport): Promise<RegistryReport> {
    if (report.status !== 'proved') return { status: report.status, blockNumber: report.number };
    const view = await this.api.block(this.chainId, report.number);
    if (view.hash !== report.hash.toLowerCase()) {
      // Reorged since it was queued: the block now at this number is reported on its own.
      throw new RegistryRefused(`block ${report.number} is now ${view.hash}, not ${report.hash}: its proof is not reported`);
    }
    const timings = view.timings ?? {};
    const provingTimeMs =
      timings.provedAt !== undefined && timings.startedAt !== undefined
        ? Date.parse(timings.provedAt) - Date.parse(timings.startedAt)
        : (timings.provingMs ?? 0) + (timings.overheadMs ?? 0);
    return { status: 'proved', blockNumber: report.number, provingTimeMs, proof: await this.api.proof(this.chainId, report.number) };
  }
}

function keyOf(number: number, hash: string): string {
  return `${number}:${hash.toLowerCase()}`;
}
