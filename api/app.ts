import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { z } from 'zod';
import type { ProverName } from '../domain/block';
import { FailureTypes, type RejectionType } from '../domain/failures';
import { ChainRejection, RetryLater, type ChainService } from './chains';
import type { Registry } from 'prom-client';
import { ApiMetrics } from '../observability/api-metrics';
import { ChainMetrics } from '../observability/chain-metrics';
import { createLogger, type Logger } from '../observability/logger';
import { processRegistry } from '../observability/metrics';
import { CHAIN_PAGE_DIR } from './chain-page';
import { buildOpenApiDocument } from './openapi';
import {
  BlockParamsSchema,
  BlockQuerySchema,
  RecentBlocksQuerySchema,
  BlockSubmissionSchema,
  ChainConfigBodySchema,
  ChainParamsSchema,
  ReorgBodySchema,
  HaltBodySchema,
  type ErrorBody,
  type ErrorCode,
  type RecentBlocks,
  type ReorgAccepted,
  type RetryAccepted,
  type SubmittedBlock,
} from './schemas';

export interface ApiOptions {
  chains: ChainService;
  /** The backends the cluster's workers serve: blocks and chain defaults naming another are refused (400). */
  servedProvers: readonly ProverName[];
  /** When non-empty, every route but /healthz and /readyz needs `Authorization: Bearer <key>`. */
  apiKeys?: string[];
  /** Largest accepted JSON body (express/body-parser syntax). */
  bodyLimit?: string;
  /** The registry /metrics serves (default: one of its own); the chains' metrics are read into it at scrape time. */
  metrics?: Registry;
  logger?: Logger;
}

/** A response that ends the request with the error shape of docs/DESIGN.md. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly issues?: { path: string; message: string }[],
  ) {
    super(message);
  }
}

/** The one table from a chain's rejections to HTTP statuses and error codes. */
const STATUS_OF: Record<RejectionType, [number, ErrorCode]> = {
  [FailureTypes.InvalidRequest]: [400, 'invalid_request'],
  [FailureTypes.Conflict]: [409, 'conflict'],
  [FailureTypes.NotFound]: [404, 'not_found'],
  [FailureTypes.BelowStart]: [409, 'below_start'],
  [FailureTypes.AlreadyFinalized]: [409, 'already_finalized'],
  [FailureTypes.HashConflict]: [409, 'hash_conflict'],
  [FailureTypes.StartFixed]: [409, 'start_fixed'],
  [FailureTypes.BeyondWindow]: [429, 'beyond_window'],
  [FailureTypes.ChainStopped]: [503, 'chain_stopped'],
};

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ path: issue.path.join('.') || '(root)', message: issue.message }));
  throw new HttpError(400, 'invalid_request', `invalid ${what}`, issues);
}

function sendError(res: Response, error: HttpError): void {
  const body: ErrorBody = { error: { code: error.code, message: error.message, ...(error.issues ? { issues: error.issues } : {}) } };
  res.status(error.status).json(body);
}

