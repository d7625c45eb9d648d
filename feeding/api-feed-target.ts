import { ApiCallError, type ProoflaneClient } from '../api/client';
import type { ErrorBody } from '../api/schemas';
import type { ProverInput } from '../domain/block';
import type { SourceBlock } from './chain-source';
import type { FeedChainState, FeedTarget, HeldBlock, SubmitAnswer } from './feed-target';
import { segmentsFor, type SegmentRule } from './segment-rule';

/** The most blocks GET /v1/chains/:id/blocks answers at once. */
const HELD_LIMIT = 256;

/**
 * prooflane's HTTP API as the feeder's target: every call goes through the public API, as any
 * other client's would. A followed block is submitted with its number, hash, parent hash and
 * timestamp (its deadline is timestamp + the chain's slotSeconds), the segments the rule derives
 * from its gas, and as input `{block: {number, hash, gasUsed, transactions}}` over the
 * operator's own input (e.g. the simulated prover's settings).
 */
export class ApiFeedTarget implements FeedTarget {
  constructor(
    private readonly api: ProoflaneClient,
    private readonly chainId: string,
    private readonly segments: SegmentRule,
    private readonly input: ProverInput = {},
  ) {}

  async chain(): Promise<FeedChainState | undefined> {
    const response = await this.api.request('GET', `/v1/chains/${this.chainId}`);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw new ApiCallError(`GET chain ${this.chainId}`, response);
    return response.body as FeedChainState;
  }

  async create(startNumber: number, every: number): Promise<FeedChainState> {
    return this.api.configureChain(this.chainId, { mode: 'pipelined', startNumber, every });
  }

  async held(): Promise<HeldBlock[]> {
    const blocks = await this.api.recentBlocks(this.chainId, HELD_LIMIT);
    return blocks
      .map((block) => ({ number: block.number, hash: block.hash, finalized: block.status === 'finalized' }))
      .sort((a, b) => a.number - b.number);
  }

  async submit(block: SourceBlock): Promise<SubmitAnswer> {
    const body = {
      number: block.number,
      hash: block.hash,
      parentHash: block.parentHash,
      timestamp: block.timestamp,
      segments: segmentsFor(block, this.segments),
      input: {
        ...this.input,
        block: { number: block.number, hash: block.hash, gasUsed: block.gasUsed.toString(), transactions: block.transactionCount },
      },
    };
    const response = await this.api.request('POST', `/v1/chains/${this.chainId}/blocks`, body);
    if (response.status === 202) return { outcome: 'accepted' };
    if (response.status === 200) return { outcome: 'duplicate' };
    const error = (response.body as ErrorBody | undefined)?.error;
    switch (error?.code) {
      case 'beyond_window':
        return { outcome: 'later' };
      case 'hash_conflict':
        return { outcome: 'another', message: error.message };
      case 'already_finalized':
        return { outcome: 'final', message: error.message };
      case 'below_start':
        return { outcome: 'below_start', message: error.message };
      default:
        // busy, unavailable, a chain stopped, a bad request: the feeder's loop logs it and tries again.
        throw new ApiCallError(`POST block ${this.chainId}#${block.number}`, response);
    }
  }

  async reorg(fromNumber: number): Promise<{ refused?: string }> {
    const response = await this.api.request('POST', `/v1/chains/${this.chainId}/reorg`, { fromNumber });
    if (response.status === 202) return {};
    const error = (response.body as ErrorBody | undefined)?.error;
    if (response.status === 409 && error) return { refused: error.message };
    throw new ApiCallError(`POST reorg ${this.chainId} from ${fromNumber}`, response);
  }

  async halt(reason: string): Promise<void> {
    await this.api.halt(this.chainId, reason);
  }
}
