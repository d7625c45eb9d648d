import {
  allHandlersFinished,
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { OrchestrationActivities } from '../activities/types';
import type { BlockEntry, ChainConfig, ChainState } from '../domain/chain';
import { describeFailure, FailureTypes } from '../domain/failures';
import { blockSearchAttributes, ORCHESTRATION_TASK_QUEUE } from '../domain/names';
import { ChainBook, ChainRefusal, type BlockStart, type PendingPublication } from '../sequencing/chain-book';
import { finalizedReport } from '../sequencing/finalized-report';
import { blockProofWorkflow } from './block';
import {
  blockEntryQuery,
  blockFinalizedSignal,
  blockSettledSignal,
  chainSnapshotQuery,
  configureChainUpdate,
  recentBlocksQuery,
  reorgUpdate,
  retryBlockUpdate,
  setPausedUpdate,
  haltChainUpdate,
  submitBlockUpdate,
} from './definitions';
import { PUBLICATION_RETRY } from './policy';
import { chainEvents } from './sinks';

export interface SequencerInput {
  chainId: string;
  /** Used when the chain is new; afterwards the carried state holds the configuration. */
  config: ChainConfig;
  /** The book carried through continue-as-new; absent for a new (or recovered) chain, which reads its head from the publication records. */
  state?: ChainState;
  /** Continue-as-new after this many accepted blocks (tests); otherwise when Temporal suggests it. */
  continueAsNewAfterBlocks?: number;
  /** Finalized blocks kept in state (tests make it small to push blocks out of the window). */
  finalizedKept?: number;
  /** How often blocks started by an earlier run are checked for having closed without reporting (default 30 s). */
  reconcileEveryMs?: number;
}

/** Children being started at once: bounds the commands, and so the size, of one workflow task. */
const MAX_STARTS_PENDING = 16;
const RECONCILE_EVERY_MS = 30_000;

const orchestration = proxyActivities<OrchestrationActivities>({
  taskQueue: ORCHESTRATION_TASK_QUEUE,
  startToCloseTimeout: '1 minute',
  // Bounded: a publication that keeps failing halts the chain (visibly) instead of wedging it.
  scheduleToCloseTimeout: '10 minutes',
  retry: PUBLICATION_RETRY,
});

/**
 * Sequencers of this build publish in a local activity beside the workflow: no task queue round
 * trip and no second workflow task on every block's way to finalization. Runs started before keep
 * the publication activity their histories record.
 */
export const LOCAL_PUBLICATION_PATCH = 'sequencer-local-publication';

const localPublication = proxyLocalActivities<Pick<OrchestrationActivities, 'publishProofs'>>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '10 minutes',
  retry: PUBLICATION_RETRY,
});

/**
 * One per chain: wires the chain's book (sequencing/chain-book.ts) to Temporal. Updates and
 * signals go to the book; the blocks it decides to start become child workflows with
 * deterministic ids, which report back by signal (so they survive this workflow's
 * continue-as-new); the publications it hands out become activities. Nothing here decides
 * anything about the chain: that is the book's, and tested without a server.
 */
