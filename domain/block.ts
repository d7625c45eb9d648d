import { z } from 'zod';

/**
 * The block model: one zod schema per shape, TypeScript types inferred from them.
 * Shared by the API (validation at the edge), the workflows (validation at the
 * workflow boundary) and the activities. Must stay free of Node APIs because the
 * workflow bundle imports it.
 */

/** Every issue of a failed validation as `path: message`, joined: one line for an error message. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

export const ChainIdSchema = z.string().regex(/^[a-z0-9-]{1,64}$/, 'chainId must match [a-z0-9-]{1,64}');
export const BlockHashSchema = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be 0x followed by 64 hex digits');
export const BlockNumberSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * A kind of accelerator, named by the operator (`h100`, `h200`, `b200`, `l40s`, `rtx5090`, `cpu`, ...):
 * it becomes part of task-queue names, metrics labels and search attributes, so it is restricted
 * to a safe alphabet. The API and the workers validate it with this one schema.
 */
export const GPU_CLASS_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const GpuClassSchema = z.string().regex(GPU_CLASS_PATTERN, 'a GPU class must match [a-z0-9][a-z0-9-]{0,31}');
export type GpuClass = z.infer<typeof GpuClassSchema>;

export const PROVER_NAMES = ['simulated', 'command', 'o1js', 'groth16'] as const;
export const ProverNameSchema = z.enum(PROVER_NAMES);
export type ProverName = z.infer<typeof ProverNameSchema>;

export const MAX_SEGMENTS = 2000;
export const SegmentCountSchema = z.number().int().min(1).max(MAX_SEGMENTS);

/** The most segments one lease may carry: bounds a lease's heartbeat details (a receipt per segment) well under Temporal's payload limit. */
export const MAX_LEASE_SEGMENTS = 256;
export const LeaseSegmentsSchema = z.number().int().min(1).max(MAX_LEASE_SEGMENTS);

/**
 * Bounds of a block's `input`: deep or wide enough structures would otherwise overflow a
 * recursive serializer (JSON.stringify fails near depth 5,000) or make every prover parse
 * megabytes. The body limit bounds bytes; these bound shape.
 */
export const INPUT_LIMITS = {
  /** Nesting of objects and arrays; the input object itself is depth 1. */
  depth: 32,
  /** Object keys and array items in the whole input. */
  entries: 10_000,
  /** Characters of any one string, keys included. */
  stringChars: 131_072,
} as const;

/** Where an input leaves INPUT_LIMITS, as `[path, problem]`, at most `max` of them. Iterative: any depth is safe. */
export function inputLimitProblems(input: unknown, max = 10): [(string | number)[], string][] {
  const problems: [(string | number)[], string][] = [];
  const pending: { value: unknown; path: (string | number)[]; depth: number }[] = [{ value: input, path: [], depth: 0 }];
  let entries = 0;
  // Long keys are shortened in paths: an error message must not echo 64 KiB back.
  const step = (key: string | number): string | number => (typeof key === 'string' && key.length > 64 ? `${key.slice(0, 64)}…` : key);
  while (pending.length > 0 && problems.length < max) {
    const { value, path, depth } = pending.pop()!;
    if (typeof value === 'string') {
      if (value.length > INPUT_LIMITS.stringChars) problems.push([path, `string longer than ${INPUT_LIMITS.stringChars} characters`]);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth + 1 > INPUT_LIMITS.depth) {
      problems.push([path, `nested deeper than ${INPUT_LIMITS.depth} levels`]);
      continue;
    }
    const children: [string | number, unknown][] = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value);
    entries += children.length;
    if (entries > INPUT_LIMITS.entries) {
      problems.push([path, `more than ${INPUT_LIMITS.entries} keys and items in all`]);
      break;
    }
    for (const [key, child] of children) {
      if (typeof key === 'string' && key.length > INPUT_LIMITS.stringChars)
        problems.push([path, `a key longer than ${INPUT_LIMITS.stringChars} characters`]);
      pending.push({ value: child, path: [...path, step(key)], depth: depth + 1 });
    }
  }
  return problems.slice(0, max);
}

