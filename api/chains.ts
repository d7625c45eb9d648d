import { Client, WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { BlockProofResult } from '../domain/block';
import { workflowUiUrl, type TemporalSettings } from '../config/temporal';
import type { BlockEntry, BlockSubmission, ChainConfig, ChainConfigBody, ReorgBody, SubmitResult } from '../domain/chain';
import { FailureTypes, isRejectionType, type RejectionType } from '../domain/failures';
import { finalizedBlockQuery, ORCHESTRATION_TASK_QUEUE, SEARCH_ATTRIBUTES, sequencerWorkflowId } from '../domain/names';
import type { chainSequencerWorkflow, SequencerInput } from '../workflows/sequencer';
import {
  blockEntryQuery,
  blockProgressQuery,
  chainSnapshotQuery,
  configureChainUpdate,
  reorgUpdate,
  retryBlockUpdate,
  setPausedUpdate,
  submitBlockUpdate,
} from '../workflows/definitions';
import { KeyedLimiter } from './keyed-limiter';
import type { BlockView, ChainView } from './schemas';

/** A request the chain refused; its failure type maps to one HTTP status (api/app.ts). */
export class ChainRejection extends Error {
  constructor(
    readonly type: RejectionType,
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
  /** Finalized blocks each sequencer keeps in its window (tests); else the sequencer's default. */
  finalizedKept?: number;
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
    // Long-finalized blocks leave the sequencer's window; their workflow still holds the result. The
    // finalized incarnation is found by its search attributes, so retried and reorged blocks are too.
    const snapshot = await this.chain(chainId);
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
          timings: { provingMs: result.timings.criticalPathMs, overheadMs: result.timings.overheadMs },
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

  /** The Temporal Web UI page of a workflow. */
  uiUrl(workflowId: string): string {
    return workflowUiUrl(this.options.settings, workflowId);
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
      finalizedKept: this.options.finalizedKept,
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
    if (error instanceof WorkflowNotFoundError) {
      throw new ChainRejection(FailureTypes.NotFound, 'chain not found: configure it with PUT or submit a block first');
    }
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && isRejectionType(error.cause.type)) {
      throw new ChainRejection(error.cause.type, error.cause.message);
    }
    throw error;
  }
}
