import { z } from 'zod';
import {
  BlockSubmissionSchema,
  BlockViewSchema,
  ChainConfigBodySchema,
  ChainViewSchema,
  ErrorBodySchema,
  ReorgAcceptedSchema,
  ReorgBodySchema,
  HaltBodySchema,
  RecentBlocksSchema,
  RetryAcceptedSchema,
  SubmittedBlockSchema,
} from './schemas';

type Schema = Record<string, unknown>;

const components: Record<string, Schema> = {
  ChainConfig: z.toJSONSchema(ChainConfigBodySchema, { io: 'input' }) as Schema,
  BlockSubmission: z.toJSONSchema(BlockSubmissionSchema, { io: 'input' }) as Schema,
  Reorg: z.toJSONSchema(ReorgBodySchema, { io: 'input' }) as Schema,
  Halt: z.toJSONSchema(HaltBodySchema, { io: 'input' }) as Schema,
  BlockView: z.toJSONSchema(BlockViewSchema) as Schema,
  RecentBlocks: z.toJSONSchema(RecentBlocksSchema) as Schema,
  ChainView: z.toJSONSchema(ChainViewSchema) as Schema,
  SubmittedBlock: z.toJSONSchema(SubmittedBlockSchema) as Schema,
  ReorgAccepted: z.toJSONSchema(ReorgAcceptedSchema) as Schema,
  RetryAccepted: z.toJSONSchema(RetryAcceptedSchema) as Schema,
  Error: z.toJSONSchema(ErrorBodySchema) as Schema,
};
for (const schema of Object.values(components)) delete schema.$schema;

const ref = (name: keyof typeof components) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: keyof typeof components, description: string) => ({
  description,
  content: { 'application/json': { schema: ref(name) } },
});
const errors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      String(status),
      json(
        'Error',
        {
          400: 'invalid request',
          401: 'missing or wrong API key',
          404: 'unknown chain or block',
          409: 'refused by the chain: the code says why (conflict, below_start, already_finalized, hash_conflict, start_fixed)',
          413: 'body too large',
          415: 'body is not JSON',
          429: 'beyond the chain window (beyond_window), or too many requests wait for the chain (busy): retry after the Retry-After header',
          503: 'the chain is stopped (chain_stopped): recover it first; or the chain or Temporal did not answer in time (unavailable): the request may still be applied, send it again after the Retry-After header',
        }[status] ?? 'error',
      ),
    ]),
  );
const body = (name: keyof typeof components) => ({ required: true, content: { 'application/json': { schema: ref(name) } } });
const chainId = { name: 'chainId', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9-]{1,64}$' } };
const number = { name: 'number', in: 'path', required: true, schema: { type: 'integer', minimum: 0 } };

