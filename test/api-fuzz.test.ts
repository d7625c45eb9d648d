import fc from 'fast-check';
import { TestApi } from './support/api';
import { TestCluster, uniqueChain } from './support/cluster';

/**
 * Random and malformed requests against every route: never a 5xx, always the error shape,
 * and a rejected request changes no chain.
 */
describe('API fuzzing', () => {
  let cluster: TestCluster;
  let api: TestApi;
  let chainId: string;

  beforeAll(async () => {
    cluster = await TestCluster.start();
    api = await TestApi.start(cluster, { bodyLimit: '8kb' });
    chainId = uniqueChain('fuzz');
    await api.configure(chainId, { mode: 'pipelined', maxInFlight: 2, startNumber: 0 });
    // Paused: accepted blocks stay queued, so the chain changes only when a request is accepted.
    await api.request('POST', `/v1/chains/${chainId}/pause`);
  });

  afterAll(async () => {
    await api?.close();
    await cluster?.close();
  });

  const json = fc.jsonValue({ maxDepth: 3 });
  const almostBlock = fc.record(
    {
      number: fc.oneof(fc.integer({ min: -5, max: 50 }), fc.double(), fc.string(), fc.constant(null)),
      hash: fc.oneof(
        fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFg'), minLength: 0, maxLength: 70 }).map((h) => `0x${h}`),
        fc.string(),
        fc.integer(),
      ),
      segments: fc.oneof(fc.integer({ min: -3, max: 3000 }), fc.string()),
      gpuClass: fc.oneof(fc.constantFrom('h100', 'a100', 'l4', 'cpu', 'tpu', ''), fc.integer()),
      prover: fc.oneof(fc.constantFrom('simulated', 'command', 'magic'), fc.integer()),
      timestamp: fc.oneof(fc.integer({ min: -10, max: 2 ** 40 }), fc.string()),
      input: fc.oneof(json, fc.dictionary(fc.string(), json)),
      extra: json,
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof(
    almostBlock.map((value) => JSON.stringify(value)),
    json.map((value) => JSON.stringify(value)),
    fc.string({ maxLength: 200 }),
    fc.constant('{"number": 1, "hash": '),
    fc.constant('x'.repeat(9000)),
  );
  const route = fc.constantFrom(
    ['POST', `/v1/chains/CHAIN/blocks`],
    ['PUT', `/v1/chains/CHAIN`],
    ['POST', `/v1/chains/CHAIN/reorg`],
    ['POST', `/v1/chains/CHAIN/blocks/NUMBER/retry`],
    ['GET', `/v1/chains/CHAIN/blocks/NUMBER`],
    ['GET', `/v1/chains/CHAIN`],
    ['POST', `/v1/chains/CHAIN/pause`],
    ['POST', `/v1/chains/CHAIN/resume`],
  );
  const chainParam = fc.oneof(
    fc.constant('KNOWN'),
    fc.string({ maxLength: 80 }).map(encodeURIComponent),
    fc.constantFrom('UPPER', 'a'.repeat(65), '%00', '..'),
  );
  const numberParam = fc.oneof(fc.integer({ min: -2, max: 2 ** 53 }).map(String), fc.string({ maxLength: 20 }).map(encodeURIComponent));
  const contentType = fc.constantFrom(
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/json; charset=utf-16',
    '',
  );

  it('never answers 5xx, always uses the error shape, and a rejected request changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(route, chainParam, numberParam, body, contentType, async ([method, template], chain, number, text, type) => {
        const path = template.replace('CHAIN', chain === 'KNOWN' ? chainId : chain).replace('NUMBER', number);
        const headers: Record<string, string> = type ? { 'content-type': type } : {};
        const before = await api.chain(chainId);
        const response = await api.request(method, path, method === 'GET' ? undefined : text, headers);
        expect(response.status).toBeLessThan(500);
        if (response.status >= 400) {
          expect(typeof response.body.error?.code).toBe('string');
          expect(typeof response.body.error?.message).toBe('string');
          expect(await api.chain(chainId)).toEqual(before);
        }
      }),
      { numRuns: 300, seed: 20261121 },
    );
  });
});
