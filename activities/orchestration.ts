import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../domain/failures';
import type { BlockPlan } from '../provers/backend';
import type { ProverRegistry } from '../provers/registry';
import {
  ConflictingPublicationError,
  type ProofPublisher,
  type PublicationBatch,
  type PublishReceipt,
} from '../publishing/proof-publisher';
import type { ArtifactStore } from '../storage/artifact-store';
import { readArtifact, readBlockInput } from './artifacts';
import { backendFor, runProverWork } from './prover-context';
import type { ClosedWorkflow, OrchestrationActivities, PlanBlockInput, VerifyBlockProofInput, VerifyResult } from './types';

/** Light work: runs on the orchestration worker beside the workflows. */
export function createOrchestrationActivities(deps: {
  provers: ProverRegistry;
  store: ArtifactStore;
  publisher: ProofPublisher;
}): OrchestrationActivities {
  const { provers, store, publisher } = deps;
  return {
    async publishProofs(batch: PublicationBatch): Promise<PublishReceipt[]> {
      const receipts: PublishReceipt[] = [];
      for (const proof of batch.proofs) {
        try {
          receipts.push(await publisher.publish({ chainId: batch.chainId, ...proof }));
        } catch (error) {
          // The sequencer finalizes the blocks before this one: they are out.
          if (error instanceof ConflictingPublicationError)
            throw ApplicationFailure.create({
              message: error.message,
              type: FailureTypes.PublicationConflict,
              nonRetryable: true,
              details: [{ published: receipts.length }],
            });
          throw error;
        }
      }
      return receipts;
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
