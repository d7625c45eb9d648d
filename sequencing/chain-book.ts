import { describeIssues, type BlockJobInput, type BlockSettlement } from '../domain/block';
import {
  applyChainConfig,
  BlockAdmissionSchema,
  ChainConfigBodySchema,
  ChainConfigSchema,
  provingLimit,
  ReorgBodySchema,
  HaltBodySchema,
  resolveProvers,
  type HaltBody,
  type BlockAdmission,
  type BlockEntry,
  type BlockPolicy,
  type ChainConfig,
  type ChainConfigBody,
  type ChainCounters,
  type ChainHalt,
  type ChainSnapshot,
  type ChainState,
  type SequencedStatus,
  type SubmitResult,
  ZERO_COUNTERS,
} from '../domain/chain';
import { clip, FailureTypes, type RejectionType } from '../domain/failures';
import { quorumProofs } from '../domain/quorum';
import { blockWorkflowId } from '../domain/names';
import type { ProofSource } from '../activities/types';
import type { PublicationBatch } from '../publishing/proof-publisher';
import { segmentPriority } from '../workflows/policy';

/**
 * One chain's book: which blocks it accepted, where each one is, what to start and publish next.
 * A plain, deterministic class with no Temporal in it: the sequencer workflow wires its handlers,
 * child workflows and activities to these methods, and the property tests drive it directly
 * (test/chain-book.test.ts). Every `check*` method throws a ChainRefusal and changes nothing;
 * the method of the same name without `check` applies the change and assumes the check passed.
 *
 * The rules (docs/DESIGN.md, "Chain"):
 * - The chain starts at `startNumber`, or at the first block submitted. Lower numbers, numbers at
 *   or below the finalized head, and a second hash for a known number are refused (409), so no
 *   accepted block can be stranded below the point finalization walks from.
 * - Blocks at or past `nextToFinalize + maxAhead` are refused for now (429): together with
 *   FINALIZED_KEPT this bounds the state carried through continue-as-new (STATE_BOUND_BYTES).
 * - Blocks finalize strictly in ascending number, each published once, with the accepted hash.
 * - A block that cannot finalize without an operator (failed, cancelled, publication refused)
 *   halts the chain at its number; `retry` (same number, hash and input) or `reorg` resumes it.
 */

/** Finalized blocks kept for idempotent resubmission and views; older ones live on in their workflows and publication records. */
export const FINALIZED_KEPT = 256;
/**
 * The most the carried state (`toState`, as JSON) can weigh: at most MAX_AHEAD_LIMIT blocks ahead
 * plus FINALIZED_KEPT finalized ones, each with fixed-size fields (the input is a reference) and a
 * reason of at most MAX_REASON_CHARS, and under a multi-proof policy up to MAX_PROVERS - 1 verified
 * proofs a failed block carries to its retry (each policy is carried once, not per block).
 * Measured at its largest in test/chain-book.test.ts (about 0.9 MB with one prover per block,
 * 1.3 MB with five); under Temporal's 2 MiB payload limit for continue-as-new.
 */
export const STATE_BOUND_BYTES = 1.5 * 1024 * 1024;
/** At most this many consecutive proved blocks are published in one call. */
export const PUBLICATION_BATCH = 64;
const MAX_GAPS_LISTED = 100;

