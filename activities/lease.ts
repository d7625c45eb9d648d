import { setMaxListeners } from 'node:events';
import { buildAggregationTree, findNode, type TreeNode } from '../domain/aggregation-tree';
import type { AggregationTiming, WorkReceipt } from '../domain/block';
import { firstFulfilled } from '../domain/promises';
import { BadInputError, ProverFailedError, type ProverContext } from '../provers/backend';
import { progressIntervalFor, sleep } from '../provers/runtime';
import { ArtifactCorruptError, ArtifactNotFoundError, type ArtifactStore } from '../storage/artifact-store';
import { aggregationPriority, HEDGE_ATTEMPT_OFFSET, hedgeDueAt, proverRetryDelayMs } from '../workflows/policy';
import type { DeviceSlots } from './gpu';
import type { LeaseResult, LeaseRootProof, LeaseSegmentReceipt, ProveLeaseInput } from './types';

/**
 * A lease: one GPU node's share of a block (consecutive subtrees of its aggregation tree),
 * proved in one activity. Its segments run at once on the node's free devices, each aggregation
 * starts when its children are done, and the node reports what it finished through its
 * heartbeats, so a retry on another node proves only the rest. Inside the lease the node does
 * what the block workflow does for separate tasks: it retries prover errors within the block's
 * budget, takes back a segment whose prover stopped responding, and hedges a straggling segment
 * on another device. Plain code over its ports (devices, store, prover): no Temporal here.
 */

/** What a lease's heartbeats carry: enough for the next attempt to skip finished work and count lost GPU time. */
export interface LeaseCheckpoint {
  /** GPU time no receipt shows: attempts lost with a worker, failed with a prover error, hedge losers. */
  unaccountedMs: number;
  beatAt: number;
  /** When each unit running at the beat got its device. */
  runningSince: number[];
  segments: LeaseSegmentReceipt[];
  aggregations: AggregationTiming[];
}

/** The prover work of one lease, bound to its block and input (activities/gpu.ts). */
export interface LeaseProver {
  proveSegment(index: number, context: ProverContext): Promise<Uint8Array>;
  aggregate(node: Extract<TreeNode, { kind: 'aggregate' }>, children: Uint8Array[], context: ProverContext): Promise<Uint8Array>;
}

export interface LeaseEnvironment {
  prover: LeaseProver;
  store: ArtifactStore;
  slots: DeviceSlots;
  identity: string;
  /** The activity's cancellation: aborts every running unit. */
  signal: AbortSignal;
  /** This attempt of the lease activity (1 = first). */
  attempt: number;
  /** When the server scheduled this attempt. */
  scheduledAt: number;
  /** The lease's heartbeat timeout (0: none); a unit silent this long is taken back and run again. */
  heartbeatTimeoutMs: number;
  /** The last heartbeat's details of an earlier attempt, if any. */
  checkpoint: unknown;
  /** Sends a heartbeat (throttled by the SDK): the node is alive, and this is what it has done. */
  beat(checkpoint: LeaseCheckpoint): void;
  log(message: string): void;
}

