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
import { readArtifact } from './artifacts';
import { backendFor, runProverWork } from './prover-context';
import type { OrchestrationActivities, PlanBlockInput, VerifyBlockProofInput, VerifyResult } from './types';

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
          if (error instanceof ConflictingPublicationError)
            throw ApplicationFailure.nonRetryable(error.message, FailureTypes.PublicationConflict);
          throw error;
        }
      }
      return receipts;
    },

    async planBlock(task: PlanBlockInput): Promise<BlockPlan> {
      const backend = backendFor(provers, task.prover);
      return runProverWork(-1, (context) =>
        backend.plan(
          { block: task.block, input: task.input, requestedSegments: task.requestedSegments, defaultFanIn: task.defaultFanIn },
          context,
        ),
      );
    },

    async verifyBlockProof(task: VerifyBlockProofInput): Promise<VerifyResult> {
      const backend = backendFor(provers, task.prover);
      const proof = await readArtifact(store, task.proofRef);
      const started = performance.now();
      const verdict = await runProverWork(-1, (context) =>
        backend.verify({ block: task.block, input: task.input, segmentCount: task.segmentCount, fanIn: task.fanIn, proof }, context),
      );
      return { ...verdict, provingMs: performance.now() - started };
    },
  };
}
