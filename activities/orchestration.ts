import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { BlockProgress } from '../domain/block';
import { FailureTypes } from '../domain/failures';
import type { BlockPlan } from '../provers/backend';
import type { ProverRegistry } from '../provers/registry';
import { ConflictingPublicationError, type ProofPublisher, type Publication } from '../publishing/proof-publisher';
import type { ArtifactStore } from '../storage/artifact-store';
import { readArtifact, readBlockInput } from './artifacts';
import { backendFor, runProverWork } from './prover-context';
import { blockProgressQuery } from '../workflows/definitions';
import type {
  ClosedWorkflow,
  OrchestrationActivities,
  PlanBlockInput,
  ProofSource,
  PublishedProof,
  PublishProofsInput,
  VerifyBlockProofInput,
  VerifyResult,
} from './types';

/**
 * Whether the block's own workflow run produced and verified `proof`: asked of that run through
 * a query, which its worker (ours) answers from the workflow's state. A report signal can come
 * from any client of the namespace; a query answer only from the workflow itself. Answers why
 * not, or undefined when it did.
 */
async function confirmProof(
  chainId: string,
  proof: Omit<Publication, 'chainId'>,
  source: ProofSource | undefined,
): Promise<string | undefined> {
  if (!source) return `block ${chainId}#${proof.number}: no workflow run to confirm its proof`;
  const { client } = Context.current();
  let progress: BlockProgress;
  try {
    progress = await client.workflow.getHandle(source.workflowId, source.runId, { followRuns: false }).query(blockProgressQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return `block ${chainId}#${proof.number}: its workflow ${source.workflowId} does not exist`;
    throw error; // Temporal unreachable: retried
  }
  // Every proof the publication lists must be one this run verified (its quorum's, a carried one re-verified).
  const verified = new Set([progress.proofRef, ...(progress.verifiedRefs ?? [])]);
  const unverified = (proof.proofs ?? []).find((counted) => !verified.has(counted.proofRef));
  if (progress.proofRef === proof.proofRef && unverified === undefined) return undefined;
  if (progress.proofRef === proof.proofRef && unverified)
    return `block ${chainId}#${proof.number}: its workflow ${source.workflowId} did not verify the ${unverified.prover}@${unverified.gpuClass} proof ${unverified.proofRef} it was reported with: the report was forged or stale`;
  // A run that says it proved but names no proof is answered by a worker of an earlier build
  // (a rolling deploy): not a refusal, the activity is retried until a current worker answers.
  if (progress.proofRef === undefined && (progress.status === 'proved' || progress.status === 'finalized'))
    throw ApplicationFailure.retryable(`block ${chainId}#${proof.number}: its workflow's worker cannot confirm the proof yet`);
  return `block ${chainId}#${proof.number}: its workflow ${source.workflowId} did not produce proof ${proof.proofRef} (it is ${progress.status}${progress.proofRef ? ` with ${progress.proofRef}` : ''}): the report was forged or stale`;
}

/** Light work: runs on the orchestration worker beside the workflows. */
export function createOrchestrationActivities(deps: {
  provers: ProverRegistry;
  store: ArtifactStore;
  publisher: ProofPublisher;
}): OrchestrationActivities {
  const { provers, store, publisher } = deps;
  return {
    async publishProofs(batch: PublishProofsInput): Promise<PublishedProof[]> {
      const receipts: PublishedProof[] = [];
      // Asked of every block's run at once; published in order up to the first one unconfirmed.
      const { sources } = batch;
      const confirmations = sources
        ? await Promise.all(batch.proofs.map((proof, index) => confirmProof(batch.chainId, proof, sources[index])))
        : batch.proofs.map(() => undefined);
      for (const [index, proof] of batch.proofs.entries()) {
        const refusal = confirmations[index];
        if (refusal !== undefined)
          throw ApplicationFailure.create({
            message: refusal,
            type: FailureTypes.UnconfirmedSettlement,
            nonRetryable: true,
            details: [{ published: receipts.length }],
          });
        try {
          receipts.push({ number: proof.number, ...(await publisher.publish({ chainId: batch.chainId, ...proof })) });
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