export function createApp(options: ApiOptions): express.Express {
  const { chains } = options;
  const registry = options.metrics ?? processRegistry();
  const metrics = new ApiMetrics(registry);
  const logger = options.logger ?? createLogger('api', 'ERROR');
  new ChainMetrics(registry, chains, { servedProvers: options.servedProvers, logger });
  const keyDigests = (options.apiKeys ?? []).filter(Boolean).map((key) => createHash('sha256').update(key).digest());
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      metrics.observeRequest(req.method, route, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  });

  // Liveness: the process answers. Readiness: Temporal answers too (503 while it does not).
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  app.get('/readyz', async (_req, res) => {
    await chains.ready();
    res.json({ ok: true, temporal: 'reachable' });
  });

  // The live chain page: static files that read the public API below (with the key in the URL's
  // fragment when keys are set), so they carry no data and need no key themselves.
  const pageHeaders = (res: Response): void => {
    res.set(
      'Content-Security-Policy',
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    );
    res.set('X-Content-Type-Options', 'nosniff');
  };
  app.get('/chains/:chainId', (req, res) => {
    parse(ChainParamsSchema, req.params, 'path');
    pageHeaders(res);
    res.sendFile('index.html', { root: CHAIN_PAGE_DIR });
  });
  app.use('/chain-page', express.static(CHAIN_PAGE_DIR, { index: false, setHeaders: pageHeaders }));

  if (keyDigests.length > 0) {
    app.use((req, _res, next) => {
      const match = /^Bearer +(.+)$/i.exec(req.get('authorization') ?? '');
      const presented = createHash('sha256')
        .update(match?.[1] ?? '')
        .digest();
      // Compare against every key in constant time; never stop at the first match.
      let ok = false;
      for (const digest of keyDigests) ok = timingSafeEqual(presented, digest) || ok;
      if (!match || !ok) return next(new HttpError(401, 'unauthorized', 'missing or wrong API key: send Authorization: Bearer <key>'));
      next();
    });
  }

  app.use((req, _res, next) => {
    const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
    if (hasBody && !req.is('application/json'))
      return next(new HttpError(415, 'unsupported_media_type', 'request bodies must be JSON (Content-Type: application/json)'));
    next();
  });
  app.use(express.json({ limit: options.bodyLimit ?? '256kb', strict: false }));

  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  app.get('/openapi.json', (_req, res) => {
    res.json(buildOpenApiDocument());
  });

  /** Refuses a prover no worker of this cluster serves, naming those that are served. */
  const requireServed = (prover: ProverName | undefined, path: string, what: string): void => {
    if (prover === undefined || options.servedProvers.includes(prover)) return;
    throw new HttpError(400, 'invalid_request', `invalid ${what}`, [
      { path, message: `prover "${prover}" is not served by this cluster (served: ${options.servedProvers.join(', ')})` },
    ]);
  };

  app.put('/v1/chains/:chainId', async (req, res) => {
    const { chainId } = parse(ChainParamsSchema, req.params, 'path');
    const body = parse(ChainConfigBodySchema, req.body, 'chain configuration');
    requireServed(body.defaults?.prover, 'defaults.prover', 'chain configuration');
    body.proofs?.provers.forEach((spec, index) => requireServed(spec.prover, `proofs.provers.${index}.prover`, 'chain configuration'));
    res.json(await chains.configure(chainId, body));
  });

  app.get('/v1/chains/:chainId', async (req, res) => {
    const { chainId } = parse(ChainParamsSchema, req.params, 'path');
    res.json(await chains.chain(chainId));
  });

  app.post('/v1/chains/:chainId/blocks', async (req, res) => {
    const { chainId } = parse(ChainParamsSchema, req.params, 'path');
    let submission;
    try {
      submission = parse(BlockSubmissionSchema, req.body, 'block');
      requireServed(submission.prover, 'prover', 'block');
    } catch (error) {
      metrics.observeSubmission('rejected');
      throw error;
    }
    const result = await chains.submitBlock(chainId, submission);
    metrics.observeSubmission(result.outcome);
    const view: SubmittedBlock = {
      chainId,
      number: result.number,
      hash: result.hash,
      status: result.status,
      workflowId: result.workflowId,
      uiUrl: chains.uiUrl(result.workflowId),
    };
    res.status(result.outcome === 'accepted' ? 202 : 200).json(view);
  });

  app.get('/v1/chains/:chainId/blocks', async (req, res) => {
    const { chainId } = parse(ChainParamsSchema, req.params, 'path');
    const { limit } = parse(RecentBlocksQuerySchema, req.query, 'query');
    const answer: RecentBlocks = { chainId, blocks: await chains.recentBlocks(chainId, limit) };
    res.json(answer);
  });

  app.get('/v1/chains/:chainId/blocks/:number', async (req, res) => {
    const { chainId, number } = parse(BlockParamsSchema, req.params, 'path');
    const { work } = parse(BlockQuerySchema, req.query, 'query');
    res.json(await chains.block(chainId, number, { work }));
  });

  app.get('/v1/chains/:chainId/blocks/:number/proof', async (req, res) => {
    const { chainId, number } = parse(BlockParamsSchema, req.params, 'path');
    const { ref, bytes } = await chains.proof(chainId, number);
    res.set('content-type', 'application/octet-stream').set('x-proof-ref', ref).send(Buffer.from(bytes));
  });

  app.post('/v1/chains/:chainId/halt', async (req, res) => {
    const { chainId } = parse(ChainParamsSchema, req.params, 'path');
    const body = parse(HaltBodySchema, req.body, 'halt');
    res.json(await chains.halt(chainId, body));
  });

  app.post('/v1/chains/:chainId/reorg', async (req, res) => {
    const { chainId } = parse(ChainParamsSchema, req.params, 'path');
    const body = parse(ReorgBodySchema, req.body, 'reorg');
    const answer: ReorgAccepted = { accepted: true, chainId, ...(await chains.reorg(chainId, body)) };
    res.status(202).json(answer);
  });

  app.post('/v1/chains/:chainId/blocks/:number/retry', async (req, res) => {
    const { chainId, number } = parse(BlockParamsSchema, req.params, 'path');
    const answer: RetryAccepted = { accepted: true, chainId, ...(await chains.retry(chainId, number)) };
    res.status(202).json(answer);
  });

  app.post('/v1/chains/:chainId/recover', async (req, res) => {
    const { chainId } = parse(ChainParamsSchema, req.params, 'path');
    res.json(await chains.recover(chainId));
  });

  app.post('/v1/chains/:chainId/pause', async (req, res) => {
    const { chainId } = parse(ChainParamsSchema, req.params, 'path');
    res.json(await chains.setPaused(chainId, true));
  });

  app.post('/v1/chains/:chainId/resume', async (req, res) => {
    const { chainId } = parse(ChainParamsSchema, req.params, 'path');
    res.json(await chains.setPaused(chainId, false));
  });

  app.use((req, _res, next) => next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`)));

  // Every failure ends here: client mistakes get their 4xx, only our own faults a 5xx.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof HttpError) return sendError(res, error);
    if (error instanceof RetryLater) {
      res.set('Retry-After', String(error.retryAfterSeconds));
      return sendError(res, new HttpError(error.reason === 'busy' ? 429 : 503, error.reason, error.message));
    }
    if (error instanceof ChainRejection) {
      const [status, code] = STATUS_OF[error.type];
      if (error.retryAfterSeconds !== undefined) res.set('Retry-After', String(error.retryAfterSeconds));
      return sendError(res, new HttpError(status, code, error.message));
    }
    const bodyError = error as { type?: string; status?: number; message?: string };
    if (bodyError.type === 'entity.too.large')
      return sendError(res, new HttpError(413, 'payload_too_large', `request body is larger than ${options.bodyLimit ?? '256kb'}`));
    if (bodyError.type === 'entity.parse.failed')
      return sendError(res, new HttpError(400, 'invalid_request', 'request body is not valid JSON'));
    if (bodyError.type === 'encoding.unsupported' || bodyError.type === 'charset.unsupported') {
      return sendError(res, new HttpError(415, 'unsupported_media_type', bodyError.message ?? 'unsupported encoding'));
    }
    if (typeof bodyError.status === 'number' && bodyError.status >= 400 && bodyError.status < 500) {
      return sendError(res, new HttpError(400, 'invalid_request', bodyError.message ?? 'bad request'));
    }
    logger.error({ err: error }, 'request failed');
    res.set('Retry-After', '5');
    sendError(res, new HttpError(503, 'unavailable', 'the orchestrator could not complete the request; retry later'));
  });

  return app;
}
