import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../api/app';
import { ChainService } from '../../api/chains';
import { ProoflaneClient } from '../../api/client';
import { proverSettings } from '../../config/provers';
import { temporalSettings } from '../../config/temporal';
import type { ProverName } from '../../domain/block';
import type { ChainConfig } from '../../domain/chain';
import type { TestCluster } from './cluster';
import { blockHash } from './cluster';

export const TEST_DEFAULTS: ChainConfig = {
  mode: 'pipelined',
  maxInFlight: 4,
  slotSeconds: 12,
  maxAhead: 256,
  defaults: { gpuClass: 'h100', prover: 'simulated', segments: 2 },
  every: 1,
};

/** How a test API differs from the defaults: keys, body limit, the sequencer's test knobs. */
export interface TestApiOptions {
  apiKeys?: string[];
  continueAsNewAfterBlocks?: number;
  finalizedKept?: number;
  reconcileEveryMs?: number;
  bodyLimit?: string;
  /** The backends the API accepts blocks for (default: those the test environment serves). */
  servedProvers?: ProverName[];
  temporalTimeoutMs?: number;
  maxWaitingPerChain?: number;
}

/** Whatever JSON a route answers (views, errors, metrics text): `any` because tests assert its shape field by field. */
type AssertedBody = any;

/** The real API (express app + Temporal client) on an ephemeral loopback port, and the client tests drive it with. */
export class TestApi extends ProoflaneClient {
  private constructor(
    baseUrl: string,
    private readonly server?: Server,
  ) {
    super(baseUrl);
  }

  /** A client for an API that runs elsewhere (its own process). */
  static forUrl(baseUrl: string): TestApi {
    return new TestApi(baseUrl);
  }

  static async start(cluster: TestCluster, options: TestApiOptions = {}): Promise<TestApi> {
    const chains = new ChainService({
      client: cluster.client,
      settings: temporalSettings(),
      defaults: TEST_DEFAULTS,
      inputs: cluster.store,
      continueAsNewAfterBlocks: options.continueAsNewAfterBlocks,
      finalizedKept: options.finalizedKept,
      reconcileEveryMs: options.reconcileEveryMs,
      temporalTimeoutMs: options.temporalTimeoutMs,
      maxWaitingPerChain: options.maxWaitingPerChain,
    });
    const app = createApp({
      chains,
      servedProvers: options.servedProvers ?? proverSettings().served,
      apiKeys: options.apiKeys,
      bodyLimit: options.bodyLimit,
    });
    const server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    return new TestApi(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, server);
  }

  override request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: AssertedBody; headers: Record<string, string> }> {
    return super.request(method, path, body, headers);
  }

  configure(chainId: string, config: Record<string, unknown>) {
    return this.request('PUT', `/v1/chains/${chainId}`, config);
  }

  /** Submits block `number` with a hash derived from chain, number and `salt`; answers the raw response. */
  submit(chainId: string, number: number, extra: Record<string, unknown> = {}, salt = '') {
    return this.request('POST', `/v1/chains/${chainId}/blocks`, { number, hash: blockHash(chainId, number, salt), ...extra });
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