/** Opaque to the orchestrator (each prover backend reads what it understands), within INPUT_LIMITS. */
export const ProverInputSchema = z.record(z.string(), z.unknown()).superRefine((input, context) => {
  for (const [path, message] of inputLimitProblems(input)) context.addIssue({ code: 'custom', path, message });
});
export type ProverInput = z.infer<typeof ProverInputSchema>;

/** Where a stored artifact (a proof, a block's input) lives: its content hash (`storage/artifact-store.ts`). */
export const ArtifactRefSchema = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be an artifact reference sha256:<64 hex digits>');

/** The identity of a block as every activity sees it. */
export const BlockRefSchema = z.object({
  chainId: ChainIdSchema,
  number: BlockNumberSchema,
  hash: BlockHashSchema,
});
export type BlockRef = z.infer<typeof BlockRefSchema>;

/** How long a GPU worker may go silent before its task is presumed lost and retried elsewhere. */
export const HeartbeatTimeoutSchema = z.number().int().min(500).max(600_000);

/** Orchestration knobs of one block proof; defaults suit the simulated backend. */
export const ProofOptionsSchema = z.object({
  /** Fan-in of the aggregation tree unless the backend declares its own. */
  fanIn: z.number().int().min(2).max(64).default(4),
  /** A worker that stops heartbeating for this long is presumed dead; its task is retried elsewhere. */
  heartbeatTimeoutMs: HeartbeatTimeoutSchema.default(5_000),
  /** Upper bound of one prover attempt (segment or aggregation). */
  attemptTimeoutMs: z.number().int().min(1_000).max(86_400_000).default(600_000),
  /**
   * Upper bound of one task in total, waiting for a worker and every retry included: lost
   * workers are retried without limit of count, but not of time.
   */
  taskTimeoutMs: z
    .number()
    .int()
    .min(1_000)
    .max(7 * 86_400_000)
    .default(3_600_000),
  /** Prover errors (crash, non-zero exit) tolerated per segment or aggregation before the block fails; lost workers do not count. */
  maxAttempts: z.number().int().min(1).max(100).default(5),
  /**
   * Straggler hedging: once every other segment of the block is done, a segment still running
   * after this many times their median proving time gets a second copy on another slot; the
   * first to finish wins and the other is cancelled. 0 turns hedging off.
   */
  hedgeFactor: z.number().min(0).max(100).default(3),
  /**
   * Segments one GPU node proves in one lease (one activity: its segments at once on the node's
   * GPUs, then the aggregations inside them): set it to the GPUs per node of the class. A block
   * with more segments is split into several leases, aggregated above them by tasks of their own.
   */
  leaseSegments: LeaseSegmentsSchema.default(8),
  /** Temporal task priority of the block's segments (1 = first); see `segmentPriority` in workflows/policy.ts. */
  priorityKey: z.number().int().min(1).max(5).default(3),
});
export type ProofOptions = z.infer<typeof ProofOptionsSchema>;

/** The most provers one block may be proved by (a chain's proof policy, docs/DESIGN.md "Multi-proof"). */
export const MAX_PROVERS = 5;

/**
 * One independent prover of a block: a backend on its own GPU class's task queues, splitting the
 * block its own way. Two provers of one block differ in backend or GPU class (`proverKey`).
 */
export const ProverRunSchema = z.object({
  prover: ProverNameSchema,
  gpuClass: GpuClassSchema,
  segments: SegmentCountSchema,
});
export type ProverRun = z.infer<typeof ProverRunSchema>;

/** How a prover is named in views, failures and publications: `backend@gpuClass` (e.g. `groth16@h100`). */
export function proverKey(run: Pick<ProverRun, 'prover' | 'gpuClass'>): string {
  return `${run.prover}@${run.gpuClass}`;
}

/** A block proof that the orchestration worker verified: one that counts towards its block's quorum. */
export const CountedProofSchema = z.object({
  prover: ProverNameSchema,
  gpuClass: GpuClassSchema,
  proofRef: ArtifactRefSchema,
  verified: z.literal(true),
  /** Prover time on the proof's slowest path through its aggregation tree, plus verification. */
  provingMs: z.number().min(0),
  /** GPU time the proof cost, every attempt counted. */
  gpuMs: z.number().min(0),
});
export type CountedProof = z.infer<typeof CountedProofSchema>;