export async function chainSequencerWorkflow(input: SequencerInput): Promise<void> {
  const options = {
    finalizedKept: input.finalizedKept,
    // A sink: outside the history, never called on replay.
    onFinalized: (entry: Readonly<BlockEntry>) => chainEvents.blockFinalized(finalizedReport(input.chainId, entry)),
  };
  const book = input.state ? ChainBook.fromState(input.state, options) : ChainBook.create(input.chainId, input.config, options);
  const publication = patched(LOCAL_PUBLICATION_PATCH) ? localPublication : orchestration;
  let dirty = true;
  let acceptedThisRun = 0;
  let notificationsPending = 0;
  /** Children whose start is in flight: a reorg waits for their start before it cancels them. */
  const starting = new Map<string, Promise<void>>();
  /** Children this run started: their closing is seen through their handle; the others are reconciled. */
  const watched = new Set<string>();

  const guard = (check: () => unknown): void => {
    try {
      check();
    } catch (error) {
      if (!(error instanceof ChainRefusal)) throw error;
      throw ApplicationFailure.create({
        message: error.message,
        type: error.type,
        nonRetryable: true,
        details: error.retryAfterSeconds !== undefined ? [{ retryAfterSeconds: error.retryAfterSeconds }] : [],
      });
    }
  };
  const changed = <T>(value: T): T => {
    dirty = true;
    return value;
  };

  // A new run without a book (a new chain, or a lost one recovered) first reads what was already
  // published for the chain: that is final and never accepted again. Handlers are set at once
  // (Temporal rejects an update that finds no handler), so until then they wait and check late.
  let ready = input.state !== undefined;
  if (!ready) {
    void (async () => {
      // Until the publisher answers, nothing is accepted: guessing the head could take a published number again.
      for (;;) {
        try {
          book.recoverPublishedHead(await orchestration.publishedHead({ chainId: input.chainId }));
          break;
        } catch {
          await sleep(RECONCILE_EVERY_MS);
        }
      }
      ready = true;
      dirty = true;
    })();
  }
  /**
   * Checks and applies a request in one synchronous step: the validator's check may be stale by
   * the time the handler runs (other updates of the same activation ran in between), so the
   * check runs again right before the change, and a request refused then fails alone, never the
   * workflow task. Before the head is known, the request waits for it first.
   */
  const checkThenApply = <T>(check: () => unknown, apply: () => T): T | Promise<T> => {
    const run = (): T => {
      guard(check);
      return apply();
    };
    return ready ? run() : condition(() => ready).then(run);
  };
  const validate = (check: () => unknown): void => {
    if (ready) guard(check);
  };

  setHandler(
    submitBlockUpdate,
    (submission) =>
      checkThenApply(
        () => book.checkSubmission(submission),
        () => {
          const result = book.submit(submission, Date.now());
          if (result.outcome === 'accepted') acceptedThisRun += 1;
          return changed(result);
        },
      ),
    { validator: (submission) => validate(() => book.checkSubmission(submission)) },
  );
  setHandler(
    configureChainUpdate,
    (body) =>
      checkThenApply(
        () => book.checkConfigure(body),
        () => {
          book.configure(body);
          return changed(book.snapshot());
        },
      ),
    { validator: (body) => validate(() => book.checkConfigure(body)) },
  );
  setHandler(setPausedUpdate, (paused) =>
    checkThenApply(
      () => undefined,
      () => {
        book.setPaused(paused);
        return changed(book.snapshot());
      },
    ),
  );
  setHandler(
    haltChainUpdate,
    (body) =>
      checkThenApply(
        () => book.checkHalt(body),
        () => {
          book.halt(body.reason);
          return changed(book.snapshot());
        },
      ),
    { validator: (body) => validate(() => book.checkHalt(body)) },
  );
  setHandler(
    reorgUpdate,
    async (body) => {
      const { cancel, forgotten } = await checkThenApply(
        () => book.checkReorg(body),
        () => changed(book.reorg(body)),
      );
      // Cancelling a block workflow cancels its activities, which stops the running provers; a
      // child still being started is cancelled once it exists, or it would prove unseen.
      await Promise.all(
        cancel.map(async ({ workflowId }) => {
          await starting.get(workflowId);
          await getExternalWorkflowHandle(workflowId)
            .cancel()
            .catch(() => undefined);
        }),
      );
      return { cancelled: cancel.map((block) => block.number), forgotten };
    },
    { validator: (body) => validate(() => book.checkReorg(body)) },
  );
  setHandler(
    retryBlockUpdate,
    (number) =>
      checkThenApply(
        () => book.checkRetry(number),
        () => changed(book.retry(number)),
      ),
    { validator: (number) => validate(() => book.checkRetry(number)) },
  );
  setHandler(blockSettledSignal, (settlement) => {
    if (book.settle(settlement, Date.now())) dirty = true;
  });
  setHandler(chainSnapshotQuery, () => book.snapshot());
  setHandler(blockEntryQuery, (number) => book.entry(number) ?? null);
  setHandler(recentBlocksQuery, (limit) => book.recentEntries(limit));

  const startBlock = async (start: BlockStart): Promise<void> => {
    const { chainId } = book;
    const child = startChild(blockProofWorkflow, {
      workflowId: start.workflowId,
      taskQueue: ORCHESTRATION_TASK_QUEUE,
      args: [start.job],
      // Blocks keep proving across this workflow's continue-as-new and report back by signal.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: blockSearchAttributes(chainId, start.number, 'proving', start.job.gpuClass),
    });
    starting.set(
      start.workflowId,
      child.then(
        () => undefined,
        () => undefined,
      ),
    );
    try {
      const handle = await child;
      book.childStarted(start.workflowId, handle.firstExecutionRunId);
      watched.add(start.workflowId);
      // A block that closes without its report (terminated, timed out, a task that fails for
      // good) fails here, visibly and retryably, instead of holding its chain forever.
      void handle
        .result()
        .then(
          () => undefined,
          (error: unknown) => {
            if (book.closedWithoutReport(start.workflowId, `block workflow closed without reporting: ${describeFailure(error)}`))
              dirty = true;
          },
        )
        .finally(() => watched.delete(start.workflowId));
    } catch (error) {
      if (book.closedWithoutReport(start.workflowId, `could not start the block workflow: ${describeFailure(error)}`)) dirty = true;
    } finally {
      starting.delete(start.workflowId);
      dirty = true;
    }
  };

  const publish = async (batch: PendingPublication): Promise<void> => {
    let finalized: string[];
    try {
      await publication.publishProofs({ chainId: batch.chainId, proofs: batch.proofs, sources: batch.sources });
      finalized = book.published(Date.now());
    } catch (error) {
      // The blocks before the one refused did go out: they are finalized, the halt is at that one.
      if (failureType(error) === FailureTypes.UnconfirmedSettlement) {
        const refused = book.settlementRefuted(describeFailure(error), publishedBeforeFailure(error), Date.now());
        finalized = refused.finalized;
        // Its run may still be proving (the report came before it did): stop it, a retry proves the block again.
        notificationsPending += 1;
        void getExternalWorkflowHandle(refused.refuted)
          .cancel()
          .catch(() => undefined)
          .finally(() => {
            notificationsPending -= 1;
          });
      } else {
        finalized = book.publicationFailed(describeFailure(error), publishedBeforeFailure(error), Date.now());
      }
    }
    for (const workflowId of finalized) {
      // Not awaited: the next block's finalization need not wait for this one's workflow to close.
      notificationsPending += 1;
      void getExternalWorkflowHandle(workflowId)
        .signal(blockFinalizedSignal)
        .catch(() => undefined)
        .finally(() => {
          notificationsPending -= 1;
        });
    }
    dirty = true;
  };

  // Blocks started by an earlier run of this workflow cannot be watched through a handle: an
  // activity asks Temporal which of them closed, now and then while any are proving.
  const unwatched = (): string[] => book.provingWorkflowIds().filter((id) => !watched.has(id) && !starting.has(id));
  void (async () => {
    for (;;) {
      await condition(() => unwatched().length > 0);
      try {
        const closed = await orchestration.closedBlockWorkflows({ workflowIds: unwatched() });
        for (const { workflowId, status } of closed) {
          if (book.closedWithoutReport(workflowId, `block workflow closed without reporting: ${status}`)) dirty = true;
        }
      } catch {
        // Temporal unreachable for the activity's whole budget: the next round asks again.
      }
      await sleep(input.reconcileEveryMs ?? RECONCILE_EVERY_MS);
    }
  })();

  const continueAsNewDue = (): boolean =>
    workflowInfo().continueAsNewSuggested ||
    (input.continueAsNewAfterBlocks !== undefined && acceptedThisRun >= input.continueAsNewAfterBlocks);
  const quiescent = (): boolean => !book.publicationPending && starting.size === 0 && notificationsPending === 0 && allHandlersFinished();

  for (;;) {
    await condition(() => dirty || (continueAsNewDue() && quiescent()));
    dirty = false;
    if (continueAsNewDue()) {
      // Nothing new starts once continue-as-new is due, so the run goes quiet soon (a pending
      // publication is bounded by its timeout); queued and in-flight blocks carry over as they are.
      if (quiescent()) await continueAsNew<typeof chainSequencerWorkflow>({ ...input, state: book.toState() });
      continue;
    }
    for (const start of book.nextStarts(MAX_STARTS_PENDING - starting.size, Date.now())) void startBlock(start);
    const batch = book.nextPublication();
    if (batch) void publish(batch);
  }
}

/**
 * The application failure a publication ended with: an activity's is wrapped in an ActivityFailure,
 * a local activity's may come as it was thrown.
 */
function applicationFailure(error: unknown): ApplicationFailure | undefined {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) return error.cause;
  return error instanceof ApplicationFailure ? error : undefined;
}

function failureType(error: unknown): string | undefined {
  return applicationFailure(error)?.type ?? undefined;
}

/** How many proofs of the batch went out before the publication stopped (a conflict or an unconfirmed report). */
function publishedBeforeFailure(error: unknown): number {
  const type = failureType(error);
  if (type !== FailureTypes.PublicationConflict && type !== FailureTypes.UnconfirmedSettlement) return 0;
  const published = (applicationFailure(error)?.details?.[0] as { published?: number } | undefined)?.published;
  return typeof published === 'number' ? published : 0;
}
