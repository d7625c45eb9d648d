import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { PublicationAnswer } from '../domain/block';
import { FailureTypes } from '../domain/failures';
import type { BlockPlan } from '../provers/backend';
import type { ProverRegistry } from '../provers/registry';
import { ConflictingPublicationError, type ProofPublisher, type PublishReceipt } from '../publishing/proof-publisher';
import type { ArtifactStore } from '../storage/artifact-store';
import { claimPublicationUpdate } from '../workflows/definitions';
import { readArtifact, readBlockInput } from './artifacts';
import { backendFor, runProverWork } from './prover-context';
import type {
  ClaimPublicationInput,
  ClosedWorkflow,
  OrchestrationActivities,
  PlanBlockInput,
  PublishProofInput,
  VerifyBlockProofInput,
  VerifyResult,
} from './types';

/** Light work: runs on the orchestration worker beside the workflows. */
export function createOrchestrationActivities(deps: {
  provers: ProverRegistry;
  store: ArtifactStore;
  publisher: ProofPublisher;
}): OrchestrationActivities {
  const { provers, store, publisher } = deps;
  return {
    async claimPublication({ sequencerWorkflowId, claim }: ClaimPublicationInput): Promise<PublicationAnswer> {
      // The sequencer's current run, whatever continue-as-new did since it started this block.
      try {
        return await Context.current()
          .client.workflow.getHandle(sequencerWorkflowId)
          .executeUpdate(claimPublicationUpdate, { args: [claim] });
      } catch (error) {
        // Terminated (or gone): no answer will ever come, and a recovered chain does not know this run.
        if (error instanceof WorkflowNotFoundError)
          throw ApplicationFailure.create({
            message: `the chain's sequencer ${sequencerWorkflowId} is not running`,
            type: FailureTypes.ChainStopped,
            nonRetryable: true,
          });
        throw error;
      }
    },

    async publishProof({ after, ...publication }: PublishProofInput): Promise<PublishReceipt> {
      // The order is the publisher's record, not a report: a forged report cannot make a block go out before the one under it.
      if (after !== null && (await publisher.lookup(publication.chainId, after)) === undefined) {
        throw ApplicationFailure.retryable(
          `block ${publication.chainId}#${publication.number} waits for block ${after} to be published first`,
        );
      }
      try {
        return await publisher.publish(publication);
      } catch (error) {
        if (error instanceof ConflictingPublicationError)
          throw ApplicationFailure.create({ message: error.message, type: FailureTypes.PublicationConflict, nonRetryable: true });
        throw error;
      }
    },

    async publishedProof({ chainId, number }: { chainId: string; number: number }): Promise<{ proofRef: string; hash: string } | null> {
      const record = await publisher.lookup(chainId, number);
      return record ? { proofRef: record.proofRef, hash: record.hash } : null;
    },

    async publishedHead({ chainId }: { chainId: string }): Promise<number | null> {
      return publisher.head(chainId);
    },

    async closedBlockWorkflows({ workflowIds }: { workflowIds: string[] }): Promise<ClosedWorkflow[]> {
      const { client } = Context.current();
      const closed: ClosedWorkflow[] = [];
      for (const workflowId of workflowIds) {
        try {
          const { status } = await client.workflow.getHandle(workflowId).describe();
          if (status.name !== 'RUNNING') closed.push({ workflowId, status: status.name });
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
          closed.push({ workflowId, status: 'NOT_FOUND' });
        }
      }
      return closed;
    },

    async planBlock(task: PlanBlockInput): Promise<BlockPlan> {
      const backend = backendFor(provers, task.prover);
      const input = await readBlockInput(store, task.inputRef);
      return runProverWork(-1, (context) =>
        backend.plan({ block: task.block, input, requestedSegments: task.requestedSegments, defaultFanIn: task.defaultFanIn }, context),
      );
    },

    async verifyBlockProof(task: VerifyBlockProofInput): Promise<VerifyResult> {
      const backend = backendFor(provers, task.prover);
      const [input, proof] = await Promise.all([readBlockInput(store, task.inputRef), readArtifact(store, task.proofRef)]);
      const started = performance.now();
      const verdict = await runProverWork(-1, (context) =>
        backend.verify({ block: task.block, input, segmentCount: task.segmentCount, fanIn: task.fanIn, proof }, context),
      );
      return { ...verdict, provingMs: performance.now() - started };
    },
  };
}