/** The OpenAPI 3.1 document of the v1 API, generated from the same zod schemas that validate requests. */
export function buildOpenApiDocument(): Schema {
  return {
    openapi: '3.1.0',
    info: { title: 'prooflane API', version: '1.0.0', description: 'Submit blocks for proving and follow them to finalization.' },
    components: {
      schemas: components,
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'Required when the server has PROOFLANE_API_KEYS set.' } },
    },
    security: [{ apiKey: [] }, {}],
    paths: {
      '/v1/chains/{chainId}': {
        put: {
          summary: 'Configure a chain (created if new)',
          parameters: [chainId],
          requestBody: body('ChainConfig'),
          responses: { 200: json('ChainView', 'the chain view'), ...errors(400, 401, 409, 413, 415, 429, 503) },
        },
        get: {
          summary: 'The chain view',
          parameters: [chainId],
          responses: { 200: json('ChainView', 'the chain view'), ...errors(400, 401, 404, 429, 503) },
        },
      },
      '/v1/chains/{chainId}/blocks': {
        post: {
          summary: 'Submit a block for proving',
          parameters: [chainId],
          requestBody: body('BlockSubmission'),
          responses: {
            202: json('SubmittedBlock', 'accepted'),
            200: json('SubmittedBlock', 'identical resubmission (idempotent)'),
            ...errors(400, 401, 409, 413, 415, 429, 503),
          },
        },
        get: {
          summary: 'The newest blocks the chain holds, highest first (the finalized ones it keeps, and every one not finalized yet)',
          parameters: [
            chainId,
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 256, default: 100 } },
          ],
          responses: { 200: json('RecentBlocks', 'the blocks, each as its block view'), ...errors(400, 401, 404, 429, 503) },
        },
      },
      '/v1/chains/{chainId}/blocks/{number}': {
        get: {
          summary: 'The block view',
          parameters: [
            chainId,
            number,
            {
              name: 'work',
              in: 'query',
              required: false,
              description:
                "true: include `work`, each finished segment's and aggregation's worker and times (a query of the block's workflow)",
              schema: { type: 'boolean', default: false },
            },
          ],
          responses: { 200: json('BlockView', 'the block view'), ...errors(400, 401, 404, 429, 503) },
        },
      },
      '/v1/chains/{chainId}/blocks/{number}/proof': {
        get: {
          summary: "A proved or finalized block's proof bytes, as its verified workflow stored them (header x-proof-ref: their address)",
          parameters: [chainId, number],
          responses: {
            200: { description: 'the proof', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
            ...errors(400, 401, 404, 429, 503),
          },
        },
      },
      '/v1/chains/{chainId}/halt': {
        post: {
          summary: 'Stop finalizing at the next block until the chain is resumed or reorged (blocks keep proving)',
          parameters: [chainId],
          requestBody: body('Halt'),
          responses: { 200: json('ChainView', 'the chain view, halted'), ...errors(400, 401, 404, 413, 415, 429, 503) },
        },
      },
      '/v1/chains/{chainId}/reorg': {
        post: {
          summary: 'Cancel and forget blocks from a number on',
          parameters: [chainId],
          requestBody: body('Reorg'),
          responses: { 202: json('ReorgAccepted', 'blocks cancelled and forgotten'), ...errors(400, 401, 404, 409, 413, 415, 429, 503) },
        },
      },
      '/v1/chains/{chainId}/blocks/{number}/retry': {
        post: {
          summary: 'Prove a failed block again',
          parameters: [chainId, number],
          responses: { 202: json('RetryAccepted', 'retry started as a new incarnation'), ...errors(400, 401, 404, 409, 429, 503) },
        },
      },
      '/v1/chains/{chainId}/recover': {
        post: {
          summary: 'Recover a chain whose sequencer closed: a new sequencer from the publication records',
          parameters: [chainId],
          responses: { 200: json('ChainView', 'the recovered chain view'), ...errors(400, 401, 404, 409, 429, 503) },
        },
      },
      '/v1/chains/{chainId}/pause': {
        post: {
          summary: 'Stop starting new blocks',
          parameters: [chainId],
          responses: { 200: json('ChainView', 'the chain view'), ...errors(400, 401, 404, 429, 503) },
        },
      },
      '/v1/chains/{chainId}/resume': {
        post: {
          summary: 'Start new blocks again, and lift a halt requested through /halt',
          parameters: [chainId],
          responses: { 200: json('ChainView', 'the chain view'), ...errors(400, 401, 404, 429, 503) },
        },
      },
      '/chains/{chainId}': {
        get: {
          summary: 'The live chain page (HTML; it reads the API above; with API keys, pass one as #key=<key>)',
          security: [],
          parameters: [chainId],
          responses: { 200: { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
        },
      },
      '/healthz': { get: { summary: 'Liveness: the process runs', security: [], responses: { 200: { description: 'alive' } } } },
      '/readyz': {
        get: {
          summary: "Readiness: Temporal answers for the API's namespace",
          security: [],
          responses: { 200: { description: 'ready' }, ...errors(503) },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          responses: { 200: { description: 'OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
    },
  };
}
