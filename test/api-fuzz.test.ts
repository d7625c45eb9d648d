import fc from 'fast-check';
import { INPUT_LIMITS } from '../domain/block';
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

  /** The JSON text of an input nested `depth` levels (objects and arrays by `shape`), written as text: any depth serializes. */
  const nestedJson = (depth: number, shape: boolean[]): string => {
    let open = '';
    let close = '';
    for (let level = 1; level < depth; level += 1) {
      const isObject = shape[level % shape.length];
      open += isObject ? '{"k":' : '[';
      close = (isObject ? '}' : ']') + close;
    }
    return `{"root":${open}"leaf"${close}}`;
  };
  // Parameters only: fast-check prints counterexamples recursively, so the structures are built inside the property.
  type Hostile = { kind: 'deep'; depth: number; shape: boolean[] } | { kind: 'wide'; keys: number } | { kind: 'long'; length: number };
  const hostile: fc.Arbitrary<Hostile> = fc.oneof(
    fc.record({
      kind: fc.constant('deep' as const),
      depth: fc.integer({ min: 1, max: 6_000 }),
      shape: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
    }),
    fc.record({ kind: fc.constant('wide' as const), keys: fc.integer({ min: 0, max: 15_000 }) }),
    fc.record({ kind: fc.constant('long' as const), length: fc.integer({ min: 0, max: 100_000 }) }),
  );
  const build = (spec: Hostile): { input: string; depth: number; entries: number; longest: number } => {
    switch (spec.kind) {
      case 'deep':
        return { input: nestedJson(spec.depth, spec.shape), depth: spec.depth, entries: spec.depth - 1, longest: 4 };
      case 'wide':
        return {
          input: JSON.stringify(Object.fromEntries(Array.from({ length: spec.keys }, (_, i) => [`k${i}`, i]))),
          depth: 1,
          entries: spec.keys,
          longest: 6,
        };
      case 'long':
        return { input: JSON.stringify({ blob: 'x'.repeat(spec.length) }), depth: 1, entries: 1, longest: spec.length };
    }
  };

  it('answers deep, wide and long inputs with 202 within the limits and 400 naming input beyond them, never 5xx', async () => {
    const roomy = await TestApi.start(cluster, { bodyLimit: '256kb' });
    try {
      const deepChain = uniqueChain('fuzz-deep');
      await roomy.configure(deepChain, { mode: 'pipelined', maxInFlight: 1, maxAhead: 512, startNumber: 0 });
      await roomy.request('POST', `/v1/chains/${deepChain}/pause`);
      let number = 0;
      await fc.assert(
        fc.asyncProperty(hostile, async (spec) => {
          const { input, depth, entries, longest } = build(spec);
          const body = `{"number":${number},"hash":"0x${number.toString(16).padStart(64, '0')}","input":${input}}`;
          const response = await roomy.request('POST', `/v1/chains/${deepChain}/blocks`, body, { 'content-type': 'application/json' });
          expect(response.status).toBeLessThan(500);
          const withinLimits = depth <= INPUT_LIMITS.depth && entries <= INPUT_LIMITS.entries && longest <= INPUT_LIMITS.stringChars;
          if (Buffer.byteLength(body) > 256 * 1024) expect(response.status).toBe(413);
          else if (withinLimits) {
            expect(response.status).toBe(202);
            number += 1;
          } else {
            expect(response.status).toBe(400);
            expect(response.body.error.issues.every((issue: { path: string }) => issue.path.startsWith('input'))).toBe(true);
          }
        }),
        { numRuns: 60, seed: 20261201 },
      );
    } finally {
      await roomy.close();
    }
  });
});
