import {
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
import { describeFailure, FailureTypes } from '../domain/failures';
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

/**
 * Proves one block: plan, fan segments out onto the GPU class's task queue, aggregate
 * them bottom-up (a node starts as soon as its children are done), verify. Proof bytes
 * stay in the artifact store; this workflow only moves references.
 */
export async function blockProofWorkflow(rawJob: BlockJobInput): Promise<BlockProofResult> {
  const parsed = BlockJobSchema.safeParse(rawJob);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`invalid block job: ${describeIssues(parsed.error)}`, FailureTypes.InvalidBlockJob);
  }
  const job: BlockJob = parsed.data;
  const inLeases = patched(LEASES_PATCH);
  const block = { chainId: job.chainId, number: job.number, hash: job.hash };
  const task: ProverTask = { block, prover: job.prover, ...(job.inputRef !== undefined ? { inputRef: job.inputRef } : {}) };

  const progress: BlockProgress = {
    status: 'proving',
    segments: { total: job.segments, done: 0, running: 0, failed: 0 },
    aggregation: { total: 0, done: 0 },
  };
  const setStatus = (status: BlockStatus): void => {
    progress.status = status;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.BlockStatus, value: status }]);
  };
  setHandler(blockProgressQuery, () => progress);
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
      segments: { ...progress.segments },
    };
    // Even a cancelled block must report, or its sequencer would wait for it forever.
    await CancellationScope.nonCancellable(() => getExternalWorkflowHandle(parent.workflowId).signal(blockSettledSignal, settlement)).catch(
      () => undefined,
    );
  };

  const gpuOptions = (priorityKey: number): ActivityOptions => ({
    taskQueue: gpuTaskQueue(job.gpuClass, job.prover),
    heartbeatTimeout: job.options.heartbeatTimeoutMs,
    startToCloseTimeout: job.options.attemptTimeoutMs,
    scheduleToCloseTimeout: job.options.taskTimeoutMs,
    priority: { priorityKey },
    retry: GPU_TASK_RETRY,
  });
  const segmentTasks = proxyActivities<GpuActivities>(gpuOptions(job.options.priorityKey));
  /** GPU time spent on this block so far, every attempt counted (BlockTimings.gpuMs). */
  let gpuMs = 0;
  const spent = (receipt: WorkReceipt): void => {
    gpuMs += receipt.gpuMs ?? Math.max(0, receipt.finishedAt - receipt.startedAt);
  };
  const aggregationTasks = proxyActivities<GpuActivities>(gpuOptions(aggregationPriority(job.options.priorityKey)));

  /**
   * Runs a prover task, retrying prover errors as new tasks within the budget. Retry budgets:
   * Temporal retries a task whose worker was lost (heartbeat timeout, drain) as often as needed
   * within `taskTimeoutMs`; prover errors are not retried by Temporal but here, each as a new
   * task, at most `maxAttempts` times in all. Losing workers never spends the budget for prover
   * errors, and a prover that keeps failing fails the block.
   */
  const withProverRetries = async <T>(run: (priorAttempts: number) => Promise<T>): Promise<{ value: T; proverRetries: number }> => {
    for (let proverRetries = 0; ; proverRetries += 1) {
      try {
        return { value: await run(proverRetries), proverRetries };
      } catch (error) {
        if (isProverError(error)) gpuMs += failedAttemptGpuMs(error);
        if (!isProverError(error) || proverRetries + 1 >= job.options.maxAttempts) throw error;
        await sleep(proverRetryDelayMs(proverRetries));
      }
    }
  };

  try {
    const plan = await orchestration.planBlock({ ...task, requestedSegments: job.segments, defaultFanIn: job.options.fanIn });
    progress.segments.total = plan.segmentCount;
    const tree = buildAggregationTree(plan.segmentCount, plan.fanIn);
    progress.aggregation.total = aggregationNodes(tree).length;

    const segmentTimings: SegmentTiming[] = [];
    const aggregationTimings: AggregationTiming[] = [];
    setHandler(blockWorkQuery, () => ({ segments: segmentTimings, aggregations: aggregationTimings, gpuMs }));

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
        await condition(() => progress.segments.done >= progress.segments.total - 1);
        const dueAt = hedgeDueAt(
          dispatchedAt,
          job.options.hedgeFactor,
          segmentTimings.map((segment) => segment.provingMs),
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
      gpuMs += Date.now() - winner.loserSince;
      return { ...winner.outcome, hedged: true };
    };

    const leaseTasks = proxyActivities<GpuActivities>(gpuOptions(job.options.priorityKey));
    /** The lease proving each subtree at the lease cut (lease mode): its root's proof once the lease is done. */
    const leaseOf = new Map<TreeNode, Promise<LeaseRootProof>>();
    /** Schedules one lease; its receipts join the block's work as it completes. */
    const startLease = (roots: TreeNode[]): void => {
      const count = roots.reduce((sum, root) => sum + leafCount(root), 0);
      progress.segments.running += count;
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
            gpuMs += result.gpuMs;
            segmentTimings.push(...result.segments.map((receipt) => ({ ...receipt, seenAt })));
            aggregationTimings.push(...result.aggregations);
            progress.segments.done += count;
            progress.aggregation.done += result.aggregations.length;
            // Only when aggregations remain above the leases: a block of one lease is proved whole by it.
            if (progress.segments.done === progress.segments.total && progress.aggregation.done < progress.aggregation.total)
              setStatus('aggregating');
            return result;
          },
          (error: unknown) => {
            if (isProverError(error)) gpuMs += failedAttemptGpuMs(error);
            if (!isCancellation(error)) progress.segments.failed += count;
            throw error;
          },
        )
        .finally(() => {
          progress.segments.running -= count;
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
        progress.segments.running += 1;
        try {
          const { value: receipt, proverRetries, hedged } = await proveSegmentHedged(node.index);
          spent(receipt);
          segmentTimings.push({ ...receipt, index: node.index, proverRetries, hedged, seenAt: Date.now() });
          progress.segments.done += 1;
          if (progress.segments.done === progress.segments.total && progress.aggregation.total > 0) setStatus('aggregating');
          return { proofRef: receipt.proofRef, criticalPathMs: receipt.provingMs };
        } catch (error) {
          if (!isCancellation(error)) progress.segments.failed += 1;
          throw error;
        } finally {
          progress.segments.running -= 1;
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
          progress.segments.done -= child.to - child.from;
          progress.aggregation.done -= aggregationNodes(child).length;
          if (leaseOf.has(child)) startLease([child]);
          children[index] = await proveNode(child);
        }
      }
      spent(receipt);
      aggregationTimings.push({ ...receipt, level: node.level, from: node.from, to: node.to });
      progress.aggregation.done += 1;
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

    const verify = () =>
      orchestration.verifyBlockProof({ ...task, proofRef: root.proofRef, segmentCount: plan.segmentCount, fanIn: plan.fanIn });
    let verdict: VerifyResult;
    try {
      verdict = await verify();
    } catch (error) {
      // The block proof itself went missing or corrupt before verification: prove the block again, once.
      if (lostArtifact(error) !== root.proofRef) throw error;
      progress.segments.done = 0;
      progress.aggregation.done = 0;
      root = await proveTree();
      verdict = await verify();
    }
    if (!verdict.valid) {
      throw ApplicationFailure.nonRetryable(
        `block proof failed verification: ${verdict.reason ?? 'invalid'}`,
        FailureTypes.VerificationFailed,
      );
    }

    const startedAt = workflowInfo().startTime.getTime();
    const finishedAt = Date.now();
    const totalMs = finishedAt - startedAt;
    const criticalPathMs = root.criticalPathMs + verdict.provingMs;
    const overheadMs = Math.max(0, totalMs - criticalPathMs);
    progress.proofRef = root.proofRef;
    setStatus('proved');
    await settle({ outcome: 'proved', proofRef: root.proofRef, provingMs: criticalPathMs, overheadMs, gpuMs });
    if (workflowInfo().parent) {
      // Stay open until the sequencer finalizes this block, so BlockStatus (and the Web UI) follow it to the end.
      await condition(() => finalized);
      setStatus('finalized');
    }
    return {
      block,
      prover: job.prover,
      gpuClass: job.gpuClass,
      proofRef: root.proofRef,
      verified: true,
      fanIn: plan.fanIn,
      aggregationLevels: treeDepth(tree),
      timings: {
        startedAt,
        finishedAt,
        totalMs,
        criticalPathMs,
        overheadMs,
        verifyMs: verdict.provingMs,
        gpuMs,
        segments: segmentTimings.sort((a, b) => a.index - b.index),
        aggregationLevels: summarizeLevels(aggregationTimings),
      },
    };
  } catch (error) {
    if (isCancellation(error)) {
      setStatus('cancelled');
      await settle({ outcome: 'cancelled', error: 'cancelled' });
      throw error;
    }
    setStatus('failed');
    progress.error = describeFailure(error);
    await settle({ outcome: 'failed', error: progress.error });
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
