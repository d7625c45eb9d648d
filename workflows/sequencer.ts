import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { OrchestrationActivities } from '../activities/types';
import { describeIssues, type BlockJobInput } from '../domain/block';
import {
  applyChainConfig,
  BlockSubmissionSchema,
  ChainConfigBodySchema,
  provingLimit,
  ReorgBodySchema,
  type BlockEntry,
  type BlockSubmission,
  type ChainConfig,
  type ChainSnapshot,
  type ChainState,
} from '../domain/chain';
import { FailureTypes, type RejectionType } from '../domain/failures';
import { blockSearchAttributes, blockWorkflowId, ORCHESTRATION_TASK_QUEUE } from '../domain/names';
import { blockProofWorkflow } from './block';
import {
  blockEntryQuery,
  blockFinalizedSignal,
  blockSettledSignal,
  chainSnapshotQuery,
  configureChainUpdate,
  reorgUpdate,
  retryBlockUpdate,
  setPausedUpdate,
  submitBlockUpdate,
} from './definitions';
import { PUBLICATION_RETRY, segmentPriority } from './policy';

export interface SequencerInput {
  chainId: string;
  /** Used when the chain is new; afterwards the carried state holds the configuration. */
  config: ChainConfig;
  state?: ChainState;
  /** Continue-as-new after this many accepted blocks (tests); otherwise when Temporal suggests it. */
  continueAsNewAfterBlocks?: number;
  /** Finalized blocks kept in state (default FINALIZED_KEPT); tests make it small to push blocks out of the window. */
  finalizedKept?: number;
}

/** Finalized blocks kept in state for idempotent resubmission and views; older ones live on in their workflows. */
const FINALIZED_KEPT = 256;
const MAX_GAPS_LISTED = 100;
/** At most this many consecutive proved blocks are published in one call. */
const PUBLICATION_BATCH = 64;

const publisher = proxyActivities<OrchestrationActivities>({
  taskQueue: ORCHESTRATION_TASK_QUEUE,
  startToCloseTimeout: '1 minute',
  retry: PUBLICATION_RETRY,
});

/**
 * One per chain: accepts blocks, proves them (one at a time or up to maxInFlight),
 * and finalizes and publishes them strictly in ascending number. Each block is a
 * child workflow with a deterministic id; it reports back with a signal, so blocks
 * in flight survive this workflow's continue-as-new.
 */