/** A failed lease: the first unit that failed for good, and the GPU time the lease cost until then. */
export class LeaseFailure extends Error {
  constructor(
    override readonly cause: unknown,
    readonly gpuMs: number,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** A unit whose prover stopped reporting progress: run again, not counted as a prover error. */
class SilentUnitError extends Error {}

interface Outcome {
  proofRef: string;
  /** Prover time on the slowest path below (and including) this node. */
  criticalPathMs: number;
}

export class LeaseRun {
  private readonly roots: TreeNode[];
  private readonly progressIntervalMs: number;
  private readonly segmentsInLease: number;
  private readonly doneSegments = new Map<number, LeaseSegmentReceipt>();
  private readonly doneAggregations = new Map<string, AggregationTiming>();
  /** Proof bytes made by this attempt: an aggregation reads its children here, not from the store. */
  private readonly madeHere = new Map<string, Uint8Array>();
  private readonly running = new Set<{
    since: number;
    lastProgress: number;
    abort: AbortController;
  }>();
  private readonly segmentListeners = new Set<() => void>();
  private readonly stopAll: AbortController;
  private readonly cancelled: AbortSignal;
  private unaccountedMs = 0;
  private lastBeatAt = 0;
  private readonly priorAttempts: number;

  constructor(
    private readonly input: ProveLeaseInput,
    private readonly env: LeaseEnvironment,
  ) {
    const tree = buildAggregationTree(input.segmentCount, input.fanIn);
    this.roots = input.roots.map(({ from, to }) => {
      const node = findNode(tree, from, to);
      if (!node) throw new BadInputError(`lease root [${from}, ${to}) is not a node of the block's aggregation tree`);
      return node;
    });
    this.segmentsInLease = this.roots.reduce((sum, root) => sum + (root.to - root.from), 0);
    this.priorAttempts = (input.priorAttempts ?? 0) + env.attempt - 1;
    this.progressIntervalMs = progressIntervalFor(env.heartbeatTimeoutMs);
    // Every unit's attempt listens to the lease's cancellation: one listener each, by design. The
    // lease aborts it too when one unit fails for good, so no other unit keeps a GPU for nothing.
    this.stopAll = linkedAbort(env.signal);
    this.cancelled = this.stopAll.signal;
    setMaxListeners(0, this.cancelled);
    this.resume(env.checkpoint);
  }

  async run(): Promise<LeaseResult> {
    const watchdog = setInterval(() => this.watch(), this.progressIntervalMs);
    const proving = this.roots.map((root) => this.prove(root));
    try {
      const outcomes = await Promise.all(proving);
      const roots: LeaseRootProof[] = this.roots.map((root, i) => ({
        from: root.from,
        to: root.to,
        ...outcomes[i],
      }));
      return {
        roots,
        segments: [...this.doneSegments.values()].sort((a, b) => a.index - b.index),
        aggregations: [...this.doneAggregations.values()].sort((a, b) => a.level - b.level || a.from - b.from),
        gpuMs: this.gpuMs(),
      };
    } catch (error) {
      // The lease ends here: stop its other units and let them give their devices back first.
      this.stopAll.abort(error);
      await Promise.allSettled(proving);
      throw new LeaseFailure(error, this.gpuMs());
    } finally {
      clearInterval(watchdog);
    }
  }

  /** Every receipt's GPU time plus what no receipt shows. */
  private gpuMs(): number {
    let total = this.unaccountedMs;
    for (const receipt of this.doneSegments.values()) total += receipt.gpuMs ?? 0;
    for (const receipt of this.doneAggregations.values()) total += receipt.gpuMs ?? 0;
    return total;
  }

  private resume(details: unknown): void {
    const last = details as Partial<LeaseCheckpoint> | undefined;
    if (!last || typeof last.beatAt !== 'number' || typeof last.unaccountedMs !== 'number') return;
    const lostAtBeat = (last.runningSince ?? []).reduce((sum, since) => sum + Math.max(0, last.beatAt! - since), 0);
    this.unaccountedMs = last.unaccountedMs + lostAtBeat;
    for (const receipt of last.segments ?? []) this.doneSegments.set(receipt.index, receipt);
    for (const receipt of last.aggregations ?? []) this.doneAggregations.set(rangeKey(receipt), receipt);
  }

  private checkpoint(): LeaseCheckpoint {
    return {
      unaccountedMs: this.unaccountedMs,
      beatAt: Date.now(),
      runningSince: [...this.running].map((unit) => unit.since),
      segments: [...this.doneSegments.values()],
      aggregations: [...this.doneAggregations.values()],
    };
  }

  /** Heartbeats at most twice per progress interval, except when work finished (`force`): each one serializes the checkpoint. */
  private beat(force = false): void {
    const now = Date.now();
    if (!force && now - this.lastBeatAt < this.progressIntervalMs / 2) return;
    this.lastBeatAt = now;
    this.env.beat(this.checkpoint());
  }

  /**
   * Every progress interval: the node is alive while this process runs, so the lease heartbeats
   * whatever its units do; a unit silent for the heartbeat timeout is stopped and run again here.
   * (A node that dies stops heartbeating, and Temporal gives the lease to another.)
   */
  private watch(): void {
    if (this.running.size > 0) this.beat();
    const timeout = this.env.heartbeatTimeoutMs;
    if (timeout <= 0) return;
    const now = Date.now();
    for (const unit of this.running) {
      if (now - unit.lastProgress > timeout) unit.abort.abort(new SilentUnitError('no progress within the heartbeat timeout'));
    }
  }

  private async prove(node: TreeNode): Promise<Outcome> {
    if (node.kind === 'segment') {
      const done = this.doneSegments.get(node.index) ?? (await this.proveSegment(node.index));
      return { proofRef: done.proofRef, criticalPathMs: done.provingMs };
    }
    const children = await Promise.all(node.children.map((child) => this.prove(child)));
    const key = rangeKey(node);
    let receipt = this.doneAggregations.get(key);
    if (!receipt) {
      const bytes = await this.childBytes(node, children);
      const made = await this.attempts(
        `aggregate:${node.from}-${node.to}`,
        aggregationPriority(this.input.priorityKey),
        0,
        this.cancelled,
        (context) => this.env.prover.aggregate(node, bytes, context),
      );
      receipt = {
        ...made.receipt,
        level: node.level,
        from: node.from,
        to: node.to,
      };
      this.doneAggregations.set(key, receipt);
      this.beat(true);
    }
    return {
      proofRef: receipt.proofRef,
      criticalPathMs: receipt.provingMs + Math.max(...children.map((child) => child.criticalPathMs)),
    };
  }

  /** The children's proof bytes; one lost since an earlier attempt made it is proved again. */
  private async childBytes(node: Extract<TreeNode, { kind: 'aggregate' }>, children: Outcome[]): Promise<Uint8Array[]> {
    return Promise.all(
      children.map(async (child, i) => {
        const local = this.madeHere.get(child.proofRef);
        if (local) return local;
        try {
          return await this.env.store.get(child.proofRef);
        } catch (error) {
          if (!(error instanceof ArtifactNotFoundError) && !(error instanceof ArtifactCorruptError)) throw error;
          this.forget(node.children[i]);
          const again = await this.prove(node.children[i]);
          return this.madeHere.get(again.proofRef) ?? this.env.store.get(again.proofRef);
        }
      }),
    );
  }

  private forget(node: TreeNode): void {
    if (node.kind === 'segment') {
      this.doneSegments.delete(node.index);
      return;
    }
    this.doneAggregations.delete(rangeKey(node));
    node.children.forEach((child) => this.forget(child));
  }

  /** A segment, with a second copy on another device when it straggles at the tail of the lease. */
  private async proveSegment(index: number): Promise<LeaseSegmentReceipt> {
    const task = `segment:${index}`;
    const primaryAbort = linkedAbort(this.cancelled);
    let primaryStartedAt: number | undefined;
    const primary = this.attempts(
      task,
      this.input.priorityKey,
      0,
      primaryAbort.signal,
      (context) => this.env.prover.proveSegment(index, context),
      (since) => {
        primaryStartedAt = since;
        for (const listener of this.segmentListeners) listener();
      },
    );
    const hedging = this.input.hedgeFactor > 0 && this.segmentsInLease >= 2;
    const hedgeDue = hedging ? this.whenStraggling(index, () => primaryStartedAt) : undefined;
    let outcome: { made: Made; hedged: boolean };
    try {
      const first = hedgeDue
        ? await Promise.race([primary.then((made) => ({ made })), hedgeDue.promise.then(() => undefined)])
        : { made: await primary };
      if (first) {
        outcome = { made: first.made, hedged: false };
      } else {
        this.env.log(`segment ${index} straggles: a second copy starts on another device`);
        const copyAbort = linkedAbort(this.cancelled);
        const copy = this.attempts(task, 1, HEDGE_ATTEMPT_OFFSET, copyAbort.signal, (context) =>
          this.env.prover.proveSegment(index, context),
        );
        const winner = await firstFulfilled([
          primary.then((made) => ({ made, loser: copyAbort })),
          copy.then((made) => ({ made, loser: primaryAbort })),
        ]);
        winner.loser.abort(new Error('the other copy finished first'));
        outcome = { made: winner.made, hedged: true };
      }
    } finally {
      hedgeDue?.cancel();
    }
    const receipt: LeaseSegmentReceipt = {
      ...outcome.made.receipt,
      index,
      proverRetries: outcome.made.proverRetries,
      hedged: outcome.hedged,
    };
    this.doneSegments.set(index, receipt);
    for (const listener of this.segmentListeners) listener();
    this.beat(true);
    return receipt;
  }

  /**
   * Resolves once segment `index` is the last of the lease still running and has run `hedgeFactor`
   * times the median of the others (policy.ts `hedgeDueAt`) since it got its device.
   */
  private whenStraggling(index: number, startedAt: () => number | undefined): { promise: Promise<void>; cancel(): void } {
    let timer: NodeJS.Timeout | undefined;
    let listener: (() => void) | undefined;
    const promise = new Promise<void>((resolve) => {
      let armedFor: number | undefined;
      listener = () => {
        const others = [...this.doneSegments.values()].filter((receipt) => receipt.index !== index);
        const since = startedAt();
        // Armed for the primary's current try; a try that starts again (after a prover error) re-arms it.
        if (armedFor === since || others.length < this.segmentsInLease - 1 || since === undefined) return;
        if (timer) clearTimeout(timer);
        armedFor = since;
        const dueAt = hedgeDueAt(
          since,
          this.input.hedgeFactor,
          others.map((receipt) => receipt.provingMs),
        );
        timer = setTimeout(resolve, Math.max(1, dueAt - Date.now()));
      };
      this.segmentListeners.add(listener);
      listener();
    });
    return {
      promise,
      cancel: () => {
        if (timer) clearTimeout(timer);
        if (listener) this.segmentListeners.delete(listener);
      },
    };
  }

  /**
   * Runs one unit on a device until it succeeds: a prover error is retried after a back-off within
   * the block's budget (`maxAttempts` tries in all), a silent unit is run again without spending
   * it; anything else (bad input, cancellation) ends the lease.
   */
  private async attempts(
    task: string,
    priorityKey: number,
    attemptOffset: number,
    signal: AbortSignal,
    work: (context: ProverContext) => Promise<Uint8Array>,
    onStart?: (since: number) => void,
  ): Promise<Made> {
    let proverRetries = 0;
    for (let tries = 0; ; tries += 1) {
      try {
        const receipt = await this.onDevice(priorityKey, this.priorAttempts + attemptOffset + tries + 1, signal, work, onStart);
        return { receipt, proverRetries };
      } catch (error) {
        // Stopped from outside the unit (the lease, a won hedge race): never retried here.
        if (signal.aborted) throw signal.reason ?? error;
        if (error instanceof SilentUnitError) {
          this.env.log(`${task} stopped responding: run again`);
          continue;
        }
        if (!(error instanceof ProverFailedError)) throw error;
        proverRetries += 1;
        if (proverRetries >= this.input.maxAttempts) throw error;
        this.env.log(`${task} failed (${error.message}): retry ${proverRetries} of ${this.input.maxAttempts - 1}`);
        await sleep(proverRetryDelayMs(proverRetries - 1), signal);
      }
    }
  }

  /** One try of a unit on a device of the node: its receipt, or its device time counted as unaccounted. */
  private async onDevice(
    priorityKey: number,
    attempt: number,
    signal: AbortSignal,
    work: (context: ProverContext) => Promise<Uint8Array>,
    onStart?: (since: number) => void,
  ): Promise<WorkReceipt> {
    return this.env.slots.withDevice(
      async (device) => {
        const since = Date.now();
        onStart?.(since);
        const unit = { since, lastProgress: since, abort: linkedAbort(signal) };
        this.running.add(unit);
        const context: ProverContext = {
          signal: unit.abort.signal,
          progress: () => {
            unit.lastProgress = Date.now();
            this.beat();
          },
          progressIntervalMs: this.progressIntervalMs,
          device,
          attempt,
          log: (message) => this.env.log(message),
        };
        try {
          const proving = performance.now();
          const bytes = await raceAbort(work(context), unit.abort.signal);
          const provingMs = performance.now() - proving;
          const proofRef = await this.env.store.put(bytes);
          this.madeHere.set(proofRef, bytes);
          const finishedAt = Date.now();
          return {
            proofRef,
            scheduledAt: this.env.scheduledAt,
            startedAt: since,
            finishedAt,
            provingMs,
            attempt,
            worker: this.env.identity,
            device,
            gpuMs: finishedAt - since,
          };
        } catch (error) {
          this.unaccountedMs += Date.now() - since;
          throw unit.abort.signal.aborted ? (unit.abort.signal.reason ?? error) : error;
        } finally {
          this.running.delete(unit);
        }
      },
      { signal, waiting: () => this.beat(), priority: priorityKey },
    );
  }
}

interface Made {
  receipt: WorkReceipt;
  proverRetries: number;
}

function rangeKey(node: { from: number; to: number }): string {
  return `${node.from}-${node.to}`;
}

/** An AbortController that also aborts (with the same reason) when `parent` does. */
function linkedAbort(parent: AbortSignal): AbortController {
  const controller = new AbortController();
  if (parent.aborted) controller.abort(parent.reason);
  else
    parent.addEventListener('abort', () => controller.abort(parent.reason), {
      once: true,
    });
  return controller;
}

/** `work`, or a rejection as soon as `signal` aborts (a prover that ignores its signal is left behind). */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  // Before anything else: `work` rejects with the abort reason too, and nobody will wait for it.
  work.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