/** A request the chain refuses, with the failure type the API maps to an HTTP status. */
export class ChainRefusal extends Error {
  override readonly name = 'ChainRefusal';
  constructor(
    readonly type: RejectionType,
    message: string,
    /** For BeyondWindow: when the client may try again. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** A block the book decided to start: its workflow id and the job its workflow runs. */
export interface BlockStart {
  number: number;
  workflowId: string;
  job: BlockJobInput;
}

/** A publication the book handed out: until it is reported done or failed, no other is. */
export interface PendingPublication extends PublicationBatch {
  /** Per proof: the workflow run whose report it is, which must confirm it before it goes out. */
  sources: ProofSource[];
}

export interface ChainBookOptions {
  /** Finalized blocks kept (default FINALIZED_KEPT); tests make it small to push blocks out of the window. */
  finalizedKept?: number;
  /** Told of each block as it finalizes, in order (the sequencer reports it to the worker's metrics). */
  onFinalized?: (entry: Readonly<BlockEntry>) => void;
}

export class ChainBook {
  private readonly blocks: Map<number, BlockEntry>;
  private publishing: PendingPublication | undefined;
  private readonly finalizedKept: number;

  private constructor(
    private readonly state: ChainState,
    options: ChainBookOptions,
  ) {
    // Held in memory with their policy; carried with its id only (`toState`).
    this.blocks = new Map(
      state.blocks.map((entry) => {
        const policy = entry.policyId !== undefined ? state.policies?.[entry.policyId] : undefined;
        return [entry.number, policy ? { ...entry, policy } : entry];
      }),
    );
    // A new chain, or one carried from a build before counters: they start at zero.
    state.counters = { ...ZERO_COUNTERS, ...state.counters };
    this.finalizedKept = options.finalizedKept ?? FINALIZED_KEPT;
    this.onFinalized = options.onFinalized;
  }

  private readonly onFinalized?: (entry: Readonly<BlockEntry>) => void;

  private count(counter: keyof ChainCounters, by = 1): void {
    (this.state.counters as ChainCounters)[counter] += by;
  }

  static create(chainId: string, config: ChainConfig, options: ChainBookOptions = {}): ChainBook {
    return new ChainBook(
      {
        chainId,
        // Fills fields a sequencer started by an earlier build lacks (every: 1).
        config: ChainConfigSchema.parse(config),
        paused: false,
        finalizedHead: null,
        nextNumber: config.startNumber ?? null,
        blocks: [],
        incarnations: {},
      },
      options,
    );
  }

  /** The book a continue-as-new carried (a JSON round trip of `toState`). */
  static fromState(state: ChainState, options: ChainBookOptions = {}): ChainBook {
    const carried = copyOf(state);
    // Fills in configuration fields a state carried from an earlier build may lack (their defaults).
    carried.config = ChainConfigSchema.parse(carried.config);
    return new ChainBook(carried, options);
  }

  /** Everything to carry through continue-as-new; only while no publication is pending. */
  toState(): ChainState {
    if (this.publishing) throw new Error('toState while a publication is pending: wait for it first');
    const blocks = [...this.blocks.values()].sort((a, b) => a.number - b.number);
    // Each policy once, named by its blocks: a policy per block would weigh MAX_PROVERS provers on every one.
    const policies: Record<string, BlockPolicy> = {};
    const carried = blocks.map(({ policy, ...entry }) => {
      if (policy && entry.policyId !== undefined) policies[entry.policyId] = policy;
      return entry;
    });
    return copyOf({ ...this.state, blocks: carried, policies });
  }

  /** The id of `policy` among the policies held, a new one if it is new. */
  private policyIdOf(policy: BlockPolicy): string {
    const text = JSON.stringify(policy);
    // Blocks come in under the same policy for long stretches: the last one answers almost always.
    if (this.lastPolicy?.text === text) return this.lastPolicy.id;
    const id = this.findPolicyId(text);
    this.lastPolicy = { text, id };
    return id;
  }

  private lastPolicy: { text: string; id: string } | undefined;

  private findPolicyId(text: string): string {
    for (const entry of this.blocks.values())
      if (entry.policy && entry.policyId !== undefined && JSON.stringify(entry.policy) === text) return entry.policyId;
    const id = String(this.state.policySeq ?? 0);
    this.state.policySeq = (this.state.policySeq ?? 0) + 1;
    return id;
  }

  get chainId(): string {
    return this.state.chainId;
  }

  get finalizedHead(): number | null {
    return this.state.finalizedHead;
  }

  get nextNumber(): number | null {
    return this.state.nextNumber;
  }

  get publicationPending(): boolean {
    return this.publishing !== undefined;
  }

  entry(number: number): BlockEntry | undefined {
    return this.blocks.get(number);
  }

  /**
   * A fresh chain learns what was already published for it (after its sequencer was lost and
   * recovered): numbers up to that head are finalized and never accepted again.
   */
  recoverPublishedHead(head: number | null): void {
    if (head === null || (this.state.finalizedHead !== null && head <= this.state.finalizedHead)) return;
    for (const entry of [...this.blocks.values()]) if (entry.number <= head) this.blocks.delete(entry.number);
    this.state.finalizedHead = head;
    // A configured start above the head stays the start: nothing between them can be accepted.
    const start = this.state.config.startNumber;
    const every = this.state.config.every;
    // The head was published on this chain's grid: the next block is one step along it.
    this.state.nextNumber = start !== undefined && start > head ? start : head + every;
    if (start === undefined) this.state.config = { ...this.state.config, startNumber: head + every };
    this.pruneIncarnations();
  }

  // ---- submissions -----------------------------------------------------------------------------

  /** Refuses what the chain cannot accept; answers the earlier acceptance of an identical resubmission. */
  checkSubmission(raw: BlockAdmission): SubmitResult | undefined {
    const parsed = BlockAdmissionSchema.safeParse(raw);
    if (!parsed.success) throw new ChainRefusal(FailureTypes.InvalidRequest, `invalid block: ${describeIssues(parsed.error)}`);
    const submission = parsed.data;
    const hash = submission.hash.toLowerCase();
    const existing = this.blocks.get(submission.number);
    if (existing && existing.hash === hash) return resultOf('duplicate', existing);
    const { finalizedHead, nextNumber, config } = this.state;
    if (config.proofs && (submission.prover !== undefined || submission.gpuClass !== undefined)) {
      throw new ChainRefusal(
        FailureTypes.InvalidRequest,
        `chain ${this.state.chainId} proves every block with its proof policy (${config.proofs.provers.map((spec) => spec.prover).join(', ')} at quorum ${config.proofs.quorum}): a block cannot name its own prover or gpuClass`,
      );
    }
    if (finalizedHead !== null && submission.number <= finalizedHead) {
      throw new ChainRefusal(
        FailureTypes.AlreadyFinalized,
        `block ${submission.number} is at or below the finalized head ${finalizedHead}: it is published and final`,
      );
    }
    if (existing) {
      throw new ChainRefusal(
        FailureTypes.HashConflict,
        `block ${submission.number} is already ${existing.status} with hash ${existing.hash}; reorg from ${submission.number} first to replace it`,
      );
    }
    const start = config.startNumber ?? nextNumber;
    if (start !== null && submission.number < start) {
      throw new ChainRefusal(
        FailureTypes.BelowStart,
        `block ${submission.number} is below the chain's start ${start}` +
          (config.startNumber === undefined
            ? ' (the first block submitted; PUT startNumber while the chain holds no blocks to move it)'
            : ''),
      );
    }
    if (start !== null && config.every > 1 && (submission.number - start) % config.every !== 0) {
      throw new ChainRefusal(
        FailureTypes.InvalidRequest,
        `block ${submission.number} is not one the chain proves: it proves every ${config.every}th block from ${start} (${start}, ${start + config.every}, ...)`,
      );
    }
    const windowEnd = nextNumber === null ? null : nextNumber + config.maxAhead * config.every;
    if (nextNumber !== null && windowEnd !== null && submission.number >= windowEnd) {
      throw new ChainRefusal(
        FailureTypes.BeyondWindow,
        `block ${submission.number} is too far ahead: the chain accepts blocks ${nextNumber} to ${windowEnd - 1} until ${nextNumber} finalizes (maxAhead ${config.maxAhead})`,
        Math.max(1, Math.ceil(config.slotSeconds)),
      );
    }
    return undefined;
  }

  submit(raw: BlockAdmission, now: number): SubmitResult {
    const duplicate = this.checkSubmission(raw);
    if (duplicate) return duplicate;
    const submission = BlockAdmissionSchema.parse(raw);
    const { config, incarnations } = this.state;
    const incarnation = incarnations[submission.number] ?? 0;
    const segments = submission.segments ?? config.defaults.segments;
    // checkConfigure refused every policy whose provers coincide, so this resolves.
    const policy = config.proofs && {
      provers: resolveProvers(config.proofs, { gpuClass: config.defaults.gpuClass, segments }),
      quorum: config.proofs.quorum,
      keepProving: config.proofs.keepProving,
    };
    const entry: BlockEntry = {
      number: submission.number,
      hash: submission.hash.toLowerCase(),
      ...(submission.parentHash !== undefined ? { parentHash: submission.parentHash.toLowerCase() } : {}),
      ...(submission.timestamp !== undefined ? { timestamp: submission.timestamp } : {}),
      // Under a policy, its first prover names the block in metrics and search attributes.
      segments: policy ? policy.provers[0].segments : segments,
      gpuClass: policy ? policy.provers[0].gpuClass : (submission.gpuClass ?? config.defaults.gpuClass),
      prover: policy ? policy.provers[0].prover : (submission.prover ?? config.defaults.prover),
      ...(policy ? { policy, policyId: this.policyIdOf(policy) } : {}),
      ...(submission.inputRef !== undefined ? { inputRef: submission.inputRef } : {}),
      status: 'queued',
      incarnation,
      workflowId: blockWorkflowId(this.state.chainId, submission.number, incarnation),
      submittedAt: now,
      ...(submission.timestamp !== undefined ? { deadlineAt: (submission.timestamp + config.slotSeconds) * 1000 } : {}),
    };
    this.blocks.set(entry.number, entry);
    this.count('submitted');
    if (this.state.nextNumber === null) {
      // The first block fixes the start, so nothing lower can be accepted and stranded later.
      this.state.nextNumber = entry.number;
      this.state.config = { ...config, startNumber: entry.number };
    }
    return resultOf('accepted', entry);
  }

  // ---- operator controls -----------------------------------------------------------------------

  checkConfigure(body: ChainConfigBody): void {
    const parsed = ChainConfigBodySchema.safeParse(body);
    if (!parsed.success)
      throw new ChainRefusal(FailureTypes.InvalidRequest, `invalid chain configuration: ${describeIssues(parsed.error)}`);
    const applied = applyChainConfig(this.state.config, parsed.data);
    if (applied.proofs) {
      try {
        resolveProvers(applied.proofs, { gpuClass: applied.defaults.gpuClass, segments: applied.defaults.segments });
      } catch (error) {
        throw new ChainRefusal(FailureTypes.InvalidRequest, `invalid chain configuration: proofs.provers: ${(error as Error).message}`);
      }
    }
    const { startNumber, every } = parsed.data;
    const startMoves = startNumber !== undefined && startNumber !== this.state.config.startNumber;
    const strideChanges = every !== undefined && every !== this.state.config.every;
    if (!startMoves && !strideChanges) return;
    if (this.state.finalizedHead !== null || this.blocks.size > 0) {
      throw new ChainRefusal(
        FailureTypes.StartFixed,
        `the chain starts at ${this.state.config.startNumber} and proves every ${this.state.config.every === 1 ? '' : `${this.state.config.every}th `}block, and it holds blocks: startNumber and every can change only while it holds none`,
      );
    }
  }

  configure(body: ChainConfigBody): void {
    const parsed = ChainConfigBodySchema.parse(body);
    this.state.config = applyChainConfig(this.state.config, parsed);
    // checkConfigure lets the start move only while nothing is finalized or held.
    if (parsed.startNumber !== undefined && this.state.finalizedHead === null) this.state.nextNumber = parsed.startNumber;
  }

  /** Pauses or resumes the chain; resuming also lifts a halt request (`halt`). */
  setPaused(paused: boolean): void {
    this.state.paused = paused;
    if (!paused) delete this.state.requestedHalt;
  }

  /**
   * Stops finalization at the next block until `setPaused(false)` or a reorg: for a caller that
   * knows the chain's blocks can no longer be trusted (the feeder after a reorg deeper than it
   * follows, or one below the finalized head). Blocks keep proving; nothing is published.
   */
  checkHalt(body: HaltBody): void {
    const parsed = HaltBodySchema.safeParse(body);
    if (!parsed.success) throw new ChainRefusal(FailureTypes.InvalidRequest, `invalid halt: ${describeIssues(parsed.error)}`);
  }

  halt(reason: string): void {
    const number = this.state.nextNumber ?? this.state.config.startNumber ?? 0;
    this.state.requestedHalt = { number, reason: clip(`halted on request: ${reason}`) };
  }

  checkReorg(body: { fromNumber: number }): void {
    const parsed = ReorgBodySchema.safeParse(body);
    if (!parsed.success) throw new ChainRefusal(FailureTypes.InvalidRequest, `invalid reorg: ${describeIssues(parsed.error)}`);
    const { finalizedHead } = this.state;
    if (finalizedHead !== null && body.fromNumber <= finalizedHead) {
      throw new ChainRefusal(
        FailureTypes.Conflict,
        `cannot reorg from ${body.fromNumber}: blocks up to ${finalizedHead} are finalized and published`,
      );
    }
    const publishing = this.publishing?.proofs.at(-1)?.number;
    if (publishing !== undefined && body.fromNumber <= publishing) {
      throw new ChainRefusal(FailureTypes.Conflict, `cannot reorg from ${body.fromNumber}: block ${publishing} is being published`);
    }
  }

  /** Forgets every block from `fromNumber` up; answers the running ones, whose workflows the caller cancels. */
  reorg(body: { fromNumber: number }): { cancel: { number: number; workflowId: string }[]; forgotten: number[] } {
    const affected = [...this.blocks.values()].filter((entry) => entry.number >= body.fromNumber).sort((a, b) => a.number - b.number);
    for (const entry of affected) {
      this.blocks.delete(entry.number);
      // A resubmitted number gets a fresh workflow id even while the cancelled one winds down.
      this.state.incarnations[entry.number] = entry.incarnation + 1;
    }
    if (this.state.publicationHalt && this.state.publicationHalt.number >= body.fromNumber) delete this.state.publicationHalt;
    // Whoever asked for the halt has now said where the chain is wrong.
    delete this.state.requestedHalt;
    this.count('reorged', affected.length);
    return {
      // Proved blocks wait in their workflow for finalization: those are cancelled too.
      cancel: affected
        .filter((entry) => entry.status === 'proving' || entry.status === 'proved')
        .map((entry) => ({ number: entry.number, workflowId: entry.workflowId })),
      forgotten: affected.map((entry) => entry.number),
    };
  }

  checkRetry(number: number): void {
    const entry = this.blocks.get(number);
    if (!entry) throw new ChainRefusal(FailureTypes.NotFound, `block ${number} is not known to chain ${this.state.chainId}`);
    if (entry.status === 'failed' || entry.status === 'cancelled') return;
    if (entry.status === 'proved' && this.state.publicationHalt?.number === number) return;
    throw new ChainRefusal(
      FailureTypes.Conflict,
      `block ${number} is ${entry.status}; only failed or cancelled blocks (or a halted publication) can be retried`,
    );
  }

  /** Proves the same block again (same number, hash and input) under a new workflow id, or publishes a halted one again. */
  retry(number: number): { number: number; workflowId: string } {
    const entry = this.blocks.get(number) as BlockEntry;
    if (entry.status === 'proved') {
      delete this.state.publicationHalt;
      return { number, workflowId: entry.workflowId };
    }
    entry.incarnation += 1;
    entry.workflowId = blockWorkflowId(this.state.chainId, number, entry.incarnation);
    entry.status = 'queued';
    // Proofs an earlier attempt verified stay (the retry verifies them again instead of proving them).
    if (!entry.policy) delete entry.proofs;
    for (const key of [
      'error',
      'startedAt',
      'provedAt',
      'proofRef',
      'provingMs',
      'overheadMs',
      'gpuMs',
      'segmentProgress',
      'runId',
    ] as const)
      delete entry[key];
    return { number, workflowId: entry.workflowId };
  }

  // ---- proving ---------------------------------------------------------------------------------

  /** The queued blocks to start now (lowest first, within the proving limit, at most `max`); they are `proving` from here. */
  nextStarts(max: number, now: number): BlockStart[] {
    if (this.state.paused || max <= 0) return [];
    const entries = [...this.blocks.values()];
    const room = provingLimit(this.state.config) - entries.filter((entry) => entry.status === 'proving').length;
    const chosen = entries
      .filter((entry) => entry.status === 'queued')
      .sort((a, b) => a.number - b.number)
      .slice(0, Math.max(0, Math.min(room, max)));
    return chosen.map((entry) => {
      entry.status = 'proving';
      entry.startedAt = now;
      return { number: entry.number, workflowId: entry.workflowId, job: this.jobOf(entry) };
    });
  }

  private jobOf(entry: BlockEntry): BlockJobInput {
    const { config, nextNumber } = this.state;
    const headDistance = nextNumber === null ? 0 : Math.max(0, (entry.number - nextNumber) / config.every);
    return {
      chainId: this.state.chainId,
      number: entry.number,
      hash: entry.hash,
      segments: entry.segments,
      gpuClass: entry.gpuClass,
      prover: entry.prover,
      ...(entry.inputRef !== undefined ? { inputRef: entry.inputRef } : {}),
      options: {
        // The chain head's tasks go first when GPU slots are scarce.
        priorityKey: segmentPriority(headDistance),
        ...(config.defaults.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: config.defaults.heartbeatTimeoutMs } : {}),
        ...(config.defaults.leaseSegments !== undefined ? { leaseSegments: config.defaults.leaseSegments } : {}),
      },
      ...(entry.deadlineAt !== undefined ? { deadlineAt: entry.deadlineAt } : {}),
      ...(entry.policy ? { proofs: { ...entry.policy, carried: entry.proofs ?? [] } } : {}),
    };
  }

  /** A block's workflow could not be started, or closed without reporting (terminated, timed out): it failed, and can be retried. */
  closedWithoutReport(workflowId: string, reason: string): boolean {
    const entry = this.runningEntry(workflowId);
    if (!entry || entry.status !== 'proving') return false;
    entry.status = 'failed';
    entry.error = clip(reason);
    this.count('failed');
    return true;
  }

  /**
   * The sequencer started `workflowId` as run `runId`: only that run's report and proof count.
   * Its report may be handled first (a signal and the start in one workflow task): the run is
   * recorded for a proved block too, so its publication is confirmed by that very run.
   */
  childStarted(workflowId: string, runId: string): void {
    const entry = this.runningEntry(workflowId);
    if (entry && (entry.status === 'proving' || entry.status === 'proved')) entry.runId = runId;
  }

  /** A block workflow's report; a stale one (an earlier incarnation, a forgotten block) changes nothing. */
  settle(settlement: BlockSettlement, now: number): boolean {
    const entry = this.runningEntry(settlement.workflowId);
    if (!entry || entry.number !== settlement.number || entry.status !== 'proving') return false;
    // Another run under the same id (or a report naming one) is not the block the chain started.
    if (entry.runId !== undefined && settlement.runId !== undefined && settlement.runId !== entry.runId) return false;
    // A workflow of the same id from before a recovery proves what it was given: only the same block counts.
    if (settlement.hash !== entry.hash || (settlement.inputRef ?? null) !== (entry.inputRef ?? null)) return false;
    entry.segmentProgress = settlement.segments;
    const provers = entry.policy?.provers ?? [{ prover: entry.prover, gpuClass: entry.gpuClass }];
    const quorum = entry.policy?.quorum ?? 1;
    // A report from a build before multi-proof names its one proof alone.
    const reported =
      settlement.proofs ??
      (settlement.proofRef !== undefined && !entry.policy
        ? [
            {
              prover: entry.prover,
              gpuClass: entry.gpuClass,
              proofRef: settlement.proofRef,
              verified: true as const,
              provingMs: 0,
              gpuMs: 0,
            },
          ]
        : []);
    const proofs = quorumProofs(provers, reported);
    // Proved only with `quorum` verified proofs of distinct listed provers, the block's proof among them.
    const quorumMet = proofs.length >= quorum && proofs.some((proof) => proof.proofRef === settlement.proofRef);
    if (settlement.outcome === 'proved' && settlement.proofRef !== undefined && quorumMet) {
      entry.status = 'proved';
      entry.provedAt = now;
      entry.proofRef = settlement.proofRef;
      entry.proofs = proofs.slice(0, quorum);
      if (settlement.provingMs !== undefined) entry.provingMs = settlement.provingMs;
      if (settlement.overheadMs !== undefined) entry.overheadMs = settlement.overheadMs;
      if (settlement.gpuMs !== undefined) entry.gpuMs = settlement.gpuMs;
      this.count('proved');
      if (entry.deadlineAt !== undefined && now > entry.deadlineAt) this.count('deadlineMissed');
    } else {
      entry.status = settlement.outcome === 'cancelled' ? 'cancelled' : 'failed';
      this.count(entry.status);
      const refusedProved =
        settlement.outcome === 'proved'
          ? settlement.proofRef === undefined
            ? 'reported proved without a proof'
            : `reported proved with ${proofs.length} of the ${quorum} verified proofs its chain requires`
          : undefined;
      entry.error = clip(refusedProved ?? settlement.error ?? settlement.outcome);
      // What did verify is kept for a retry, which verifies it again rather than proving it again.
      // (Each is verified again by the retry's run before it counts: a report alone is not trusted.)
      if (entry.policy) entry.proofs = proofs;
    }
    return true;
  }

  /** Workflow ids of the blocks now proving: the ones whose closing the sequencer must notice. */
  provingWorkflowIds(): string[] {
    return [...this.blocks.values()].filter((entry) => entry.status === 'proving').map((entry) => entry.workflowId);
  }

  private runningEntry(workflowId: string): BlockEntry | undefined {
    for (const entry of this.blocks.values()) if (entry.workflowId === workflowId) return entry;
    return undefined;
  }

  // ---- finalization ----------------------------------------------------------------------------

  /** The consecutive proved blocks at the head, to publish in this order; none while one is pending or the chain is halted. */
  nextPublication(): PendingPublication | undefined {
    if (this.publishing || this.state.publicationHalt || this.state.requestedHalt) return undefined;
    const batch: BlockEntry[] = [];
    for (let n = this.state.nextNumber; n !== null && batch.length < PUBLICATION_BATCH; n += this.state.config.every) {
      const entry = this.blocks.get(n);
      if (!entry || entry.status !== 'proved') break;
      batch.push(entry);
    }
    if (batch.length === 0) return undefined;
    this.publishing = {
      chainId: this.state.chainId,
      proofs: batch.map((entry) => ({
        number: entry.number,
        hash: entry.hash,
        proofRef: entry.proofRef as string,
        ...(entry.proofs ? { proofs: entry.proofs } : {}),
      })),
      sources: batch.map((entry) => ({ workflowId: entry.workflowId, ...(entry.runId !== undefined ? { runId: entry.runId } : {}) })),
    };
    return this.publishing;
  }

  /** The pending publication went out: its blocks are finalized. Answers their workflows, which wait for this news. */
  published(now: number): string[] {
    const batch = this.takePending();
    for (const proof of batch.proofs) this.finalize(proof.number, now);
    this.pruneFinalized();
    return batch.sources.map((source) => source.workflowId);
  }

  /**
   * The pending publication failed for good after its first `published` blocks went out: those
   * are finalized (answered, as by `published`), and the chain halts at the next one until a retry or reorg.
   */
  publicationFailed(reason: string, published: number, now: number): string[] {
    const { finalized, stopped } = this.stopPending(published, now);
    this.state.publicationHalt = { number: stopped.number, reason: clip(`publication failed: ${reason}`) };
    return finalized;
  }

  /**
   * The pending publication stopped at a block whose own workflow run does not confirm the
   * proof it was reported with (a forged or stale report): the blocks before it went out and
   * are finalized, that block fails (a retry proves it again). Answers the finalized blocks'
   * workflows, and the refuted block's workflow, which the sequencer cancels.
   */
  settlementRefuted(reason: string, published: number, now: number): { finalized: string[]; refuted: string } {
    const { finalized, stopped } = this.stopPending(published, now);
    stopped.status = 'failed';
    stopped.error = clip(`report refused: ${reason}`);
    this.count('failed');
    // Its proofs came with a report its own run did not confirm: none of them is carried.
    for (const key of ['provedAt', 'proofRef', 'provingMs', 'overheadMs', 'gpuMs', 'proofs'] as const) delete stopped[key];
    return { finalized, refuted: stopped.workflowId };
  }

  /**
   * Ends the pending publication after its first `published` blocks went out (at most all but
   * one): those are finalized. Answers their workflow ids and the entry it stopped at.
   */
  private stopPending(published: number, now: number): { finalized: string[]; stopped: BlockEntry } {
    const batch = this.takePending();
    const done = Math.max(0, Math.min(published, batch.proofs.length - 1));
    for (const proof of batch.proofs.slice(0, done)) this.finalize(proof.number, now);
    this.pruneFinalized();
    return {
      finalized: batch.sources.slice(0, done).map((source) => source.workflowId),
      stopped: this.blocks.get(batch.proofs[done].number) as BlockEntry,
    };
  }

  private finalize(number: number, now: number): void {
    const entry = this.blocks.get(number) as BlockEntry;
    entry.status = 'finalized';
    entry.finalizedAt = now;
    this.state.finalizedHead = entry.number;
    this.state.nextNumber = entry.number + this.state.config.every;
    this.state.lastFinalizedAt = now;
    this.count('finalized');
    this.onFinalized?.(entry);
    // Published with the block (and reported with it, above); its workflow keeps every prover's record. Not carried any longer.
    delete entry.proofs;
  }

  private takePending(): PendingPublication {
    const batch = this.publishing;
    if (!batch) throw new Error('no publication is pending');
    this.publishing = undefined;
    return batch;
  }

  private pruneFinalized(): void {
    const finalized = [...this.blocks.values()].filter((entry) => entry.status === 'finalized').sort((a, b) => a.number - b.number);
    for (const entry of finalized.slice(0, Math.max(0, finalized.length - this.finalizedKept))) this.blocks.delete(entry.number);
    this.pruneIncarnations();
  }

  private pruneIncarnations(): void {
    const head = this.state.finalizedHead;
    if (head === null) return;
    for (const number of Object.keys(this.state.incarnations)) if (Number(number) <= head) delete this.state.incarnations[number];
  }

  // ---- views -----------------------------------------------------------------------------------

  /** Where finalization stopped for good, if it did: the next block failed or was cancelled, or its publication was refused. */
  halted(): ChainHalt | null {
    if (this.state.publicationHalt) return { ...this.state.publicationHalt };
    if (this.state.requestedHalt) return { ...this.state.requestedHalt };
    const next = this.state.nextNumber === null ? undefined : this.blocks.get(this.state.nextNumber);
    if (next && (next.status === 'failed' || next.status === 'cancelled'))
      return { number: next.number, reason: next.error ?? next.status };
    return null;
  }

  snapshot(): ChainSnapshot {
    const { state } = this;
    const entries = [...this.blocks.values()].sort((a, b) => a.number - b.number);
    const numbersWith = (...statuses: SequencedStatus[]) =>
      entries.filter((entry) => statuses.includes(entry.status)).map((entry) => entry.number);
    const waiting = entries.filter((entry) => entry.status !== 'finalized');
    const gaps: number[] = [];
    if (state.nextNumber !== null && entries.length) {
      const highest = entries[entries.length - 1].number;
      for (let n = state.nextNumber; n < highest && gaps.length < MAX_GAPS_LISTED; n += state.config.every)
        if (!this.blocks.has(n)) gaps.push(n);
    }
    return {
      chainId: state.chainId,
      mode: state.config.mode,
      maxInFlight: state.config.maxInFlight,
      slotSeconds: state.config.slotSeconds,
      maxAhead: state.config.maxAhead,
      defaults: state.config.defaults,
      startNumber: state.config.startNumber,
      every: state.config.every,
      ...(state.config.proofs ? { proofs: state.config.proofs } : {}),
      paused: state.paused,
      halted: this.halted(),
      finalizedHead: state.finalizedHead,
      nextToFinalize: state.nextNumber,
      inFlight: numbersWith('proving'),
      queued: numbersWith('queued'),
      proved: numbersWith('proved'),
      failed: numbersWith('failed', 'cancelled'),
      failures: entries
        .filter((entry) => entry.error !== undefined)
        .map((entry) => ({ number: entry.number, error: entry.error as string })),
      gaps,
      highestNumber: entries.length ? entries[entries.length - 1].number : null,
      waiting: waiting.length,
      waitingSince: waiting.length
        ? Math.min(...waiting.map((entry) => (entry.timestamp !== undefined ? entry.timestamp * 1000 : entry.submittedAt)))
        : null,
      waitingSubmittedAt: waiting.length ? Math.min(...waiting.map((entry) => entry.submittedAt)) : null,
      lastFinalizedAt: state.lastFinalizedAt ?? null,
      counters: { ...(state.counters as ChainCounters) },
    };
  }

  /** The newest `limit` blocks the chain holds, highest first (the chain page's timeline). */
  recentEntries(limit: number): BlockEntry[] {
    return [...this.blocks.values()].sort((a, b) => b.number - a.number).slice(0, Math.max(0, limit));
  }
}

function resultOf(outcome: SubmitResult['outcome'], entry: BlockEntry): SubmitResult {
  return { outcome, number: entry.number, hash: entry.hash, status: entry.status, workflowId: entry.workflowId };
}

/** A deep copy through JSON: exactly what continue-as-new carries (the workflow sandbox has no structuredClone). */
function copyOf<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
