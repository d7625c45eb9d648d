import { z } from 'zod';
import {
  ArtifactRefSchema,
  BlockHashSchema,
  BlockNumberSchema,
  GpuClassSchema,
  HeartbeatTimeoutSchema,
  LeaseSegmentsSchema,
  MAX_PROVERS,
  proverKey,
  refuseUnreachableQuorum,
  type BlockProofs,
  type CountedProof,
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

/** The largest stride of a chain that proves every Nth block. */
export const MAX_EVERY = 1_000_000;

/** The largest `maxAhead` a chain may have: with FINALIZED_KEPT, what bounds the sequencer's state (sequencing/chain-book.ts). */
export const MAX_AHEAD_LIMIT = 512;

export const ChainModeSchema = z.enum(['sequential', 'pipelined']);
export type ChainMode = z.infer<typeof ChainModeSchema>;

export const BlockDefaultsSchema = z
  .object({
    gpuClass: GpuClassSchema.optional(),
    prover: ProverNameSchema.optional(),
    segments: SegmentCountSchema.optional(),
    /** How long a GPU worker may go silent before its task is retried elsewhere (default 5 s). */
    heartbeatTimeoutMs: HeartbeatTimeoutSchema.optional(),
    /** Segments one GPU node proves in one lease: the GPUs per node of the chain's class (default 8). */
    leaseSegments: LeaseSegmentsSchema.optional(),
  })
  .strict();

/** One prover of a chain's proof policy; unset fields take the chain's (or the block's) defaults. */
export const ProverSpecSchema = z
  .object({
    prover: ProverNameSchema,
    /** The GPU class whose task queues this prover's work goes to (default: the chain's `defaults.gpuClass`). */
    gpuClass: GpuClassSchema.optional(),
    /** Segments this prover splits a block into (default: the block's `segments`, else the chain's). */
    segments: SegmentCountSchema.optional(),
  })
  .strict();
export type ProverSpec = z.infer<typeof ProverSpecSchema>;

/**
 * Multi-proof: every block is proved independently by each listed prover, and is `proved` once
 * `quorum` of their proofs are verified (docs/DESIGN.md, "Multi-proof"). Absent: one prover, the
 * block's or the chain's default, quorum 1.
 */
export const ProofPolicySchema = z
  .object({
    provers: z.array(ProverSpecSchema).min(1).max(MAX_PROVERS),
    quorum: z.number().int().min(1).max(MAX_PROVERS),
    /** Provers still running when the quorum is reached go on and their proofs are recorded (never counted); default: they are cancelled. */
    keepProving: z.boolean().default(false),
  })
  .strict()
  .superRefine(refuseUnreachableQuorum);
export type ProofPolicy = z.infer<typeof ProofPolicySchema>;

export const ChainConfigBodySchema = z
  .object({
    mode: ChainModeSchema,
    /** Blocks proving at once in `pipelined` mode (`sequential` proves one at a time). */
    maxInFlight: z.number().int().min(1).max(256).default(4),
    slotSeconds: z.number().positive().max(86_400).default(12),
    defaults: BlockDefaultsSchema.optional(),
    /**
     * How far ahead of the next block to finalize the chain accepts blocks: numbers at or past
     * `nextToFinalize + maxAhead` are answered 429 until the chain catches up. Bounds the chain's state.
     */
    maxAhead: z.number().int().min(1).max(MAX_AHEAD_LIMIT).default(256),
    /**
     * The first block number the chain finalizes; without it, the first block submitted. It can
     * change only while the chain holds no blocks (else 409 StartFixed).
     */
    startNumber: BlockNumberSchema.optional(),
    /**
     * The chain proves every `every`-th block: `startNumber`, `startNumber + every`, ... (as
     * real-time provers that prove every Nth block of a chain do). Fixed while the chain holds
     * blocks, like `startNumber`; a PUT without it keeps the chain's (default 1).
     */
    every: z.number().int().min(1).max(MAX_EVERY).optional(),
    /** Which provers prove each block and at what quorum; a PUT without it keeps the chain's. */
    proofs: ProofPolicySchema.optional(),
  })
  .strict();
export type ChainConfigBody = z.input<typeof ChainConfigBodySchema>;

/** A chain's full configuration, server defaults filled in. */
export const ChainConfigSchema = z.object({
  mode: ChainModeSchema,
  maxInFlight: z.number().int().min(1),
  slotSeconds: z.number().positive(),
  maxAhead: z.number().int().min(1).max(MAX_AHEAD_LIMIT).default(256),
  defaults: z.object({
    gpuClass: GpuClassSchema,
    prover: ProverNameSchema,
    segments: SegmentCountSchema,
    heartbeatTimeoutMs: HeartbeatTimeoutSchema.optional(),
    leaseSegments: LeaseSegmentsSchema.optional(),
  }),
  startNumber: BlockNumberSchema.optional(),
  /** Every how many blocks the chain proves one (default 1: every block; states from earlier builds lack it). */
  every: z.number().int().min(1).max(MAX_EVERY).default(1),
  /** Multi-proof policy; absent: one prover per block. */
  proofs: ProofPolicySchema.optional(),
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

/**
 * A submission as the API hands it to the chain: the input is stored in the artifact store first
 * and only its reference travels through Temporal (to the sequencer, the block, every activity).
 */
export const BlockAdmissionSchema = BlockSubmissionSchema.omit({ input: true }).extend({ inputRef: ArtifactRefSchema.optional() }).strict();
export type BlockAdmission = z.infer<typeof BlockAdmissionSchema>;

export const ReorgBodySchema = z.object({ fromNumber: BlockNumberSchema }).strict();
export type ReorgBody = z.infer<typeof ReorgBodySchema>;

/** Stops finalization at the next block until an operator resumes the chain or reorgs it (the feeder's answer to a reorg it must not guess about). */
export const HaltBodySchema = z.object({ reason: z.string().trim().min(1).max(1_000) }).strict();
export type HaltBody = z.infer<typeof HaltBodySchema>;

/** Applies a PUT body over the current (or server default) configuration. */
export function applyChainConfig(base: ChainConfig, body: z.infer<typeof ChainConfigBodySchema>): ChainConfig {
  return {
    mode: body.mode,
    maxInFlight: body.maxInFlight,
    slotSeconds: body.slotSeconds,
    maxAhead: body.maxAhead,
    defaults: { ...base.defaults, ...body.defaults },
    startNumber: body.startNumber ?? base.startNumber,
    every: body.every ?? base.every,
    ...((body.proofs ?? base.proofs) !== undefined ? { proofs: body.proofs ?? base.proofs } : {}),
  };
}

/**
 * The provers of a block under a policy: each spec with the chain's GPU class and the block's
 * segments filled in. Refuses a policy whose provers coincide once filled in (the same backend on
 * the same GPU class is one prover).
 */
export function resolveProvers(policy: ProofPolicy, defaults: { gpuClass: string; segments: number }): BlockProofs['provers'] {
  const runs = policy.provers.map((spec) => ({
    prover: spec.prover,
    gpuClass: spec.gpuClass ?? defaults.gpuClass,
    segments: spec.segments ?? defaults.segments,
  }));
  const keys = runs.map(proverKey);
  const repeated = keys.find((key, index) => keys.indexOf(key) !== index);
  if (repeated !== undefined)
    throw new Error(`the proof policy lists ${repeated} twice: each prover is a backend on a GPU class, listed once`);
  return runs;
}

/** How many blocks may prove at once under a configuration. */
export function provingLimit(config: ChainConfig): number {
  return config.mode === 'sequential' ? 1 : config.maxInFlight;
}

/** A block's provers (its chain's policy with defaults filled in), quorum and keepProving. */
export interface BlockPolicy {
  provers: BlockProofs['provers'];
  quorum: number;
  keepProving: boolean;
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
  /** The block's prover input in the artifact store (none: `{}`); kept for retries, which prove the same input. */
  inputRef?: string;
  status: SequencedStatus;
  /** Bumped by each retry, so every proving attempt of a number has its own workflow id. */
  incarnation: number;
  workflowId: string;
  /** The run the sequencer started under `workflowId`: only that run's report and proof count. */
  runId?: string;
  submittedAt: number;
  startedAt?: number;
  provedAt?: number;
  finalizedAt?: number;
  deadlineAt?: number;
  proofRef?: string;
  provingMs?: number;
  overheadMs?: number;
  /** GPU time the proof cost, every attempt counted (see BlockTimings.gpuMs). */
  gpuMs?: number;
  segmentProgress?: SegmentProgress;
  /**
   * The chain's proof policy when the block was accepted (absent: `prover` on `gpuClass` alone,
   * quorum 1). Carried state keeps each policy once (`ChainState.policies`) and names it here by id.
   */
  policy?: BlockPolicy;
  policyId?: string;
  /**
   * Proved: the verified proofs that made the quorum, published with the block. Failed: those
   * that did verify, which a retry verifies again and carries instead of proving them again.
   */
  proofs?: CountedProof[];
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
  /** The policies blocks held were accepted under, by id (BlockEntry.policyId): each kept once, not per block. */
  policies?: Record<string, BlockPolicy>;
  /** The next policy id. */
  policySeq?: number;
  /** Per block number, how many proving attempts a reorg or retry has retired (so ids never repeat). */
  incarnations: Record<string, number>;
  /** Set when publication of the next block failed for good; cleared by a retry or reorg of that block. */
  publicationHalt?: ChainHalt;
  /** Set by a halt request (POST /halt, e.g. the feeder on a reorg too deep to follow); cleared by resume or a reorg. */
  requestedHalt?: ChainHalt;
  /** What the chain has done since its sequencer was created (absent in states from earlier builds: zeros). */
  counters?: ChainCounters;
  /** When the last block finalized (epoch ms). */
  lastFinalizedAt?: number;
}

/**
 * Running totals of a chain, kept in its durable state (carried through continue-as-new, so a
 * worker restart never resets them; a recovered chain starts them again). Exported as counters.
 */
export const ChainCountersSchema = z.object({
  /** Blocks accepted (duplicates not counted). */
  submitted: z.number().int(),
  /** Proving attempts that produced a verified proof. */
  proved: z.number().int(),
  finalized: z.number().int(),
  /** Proving attempts that failed (prover errors past their budget, workflows closed without a report, refused reports). */
  failed: z.number().int(),
  /** Proving attempts cancelled (by an operator or a reorg). */
  cancelled: z.number().int(),
  /** Blocks forgotten by reorgs. */
  reorged: z.number().int(),
  /** Proofs that came after their block's deadline (timestamp + slotSeconds). */
  deadlineMissed: z.number().int(),
});
export type ChainCounters = z.infer<typeof ChainCountersSchema>;

export const ZERO_COUNTERS: ChainCounters = {
  submitted: 0,
  proved: 0,
  finalized: 0,
  failed: 0,
  cancelled: 0,
  reorged: 0,
  deadlineMissed: 0,
};

/** Why finalization stopped at `number` until an operator acts (retry, reorg, or resume after a halt request). */
export interface ChainHalt {
  number: number;
  reason: string;
}

/** What a chain shows of itself: the chain view of the HTTP API, answered by the sequencer. */
export const ChainSnapshotSchema = z.object({
  chainId: z.string(),
  mode: ChainModeSchema,
  maxInFlight: z.number().int(),
  slotSeconds: z.number(),
  maxAhead: z.number().int(),
  defaults: BlockDefaultsSchema,
  startNumber: z.number().int().optional(),
  /** The chain proves every `every`-th block from its start. */
  every: z.number().int(),
  proofs: ProofPolicySchema.optional(),
  paused: z.boolean(),
  /** Finalization stopped at `number` until an operator retries it or reorgs from it; null while the chain moves. */
  halted: z.object({ number: z.number().int(), reason: z.string() }).nullable(),
  finalizedHead: z.number().int().nullable(),
  nextToFinalize: z.number().int().nullable(),
  inFlight: z.array(z.number().int()),
  queued: z.array(z.number().int()),
  proved: z.array(z.number().int()),
  failed: z.array(z.number().int()),
  failures: z.array(z.object({ number: z.number().int(), error: z.string() })),
  /** Numbers between the next to finalize and the highest known block that nobody submitted yet. */
  gaps: z.array(z.number().int()),
  /** The highest block number the chain holds (null when it holds none). */
  highestNumber: z.number().int().nullable(),
  /** Blocks the chain holds that are not finalized yet: the head lag in blocks. */
  waiting: z.number().int(),
  /**
   * Since when (epoch ms) the oldest block not yet finalized has waited: its slot's start (its
   * timestamp) when it has one, else its submission; null when nothing waits. now − this is the head lag in time.
   */
  waitingSince: z.number().nullable(),
  /** When (epoch ms) the oldest block not yet finalized was submitted; null when nothing waits. */
  waitingSubmittedAt: z.number().nullable(),
  /** When the last block finalized (epoch ms; null before the first). */
  lastFinalizedAt: z.number().nullable(),
  counters: ChainCountersSchema,
});
export type ChainSnapshot = z.infer<typeof ChainSnapshotSchema>;

export interface SubmitResult {
  outcome: 'accepted' | 'duplicate';
  number: number;
  hash: string;
  status: SequencedStatus;
  workflowId: string;
}
