import { z } from 'zod';
import { BLOCK_STATUSES, BlockNumberSchema, ChainIdSchema, ProverProgressSchema, SegmentProgressSchema } from '../domain/block';
import { BlockSubmissionSchema, ChainConfigBodySchema, ChainSnapshotSchema, HaltBodySchema, ReorgBodySchema } from '../domain/chain';

/**
 * The HTTP contract of docs/DESIGN.md as zod schemas: requests are validated with them,
 * responses are typed by them, and /openapi.json is generated from them.
 */
export { BlockSubmissionSchema, ChainConfigBodySchema, HaltBodySchema, ReorgBodySchema };

export const ChainParamsSchema = z.object({ chainId: ChainIdSchema });
export const BlockParamsSchema = z.object({
  chainId: ChainIdSchema,
  number: z
    .string()
    .regex(/^\d{1,16}$/, 'block number must be a non-negative integer')
    .transform(Number)
    .pipe(BlockNumberSchema),
});

/** GET /v1/chains/:id/blocks/:number?work=true: what the block's workflow saw finish, each task with its worker. */
export const BlockWorkViewSchema = z.object({
  /** GPU time spent so far, every attempt counted (lost, retried and hedged ones too). */
  gpuMs: z.number(),
  segments: z.array(
    z.object({
      index: z.number().int(),
      worker: z.string(),
      device: z.number().int(),
      attempt: z.number().int(),
      /** Epoch ms: when the winning attempt started and finished on its worker. */
      startedAt: z.number(),
      finishedAt: z.number(),
      provingMs: z.number(),
      hedged: z.boolean(),
      proverRetries: z.number().int(),
    }),
  ),
  aggregations: z.array(
    z.object({
      level: z.number().int(),
      from: z.number().int(),
      to: z.number().int(),
      worker: z.string(),
      device: z.number().int(),
      startedAt: z.number(),
      finishedAt: z.number(),
      provingMs: z.number(),
    }),
  ),
});
export type BlockWorkView = z.infer<typeof BlockWorkViewSchema>;

export const BlockQuerySchema = z.object({
  /** `true`: include `work` (each segment's worker and times; costs a query of the block's workflow). */
  work: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
});

export const RecentBlocksQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'limit must be an integer from 1 to 256')
    .transform(Number)
    .pipe(z.number().int().min(1).max(256))
    .default(100),
});

/** A block of a multi-proof chain: its quorum, and each prover's status, proof and timings. */
export const BlockProversViewSchema = z.object({
  /** Verified proofs that make the block proved. */
  quorum: z.number().int(),
  keepProving: z.boolean(),
  provers: z.array(ProverProgressSchema),
});
export type BlockProversView = z.infer<typeof BlockProversViewSchema>;

export const BlockViewSchema = z.object({
  chainId: z.string(),
  number: z.number().int(),
  hash: z.string(),
  status: z.enum(BLOCK_STATUSES),
  workflowId: z.string(),
  uiUrl: z.string(),
  gpuClass: z.string().optional(),
  prover: z.string().optional(),
  segments: SegmentProgressSchema.optional(),
  timings: z
    .object({
      submittedAt: z.string().optional(),
      startedAt: z.string().optional(),
      provedAt: z.string().optional(),
      finalizedAt: z.string().optional(),
      provingMs: z.number().optional(),
      overheadMs: z.number().optional(),
      /** GPU time the proof cost, every attempt counted. */
      gpuMs: z.number().optional(),
      deadlineAt: z.string().optional(),
    })
    .optional(),
  deadline: z.object({ at: z.string(), met: z.boolean().optional() }).optional(),
  proof: z.object({ ref: z.string(), verified: z.boolean() }).optional(),
  /** Blocks of a chain with a proof policy: each prover and the quorum (docs/DESIGN.md, "Multi-proof"). */
  proofs: BlockProversViewSchema.optional(),
  error: z.string().optional(),
  work: BlockWorkViewSchema.optional(),
});
export type BlockView = z.infer<typeof BlockViewSchema>;

/** The chain view is the sequencer's snapshot, as it answers it. */
export const ChainViewSchema = ChainSnapshotSchema;
export type ChainView = z.infer<typeof ChainViewSchema>;

export const ErrorCodeSchema = z.enum([
  'invalid_request',
  'unauthorized',
  'not_found',
  'conflict',
  /** 409: the block is below the chain's start (the first block submitted, or startNumber). */
  'below_start',
  /** 409: the block is at or below the finalized head. */
  'already_finalized',
  /** 409: another hash was accepted for the number; reorg from it first. */
  'hash_conflict',
  /** 409: the chain holds blocks, so its start cannot move. */
  'start_fixed',
  /** 429: too far ahead of the next block to finalize; retry after Retry-After seconds. */
  'beyond_window',
  /** 503: the chain's sequencer is closed; an operator recovers it (POST /v1/chains/:id/recover). */
  'chain_stopped',
  /** 429: too many requests to this chain are waiting; retry after Retry-After seconds. */
  'busy',
  'payload_too_large',
  'unsupported_media_type',
  /** 503 with Retry-After: Temporal did not answer in time (the request may still be applied; sending it again is safe). */
  'unavailable',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

export const ErrorBodySchema = z.object({
  error: z.object({
    code: ErrorCodeSchema,
    message: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** What POST /blocks answers: the block as the chain accepted it, before there is anything to show of its proving. */
export const SubmittedBlockSchema = BlockViewSchema.pick({
  chainId: true,
  number: true,
  hash: true,
  status: true,
  workflowId: true,
  uiUrl: true,
});
export type SubmittedBlock = z.infer<typeof SubmittedBlockSchema>;

export const ReorgAcceptedSchema = z.object({
  accepted: z.literal(true),
  chainId: z.string(),
  /** Blocks whose running workflows were cancelled (their provers stopped). */
  cancelled: z.array(z.number().int()),
  /** Every block at or above `fromNumber` whose hash the chain forgot. */
  forgotten: z.array(z.number().int()),
});
export type ReorgAccepted = z.infer<typeof ReorgAcceptedSchema>;

export const RetryAcceptedSchema = z.object({
  accepted: z.literal(true),
  chainId: z.string(),
  number: z.number().int(),
  /** The new incarnation's workflow. */
  workflowId: z.string(),
});
export type RetryAccepted = z.infer<typeof RetryAcceptedSchema>;

export const RecentBlocksSchema = z.object({ chainId: z.string(), blocks: z.array(BlockViewSchema) });
export type RecentBlocks = z.infer<typeof RecentBlocksSchema>;
