import { Client, WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { BlockProofResult } from '../domain/block';
import type { BlockEntry, BlockSubmission, ChainConfig, ChainConfigBody, ReorgBody, SubmitResult } from '../domain/chain';
import { blockWorkflowId, ORCHESTRATION_TASK_QUEUE, SEARCH_ATTRIBUTES, sequencerWorkflowId } from '../domain/names';
import { workflowUiUrl, type TemporalSettings } from '../infra/temporal/settings';
import type { chainSequencerWorkflow, SequencerInput } from '../workflows/sequencer';
import {
  blockEntryQuery,
  blockProgressQuery,
  chainSnapshotQuery,
  configureChainUpdate,
  RejectionTypes,
  reorgUpdate,
  retryBlockUpdate,
  setPausedUpdate,
  submitBlockUpdate,
} from '../workflows/definitions';
import type { BlockView, ChainView } from './schemas';

/** A request the chain refused; `kind` maps to an HTTP status. */
export class ChainRejection extends Error {
  constructor(
    readonly kind: 'invalid' | 'conflict' | 'not_found',
    message: string,
  ) {
    super(message);
  }
}

export interface ChainServiceOptions {
  client: Client;
  settings: TemporalSettings;
  /** Configuration of a chain that receives blocks before any PUT. */
  defaults: ChainConfig;
  /** Forces the sequencer to continue-as-new after this many blocks (tests); else Temporal decides. */
  continueAsNewAfterBlocks?: number;
}

/**
 * At most `limit` calls at once per key, the rest wait their turn. A burst of hundreds of
 * concurrent updates to one sequencer made its workflow tasks time out and updates fail;
 * a few in flight per chain keeps it busy without that.
 */
class KeyedLimiter {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(private readonly limit: number) {}

  async run<T>(key: string, call: () => Promise<T>): Promise<T> {
    if ((this.active.get(key) ?? 0) >= this.limit) {
      await new Promise<void>((resolve) => this.waiting.set(key, [...(this.waiting.get(key) ?? []), resolve]));
    }
    this.active.set(key, (this.active.get(key) ?? 0) + 1);
    try {
      return await call();
    } finally {
      const next = this.waiting.get(key)?.shift();
      this.active.set(key, (this.active.get(key) ?? 1) - 1);
      if (next) next();
      else if (this.active.get(key) === 0) {
        this.active.delete(key);
        this.waiting.delete(key);
      }
    }
  }
}

/** Everything the API asks of Temporal, through the client only. */
export class ChainService {
  private readonly updatesPerChain = new KeyedLimiter(8);

  constructor(private readonly options: ChainServiceOptions) {}

  async submitBlock(chainId: string, submission: BlockSubmission): Promise<SubmitResult> {
    return this.updatesPerChain.run(chainId, () =>
      this.withStart(chainId, (startWorkflowOperation) =>
        this.options.client.workflow.executeUpdateWithStart(submitBlockUpdate, { args: [submission], startWorkflowOperation }),
      ),
    );
  }

  async configure(chainId: string, body: ChainConfigBody): Promise<ChainView> {
    return this.withStart(chainId, (startWorkflowOperation) =>
      this.options.client.workflow.executeUpdateWithStart(configureChainUpdate, { args: [body], startWorkflowOperation }),
    );
  }

  async chain(chainId: string): Promise<ChainView> {
    return translate(() => this.sequencer(chainId).query(chainSnapshotQuery));
  }

  async setPaused(chainId: string, paused: boolean): Promise<ChainView> {
    return translate(() => this.sequencer(chainId).executeUpdate(setPausedUpdate, { args: [paused] }));
  }

  async reorg(chainId: string, body: ReorgBody): Promise<{ cancelled: number[]; forgotten: number[] }> {
    return translate(() => this.sequencer(chainId).executeUpdate(reorgUpdate, { args: [body] }));
  }

  async retry(chainId: string, number: number): Promise<{ number: number; workflowId: string }> {
    return translate(() => this.sequencer(chainId).executeUpdate(retryBlockUpdate, { args: [number] }));
  }

  async block(chainId: string, number: number): Promise<BlockView> {
    const entry = await translate(() => this.sequencer(chainId).query(blockEntryQuery, number));
    if (entry) return this.viewOf(chainId, entry);
    // Long-finalized blocks leave the sequencer's window; their workflow still holds the result.
    const snapshot = await this.chain(chainId);
    if (snapshot.finalizedHead !== null && number <= snapshot.finalizedHead) {
      const workflowId = blockWorkflowId(chainId, number);
      try {
        const result: BlockProofResult = await this.options.client.workflow.getHandle(workflowId).result();
        return {
          chainId,
          number,
          hash: result.block.hash,
          status: 'finalized',
          workflowId,
          uiUrl: workflowUiUrl(this.options.settings, workflowId),
          proof: { ref: result.proofRef, verified: result.verified },
          timings: { provingMs: result.timings.criticalPathMs, overheadMs: result.timings.overheadMs },
        };
      } catch {
        // retried or gone past retention: unknown here
      }
    }
    throw new ChainRejection('not_found', `block ${number} is not known to chain ${chainId}`);
  }

  private async viewOf(chainId: string, entry: BlockEntry): Promise<BlockView> {
    const view: BlockView = {
      chainId,
      number: entry.number,
      hash: entry.hash,
      status: entry.status,
      workflowId: entry.workflowId,
      uiUrl: workflowUiUrl(this.options.settings, entry.workflowId),
      timings: {
        submittedAt: iso(entry.submittedAt),
        startedAt: iso(entry.startedAt),
        provedAt: iso(entry.provedAt),
        finalizedAt: iso(entry.finalizedAt),
        provingMs: entry.provingMs,
        overheadMs: entry.overheadMs,
      },
    };
    if (entry.status === 'queued') view.segments = { total: entry.segments, done: 0, running: 0, failed: 0 };
    if (entry.segmentProgress) view.segments = entry.segmentProgress;
    if (entry.status === 'proving') {
      try {
        const progress = await this.options.client.workflow.getHandle(entry.workflowId).query(blockProgressQuery);
        view.segments = progress.segments;
        if (progress.status === 'aggregating') view.status = 'aggregating';
      } catch {
        // just started: no progress to show yet
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

  private sequencer(chainId: string) {
    return this.options.client.workflow.getHandle<typeof chainSequencerWorkflow>(sequencerWorkflowId(chainId));
  }

  private withStart<T>(
    chainId: string,
    run: (operation: WithStartWorkflowOperation<typeof chainSequencerWorkflow>) => Promise<T>,
  ): Promise<T> {
    const input: SequencerInput = {
      chainId,
      config: this.options.defaults,
      continueAsNewAfterBlocks: this.options.continueAsNewAfterBlocks,
    };
    const operation = new WithStartWorkflowOperation<typeof chainSequencerWorkflow>('chainSequencerWorkflow', {
      workflowId: sequencerWorkflowId(chainId),
      taskQueue: ORCHESTRATION_TASK_QUEUE,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.ChainId, value: chainId }],
    });
    return translate(() => run(operation));
  }
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** Turns the sequencer's rejections into ChainRejection; anything else propagates as a server fault. */
async function translate<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError)
      throw new ChainRejection('not_found', 'chain not found: configure it with PUT or submit a block first');
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      const kind = (
        {
          [RejectionTypes.InvalidRequest]: 'invalid',
          [RejectionTypes.Conflict]: 'conflict',
          [RejectionTypes.NotFound]: 'not_found',
        } as const
      )[error.cause.type as keyof typeof RejectionTypes];
      if (kind) throw new ChainRejection(kind, error.cause.message);
    }
    throw error;
  }
}
