import { LocalSystem } from '../workers/local-system';
import { TestApi } from './support/api';
import { uniqueChain, waitFor } from './support/cluster';

/** The API's deadline for Temporal calls in this system; answers must come within it (plus the HTTP round trip). */
const DEADLINE_MS = 2_000;
const MARGIN_MS = 3_000;

/**
 * The API when a chain or Temporal is sick, on the whole system as processes: every request
 * answers within the deadline (503 + Retry-After), the requests waiting per chain are bounded
 * (429), /readyz follows Temporal while /healthz follows the process, and once the broken part
 * returns, sending the same requests again works.
 */
describe('the API under a sick chain or a sick Temporal', () => {
  let system: LocalSystem;
  let api: TestApi;

  beforeAll(async () => {
    system = await LocalSystem.startTemporary({
      name: 'api-resilience',
      env: { PROOFLANE_API_TEMPORAL_TIMEOUT_MS: String(DEADLINE_MS), PROOFLANE_API_MAX_WAITING_PER_CHAIN: '4' },
    });
    await system.addGpuWorker('h100', 2, 'h100-resilience-node');
    api = TestApi.forUrl(system.apiUrl);
  });

  afterAll(async () => {
    await system?.stop();
  });

  const block = { segments: 2, input: { simulate: { segmentMs: 20, aggregateMs: 5 } } };

  /** Sends the request and answers its response with how long it took. */
  async function timed(call: () => ReturnType<TestApi['request']>) {
    const started = Date.now();
    const response = await call();
    return { ...response, elapsedMs: Date.now() - started };
  }

  /** Sends the request again after each 503 (as a client honouring Retry-After would, here without the wait) until it is answered otherwise. */
  async function untilAnswered(call: () => ReturnType<TestApi['request']>) {
    return waitFor('an answer other than 503', async () => {
      const response = await call();
      return response.status === 503 ? undefined : response;
    });
  }

  it('answers within the deadline while the orchestration worker is down, bounds what waits, and recovers when it returns', async () => {
    const chainId = uniqueChain('sick-chain');
    expect((await api.submit(chainId, 0, block)).status).toBe(202);
    await api.waitUntilFinalized(chainId, 0);

    await system.killOrchestration('SIGKILL');
    const submitted = await timed(() => api.submit(chainId, 1, block));
    expect(submitted.status).toBe(503);
    expect(submitted.elapsedMs).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(submitted.headers['retry-after']).toBe(String(DEADLINE_MS / 1_000));
    expect(submitted.body.error.code).toBe('unavailable');
    expect(submitted.body.error.message).toContain(`chain ${chainId} did not answer within ${DEADLINE_MS} ms`);

    // 8 run at once per chain and 4 may wait: of 20 at once, the rest are told to come back.
    const burst = await Promise.all(Array.from({ length: 20 }, () => timed(() => api.request('GET', `/v1/chains/${chainId}`))));
    const statuses = burst.map((response) => response.status);
    expect(statuses.filter((status) => status === 429)).toHaveLength(8);
    expect(statuses.filter((status) => status === 503)).toHaveLength(12);
    expect(burst.every((response) => response.elapsedMs < DEADLINE_MS + MARGIN_MS && response.headers['retry-after'])).toBe(true);
    expect(burst.find((response) => response.status === 429)?.body.error.code).toBe('busy');
    // Temporal itself is fine: the API is ready, only this chain is sick.
    expect((await api.request('GET', '/readyz')).status).toBe(200);

    await system.startOrchestration();
    // The 503'd submission may have been applied meanwhile: sending it again is safe either way,
    // as a client does after Retry-After until the new worker has picked the chain up.
    const again = await untilAnswered(() => api.submit(chainId, 1, block));
    expect([200, 202]).toContain(again.status);
    await api.waitUntilFinalized(chainId, 1);
  });

  it('answers within the deadline while the Temporal server is down: /healthz lives, /readyz is 503; all recover', async () => {
    const chainId = uniqueChain('sick-temporal');
    expect((await api.submit(chainId, 0, block)).status).toBe(202);
    await api.waitUntilFinalized(chainId, 0);

    await system.stopServer('SIGKILL');
    const ready = await timed(() => api.request('GET', '/readyz'));
    expect(ready.status).toBe(503);
    expect(ready.headers['retry-after']).toBeDefined();
    expect(ready.elapsedMs).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect((await api.request('GET', '/healthz')).status).toBe(200);
    const submitted = await timed(() => api.submit(chainId, 1, block));
    expect(submitted.status).toBe(503);
    expect(submitted.elapsedMs).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(submitted.body.error.message).toContain(chainId);

    await system.startServer();
    await waitFor('the API to be ready again', async () => ((await api.request('GET', '/readyz')).status === 200 ? true : undefined));
    const again = await untilAnswered(() => api.submit(chainId, 1, block));
    expect([200, 202]).toContain(again.status);
    await api.waitUntilFinalized(chainId, 1);
  });
});