export async function chainSequencerWorkflow(input: SequencerInput): Promise<void> {
  const state: ChainState = input.state ?? {
    chainId: input.chainId,
    config: input.config,
    paused: false,
    finalizedHead: null,
    nextNumber: input.config.startNumber ?? null,
    blocks: [],
    incarnations: {},
  };
  const blocks = new Map<number, BlockEntry>(state.blocks.map((entry) => [entry.number, entry]));
  let dirty = true;
  let acceptedThisRun = 0;
  let startsPending = 0;
  let notificationsPending = 0;
  let publishing: number | null = null;

  // Temporal delivers buffered updates as soon as their handler is set, so everything the
  // handlers use is declared before them (helpers below are hoisted function declarations).
  function reject(type: RejectionType, message: string): never {
    throw ApplicationFailure.nonRetryable(message, type);
  }

  // ---- submissions -------------------------------------------------------------------------
  setHandler(
    submitBlockUpdate,
    (submission) => {
      const existing = blocks.get(submission.number);
      if (existing && existing.hash.toLowerCase() === submission.hash.toLowerCase()) {
        return {
          outcome: 'duplicate' as const,
          number: existing.number,
          hash: existing.hash,
          status: existing.status,
          workflowId: existing.workflowId,
        };
      }
      const entry = newEntry(submission);
      blocks.set(entry.number, entry);
      if (state.nextNumber === null) state.nextNumber = entry.number;
      acceptedThisRun += 1;
      dirty = true;
      return { outcome: 'accepted' as const, number: entry.number, hash: entry.hash, status: entry.status, workflowId: entry.workflowId };
    },
    {
      validator: (submission) => {
        const parsed = BlockSubmissionSchema.safeParse(submission);
        if (!parsed.success) reject(FailureTypes.InvalidRequest, `invalid block: ${describeIssues(parsed.error)}`);
        const existing = blocks.get(submission.number);
        if (existing) {
          if (existing.hash.toLowerCase() !== submission.hash.toLowerCase()) {
            reject(
              FailureTypes.Conflict,
              `block ${submission.number} is already ${existing.status} with hash ${existing.hash}; reorg from ${submission.number} first to replace it`,
            );
          }
          return;
        }
        if (state.finalizedHead !== null && submission.number <= state.finalizedHead) {
          reject(FailureTypes.Conflict, `block ${submission.number} is at or below the finalized head ${state.finalizedHead}`);
        }
        if (state.config.startNumber !== undefined && submission.number < state.config.startNumber) {
          reject(FailureTypes.Conflict, `block ${submission.number} is below the chain's start number ${state.config.startNumber}`);
        }
      },
    },
  );

  function newEntry(submission: BlockSubmission): BlockEntry {
    return {
      number: submission.number,
      hash: submission.hash,
      parentHash: submission.parentHash,
      timestamp: submission.timestamp,
      segments: submission.segments ?? state.config.defaults.segments,
      gpuClass: submission.gpuClass ?? state.config.defaults.gpuClass,
      prover: submission.prover ?? state.config.defaults.prover,
      input: submission.input ?? {},
      status: 'queued',
      incarnation: state.incarnations[submission.number] ?? 0,
      workflowId: blockWorkflowId(state.chainId, submission.number, state.incarnations[submission.number] ?? 0),
      submittedAt: Date.now(),
      deadlineAt: submission.timestamp !== undefined ? (submission.timestamp + state.config.slotSeconds) * 1000 : undefined,
    };
  }

  // ---- operator controls -------------------------------------------------------------------
  setHandler(
    configureChainUpdate,
    (body) => {
      state.config = applyChainConfig(state.config, ChainConfigBodySchema.parse(body));
      if (state.nextNumber === null && state.config.startNumber !== undefined) state.nextNumber = state.config.startNumber;
      dirty = true;
      return snapshot();
    },
    {
      validator: (body) => {
        const parsed = ChainConfigBodySchema.safeParse(body);
        if (!parsed.success) reject(FailureTypes.InvalidRequest, `invalid chain configuration: ${describeIssues(parsed.error)}`);
        const startNumber = parsed.data?.startNumber;
        if (startNumber !== undefined && state.finalizedHead !== null && startNumber !== state.config.startNumber) {
          reject(FailureTypes.Conflict, 'startNumber cannot change once blocks have been finalized');
        }
      },
    },
  );

  setHandler(setPausedUpdate, (paused) => {
    state.paused = paused;
    dirty = true;
    return snapshot();
  });

  setHandler(
    reorgUpdate,
    async ({ fromNumber }) => {
      const affected = [...blocks.values()].filter((entry) => entry.number >= fromNumber).sort((a, b) => a.number - b.number);
      // Proved blocks wait for finalization in their workflow: those are cancelled too.
      const running = affected.filter((entry) => entry.status === 'proving' || entry.status === 'proved');
      for (const entry of affected) {
        blocks.delete(entry.number);
        // A resubmitted number gets a fresh workflow id even while the cancelled one winds down.
        state.incarnations[entry.number] = entry.incarnation + 1;
      }
      dirty = true;
      // Cancelling the block workflow cancels its activities, which stops the running provers.
      await Promise.all(
        running.map((entry) =>
          getExternalWorkflowHandle(entry.workflowId)
            .cancel()
            .catch(() => undefined),
        ),
      );
      return { cancelled: running.map((entry) => entry.number), forgotten: affected.map((entry) => entry.number) };
    },
    {
      validator: (body) => {
        const parsed = ReorgBodySchema.safeParse(body);
        if (!parsed.success) reject(FailureTypes.InvalidRequest, `invalid reorg: ${describeIssues(parsed.error)}`);
        if (state.finalizedHead !== null && body.fromNumber <= state.finalizedHead) {
          reject(
            FailureTypes.Conflict,
            `cannot reorg from ${body.fromNumber}: blocks up to ${state.finalizedHead} are finalized and published`,
          );
        }
        if (publishing !== null && body.fromNumber <= publishing)
          reject(FailureTypes.Conflict, `cannot reorg from ${body.fromNumber}: block ${publishing} is being published`);
      },
    },
  );

  setHandler(
    retryBlockUpdate,
    (number) => {
      const entry = blocks.get(number) as BlockEntry;
      entry.incarnation += 1;
      entry.workflowId = blockWorkflowId(state.chainId, number, entry.incarnation);
      entry.status = 'queued';
      for (const key of ['error', 'startedAt', 'provedAt', 'proofRef', 'provingMs', 'overheadMs', 'segmentProgress'] as const)
        delete entry[key];
      dirty = true;
      return { number, workflowId: entry.workflowId };
    },
    {
      validator: (number) => {
        const entry = blocks.get(number);
        if (!entry) reject(FailureTypes.NotFound, `block ${number} is not known to chain ${state.chainId}`);
        else if (entry.status !== 'failed' && entry.status !== 'cancelled')
          reject(FailureTypes.Conflict, `block ${number} is ${entry.status}; only failed or cancelled blocks can be retried`);
      },
    },
  );

  // ---- block outcomes ----------------------------------------------------------------------
  setHandler(blockSettledSignal, (settlement) => {
    const entry = blocks.get(settlement.number);
    // A stale report (an earlier incarnation, or a block forgotten by a reorg) changes nothing.
    if (!entry || entry.workflowId !== settlement.workflowId || entry.status !== 'proving') return;
    entry.segmentProgress = settlement.segments;
    if (settlement.outcome === 'proved') {
      entry.status = 'proved';
      entry.provedAt = Date.now();
      entry.proofRef = settlement.proofRef;
      entry.provingMs = settlement.provingMs;
      entry.overheadMs = settlement.overheadMs;
    } else {
      entry.status = settlement.outcome;
      entry.error = settlement.error ?? settlement.outcome;
    }
    dirty = true;
  });

  setHandler(chainSnapshotQuery, () => snapshot());
  setHandler(blockEntryQuery, (number) => blocks.get(number) ?? null);

  function snapshot(): ChainSnapshot {
    const entries = [...blocks.values()].sort((a, b) => a.number - b.number);
    const numbersWith = (status: BlockEntry['status']) => entries.filter((entry) => entry.status === status).map((entry) => entry.number);
    const gaps: number[] = [];
    if (state.nextNumber !== null && entries.length) {
      const highest = entries[entries.length - 1].number;
      for (let n = state.nextNumber; n < highest && gaps.length < MAX_GAPS_LISTED; n += 1) if (!blocks.has(n)) gaps.push(n);
    }
    return {
      chainId: state.chainId,
      mode: state.config.mode,
      maxInFlight: state.config.maxInFlight,
      slotSeconds: state.config.slotSeconds,
      defaults: state.config.defaults,
      startNumber: state.config.startNumber,
      paused: state.paused,
      finalizedHead: state.finalizedHead,
      nextToFinalize: state.nextNumber,
      inFlight: numbersWith('proving'),
      queued: numbersWith('queued'),
      proved: numbersWith('proved'),
      failed: [...numbersWith('failed'), ...numbersWith('cancelled')].sort((a, b) => a - b),
      failures: entries
        .filter((entry) => entry.error !== undefined)
        .map((entry) => ({ number: entry.number, error: entry.error as string })),
      gaps,
    };
  }

  // ---- proving -----------------------------------------------------------------------------
  const startBlock = async (entry: BlockEntry): Promise<void> => {
    const headDistance = state.nextNumber === null ? 0 : Math.max(0, entry.number - state.nextNumber);
    const job: BlockJobInput = {
      chainId: state.chainId,
      number: entry.number,
      hash: entry.hash,
      segments: entry.segments,
      gpuClass: entry.gpuClass,
      prover: entry.prover,
      input: entry.input ?? {},
      // The chain head's tasks go first when GPU slots are scarce.
      options: {
        priorityKey: segmentPriority(headDistance),
        ...(state.config.defaults.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: state.config.defaults.heartbeatTimeoutMs } : {}),
      },
      deadlineAt: entry.deadlineAt,
    };
    entry.status = 'proving';
    entry.startedAt = Date.now();
    delete entry.input;
    try {
      await startChild(blockProofWorkflow, {
        workflowId: entry.workflowId,
        taskQueue: ORCHESTRATION_TASK_QUEUE,
        args: [job],
        // Blocks keep proving across this workflow's continue-as-new and report back by signal.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: blockSearchAttributes(state.chainId, entry.number, 'proving'),
      });
    } catch (error) {
      if (blocks.get(entry.number) === entry && entry.status === 'proving') {
        entry.status = 'failed';
        entry.error = `could not start the block workflow: ${(error as Error).message}`;
      }
    }
  };

  const schedule = (): void => {
    if (state.paused) return;
    const entries = [...blocks.values()];
    let inFlight = entries.filter((entry) => entry.status === 'proving').length;
    const queued = entries.filter((entry) => entry.status === 'queued').sort((a, b) => a.number - b.number);
    for (const entry of queued) {
      if (inFlight >= provingLimit(state.config)) break;
      inFlight += 1;
      startsPending += 1;
      void startBlock(entry).finally(() => {
        startsPending -= 1;
        dirty = true;
      });
    }
  };

  /**
   * Finalizes proved blocks strictly in ascending number, beside scheduling rather than in its
   * way: new blocks keep starting while proofs are published. The consecutive proved blocks at
   * the head go out in one publication call (in order), so a burst of proofs costs one
   * activity round trip, not one per block.
   */
  const finalizeInOrder = async (): Promise<void> => {
    for (;;) {
      const batch: BlockEntry[] = [];
      for (let n = state.nextNumber; n !== null && batch.length < PUBLICATION_BATCH; n += 1) {
        const entry = blocks.get(n);
        if (!entry || entry.status !== 'proved') break;
        batch.push(entry);
      }
      if (batch.length === 0) return;
      publishing = batch[batch.length - 1].number;
      try {
        await publisher.publishProofs({
          chainId: state.chainId,
          proofs: batch.map((entry) => ({ number: entry.number, hash: entry.hash, proofRef: entry.proofRef as string })),
        });
      } finally {
        publishing = null;
      }
      for (const entry of batch) {
        entry.status = 'finalized';
        entry.finalizedAt = Date.now();
        state.finalizedHead = entry.number;
        state.nextNumber = entry.number + 1;
        // Not awaited: the next block's finalization need not wait for this one's workflow to close.
        notificationsPending += 1;
        void getExternalWorkflowHandle(entry.workflowId)
          .signal(blockFinalizedSignal)
          .catch(() => undefined)
          .finally(() => {
            notificationsPending -= 1;
          });
      }
      dirty = true;
    }
  };

  let finalizing = false;
  // A publication that fails for good (another proof already published for a number) stops the
  // chain as it did when finalization ran inside the main loop: the main loop rethrows it.
  let finalizationFailure: unknown;
  const kickFinalizer = (): void => {
    if (finalizing) return;
    finalizing = true;
    void finalizeInOrder()
      .catch((error: unknown) => {
        finalizationFailure = error;
      })
      .finally(() => {
        finalizing = false;
      });
  };

  const pruneFinalized = (): void => {
    const finalized = [...blocks.values()].filter((entry) => entry.status === 'finalized').sort((a, b) => a.number - b.number);
    for (const entry of finalized.slice(0, Math.max(0, finalized.length - (input.finalizedKept ?? FINALIZED_KEPT))))
      blocks.delete(entry.number);
    for (const number of Object.keys(state.incarnations)) {
      if (state.finalizedHead !== null && Number(number) <= state.finalizedHead) delete state.incarnations[number];
    }
  };

  const shouldContinueAsNew = (): boolean =>
    workflowInfo().continueAsNewSuggested ||
    (input.continueAsNewAfterBlocks !== undefined && acceptedThisRun >= input.continueAsNewAfterBlocks);

  for (;;) {
    await condition(() => dirty || finalizationFailure !== undefined || shouldContinueAsNew());
    if (finalizationFailure !== undefined) throw finalizationFailure;
    dirty = false;
    schedule();
    kickFinalizer();
    pruneFinalized();
    if (shouldContinueAsNew()) {
      // Carry everything: queued and in-flight blocks stay as they are; in-flight ones report to the next run.
      await condition(() => !finalizing && startsPending === 0 && notificationsPending === 0 && allHandlersFinished());
      state.blocks = [...blocks.values()];
      await continueAsNew<typeof chainSequencerWorkflow>({ ...input, state });
    }
  }
}