/** A quorum above the provers listed can never be reached: the refinement a chain's policy and a block's job share. */
export function refuseUnreachableQuorum(proofs: { quorum: number; provers: readonly unknown[] }, context: z.RefinementCtx): void {
  if (proofs.quorum > proofs.provers.length)
    context.addIssue({
      code: 'custom',
      path: ['quorum'],
      message: `quorum ${proofs.quorum} is more than the ${proofs.provers.length} provers listed`,
    });
}

/** Which provers prove a block and how many verified proofs make it `proved` (absent on a job: its one prover, quorum 1). */
export const BlockProofsSchema = z
  .object({
    provers: z.array(ProverRunSchema).min(1).max(MAX_PROVERS),
    quorum: z.number().int().min(1).max(MAX_PROVERS),
    /** Provers still running at the quorum go on and their proofs are recorded (never counted, never waited for). */
    keepProving: z.boolean().default(false),
    /**
     * Proofs an earlier attempt of this block verified (a retry): each is verified again by this
     * run and, if it holds, counts without proving; only the other provers prove.
     */
    carried: z.array(CountedProofSchema).max(MAX_PROVERS).default([]),
  })
  .superRefine((proofs, context) => {
    refuseUnreachableQuorum(proofs, context);
    const keys = proofs.provers.map(proverKey);
    if (new Set(keys).size !== keys.length)
      context.addIssue({
        code: 'custom',
        path: ['provers'],
        message: `each prover (backend@gpuClass) may be listed once: ${keys.join(', ')}`,
      });
  });
export type BlockProofs = z.infer<typeof BlockProofsSchema>;

/** Input of the block proof workflow. */
export const BlockJobSchema = BlockRefSchema.extend({
  segments: SegmentCountSchema,
  gpuClass: GpuClassSchema,
  prover: ProverNameSchema,
  /** The block's prover input in the artifact store, stored once at admission; none means `{}`. */
  inputRef: ArtifactRefSchema.optional(),
  options: ProofOptionsSchema.default(ProofOptionsSchema.parse({})),
  /** Epoch ms by which the proof should exist (timestamp + slot); drives the DeadlineMissed search attribute. */
  deadlineAt: z.number().int().min(0).optional(),
  /** Several independent provers and a quorum (a chain's proof policy); absent: `prover` on `gpuClass` alone, as before. */
  proofs: BlockProofsSchema.optional(),
});
export type BlockJob = z.infer<typeof BlockJobSchema>;
export type BlockJobInput = z.input<typeof BlockJobSchema>;

export const BLOCK_STATUSES = ['queued', 'proving', 'aggregating', 'proved', 'finalized', 'failed', 'cancelled'] as const;
export const BlockStatusSchema = z.enum(BLOCK_STATUSES);
export type BlockStatus = z.infer<typeof BlockStatusSchema>;

export const SegmentProgressSchema = z.object({
  total: z.number().int(),
  done: z.number().int(),
  /** Dispatched to the GPU task queue and not finished yet. */
  running: z.number().int(),
  failed: z.number().int(),
});
export type SegmentProgress = z.infer<typeof SegmentProgressSchema>;

/** Where one prover of a block is (`status`), and what it produced. */
export const PROVER_STATUSES = ['proving', 'aggregating', 'verified', 'failed', 'cancelled'] as const;
export const ProverStatusSchema = z.enum(PROVER_STATUSES);
export type ProverStatus = z.infer<typeof ProverStatusSchema>;

export const ProverProgressSchema = z.object({
  /** `backend@gpuClass`. */
  key: z.string(),
  prover: ProverNameSchema,
  gpuClass: z.string(),
  status: ProverStatusSchema,
  /** Its proof is one of the `quorum` that made the block proved. */
  counted: z.boolean(),
  /** Verified after the quorum was reached (kept proving with `keepProving`): recorded, never counted. */
  late: z.boolean(),
  /** Its proof was verified by an earlier attempt of the block, verified again and carried over, not proved again. */
  carried: z.boolean(),
  segments: SegmentProgressSchema,
  proofRef: z.string().optional(),
  provingMs: z.number().optional(),
  gpuMs: z.number().optional(),
  /** Epoch ms: when this prover started, and when it ended (verified, failed or cancelled). */
  startedAt: z.number().optional(),
  finishedAt: z.number().optional(),
  error: z.string().optional(),
});
export type ProverProgress = z.infer<typeof ProverProgressSchema>;

