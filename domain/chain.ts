import { z } from 'zod';
import {
  BlockHashSchema,
  BlockNumberSchema,
  GpuClassSchema,
  HeartbeatTimeoutSchema,
  ProverInputSchema,
  ProverNameSchema,
  SegmentCountSchema,
  type SegmentProgress,
} from './block';

/**
 * The chain model: how blocks are submitted and how a chain is configured. The API
 * validates requests with these schemas and the sequencer's update validators check
 * them again, so a bad submission from any client is rejected before it is recorded.
 */

export const ChainModeSchema = z.enum(['sequential', 'pipelined']);
export type ChainMode = z.infer<typeof ChainModeSchema>;

export const BlockDefaultsSchema = z
  .object({
    gpuClass: GpuClassSchema.optional(),
    prover: ProverNameSchema.optional(),
    segments: SegmentCountSchema.optional(),
    /** How long a GPU worker may go silent before its task is retried elsewhere (default 5 s). */
    heartbeatTimeoutMs: HeartbeatTimeoutSchema.optional(),
  })
  .strict();

export const ChainConfigBodySchema = z
  .object({
    mode: ChainModeSchema,
    /** Blocks proving at once in `pipelined` mode (`sequential` proves one at a time). */
    maxInFlight: z.number().int().min(1).max(256).default(4),
    slotSeconds: z.number().positive().max(86_400).default(12),
    defaults: BlockDefaultsSchema.optional(),
    /** The first block number the chain finalizes; defaults to the first block submitted. */
    startNumber: BlockNumberSchema.optional(),
  })
  .strict();
export type ChainConfigBody = z.input<typeof ChainConfigBodySchema>;

/** A chain's full configuration, server defaults filled in. */
export const ChainConfigSchema = z.object({
  mode: ChainModeSchema,
  maxInFlight: z.number().int().min(1),
  slotSeconds: z.number().positive(),
  defaults: z.object({
    gpuClass: GpuClassSchema,
    prover: ProverNameSchema,
    segments: SegmentCountSchema,
    heartbeatTimeoutMs: HeartbeatTimeoutSchema.optional(),
  }),
  startNumber: BlockNumberSchema.optional(),
});
export type ChainConfig = z.infer<typeof ChainConfigSchema>;

export const BlockSubmissionSchema = z
  .object({
    number: BlockNumberSchema,
    hash: BlockHashSchema,
    parentHash: BlockHashSchema.optional(),
    /** Unix seconds; the block's deadline is timestamp + the chain's slotSeconds. */
    timestamp: z.number().int().min(0).max(32_503_680_000).optional(),
    segments: SegmentCountSchema.optional(),
    gpuClass: GpuClassSchema.optional(),
    prover: ProverNameSchema.optional(),
    input: ProverInputSchema.optional(),
  })
  .strict();
export type BlockSubmission = z.infer<typeof BlockSubmissionSchema>;

export const ReorgBodySchema = z.object({ fromNumber: BlockNumberSchema }).strict();
export type ReorgBody = z.infer<typeof ReorgBodySchema>;

/** Applies a PUT body over the current (or server default) configuration. */
export function applyChainConfig(base: ChainConfig, body: z.infer<typeof ChainConfigBodySchema>): ChainConfig {
  return {
    mode: body.mode,
    maxInFlight: body.maxInFlight,
    slotSeconds: body.slotSeconds,
    defaults: { ...base.defaults, ...body.defaults },
    startNumber: body.startNumber ?? base.startNumber,
  };
}

/** How many blocks may prove at once under a configuration. */
export function provingLimit(config: ChainConfig): number {
  return config.mode === 'sequential' ? 1 : config.maxInFlight;
}

/** A block as its chain's sequencer holds it. */
export type SequencedStatus = 'queued' | 'proving' | 'proved' | 'finalized' | 'failed' | 'cancelled';

export interface BlockEntry {
  number: number;
  hash: string;
  parentHash?: string;
  timestamp?: number;
  segments: number;
  gpuClass: z.infer<typeof GpuClassSchema>;
  prover: z.infer<typeof ProverNameSchema>;
  /** Kept only until the block workflow starts (it carries the input from then on). */
  input?: Record<string, unknown>;
  status: SequencedStatus;
  /** Bumped by each retry, so every proving attempt of a number has its own workflow id. */
  incarnation: number;
  workflowId: string;
  submittedAt: number;
  startedAt?: number;
  provedAt?: number;
  finalizedAt?: number;
  deadlineAt?: number;
  proofRef?: string;
  provingMs?: number;
  overheadMs?: number;
  segmentProgress?: SegmentProgress;
  error?: string;
}

/** The sequencer's whole state, carried across continue-as-new. */
export interface ChainState {
  chainId: string;
  config: ChainConfig;
  paused: boolean;
  finalizedHead: number | null;
  /** The next number to finalize; null until the chain knows where it starts. */
  nextNumber: number | null;
  blocks: BlockEntry[];
  /** Per block number, how many proving attempts a reorg or retry has retired (so ids never repeat). */
  incarnations: Record<string, number>;
}

/** What a chain shows of itself: the chain view of the HTTP API, answered by the sequencer. */
export const ChainSnapshotSchema = z.object({
  chainId: z.string(),
  mode: ChainModeSchema,
  maxInFlight: z.number().int(),
  slotSeconds: z.number(),
  defaults: BlockDefaultsSchema,
  startNumber: z.number().int().optional(),
  paused: z.boolean(),
  finalizedHead: z.number().int().nullable(),
  nextToFinalize: z.number().int().nullable(),
  inFlight: z.array(z.number().int()),
  queued: z.array(z.number().int()),
  proved: z.array(z.number().int()),
  failed: z.array(z.number().int()),
  failures: z.array(z.object({ number: z.number().int(), error: z.string() })),
  /** Numbers between the next to finalize and the highest known block that nobody submitted yet. */
  gaps: z.array(z.number().int()),
});
export type ChainSnapshot = z.infer<typeof ChainSnapshotSchema>;

export interface SubmitResult {
  outcome: 'accepted' | 'duplicate';
  number: number;
  hash: string;
  status: SequencedStatus;
  workflowId: string;
}
