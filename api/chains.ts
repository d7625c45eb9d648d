import {
  Client,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { proverKey, type BlockProgress, type BlockProofResult, type ProverProgress, type ProverStatus } from '../domain/block';
import { workflowUiUrl, type TemporalSettings } from '../config/temporal';
import {
  applyChainConfig,
  ChainConfigBodySchema,
  type BlockEntry,
  type BlockSubmission,
  type ChainConfig,
  type ChainConfigBody,
  type HaltBody,
  type ReorgBody,
  type SubmitResult,
} from '../domain/chain';
import { describeFailure, FailureTypes, isRejectionType, type RejectionType } from '../domain/failures';
import {
  finalizedBlockQuery,
  ORCHESTRATION_TASK_QUEUE,
  runningBlocksQuery,
  SEARCH_ATTRIBUTES,
  SEQUENCERS_QUERY,
  sequencerWorkflowId,
} from '../domain/names';
import type { ArtifactStore } from '../storage/artifact-store';
import { putBlockInput } from '../storage/block-input';
import type { chainSequencerWorkflow, SequencerInput } from '../workflows/sequencer';
import {
  blockEntryQuery,
  blockProgressQuery,
  blockWorkQuery,
  chainSnapshotQuery,
  recentBlocksQuery,
  configureChainUpdate,
  reorgUpdate,
  retryBlockUpdate,
  setPausedUpdate,
  haltChainUpdate,
  submitBlockUpdate,
} from '../workflows/definitions';
import { EndedRunProgress } from './ended-runs';
import { KeyedLimiter, LimiterBusyError, LimiterTimeoutError } from './keyed-limiter';
import type { Logger } from '../observability/logger';
import { BlockWorkViewSchema, type BlockProversView, type BlockView, type BlockWorkView, type ChainView } from './schemas';

/** A task queue as Temporal reports it: its backlog and the workers polling it. */
export interface TaskQueueStat {
  taskQueue: string;
  backlog: number;
  backlogAgeSeconds: number;
  pollers: number;
}

/**
 * Every chain the namespace holds, for the metrics: the running ones' views, the running ones
 * that did not answer in time, and the ids of those whose sequencer closed.
 */
export interface ChainStates {
  running: ChainView[];
  unreadable: string[];
  stopped: string[];
}

/** Chains listed for the metrics at most (a larger namespace is cut here, and says so in a log line). */
const MAX_CHAINS_LISTED = 1_000;

/**
 * A request the API could not carry out now, to be sent again after `retryAfterSeconds`:
 * - `busy` (429): too many requests to the chain wait for a turn;
 * - `unavailable` (503): the chain or Temporal did not answer in time (the sequencer's worker is
 *   down or stuck, or the Temporal server is unreachable). The request may still be applied
 *   later; every request is idempotent, so sending it again is safe.
 */
export class RetryLater extends Error {
  constructor(
    readonly reason: 'busy' | 'unavailable',
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A request the chain refused; its failure type maps to one HTTP status (api/app.ts). */
export class ChainRejection extends Error {
  constructor(
    readonly type: RejectionType,
    message: string,
    /** For BeyondWindow: the Retry-After the client gets. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export interface ChainServiceOptions {
  client: Client;
  settings: TemporalSettings;
  /** Where block inputs are stored at admission; the workers read them there (the same store as theirs). */
  inputs: ArtifactStore;
  /** Configuration of a chain that receives blocks before any PUT. */
  defaults: ChainConfig;
  /** Forces the sequencer to continue-as-new after this many blocks (tests); else Temporal decides. */
  continueAsNewAfterBlocks?: number;
  /** Finalized blocks each sequencer keeps in its window (tests); else the sequencer's default. */
  finalizedKept?: number;
  /** How often a sequencer checks blocks an earlier run started for having closed unreported (tests); else its default. */
  reconcileEveryMs?: number;
  /** Deadline of each request's Temporal calls, waiting for a turn included (default 10 s). */
  temporalTimeoutMs?: number;
  /** Requests to one chain that may wait for a turn beyond the 8 running (default 512). */
  maxWaitingPerChain?: number;
  logger?: Logger;
}

/** Requests to one sequencer at once; more wait their turn. */
const CALLS_PER_CHAIN = 8;
/** Block workflow progress queries of one chain at once; more wait their turn. */
const PROGRESS_QUERIES_PER_CHAIN = 16;

/** Everything the API asks of Temporal, through the client only. */
export class ChainService {
  private readonly callsPerChain: KeyedLimiter;
  /** Block workflow progress queries of one chain at once (a block list asks one per block in flight). */
  private readonly progressQueries = new KeyedLimiter(PROGRESS_QUERIES_PER_CHAIN);
  private readonly endedRuns = new EndedRunProgress();
  private readonly timeoutMs: number;

  constructor(private readonly options: ChainServiceOptions) {
    this.timeoutMs = options.temporalTimeoutMs ?? 10_000;
    this.callsPerChain = new KeyedLimiter(CALLS_PER_CHAIN, options.maxWaitingPerChain ?? 512);
  }

  async submitBlock(chainId: string, submission: BlockSubmission): Promise<SubmitResult> {
    return this.bounded(chainId, async () => {
      // The input is stored before the chain hears of the block (in the request's turn and
      // deadline: a busy chain stores nothing); only its reference enters Temporal.
      const { input, ...block } = submission;
      const inputRef = await putBlockInput(this.options.inputs, input);
      const admission = { ...block, ...(inputRef !== undefined ? { inputRef } : {}) };
      return this.withStart(chainId, (startWorkflowOperation) =>
        this.options.client.workflow.executeUpdateWithStart(submitBlockUpdate, { args: [admission], startWorkflowOperation }),
      );
    });
  }

  /**
   * Resolves when Temporal answers for this API's namespace within 5 s (the API's readiness): the
   * namespace, its credentials and the server all in one call. Probes arriving together share
   * one call; why it failed goes to the log, not to the unauthenticated prober.
   */
  ready(): Promise<void> {
    this.readiness ??= this.checkReadiness().finally(() => {
      this.readiness = undefined;
    });
    return this.readiness;
  }

  private readiness: Promise<void> | undefined;

  private async checkReadiness(): Promise<void> {
    const { client, settings } = this.options;
    const deadline = Date.now() + Math.min(this.timeoutMs, 5_000);
    try {
      await this.withinDeadline(deadline, () => client.workflowService.describeNamespace({ namespace: settings.namespace }));
    } catch (error) {
      this.options.logger?.warn(
        { namespace: settings.namespace, reason: describeFailure(error) },
        'Temporal is not ready for the namespace',
      );
      throw new RetryLater('unavailable', 'Temporal does not answer for this namespace', 5);
    }
  }

  /**
   * Runs one request's Temporal calls for a chain: after at most CALLS_PER_CHAIN others of that
   * chain (busy when too many wait), all within one deadline (unavailable past it).
   */
  private async bounded<T>(chainId: string, call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    const retryAfter = Math.max(1, Math.ceil(this.timeoutMs / 1_000));
    try {
      return await this.callsPerChain.run(chainId, () => this.withinDeadline(deadline, call), deadline);
    } catch (error) {
      if (error instanceof ChainRejection) throw error;
      if (error instanceof LimiterBusyError)
        throw new RetryLater('busy', `chain ${chainId} has too many requests waiting (${error.message}); retry later`, retryAfter);
      if (error instanceof LimiterTimeoutError || Date.now() >= deadline || isUnreachable(error)) {
        throw new RetryLater(
          'unavailable',
          `chain ${chainId} did not answer within ${this.timeoutMs} ms (its sequencer's worker, the Temporal server or the artifact store may be down); ` +
            'the request may still be applied: sending it again is safe',
          retryAfter,
        );
      }
      throw error;
    }
  }

  /**
   * Brings back a chain whose sequencer closed (terminated by an operator or by Temporal): a new
   * sequencer with the last run's configuration, whose finalized head comes from the publication
   * records. Blocks that were not finalized are forgotten and their orphaned workflows
   * terminated; clients submit them again. Refused for a chain that is running or never existed.
   */
  async recover(chainId: string): Promise<ChainView> {
    return this.bounded(chainId, () => this.recoverNow(chainId));
  }

  private async recoverNow(chainId: string): Promise<ChainView> {
    const { client } = this.options;
    const lastRun = this.sequencer(chainId);
    const description = await translate(() => lastRun.describe());
    if (description.status.name === 'RUNNING') {
      throw new ChainRejection(FailureTypes.Conflict, `chain ${chainId} is running: there is nothing to recover`);
    }
    // The last run's own view of its configuration (a query replays the closed run's history),
    // or, when no worker can answer, the configuration it was started with.
    const lastView = await lastRun.query(chainSnapshotQuery).catch(() => undefined);
    const config = lastView
      ? applyChainConfig(
          this.options.defaults,
          ChainConfigBodySchema.parse({
            mode: lastView.mode,
            maxInFlight: lastView.maxInFlight,
            slotSeconds: lastView.slotSeconds,
            maxAhead: lastView.maxAhead,
            defaults: lastView.defaults,
            startNumber: lastView.startNumber,
            // Views of runs from before `every` have none: every block.
            every: lastView.every ?? 1,
          }),
        )
      : await this.startConfigOf(chainId);
    for await (const orphan of client.workflow.list({ query: runningBlocksQuery(chainId) })) {
      await client.workflow
        .getHandle(orphan.workflowId, orphan.runId)
        .terminate(`chain ${chainId} recovered: blocks that were not finalized are submitted again`)
        .catch((error: unknown) => {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
        });
    }
    await client.workflow
      .start<typeof chainSequencerWorkflow>('chainSequencerWorkflow', {
        ...this.startOptions(chainId, { ...this.sequencerInput(chainId), config }),
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      })
      .catch((error: unknown) => {
        if (error instanceof WorkflowExecutionAlreadyStartedError)
          throw new ChainRejection(FailureTypes.Conflict, `chain ${chainId} is already being recovered`);
        throw error;
      });
    // Answered once the new run has read its head from the publication records (updates wait for that).
    return translate(() => this.sequencer(chainId).executeUpdate(setPausedUpdate, { args: [lastView?.paused ?? false] }));
  }

  /**
   * `call` with every gRPC call in it bounded by `deadline` and aborted there. The race is needed
   * too: the client's retry interceptor waits out its backoff between attempts whatever the deadline.
   */
  private async withinDeadline<T>(deadline: number, call: () => Promise<T>): Promise<T> {
    const { client } = this.options;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => {
          controller.abort();
          reject(new LimiterTimeoutError('the deadline passed'));
        },
        Math.max(0, deadline - Date.now()),
      );
    });
    const running = client.withAbortSignal(controller.signal, () => client.withDeadline(deadline, call));
    running.catch(() => undefined); // if the deadline wins the race, this rejection has no reader
    try {
      return await Promise.race([running, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  async configure(chainId: string, body: ChainConfigBody): Promise<ChainView> {
    return this.bounded(chainId, () =>
      this.withStart(chainId, (startWorkflowOperation) =>
        this.options.client.workflow.executeUpdateWithStart(configureChainUpdate, { args: [body], startWorkflowOperation }),
      ),
    );
  }

  async chain(chainId: string): Promise<ChainView> {
    return this.bounded(chainId, () => this.snapshot(chainId));
  }

  async setPaused(chainId: string, paused: boolean): Promise<ChainView> {
    return this.bounded(chainId, () =>
      this.onSequencer(chainId, () => this.sequencer(chainId).executeUpdate(setPausedUpdate, { args: [paused] })),
    );
  }

  /** Stops the chain's finalization at its next block until it is resumed or reorged. */
  async halt(chainId: string, body: HaltBody): Promise<ChainView> {
    return this.bounded(chainId, () =>
      this.onSequencer(chainId, () => this.sequencer(chainId).executeUpdate(haltChainUpdate, { args: [body] })),
    );
  }

  /**
   * A proved or finalized block's proof, read from the artifact store by the reference its
   * verified workflow recorded (never a reference a client names).
   */
  async proof(chainId: string, number: number): Promise<{ ref: string; bytes: Uint8Array }> {
    return this.bounded(chainId, async () => {
      const view = await this.blockNow(chainId, number);
      if (!view.proof)
        throw new ChainRejection(FailureTypes.NotFound, `block ${number} of chain ${chainId} has no proof yet (${view.status})`);
      return { ref: view.proof.ref, bytes: await this.options.inputs.get(view.proof.ref) };
    });
  }

  async reorg(chainId: string, body: ReorgBody): Promise<{ cancelled: number[]; forgotten: number[] }> {
    return this.bounded(chainId, () =>
      this.onSequencer(chainId, () => this.sequencer(chainId).executeUpdate(reorgUpdate, { args: [body] })),
    );
  }

  async retry(chainId: string, number: number): Promise<{ number: number; workflowId: string }> {
    return this.bounded(chainId, () =>
      this.onSequencer(chainId, () => this.sequencer(chainId).executeUpdate(retryBlockUpdate, { args: [number] })),
    );
  }

  async block(chainId: string, number: number, options: { work?: boolean } = {}): Promise<BlockView> {
    return this.bounded(chainId, async () => {
      const view = await this.blockNow(chainId, number);
      if (options.work) view.work = await this.workOf(view.workflowId);
      return view;
    });
  }

  /** The newest `limit` blocks a chain holds, highest first, each as its block view. */
  async recentBlocks(chainId: string, limit: number): Promise<BlockView[]> {
    return this.bounded(chainId, async () => {
      const entries = await this.runningOnly(chainId, () => this.sequencer(chainId).query(recentBlocksQuery, limit));
      return Promise.all(entries.map((entry) => this.viewOf(chainId, entry)));
    });
  }

  /** What a block workflow saw finish (each segment's worker and times), or undefined where it cannot answer. */
  private async workOf(workflowId: string): Promise<BlockWorkView | undefined> {
    try {
      // The schema keeps the fields the view shows and drops the rest of each receipt.
      return BlockWorkViewSchema.parse(await this.options.client.workflow.getHandle(workflowId).query(blockWorkQuery));
    } catch {
      return undefined; // not planned yet, or closed before this build kept its work
    }
  }

  /** Every chain's state, for the metrics; within 5 s (less than Prometheus's scrape timeout) or the request deadline if shorter. */
  async chainStates(): Promise<ChainStates> {
    const deadline = Date.now() + Math.min(this.timeoutMs, 5_000);
    return this.withinDeadline(deadline, async () => {
      const runs = new Map<string, boolean>();
      for await (const execution of this.options.client.workflow.list({ query: SEQUENCERS_QUERY, pageSize: 200 })) {
        const running = execution.status.name === 'RUNNING';
        runs.set(execution.workflowId, running || (runs.get(execution.workflowId) ?? false));
        if (runs.size >= MAX_CHAINS_LISTED) break;
      }
      const chainIds = [...runs].map(([workflowId, running]) => ({ chainId: workflowId.replace(/^chain-/, ''), running }));
      const running = chainIds.filter((chain) => chain.running).map(({ chainId }) => chainId);
      // Each query within the deadline less a margin, so one slow sequencer leaves the others' answers.
      const queryBy = deadline - 500;
      const views = await Promise.all(
        running.map((chainId) =>
          this.options.client.withDeadline(queryBy, () => this.sequencer(chainId).query(chainSnapshotQuery)).catch(() => undefined),
        ),
      );
      return {
        running: views.filter((view): view is ChainView => view !== undefined),
        unreadable: running.filter((_chainId, index) => views[index] === undefined),
        stopped: chainIds.filter((chain) => !chain.running).map(({ chainId }) => chainId),
      };
    });
  }

  /** Backlog and pollers of activity task queues (the GPU classes'), for the metrics and KEDA's view of them. */
  async taskQueueStats(taskQueues: string[]): Promise<TaskQueueStat[]> {
    const { client, settings } = this.options;
    const deadline = Date.now() + Math.min(this.timeoutMs, 3_000);
    return this.withinDeadline(deadline, () =>
      Promise.all(
        taskQueues.map(async (taskQueue) => {
          const answer = await client.workflowService.describeTaskQueue({
            namespace: settings.namespace,
            taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
            taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            reportStats: true,
          });
          const age = answer.stats?.approximateBacklogAge;
          return {
            taskQueue,
            backlog: Number(answer.stats?.approximateBacklogCount ?? 0),
            backlogAgeSeconds: Number(age?.seconds ?? 0) + (age?.nanos ?? 0) / 1e9,
            pollers: answer.pollers?.length ?? 0,
          };
        }),
      ),
    );
  }

  private snapshot(chainId: string): Promise<ChainView> {
    return this.runningOnly(chainId, () => this.sequencer(chainId).query(chainSnapshotQuery));
  }

  private async blockNow(chainId: string, number: number): Promise<BlockView> {
    const entry = await this.runningOnly(chainId, () => this.sequencer(chainId).query(blockEntryQuery, number));
    if (entry) return this.viewOf(chainId, entry);
    // Long-finalized blocks leave the sequencer's window; their workflow still holds the result. The
    // finalized incarnation is found by its search attributes, so retried and reorged blocks are too.
    const snapshot = await this.snapshot(chainId);
    if (snapshot.finalizedHead !== null && number <= snapshot.finalizedHead) {
      for await (const execution of this.options.client.workflow.list({ query: finalizedBlockQuery(chainId, number), pageSize: 1 })) {
        const workflowId = execution.workflowId;
        let result: BlockProofResult;
        try {
          // The very run that was listed: a later run under the same id must not answer for it.
          result = await this.options.client.workflow.getHandle(workflowId, execution.runId, { followRuns: false }).result();
        } catch (error) {
          // Listed, then removed past its retention: as unknown as one never listed.
          if (error instanceof WorkflowNotFoundError) break;
          throw error;
        }
        return {
          chainId,
          number,
          hash: result.block.hash,
          status: 'finalized',
          workflowId,
          uiUrl: this.uiUrl(workflowId),
          proof: { ref: result.proofRef, verified: result.verified },
          ...(result.provers && result.quorum !== undefined && result.provers.length > 1
            ? { proofs: { quorum: result.quorum, keepProving: false, provers: result.provers } }
            : {}),
          gpuClass: result.gpuClass,
          prover: result.prover,
          timings: { provingMs: result.timings.criticalPathMs, overheadMs: result.timings.overheadMs, gpuMs: result.timings.gpuMs },
        };
      }
    }
    throw new ChainRejection(FailureTypes.NotFound, `block ${number} is not known to chain ${chainId}`);
  }

  private async viewOf(chainId: string, entry: BlockEntry): Promise<BlockView> {
    const view: BlockView = {
      chainId,
      number: entry.number,
      hash: entry.hash,
      status: entry.status,
      workflowId: entry.workflowId,
      uiUrl: this.uiUrl(entry.workflowId),
      gpuClass: entry.gpuClass,
      prover: entry.prover,
      timings: {
        submittedAt: iso(entry.submittedAt),
        startedAt: iso(entry.startedAt),
        provedAt: iso(entry.provedAt),
        finalizedAt: iso(entry.finalizedAt),
        provingMs: entry.provingMs,
        overheadMs: entry.overheadMs,
        gpuMs: entry.gpuMs,
        deadlineAt: iso(entry.deadlineAt),
      },
    };
    if (entry.status === 'queued') view.segments = { total: entry.segments, done: 0, running: 0, failed: 0 };
    if (entry.segmentProgress) view.segments = entry.segmentProgress;
    if (entry.policy) view.proofs = proversOf(entry);
    // A multi-proof block's workflow knows each prover's state, late proofs (keepProving) included, also after its quorum.
    if (entry.status === 'proving' || (entry.policy && entry.status !== 'queued')) {
      const progress = await this.progressOf(chainId, entry);
      if (progress) {
        if (entry.status === 'proving') view.segments = progress.segments;
        if (entry.status === 'proving' && progress.status === 'aggregating') view.status = 'aggregating';
        if (view.proofs && progress.provers) view.proofs.provers = progress.provers;
      }
    }
    if (entry.deadlineAt !== undefined) {
      view.deadline = { at: new Date(entry.deadlineAt).toISOString() };
      if (entry.provedAt !== undefined) view.deadline.met = entry.provedAt <= entry.deadlineAt;
      else if (entry.deadlineAt < Date.now()) view.deadline.met = false;
    }
    if (entry.proofRef) view.proof = { ref: entry.proofRef, verified: true };
    if (entry.error) view.error = entry.error;
    return view;
  }

  /**
   * A block workflow run's own progress, or undefined where it cannot answer yet (just started). A
   * multi-proof run whose provers have all ended is asked once (`EndedRunProgress`); the queries
   * of one chain's block list run a few at a time, so a first look at a long list of closed runs
   * (each answers by replaying its history) does not flood the workers.
   */
  private async progressOf(chainId: string, entry: BlockEntry): Promise<BlockProgress | undefined> {
    const { runId } = entry;
    const known = runId !== undefined ? this.endedRuns.get(entry.workflowId, runId) : undefined;
    if (known) return known;
    try {
      const progress = await this.progressQueries.run(chainId, () =>
        this.options.client.workflow.getHandle(entry.workflowId, runId).query(blockProgressQuery),
      );
      if (runId !== undefined) this.endedRuns.remember(entry.workflowId, runId, progress);
      return progress;
    } catch {
      return undefined;
    }
  }

  /** The Temporal Web UI page of a workflow. */
  uiUrl(workflowId: string): string {
    return workflowUiUrl(this.options.settings, workflowId);
  }

  private sequencer(chainId: string) {
    return this.options.client.workflow.getHandle<typeof chainSequencerWorkflow>(sequencerWorkflowId(chainId));
  }

  /** The configuration a chain's last sequencer run was started with (from its first history event). */
  private async startConfigOf(chainId: string): Promise<ChainConfig> {
    const history = await this.sequencer(chainId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const lastInput = started ? defaultPayloadConverter.fromPayload<SequencerInput>(started) : undefined;
    return lastInput?.state?.config ?? lastInput?.config ?? this.options.defaults;
  }

  private sequencerInput(chainId: string): SequencerInput {
    return {
      chainId,
      config: this.options.defaults,
      continueAsNewAfterBlocks: this.options.continueAsNewAfterBlocks,
      finalizedKept: this.options.finalizedKept,
      reconcileEveryMs: this.options.reconcileEveryMs,
    };
  }

  private startOptions(chainId: string, input: SequencerInput) {
    return {
      workflowId: sequencerWorkflowId(chainId),
      taskQueue: ORCHESTRATION_TASK_QUEUE,
      args: [input] as [SequencerInput],
      typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.ChainId, value: chainId }],
    };
  }

  /**
   * Runs an update on the chain's sequencer, starting it if the chain is new. A chain that existed
   * is never started again implicitly (REJECT_DUPLICATE): its closed sequencer answers
   * ChainStopped until an operator recovers it.
   */
  private async withStart<T>(
    chainId: string,
    run: (operation: WithStartWorkflowOperation<typeof chainSequencerWorkflow>) => Promise<T>,
  ): Promise<T> {
    // A start operation is used once: each attempt gets its own.
    const operation = () =>
      new WithStartWorkflowOperation<typeof chainSequencerWorkflow>('chainSequencerWorkflow', {
        ...this.startOptions(chainId, this.sequencerInput(chainId)),
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await translate(() => run(operation()));
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError || isAlreadyExists(error)) throw stopped(chainId);
        // The server aborts an Update-with-Start that meets the sequencer's continue-as-new
        // ("WorkflowNotReady"); the update was not applied, so it is sent again.
        if (isAbortedUpdateWithStart(error) && attempt < 5) {
          await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
          continue;
        }
        throw error;
      }
    }
  }

  /**
   * A query of the chain's sequencer, asked beside a look at whether it still runs: a closed
   * sequencer would answer its last state as if nothing happened, so its chain answers ChainStopped.
   */
  private async runningOnly<T>(chainId: string, query: () => Promise<T>): Promise<T> {
    const [answer, description] = await Promise.all([translate(query), translate(() => this.sequencer(chainId).describe())]);
    if (description.status.name !== 'RUNNING') throw stopped(chainId);
    return answer;
  }

  /** An update on a running sequencer; a closed one answers ChainStopped, not "not found". */
  private async onSequencer<T>(chainId: string, call: () => Promise<T>): Promise<T> {
    try {
      return await translate(call);
    } catch (error) {
      if (error instanceof ChainRejection && error.type === FailureTypes.NotFound && (await this.isClosed(chainId))) throw stopped(chainId);
      throw error;
    }
  }

  private async isClosed(chainId: string): Promise<boolean> {
    try {
      return (await this.sequencer(chainId).describe()).status.name !== 'RUNNING';
    } catch {
      return false;
    }
  }
}

function stopped(chainId: string): ChainRejection {
  return new ChainRejection(
    FailureTypes.ChainStopped,
    `chain ${chainId}'s sequencer is closed (terminated or failed): recover it with POST /v1/chains/${chainId}/recover, which restores its finalized head from the publication records`,
  );
}

function isAbortedUpdateWithStart(error: unknown): boolean {
  const grpc = error as { code?: number; details?: string } | null;
  return grpc?.code === 9 && /Update-with-Start could not be executed/.test(grpc.details ?? ''); // gRPC FAILED_PRECONDITION
}

/** gRPC DEADLINE_EXCEEDED, CANCELLED or UNAVAILABLE anywhere in the cause chain: Temporal did not answer. */
function isUnreachable(error: unknown): boolean {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    const code = (current as { code?: unknown }).code;
    if (code === 4 || code === 1 || code === 14) return true;
  }
  return false;
}

function isAlreadyExists(error: unknown): boolean {
  return (error as { code?: number } | null)?.code === 6; // gRPC ALREADY_EXISTS
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** Turns the sequencer's rejections into ChainRejection; anything else propagates as a server fault. */
async function translate<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      throw new ChainRejection(FailureTypes.NotFound, 'chain not found: configure it with PUT or submit a block first');
    }
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && isRejectionType(error.cause.type)) {
      const detail = error.cause.details?.[0] as { retryAfterSeconds?: number } | undefined;
      throw new ChainRejection(error.cause.type, error.cause.message, detail?.retryAfterSeconds);
    }
    throw error;
  }
}

/** Each prover of a multi-proof block as the chain's book knows it (its workflow, when it answers, knows more). */
function proversOf(entry: BlockEntry): BlockProversView {
  const policy = entry.policy as NonNullable<BlockEntry['policy']>;
  const provers = policy.provers.map((run): ProverProgress => {
    const key = proverKey(run);
    const proof = entry.proofs?.find((counted) => proverKey(counted) === key);
    const status: ProverStatus = proof
      ? 'verified'
      : entry.status === 'proving'
        ? 'proving'
        : entry.status === 'cancelled'
          ? 'cancelled'
          : 'failed';
    return {
      key,
      prover: run.prover,
      gpuClass: run.gpuClass,
      status: entry.status === 'queued' ? 'proving' : status,
      counted: proof !== undefined && (entry.status === 'proved' || entry.status === 'finalized'),
      late: false,
      carried: false,
      segments: { total: run.segments, done: proof ? run.segments : 0, running: 0, failed: 0 },
      ...(proof ? { proofRef: proof.proofRef, provingMs: proof.provingMs, gpuMs: proof.gpuMs } : {}),
    };
  });
  return { quorum: policy.quorum, keepProving: policy.keepProving, provers };
}