export interface BlockProgress {
  status: BlockStatus;
  segments: SegmentProgress;
  aggregation: { total: number; done: number };
  /** The block proof this workflow produced and verified: what its chain may publish for it. */
  proofRef?: string;
  /** Every proof this run verified (counted, late and carried ones): a publication's proofs must all be here. */
  verifiedRefs?: string[];
  /** Each prover of the block (absent from runs of builds before multi-proof). */
  provers?: ProverProgress[];
  /** How many verified proofs make the block proved. */
  quorum?: number;
  error?: string;
}

/** What a worker reports about one unit of prover work (segment or aggregation node). */
export interface WorkReceipt {
  proofRef: string;
  /** When the server scheduled this attempt (worker clock view of the server time). */
  scheduledAt: number;
  startedAt: number;
  finishedAt: number;
  /** Time the prover itself computed. */
  provingMs: number;
  attempt: number;
  worker: string;
  device: number;
  /**
   * GPU time this task cost: how long this attempt held its device, plus what earlier attempts
   * that were lost (their worker died or stalled) held theirs up to their last heartbeat.
   */
  gpuMs?: number;
}

export interface SegmentTiming extends WorkReceipt {
  index: number;
  /** Prover errors this segment survived (each retried as a new task). */
  proverRetries: number;
  /** A second copy was started for this straggler; the receipt is the winner's. */
  hedged: boolean;
  /** When the workflow saw the result (workflow time). */
  seenAt: number;
}

export interface AggregationLevelTiming {
  level: number;
  nodes: number;
  startedAt: number;
  finishedAt: number;
  maxProvingMs: number;
}

/** One aggregation node's receipt, with the tree level it sits at (1 = just above the segments). */
export interface AggregationTiming extends WorkReceipt {
  level: number;
  from: number;
  to: number;
}

/** What a block's workflow has seen finish so far (blockWork query): the chain page's waterfall. */
export interface BlockWork {
  segments: SegmentTiming[];
  aggregations: AggregationTiming[];
  gpuMs: number;
}

export interface BlockTimings {
  startedAt: number;
  finishedAt: number;
  totalMs: number;
  /** Sum of prover time along the slowest root-to-leaf path of the tree, plus verification. */
  criticalPathMs: number;
  /** totalMs - criticalPathMs: what orchestration cost (docs/DESIGN.md). */
  overheadMs: number;
  verifyMs: number;
  /**
   * GPU time the block cost, every attempt counted: the tasks that produced its proofs, those lost
   * with their worker (up to their last heartbeat), those that failed with a prover error, and
   * hedged copies that lost their race (from their dispatch to their cancellation).
   */
  gpuMs: number;
  segments: SegmentTiming[];
  aggregationLevels: AggregationLevelTiming[];
}

export interface BlockProofResult {
  block: BlockRef;
  /** The proofs that made the block proved, the `quorum`-th last; `proofRef` and `timings` are of that last one's prover. */
  proofs?: CountedProof[];
  /** Each prover's end: counted, late (keepProving), failed with its reason, or cancelled at the quorum. */
  provers?: ProverProgress[];
  quorum?: number;
  prover: ProverName;
  gpuClass: GpuClass;
  proofRef: string;
  verified: boolean;
  fanIn: number;
  aggregationLevels: number;
  timings: BlockTimings;
}

/** What a block workflow reports to its chain's sequencer when it ends, however it ends. */
export interface BlockSettlement {
  workflowId: string;
  /** The reporting run: a report from another run of the same id does not count. */
  runId?: string;
  number: number;
  /** What the workflow proved: the sequencer counts the report only for the block it accepted. */
  hash: string;
  inputRef?: string;
  outcome: 'proved' | 'failed' | 'cancelled';
  segments: SegmentProgress;
  proofRef?: string;
  /**
   * Proved: the proofs that made the quorum. Failed: the proofs that did verify (a retry carries
   * them and proves only the other provers). Absent from builds before multi-proof (then `proofRef` alone).
   */
  proofs?: CountedProof[];
  provingMs?: number;
  overheadMs?: number;
  gpuMs?: number;
  error?: string;
}
