import {
  ActivityCancellationType,
  type ActivityOptions,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { FailedAttemptCost } from '../activities/prover-context';
import type { GpuActivities, LeaseResult, LeaseRootProof, OrchestrationActivities, ProverTask, VerifyResult } from '../activities/types';
import { aggregationNodes, buildAggregationTree, leafCount, planLeases, treeDepth } from '../domain/aggregation-tree';
import type { TreeNode } from '../domain/aggregation-tree';
import {
  BlockJobSchema,
  describeIssues,
  proverKey,
  type BlockWork,
  type CountedProof,
  type ProverProgress,
  type ProverRun,
  type SegmentProgress,
  type AggregationLevelTiming,
  type AggregationTiming,
  type BlockJob,
  type BlockJobInput,
  type BlockProgress,
  type BlockProofResult,
  type BlockSettlement,
  type BlockStatus,
  type SegmentTiming,
  type WorkReceipt,
} from '../domain/block';
import { clip, describeFailure, FailureTypes } from '../domain/failures';
import { ProofQuorum } from '../domain/quorum';
import { firstFulfilled } from '../domain/promises';
import { blockSearchAttributes, gpuTaskQueue, SEARCH_ATTRIBUTES } from '../domain/names';
import { blockFinalizedSignal, blockProgressQuery, blockSettledSignal, blockWorkQuery } from './definitions';
import { aggregationPriority, GPU_TASK_RETRY, HEDGE_ATTEMPT_OFFSET, hedgeDueAt, LOCAL_ACTIVITY_RETRY, proverRetryDelayMs } from './policy';

/**
 * Blocks started from this build on prove their segments in leases (one activity per GPU node's
 * share, activities/lease.ts); blocks started before keep the per-segment tasks they began with,
 * so their recorded histories replay.
 */
export const LEASES_PATCH = 'block-leases';

function isProverError(error: unknown): boolean {
  return error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === FailureTypes.ProverFailed;
}

/** The GPU time a prover-failed attempt reports with its failure (activities/prover-context.ts). */
function failedAttemptGpuMs(error: unknown): number {
  const details = error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause.details : undefined;
  const cost = details?.[0] as Partial<FailedAttemptCost> | undefined;
  return typeof cost?.gpuMs === 'number' ? cost.gpuMs : 0;
}

/** The artifact a task found missing or corrupt (activities/artifacts.ts), if that is how it failed. */
function lostArtifact(error: unknown): string | undefined {
  if (!(error instanceof ActivityFailure) || !(error.cause instanceof ApplicationFailure)) return undefined;
  const { type, details } = error.cause;
  if (type !== FailureTypes.ArtifactMissing && type !== FailureTypes.ArtifactCorrupt) return undefined;
  return typeof details?.[0] === 'string' ? details[0] : undefined;
}

// Plan and verify are light and run beside the workflow as local activities: no task queue
// round trip and no extra workflow task each, which is most of a block's orchestration cost.
const orchestration = proxyLocalActivities<OrchestrationActivities>({
  startToCloseTimeout: '5 minutes',
  retry: LOCAL_ACTIVITY_RETRY,
});

/** What one prover's pipeline produced: its verified block proof and how it got there. */
interface ProverProof {
  proofRef: string;
  /** Prover time on the slowest path of its tree, plus verification. */
  criticalPathMs: number;
  verifyMs: number;
  fanIn: number;
  aggregationLevels: number;
  /** Verified by an earlier attempt of the block, verified again here and not proved again. */
  carried: boolean;
}

/** One prover's work on the block, kept as it happens: the block's views and its result read it. */
interface ProverWork {
  run: ProverRun;
  view: ProverProgress;
  aggregation: { total: number; done: number };
  segments: SegmentTiming[];
  aggregations: AggregationTiming[];
  /** GPU time spent so far, every attempt counted (BlockTimings.gpuMs). */
  gpuMs: number;
}

/**
 * Proves one block: with each of its provers independently (one, unless its chain has a proof
 * policy), and reports it proved once `quorum` of their proofs are verified (domain/quorum.ts).
 * Each prover plans, fans segments out onto its GPU class's task queues, aggregates them
 * bottom-up (a node starts as soon as its children are done) and verifies. Proof bytes stay in
 * the artifact store; this workflow only moves references.
 */
export async function blockProofWorkflow(rawJob: BlockJobInput): Promise<BlockProofResult> {
  const parsed = BlockJobSchema.safeParse(rawJob);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`invalid block job: ${describeIssues(parsed.error)}`, FailureTypes.InvalidBlockJob);
  }
  const job: BlockJob = parsed.data;
  const inLeases = patched(LEASES_PATCH);
  const block = { chainId: job.chainId, number: job.number, hash: job.hash };
  const runs: ProverRun[] = job.proofs?.provers ?? [{ prover: job.prover, gpuClass: job.gpuClass, segments: job.segments }];
  const single = runs.length === 1;
  const quorum = new ProofQuorum(runs, job.proofs?.quorum ?? 1);
  const carried = new Map((job.proofs?.carried ?? []).map((proof) => [proverKey(proof), proof]));
  const work: ProverWork[] = runs.map((run) => ({
    run,
    view: {
      key: proverKey(run),
      prover: run.prover,
      gpuClass: run.gpuClass,
      status: 'proving',
      counted: false,
      late: false,
      carried: false,
      segments: { total: run.segments, done: 0, running: 0, failed: 0 },
    },
    aggregation: { total: 0, done: 0 },
    segments: [],
    aggregations: [],
    gpuMs: 0,
  }));
  const totalGpuMs = (): number => work.reduce((sum, prover) => sum + prover.gpuMs, 0);
  /** The block's segments: its one prover's, or every prover's added up. */
  const blockSegments = (): SegmentProgress =>
    single
      ? work[0].view.segments
      : work.reduce(
          (sum, { view }) => ({
            total: sum.total + view.segments.total,
            done: sum.done + view.segments.done,
            running: sum.running + view.segments.running,
            failed: sum.failed + view.segments.failed,
          }),
          { total: 0, done: 0, running: 0, failed: 0 },
        );

  const progress: BlockProgress = {
    status: 'proving',
    segments: work[0].view.segments,
    aggregation: work[0].aggregation,
    provers: work.map((prover) => prover.view),
    quorum: quorum.quorum,
    verifiedRefs: [],
  };
  const setStatus = (status: BlockStatus): void => {
    progress.status = status;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.BlockStatus, value: status }]);
  };
  setHandler(blockProgressQuery, () =>
    single
      ? progress
      : {
          ...progress,
          segments: blockSegments(),
          aggregation: work.reduce(
            (sum, prover) => ({ total: sum.total + prover.aggregation.total, done: sum.done + prover.aggregation.done }),
            {
              total: 0,
              done: 0,
            },
          ),
        },
  );
  setHandler(blockWorkQuery, (): BlockWork => {
    if (single) return { segments: work[0].segments, aggregations: work[0].aggregations, gpuMs: work[0].gpuMs };
    const tagged = <T>(items: (prover: ProverWork) => T[]) =>
      work.flatMap((prover) => items(prover).map((item) => ({ ...item, prover: prover.view.key })));
    return { segments: tagged((prover) => prover.segments), aggregations: tagged((prover) => prover.aggregations), gpuMs: totalGpuMs() };
  });
  let finalized = false;
  setHandler(blockFinalizedSignal, () => {
    finalized = true;
  });
  // A sequencer starts its blocks with these set; only a block started directly sets them itself
  // (each upsert is a history event and a visibility write, on every block).
  const attributes = workflowInfo().typedSearchAttributes;
  if (
    attributes.get(SEARCH_ATTRIBUTES.ChainId) !== job.chainId ||
    attributes.get(SEARCH_ATTRIBUTES.BlockNumber) !== job.number ||
    attributes.get(SEARCH_ATTRIBUTES.BlockStatus) !== 'proving'
  ) {
    upsertSearchAttributes(blockSearchAttributes(job.chainId, job.number, 'proving'));
  }
  const deadlineWatch = watchDeadline(job.deadlineAt);

  /** Tells the chain's sequencer (when a sequencer started this block) how the block ended. */
  const settle = async (outcome: Omit<BlockSettlement, 'workflowId' | 'number' | 'hash' | 'inputRef' | 'segments'>): Promise<void> => {
    deadlineWatch.stop();
    const parent = workflowInfo().parent;
    if (!parent) return;
    const settlement: BlockSettlement = {
      ...outcome,
      workflowId: workflowInfo().workflowId,
      runId: workflowInfo().runId,
      number: job.number,
      hash: job.hash,
      ...(job.inputRef !== undefined ? { inputRef: job.inputRef } : {}),
      segments: { ...blockSegments() },
    };
    // Even a cancelled block must report, or its sequencer would wait for it forever.
    await CancellationScope.nonCancellable(() => getExternalWorkflowHandle(parent.workflowId).signal(blockSettledSignal, settlement)).catch(
      () => undefined,
    );
  };

  /**
   * One prover's proof of the block: plan, prove the tree (in leases, or per segment for blocks
   * started before leases), verify. A proof carried from an earlier attempt is verified again
   * and, if it holds, is the answer without proving.
   */
  const proveWith = async (prover: ProverWork): Promise<ProverProof> => {
    const { run, view } = prover;
    const task: ProverTask = { block, prover: run.prover, ...(job.inputRef !== undefined ? { inputRef: job.inputRef } : {}) };
    const gpuOptions = (priorityKey: number): ActivityOptions => ({
      taskQueue: gpuTaskQueue(run.gpuClass, run.prover),
      heartbeatTimeout: job.options.heartbeatTimeoutMs,
      startToCloseTimeout: job.options.attemptTimeoutMs,
      scheduleToCloseTimeout: job.options.taskTimeoutMs,
      priority: { priorityKey },
      retry: GPU_TASK_RETRY,
      // A prover the quorum no longer needs is stopped, and the block waits until its node says so:
      // its GPUs are free then, and no task outlives its block (one prover: as before).
      ...(single ? {} : { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED }),
    });
    const segmentTasks = proxyActivities<GpuActivities>(gpuOptions(job.options.priorityKey));
    const spent = (receipt: WorkReceipt): void => {
      prover.gpuMs += receipt.gpuMs ?? Math.max(0, receipt.finishedAt - receipt.startedAt);
    };
    const aggregationTasks = proxyActivities<GpuActivities>(gpuOptions(aggregationPriority(job.options.priorityKey)));
    const segmentsDone = (): void => {
      if (view.segments.done !== view.segments.total || prover.aggregation.done >= prover.aggregation.total) return;
      view.status = 'aggregating';
      // The block's own status follows its one prover; with several, each prover's shows it.
      if (single) setStatus('aggregating');
    };

    /**
     * Runs a prover task, retrying prover errors as new tasks within the budget. Retry budgets:
     * Temporal retries a task whose worker was lost (heartbeat timeout, drain) as often as needed
     * within `taskTimeoutMs`; prover errors are not retried by Temporal but here, each as a new
     * task, at most `maxAttempts` times in all. Losing workers never spends the budget for prover
     * errors, and a prover that keeps failing fails the block.
     */
    const withProverRetries = async <T>(runTask: (priorAttempts: number) => Promise<T>): Promise<{ value: T; proverRetries: number }> => {
      for (let proverRetries = 0; ; proverRetries += 1) {
        try {
          return { value: await runTask(proverRetries), proverRetries };
        } catch (error) {
          if (isProverError(error)) prover.gpuMs += failedAttemptGpuMs(error);
          if (!isProverError(error) || proverRetries + 1 >= job.options.maxAttempts) throw error;
          await sleep(proverRetryDelayMs(proverRetries));
        }
      }
    };

    const plan = await orchestration.planBlock({ ...task, requestedSegments: run.segments, defaultFanIn: job.options.fanIn });
    view.segments.total = plan.segmentCount;
    const tree = buildAggregationTree(plan.segmentCount, plan.fanIn);
    prover.aggregation.total = aggregationNodes(tree).length;
    const verify = (proofRef: string) =>
      orchestration.verifyBlockProof({ ...task, proofRef, segmentCount: plan.segmentCount, fanIn: plan.fanIn });

    const earlier = carried.get(view.key);
    if (earlier) {
      const verdict = await verify(earlier.proofRef).catch((error: unknown) => {
        if (isCancellation(error)) throw error;
        return undefined; // gone from the store or unreadable: proved again below
      });
      if (verdict?.valid) {
        view.segments.done = view.segments.total;
        prover.aggregation.done = prover.aggregation.total;
        return {
          proofRef: earlier.proofRef,
          criticalPathMs: earlier.provingMs,
          verifyMs: verdict.provingMs,
          fanIn: plan.fanIn,
          aggregationLevels: treeDepth(tree),
          carried: true,
        };
      }
    }

    const proveSegmentOnce = (index: number, attemptOffset: number) =>
      withProverRetries((priorAttempts) =>
        segmentTasks.proveSegment({ ...task, priorAttempts: priorAttempts + attemptOffset, index, segmentCount: plan.segmentCount }),
      );

    /** Proves a segment; a straggler at the tail of the block gets a second copy (see `hedgeFactor`). */
    const proveSegmentHedged = async (index: number) => {
      const dispatchedAt = Date.now();
      const primaryScope = new CancellationScope();
      const primary = primaryScope.run(() => proveSegmentOnce(index, 0));
      if (job.options.hedgeFactor === 0 || plan.segmentCount < 2) return { ...(await primary), hedged: false };
      const timerScope = new CancellationScope();
      const hedgeDue = timerScope.run(async () => {
        // Every other segment is done: their slots are free and their times say what is usual.
        await condition(() => view.segments.done >= view.segments.total - 1);
        const dueAt = hedgeDueAt(
          dispatchedAt,
          job.options.hedgeFactor,
          prover.segments.map((segment) => segment.provingMs),
        );
        await sleep(Math.max(1, dueAt - Date.now()));
      });
      hedgeDue.catch(() => undefined); // cancelled when the primary finishes first
      const first = await Promise.race([primary.then((outcome) => ({ outcome })), hedgeDue.then(() => undefined)]);
      if (first) {
        timerScope.cancel();
        return { ...first.outcome, hedged: false };
      }
      const hedgeScope = new CancellationScope();
      const hedgedAt = Date.now();
      const hedge = hedgeScope.run(() => proveSegmentOnce(index, HEDGE_ATTEMPT_OFFSET));
      const winner = await firstFulfilled([
        primary.then((outcome) => ({ outcome, loser: hedgeScope, loserSince: hedgedAt })),
        hedge.then((outcome) => ({ outcome, loser: primaryScope, loserSince: dispatchedAt })),
      ]);
      winner.loser.cancel();
      // The copy that lost held a GPU from its dispatch until now.
      prover.gpuMs += Date.now() - winner.loserSince;
      return { ...winner.outcome, hedged: true };
    };

    const leaseTasks = proxyActivities<GpuActivities>(gpuOptions(job.options.priorityKey));
    /** The lease proving each subtree at the lease cut (lease mode): its root's proof once the lease is done. */
    const leaseOf = new Map<TreeNode, Promise<LeaseRootProof>>();
    /** Schedules one lease; its receipts join the block's work as it completes. */
    const startLease = (roots: TreeNode[]): void => {
      const count = roots.reduce((sum, root) => sum + leafCount(root), 0);
      view.segments.running += count;
      const done: Promise<LeaseResult> = leaseTasks
        .proveLease({
          ...task,
          segmentCount: plan.segmentCount,
          fanIn: plan.fanIn,
          roots: roots.map(({ from, to }) => ({ from, to })),
          maxAttempts: job.options.maxAttempts,
          hedgeFactor: job.options.hedgeFactor,
          priorityKey: job.options.priorityKey,
        })
        .then(
          (result) => {
            const seenAt = Date.now();
            prover.gpuMs += result.gpuMs;
            prover.segments.push(...result.segments.map((receipt) => ({ ...receipt, seenAt })));
            prover.aggregations.push(...result.aggregations);
            view.segments.done += count;
            prover.aggregation.done += result.aggregations.length;
            // Only when aggregations remain above the leases: a block of one lease is proved whole by it.
            segmentsDone();
            return result;
          },
          (error: unknown) => {
            if (isProverError(error)) prover.gpuMs += failedAttemptGpuMs(error);
            if (!isCancellation(error)) view.segments.failed += count;
            throw error;
          },
        )
        .finally(() => {
          view.segments.running -= count;
        });
      roots.forEach((root, i) => {
        const proof = done.then((result) => result.roots[i]);
        // Awaited by the root's parent, unless the block fails first: never an unhandled rejection.
        proof.catch(() => undefined);
        leaseOf.set(root, proof);
      });
    };
    /** Every lease of the block at once, so a block's GPU work is one round of dispatch. */
    const startLeases = (): void => planLeases(tree, job.options.leaseSegments).forEach(startLease);

    /** Resolves to the node's proof and the prover time on its slowest path. */
    const proveNode = async (node: TreeNode): Promise<{ proofRef: string; criticalPathMs: number }> => {
      const leased = leaseOf.get(node);
      if (leased) {
        const { proofRef, criticalPathMs } = await leased;
        return { proofRef, criticalPathMs };
      }
      if (node.kind === 'segment') {
        view.segments.running += 1;
        try {
          const { value: receipt, proverRetries, hedged } = await proveSegmentHedged(node.index);
          spent(receipt);
          prover.segments.push({ ...receipt, index: node.index, proverRetries, hedged, seenAt: Date.now() });
          view.segments.done += 1;
          segmentsDone();
          return { proofRef: receipt.proofRef, criticalPathMs: receipt.provingMs };
        } catch (error) {
          if (!isCancellation(error)) view.segments.failed += 1;
          throw error;
        } finally {
          view.segments.running -= 1;
        }
      }
      const children = await Promise.all(node.children.map(proveNode));
      const aggregate = () =>
        withProverRetries((priorAttempts) =>
          aggregationTasks.aggregateProofs({
            ...task,
            priorAttempts,
            from: node.from,
            to: node.to,
            childRefs: children.map((child) => child.proofRef),
          }),
        );
      let receipt: WorkReceipt;
      for (let reproved = 0; ; reproved += 1) {
        try {
          receipt = (await aggregate()).value;
          break;
        } catch (error) {
          // A child proof that went missing or corrupt is proved again (never waited for: it does not heal).
          const lost = lostArtifact(error);
          const index = children.findIndex((child) => child.proofRef === lost);
          if (index < 0 || reproved >= job.options.maxAttempts) throw error;
          const child = node.children[index];
          view.segments.done -= child.to - child.from;
          prover.aggregation.done -= aggregationNodes(child).length;
          if (leaseOf.has(child)) startLease([child]);
          children[index] = await proveNode(child);
        }
      }
      spent(receipt);
      prover.aggregations.push({ ...receipt, level: node.level, from: node.from, to: node.to });
      prover.aggregation.done += 1;
      return { proofRef: receipt.proofRef, criticalPathMs: receipt.provingMs + Math.max(...children.map((child) => child.criticalPathMs)) };
    };

    // One scope for the whole tree: when any part fails for good, the rest is cancelled
    // (running provers are stopped) instead of burning GPU time on a lost block.
    const treeScope = new CancellationScope();
    const proveTree = (): Promise<{ proofRef: string; criticalPathMs: number }> =>
      treeScope.run(() => {
        if (inLeases) startLeases();
        return proveNode(tree);
      });
    let root: { proofRef: string; criticalPathMs: number };
    try {
      root = await proveTree();
    } catch (error) {
      if (!isCancellation(error)) treeScope.cancel();
      throw error;
    }

    let verdict: VerifyResult;
    try {
      verdict = await verify(root.proofRef);
    } catch (error) {
      // The block proof itself went missing or corrupt before verification: prove the block again, once.
      if (lostArtifact(error) !== root.proofRef) throw error;
      view.segments.done = 0;
      prover.aggregation.done = 0;
      root = await proveTree();
      verdict = await verify(root.proofRef);
    }
    if (!verdict.valid) {
      throw ApplicationFailure.nonRetryable(
        `block proof failed verification: ${verdict.reason ?? 'invalid'}`,
        FailureTypes.VerificationFailed,
      );
    }
    return {
      proofRef: root.proofRef,
      criticalPathMs: root.criticalPathMs + verdict.provingMs,
      verifyMs: verdict.provingMs,
      fanIn: plan.fanIn,
      aggregationLevels: treeDepth(tree),
      carried: false,
    };
  };

  try {
    /** Each prover in its own scope: the quorum stops the ones it no longer needs. */
    const scopes = new Map<string, CancellationScope>();
    const proofs = new Map<string, ProverProof>();
    const failures = new Map<string, unknown>();
    /** Provers this block stopped because the quorum no longer needs them. */
    const stopped = new Set<string>();
    /** The prover whose proof completed the quorum: the block's proof, timings and deadline are its. */
    let deciding: ProverWork | undefined;
    const outcomes = work.map((prover) => {
      const { view } = prover;
      const scope = new CancellationScope();
      scopes.set(view.key, scope);
      view.startedAt = Date.now();
      return scope
        .run(() => proveWith(prover))
        .then(
          (proof) => {
            proofs.set(view.key, proof);
            const counted: CountedProof = {
              prover: view.prover,
              gpuClass: prover.run.gpuClass,
              proofRef: proof.proofRef,
              verified: true,
              provingMs: proof.criticalPathMs,
              gpuMs: proof.carried ? (carried.get(view.key)?.gpuMs ?? 0) : prover.gpuMs,
            };
            const standing = quorum.verified(counted);
            Object.assign(view, {
              status: 'verified',
              proofRef: proof.proofRef,
              provingMs: proof.criticalPathMs,
              gpuMs: counted.gpuMs,
              counted: standing === 'counted',
              late: standing === 'late',
              carried: proof.carried,
            });
            progress.verifiedRefs?.push(proof.proofRef);
            if (standing === 'counted' && quorum.reached) deciding = prover;
          },
          (error: unknown) => {
            // Stopped by the quorum: however its node answers (cancelled, or its heartbeat timed out), it was cancelled.
            if (isCancellation(error) || stopped.has(view.key)) {
              quorum.cancelled(view.key);
              view.status = 'cancelled';
              return;
            }
            failures.set(view.key, error);
            quorum.failed(view.key, describeFailure(error));
            view.status = 'failed';
            view.error = clip(describeFailure(error));
          },
        )
        .finally(() => {
          view.finishedAt = Date.now();
          view.gpuMs ??= prover.gpuMs;
        });
    });
    await condition(() => quorum.decided);
    const keepProving = job.proofs?.keepProving ?? false;
    if (quorum.unreachable || !keepProving) {
      for (const key of quorum.stillProving()) {
        stopped.add(key);
        scopes.get(key)?.cancel();
      }
    }
    if (quorum.unreachable) {
      // The block ends once the provers it stopped have let go of their GPUs.
      await Promise.all(outcomes);
      // One prover: the block fails with that prover's own failure, as it always has.
      if (single) throw failures.get(work[0].view.key);
      throw ApplicationFailure.nonRetryable(`quorum not reached: ${quorum.failureReason()}`, FailureTypes.QuorumNotReached);
    }
    const decider = deciding as ProverWork;
    const decided = proofs.get(decider.view.key) as ProverProof;

    const startedAt = workflowInfo().startTime.getTime();
    const finishedAt = Date.now();
    const totalMs = finishedAt - startedAt;
    const criticalPathMs = decided.criticalPathMs;
    const overheadMs = Math.max(0, totalMs - criticalPathMs);
    const counted = quorum.counted();
    progress.proofRef = decided.proofRef;
    setStatus('proved');
    await settle({
      outcome: 'proved',
      proofRef: decided.proofRef,
      provingMs: criticalPathMs,
      overheadMs,
      gpuMs: totalGpuMs(),
      proofs: counted,
    });
    if (workflowInfo().parent) {
      // Stay open until the sequencer finalizes this block, so BlockStatus (and the Web UI) follow it to the end.
      await condition(() => finalized);
      setStatus('finalized');
    }
    // Provers kept proving past the quorum are recorded here as they end (never counted, never waited for by
    // the chain); stopped ones are waited for until their nodes have let go of them.
    await Promise.all(outcomes);
    return {
      block,
      prover: decider.run.prover,
      gpuClass: decider.run.gpuClass,
      proofRef: decided.proofRef,
      verified: true,
      fanIn: decided.fanIn,
      aggregationLevels: decided.aggregationLevels,
      proofs: counted,
      provers: work.map((prover) => prover.view),
      quorum: quorum.quorum,
      timings: {
        startedAt,
        finishedAt,
        totalMs,
        criticalPathMs,
        overheadMs,
        verifyMs: decided.verifyMs,
        gpuMs: totalGpuMs(),
        segments: decider.segments.sort((a, b) => a.index - b.index),
        aggregationLevels: summarizeLevels(decider.aggregations),
      },
    };
  } catch (error) {
    if (isCancellation(error)) {
      setStatus('cancelled');
      await settle({ outcome: 'cancelled', error: 'cancelled', proofs: quorum.counted() });
      throw error;
    }
    setStatus('failed');
    progress.error = describeFailure(error);
    await settle({ outcome: 'failed', error: progress.error, proofs: quorum.counted() });
    throw ApplicationFailure.nonRetryable(`block ${job.chainId}#${job.number} failed: ${progress.error}`, FailureTypes.BlockFailed);
  }
}

