import { z } from 'zod';
import { BLOCK_STATUSES, BlockNumberSchema, ChainIdSchema, SegmentProgressSchema } from '../domain/block';
import { BlockSubmissionSchema, ChainConfigBodySchema, ChainSnapshotSchema, ReorgBodySchema } from '../domain/chain';

/**
 * The HTTP contract of docs/DESIGN.md as zod schemas: requests are validated with them,
 * responses are typed by them, and /openapi.json is generated from them.
 */
export { BlockSubmissionSchema, ChainConfigBodySchema, ReorgBodySchema };

export const ChainParamsSchema = z.object({ chainId: ChainIdSchema });
export const BlockParamsSchema = z.object({
  chainId: ChainIdSchema,
  number: z
    .string()
    .regex(/^\d{1,16}$/, 'block number must be a non-negative integer')
    .transform(Number)
    .pipe(BlockNumberSchema),
});

export const BlockViewSchema = z.object({
  chainId: z.string(),
  number: z.number().int(),
  hash: z.string(),
  status: z.enum(BLOCK_STATUSES),
  workflowId: z.string(),
  uiUrl: z.string(),
  segments: SegmentProgressSchema.optional(),
  timings: z
    .object({
      submittedAt: z.string().optional(),
      startedAt: z.string().optional(),
      provedAt: z.string().optional(),
      finalizedAt: z.string().optional(),
      provingMs: z.number().optional(),
      overheadMs: z.number().optional(),
    })
    .optional(),
  deadline: z.object({ at: z.string(), met: z.boolean().optional() }).optional(),
  proof: z.object({ ref: z.string(), verified: z.boolean() }).optional(),
  error: z.string().optional(),
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
