import type { BlockSubmission, ChainConfigBody } from '../domain/chain';
import type { BlockView, ChainView, ErrorBody, RecentBlocks, ReorgAccepted, RetryAccepted, SubmittedBlock } from './schemas';

/** A response of the prooflane API: its status and its parsed JSON body (text when it is not JSON, e.g. /metrics). */
export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  /** Response headers, names in lower case (e.g. `retry-after` on a 429). */
  headers: Record<string, string>;
}

/** A call that did not answer the status it should. */
export class ApiCallError extends Error {
  constructor(
    readonly call: string,
    readonly response: ApiResponse,
  ) {
    super(`${call}: ${response.status} ${JSON.stringify(response.body)}`);
  }
}

/**
 * A client of prooflane's HTTP API (v1), over `fetch`: what the bench, the soak run and the
 * tests drive the system with. `request` answers whatever the server said; the typed calls
 * throw ApiCallError when the status is not the one that call expects.
 */
export class ProoflaneClient {
  /** `apiKey`: sent as `Authorization: Bearer <key>` on every request (an API with PROOFLANE_API_KEYS set). */
  constructor(
    readonly baseUrl: string,
    private readonly apiKey?: string,
    /** Each request's timeout (default none: the server's own deadline answers first). */
    private readonly timeoutMs?: number,
  ) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const sent: Record<string, string> = { ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}), ...headers };
    const init: RequestInit = { method, headers: sent, ...(this.timeoutMs ? { signal: AbortSignal.timeout(this.timeoutMs) } : {}) };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      sent['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, init);
    const text = await response.text();
    const answered = Object.fromEntries(response.headers.entries());
    try {
      return { status: response.status, body: JSON.parse(text) as unknown, headers: answered };
    } catch {
      return { status: response.status, body: text, headers: answered };
    }
  }

  async configureChain(chainId: string, config: ChainConfigBody): Promise<ChainView> {
    return this.expect(200, `PUT chain ${chainId}`, this.request('PUT', `/v1/chains/${chainId}`, config)) as Promise<ChainView>;
  }

  /**
   * Submits a block and answers its workflow id; `accepted` is false for an identical resubmission
   * (200). `429 busy` and `503 unavailable` are sent again after their Retry-After (a submission
   * is idempotent), at most `attempts` times in all.
   */
  async submitBlock(chainId: string, block: BlockSubmission, attempts = 5): Promise<{ workflowId: string; accepted: boolean }> {
    for (let attempt = 1; ; attempt += 1) {
      const response = await this.request('POST', `/v1/chains/${chainId}/blocks`, block);
      if (response.status === 202 || response.status === 200)
        return { workflowId: (response.body as SubmittedBlock).workflowId, accepted: response.status === 202 };
      const code = (response.body as ErrorBody | undefined)?.error?.code;
      if (attempt >= attempts || !(code === 'busy' || code === 'unavailable'))
        throw new ApiCallError(`POST block ${chainId}#${block.number}`, response);
      const retryAfterSeconds = Number(response.headers['retry-after'] ?? 1);
      await new Promise((resolve) => setTimeout(resolve, Math.min(Number.isFinite(retryAfterSeconds) ? retryAfterSeconds : 1, 30) * 1_000));
    }
  }

  async chain(chainId: string): Promise<ChainView> {
    return this.expect(200, `GET chain ${chainId}`, this.request('GET', `/v1/chains/${chainId}`)) as Promise<ChainView>;
  }

  async block(chainId: string, number: number): Promise<BlockView> {
    return this.expect(
      200,
      `GET block ${chainId}#${number}`,
      this.request('GET', `/v1/chains/${chainId}/blocks/${number}`),
    ) as Promise<BlockView>;
  }

  /** The newest blocks the chain holds, highest first (GET /v1/chains/:id/blocks). */
  async recentBlocks(chainId: string, limit = 100): Promise<BlockView[]> {
    const call = `GET blocks ${chainId}`;
    return ((await this.expect(200, call, this.request('GET', `/v1/chains/${chainId}/blocks?limit=${limit}`))) as RecentBlocks).blocks;
  }

  /** A proved block's proof bytes (GET /v1/chains/:id/blocks/:n/proof). */
  async proof(chainId: string, number: number): Promise<Uint8Array> {
    const response = await fetch(`${this.baseUrl}/v1/chains/${chainId}/blocks/${number}/proof`, {
      headers: this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {},
    });
    if (response.status !== 200) {
      const text = await response.text();
      throw new ApiCallError(`GET proof ${chainId}#${number}`, { status: response.status, body: text, headers: {} });
    }
    return new Uint8Array(await response.arrayBuffer());
  }

  async reorg(chainId: string, fromNumber: number): Promise<ReorgAccepted> {
    const call = `POST reorg ${chainId} from ${fromNumber}`;
    return this.expect(202, call, this.request('POST', `/v1/chains/${chainId}/reorg`, { fromNumber })) as Promise<ReorgAccepted>;
  }

  async halt(chainId: string, reason: string): Promise<ChainView> {
    return this.expect(200, `POST halt ${chainId}`, this.request('POST', `/v1/chains/${chainId}/halt`, { reason })) as Promise<ChainView>;
  }

  async setPaused(chainId: string, paused: boolean): Promise<ChainView> {
    const action = paused ? 'pause' : 'resume';
    return this.expect(200, `POST ${action} ${chainId}`, this.request('POST', `/v1/chains/${chainId}/${action}`)) as Promise<ChainView>;
  }

  /** Brings back a chain whose sequencer closed (POST /v1/chains/:id/recover). */
  async recover(chainId: string): Promise<ChainView> {
    return this.expect(200, `POST recover ${chainId}`, this.request('POST', `/v1/chains/${chainId}/recover`)) as Promise<ChainView>;
  }

  async retry(chainId: string, number: number): Promise<RetryAccepted> {
    const call = `POST retry ${chainId}#${number}`;
    return this.expect(202, call, this.request('POST', `/v1/chains/${chainId}/blocks/${number}/retry`)) as Promise<RetryAccepted>;
  }

  /**
   * Polls the chain view until `ready` holds and returns that view; `pollMs` keeps the polling
   * cheap for the system under test. A `503 unavailable` (the chain or Temporal did not answer in
   * time, e.g. just after a restart) is polled through, as its Retry-After invites.
   */
  async waitForChain(
    chainId: string,
    what: string,
    ready: (view: ChainView) => boolean,
    timeoutMs = 90_000,
    pollMs = 100,
  ): Promise<ChainView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await this.request('GET', `/v1/chains/${chainId}`);
      const unavailable = response.status === 503 && (response.body as ErrorBody | undefined)?.error?.code === 'unavailable';
      if (!unavailable && response.status !== 200) throw new ApiCallError(`GET chain ${chainId}`, response);
      const view = unavailable ? undefined : (response.body as ChainView);
      if (view && ready(view)) return view;
      if (Date.now() > deadline) throw new Error(`chain ${chainId}: timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Resolves once the chain has finalized `number`; throws as soon as a block of it fails. */
  async waitUntilFinalized(chainId: string, number: number, timeoutMs = 90_000, pollMs = 100): Promise<ChainView> {
    return this.waitForChain(
      chainId,
      `block ${number} to finalize`,
      (view) => {
        if (view.failed.length > 0) throw new Error(`chain ${chainId}: blocks failed: ${JSON.stringify(view.failures)}`);
        return view.finalizedHead !== null && view.finalizedHead >= number;
      },
      timeoutMs,
      pollMs,
    );
  }

  private async expect(status: number, call: string, pending: Promise<ApiResponse>): Promise<unknown> {
    const response = await pending;
    if (response.status !== status) throw new ApiCallError(call, response);
    return response.body;
  }
}
