import { buildOpenApiDocument } from '../api/openapi';
import { BlockViewSchema, ChainViewSchema, ReorgAcceptedSchema, RetryAcceptedSchema, SubmittedBlockSchema } from '../api/schemas';
import { TestApi } from './support/api';
import { blockHash, TestCluster, uniqueChain } from './support/cluster';
import { useTestStack } from './support/stack';

const HASH = `0x${'ab'.repeat(32)}`;

describe('HTTP contract: bad requests get their documented status and error shape', () => {
  let cluster: TestCluster;
  let api: TestApi;
  let securedApi: TestApi;
  let chainId: string;

  beforeAll(async () => {
    cluster = await TestCluster.start();
    await cluster.addGpuPool('h100', 4, 'h100-node');
    api = await TestApi.start(cluster, { bodyLimit: '16kb' });
    securedApi = await TestApi.start(cluster, { apiKeys: ['k1-secret', 'k2-secret'] });
    chainId = uniqueChain('contract');
    await api.configure(chainId, { mode: 'pipelined', maxInFlight: 2, startNumber: 0 });
  });

  afterAll(async () => {
    await securedApi?.close();
    await api?.close();
    await cluster?.close();
  });

  const blocks = () => `/v1/chains/${chainId}/blocks`;

  it.each([
    ['number is a string', { number: '1', hash: HASH }, ['number']],
    ['number is negative', { number: -1, hash: HASH }, ['number']],
    ['number is fractional', { number: 1.5, hash: HASH }, ['number']],
    ['hash is missing', { number: 1 }, ['hash']],
    ['hash is not hex', { number: 1, hash: `0x${'zz'.repeat(32)}` }, ['hash']],
    ['hash is too short', { number: 1, hash: '0xabc' }, ['hash']],
    [
      'several fields are wrong at once',
      { number: -3, hash: 'nope', segments: 0, gpuClass: 'TPU v5', prover: 'magic' },
      ['number', 'hash', 'segments', 'gpuClass', 'prover'],
    ],
    ['segments above 2000', { number: 1, hash: HASH, segments: 2001 }, ['segments']],
    ['an unknown field', { number: 1, hash: HASH, colour: 'red' }, ['(root)']],
    ['input is not an object', { number: 1, hash: HASH, input: [1, 2] }, ['input']],
    ['the body is an array', [1, 2, 3], ['(root)']],
  ])('400 when %s, listing every invalid field', async (_case, body, paths) => {
    const response = await api.request('POST', blocks(), body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    expect(response.body.error.issues.map((issue: { path: string }) => issue.path).sort()).toEqual([...paths].sort());
  });

  it('400 for malformed JSON, 415 for a body that is not JSON, 413 for a body over the limit', async () => {
    const malformed = await api.request('POST', blocks(), '{"number": 1,');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('not valid JSON') });
    const wrongType = await api.request('POST', blocks(), 'number=1', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.error.code).toBe('unsupported_media_type');
    const huge = await api.request('POST', blocks(), { number: 1, hash: HASH, input: { blob: 'x'.repeat(64 * 1024) } });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('payload_too_large');
  });

  it('400 for bad path parameters and bad chain configuration', async () => {
    expect((await api.request('GET', '/v1/chains/UPPER-case')).status).toBe(400);
    expect((await api.request('GET', `/v1/chains/${chainId}/blocks/-1`)).status).toBe(400);
    expect((await api.request('GET', `/v1/chains/${chainId}/blocks/abc`)).status).toBe(400);
    const config = await api.configure(chainId, { mode: 'turbo', maxInFlight: 0 });
    expect(config.status).toBe(400);
    expect(config.body.error.issues.map((issue: { path: string }) => issue.path).sort()).toEqual(['maxInFlight', 'mode']);
    expect((await api.request('POST', `/v1/chains/${chainId}/reorg`, { fromNumber: 'x' })).status).toBe(400);
  });

  it('404 for unknown chains, blocks and routes, in the error shape', async () => {
    for (const path of ['/v1/chains/unknown-chain', `/v1/chains/${chainId}/blocks/999`, '/v2/nothing']) {
      const response = await api.request('GET', path);
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('not_found');
    }
  });

  it('a rejected request changes nothing', async () => {
    const before = await api.chain(chainId);
    await api.request('POST', blocks(), { number: 5, hash: 'bad' });
    await api.request('POST', blocks(), '{oops');
    const after = await api.chain(chainId);
    expect(after).toEqual(before);
  });

  it('401 without the right API key when keys are configured; /healthz stays open', async () => {
    expect((await securedApi.request('GET', '/healthz')).status).toBe(200);
    const missing = await securedApi.request('GET', `/v1/chains/${chainId}`);
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('unauthorized');
    expect((await securedApi.request('GET', `/v1/chains/${chainId}`, undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await securedApi.request('GET', `/v1/chains/${chainId}`, undefined, { authorization: 'k1-secret' })).status).toBe(401);
    expect((await securedApi.request('POST', `/v1/chains/${chainId}/blocks`, { number: 1, hash: HASH })).status).toBe(401);
    expect((await securedApi.request('GET', `/v1/chains/${chainId}`, undefined, { authorization: 'Bearer k2-secret' })).status).toBe(200);
    expect((await securedApi.request('GET', '/metrics', undefined, { authorization: 'Bearer k1-secret' })).status).toBe(200);
  });

  it('serves metrics in Prometheus text format', async () => {
    await api.request('POST', blocks(), { number: 0, hash: blockHash(chainId, 0) });
    const metrics = await api.request('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/prooflane_api_requests_total\{method="POST",route="\/v1\/chains\/:chainId\/blocks",status="202"\} \d+/);
    expect(metrics.body).toMatch(/prooflane_api_block_submissions_total\{outcome="rejected"\} \d+/);
  });
});

describe('HTTP contract: answers have the shapes the OpenAPI document declares', () => {
  const stack = useTestStack({
    pools: [['h100', 4, 'h100-node']],
    api: {},
  });

  it('submit, block and chain views, reorg and retry answer exactly their schemas', async () => {
    const chainId = uniqueChain('shapes');
    expect(ChainViewSchema.strict().parse((await stack.api.configure(chainId, { mode: 'pipelined', startNumber: 0 })).body).chainId).toBe(
      chainId,
    );
    const submitted = await stack.api.submit(chainId, 0, { input: { simulate: { segmentMs: 10 } } });
    expect(submitted.status).toBe(202);
    expect(SubmittedBlockSchema.strict().parse(submitted.body).uiUrl).toContain(encodeURIComponent(submitted.body.workflowId));
    const again = await stack.api.submit(chainId, 0, { input: { simulate: { segmentMs: 10 } } });
    expect(again.status).toBe(200);
    SubmittedBlockSchema.strict().parse(again.body);
    await stack.api.waitUntilFinalized(chainId, 0);
    BlockViewSchema.strict().parse((await stack.api.request('GET', `/v1/chains/${chainId}/blocks/0`)).body);

    // Block 1 fails on bad input, so it can be retried; block 2 is reorged away.
    await stack.api.submit(chainId, 1, { input: { simulate: { badInputSegments: [0] } } });
    await stack.api.waitForChain(chainId, 'block 1 to fail', (view) => view.failed.includes(1));
    const retry = await stack.api.request('POST', `/v1/chains/${chainId}/blocks/1/retry`);
    expect(retry.status).toBe(202);
    expect(RetryAcceptedSchema.strict().parse(retry.body)).toEqual({ accepted: true, chainId, number: 1, workflowId: expect.any(String) });
    await stack.api.submit(chainId, 2, { input: { simulate: { segmentMs: 60_000 } } });
    const reorg = await stack.api.request('POST', `/v1/chains/${chainId}/reorg`, { fromNumber: 2 });
    expect(reorg.status).toBe(202);
    expect(ReorgAcceptedSchema.strict().parse(reorg.body)).toMatchObject({ accepted: true, chainId, forgotten: [2] });
    ChainViewSchema.strict().parse((await stack.api.request('GET', `/v1/chains/${chainId}`)).body);
  });
});

describe('the OpenAPI document', () => {
  const document = buildOpenApiDocument() as {
    openapi: string;
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    components: { schemas: Record<string, unknown> };
  };

  it('is OpenAPI 3.1 and lists every route of the contract', () => {
    expect(document.openapi).toBe('3.1.0');
    const routes = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        'PUT /v1/chains/{chainId}',
        'GET /v1/chains/{chainId}',
        'POST /v1/chains/{chainId}/blocks',
        'GET /v1/chains/{chainId}/blocks',
        'GET /v1/chains/{chainId}/blocks/{number}',
        'GET /v1/chains/{chainId}/blocks/{number}/proof',
        'POST /v1/chains/{chainId}/halt',
        'GET /chains/{chainId}',
        'POST /v1/chains/{chainId}/reorg',
        'POST /v1/chains/{chainId}/blocks/{number}/retry',
        'POST /v1/chains/{chainId}/recover',
        'POST /v1/chains/{chainId}/pause',
        'POST /v1/chains/{chainId}/resume',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
        'GET /openapi.json',
      ].sort(),
    );
  });

  it('has every $ref resolve and every operation documented with responses', () => {
    const refs = JSON.stringify(document).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      const name = ref.replace(/^"\$ref":"#\/components\/schemas\//, '').replace(/"$/, '');
      expect(document.components.schemas[name]).toBeDefined();
    }
    for (const methods of Object.values(document.paths))
      for (const operation of Object.values(methods)) expect(Object.keys(operation.responses).length).toBeGreaterThan(0);
  });

  it('describes the block submission from the same schema that validates it', () => {
    const submission = document.components.schemas.BlockSubmission as {
      required: string[];
      properties: Record<string, { pattern?: string; maximum?: number }>;
    };
    expect(submission.required.sort()).toEqual(['hash', 'number']);
    expect(submission.properties.hash.pattern).toBe('^0x[0-9a-fA-F]{64}$');
    expect(submission.properties.segments.maximum).toBe(2000);
  });
});
