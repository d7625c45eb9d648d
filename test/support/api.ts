import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../api/app';
import { ChainService } from '../../api/chains';
import type { BlockView, ChainView } from '../../api/schemas';
import type { ChainConfig } from '../../domain/chain';
import { temporalSettings } from '../../infra/temporal/settings';
import type { TestCluster } from './cluster';
import { blockHash, waitFor } from './cluster';

export const TEST_DEFAULTS: ChainConfig = {
  mode: 'pipelined',
  maxInFlight: 4,
  slotSeconds: 12,
  defaults: { gpuClass: 'h100', prover: 'simulated', segments: 2 },
};

/** The real API (express app + Temporal client) on an ephemeral loopback port. */
export class TestApi {
  private constructor(
    readonly baseUrl: string,
    private readonly server?: Server,
  ) {}

  /** A client for an API that runs elsewhere (its own process). */
  static forUrl(baseUrl: string): TestApi {
    return new TestApi(baseUrl);
  }

  static async start(
    cluster: TestCluster,
    options: { apiKeys?: string[]; continueAsNewAfterBlocks?: number; bodyLimit?: string } = {},
  ): Promise<TestApi> {
    const chains = new ChainService({
      client: cluster.client,
      settings: temporalSettings(),
      defaults: TEST_DEFAULTS,
      continueAsNewAfterBlocks: options.continueAsNewAfterBlocks,
    });
    const app = createApp({ chains, apiKeys: options.apiKeys, bodyLimit: options.bodyLimit });
    const server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    return new TestApi(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, server);
  }

  // The body is whatever JSON the route answers (views, errors, metrics text); tests assert its shape.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: any }> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, init);
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (metrics)
    }
    return { status: response.status, body: parsed };
  }

  configure(chainId: string, config: Record<string, unknown>) {
    return this.request('PUT', `/v1/chains/${chainId}`, config);
  }

  submit(chainId: string, number: number, extra: Record<string, unknown> = {}, salt = '') {
    return this.request('POST', `/v1/chains/${chainId}/blocks`, { number, hash: blockHash(chainId, number, salt), ...extra });
  }

  async chain(chainId: string): Promise<ChainView> {
    const { status, body } = await this.request('GET', `/v1/chains/${chainId}`);
    if (status !== 200) throw new Error(`GET chain ${chainId}: ${status} ${JSON.stringify(body)}`);
    return body as ChainView;
  }

  async block(chainId: string, number: number): Promise<BlockView> {
    const { status, body } = await this.request('GET', `/v1/chains/${chainId}/blocks/${number}`);
    if (status !== 200) throw new Error(`GET block ${chainId}#${number}: ${status} ${JSON.stringify(body)}`);
    return body as BlockView;
  }

  waitForChain(chainId: string, what: string, ready: (view: ChainView) => boolean, timeoutMs = 90_000): Promise<ChainView> {
    return waitFor(
      what,
      async () => {
        const view = await this.chain(chainId);
        return ready(view) ? view : undefined;
      },
      timeoutMs,
    );
  }

  close(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  }
}