/** Sets DeadlineMissed when the deadline passes before the proof exists; false while on time. */
function watchDeadline(deadlineAt: number | undefined): { stop(): void } {
  if (deadlineAt === undefined) return { stop: () => undefined };
  const remaining = deadlineAt - Date.now();
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.DeadlineMissed, value: remaining <= 0 }]);
  if (remaining <= 0) return { stop: () => undefined };
  const scope = new CancellationScope();
  scope
    .run(() => sleep(remaining))
    .then(() => upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.DeadlineMissed, value: true }]))
    .catch(() => undefined); // stopped: the block ended in time
  return { stop: () => scope.cancel() };
}

function summarizeLevels(timings: AggregationTiming[]): AggregationLevelTiming[] {
  const levels = new Map<number, AggregationLevelTiming>();
  for (const receipt of timings) {
    const { level } = receipt;
    const current = levels.get(level);
    if (!current) {
      levels.set(level, { level, nodes: 1, startedAt: receipt.startedAt, finishedAt: receipt.finishedAt, maxProvingMs: receipt.provingMs });
      continue;
    }
    current.nodes += 1;
    current.startedAt = Math.min(current.startedAt, receipt.startedAt);
    current.finishedAt = Math.max(current.finishedAt, receipt.finishedAt);
    current.maxProvingMs = Math.max(current.maxProvingMs, receipt.provingMs);
  }
  return [...levels.values()].sort((a, b) => a.level - b.level);
}
