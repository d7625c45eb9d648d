import type { Client, WorkflowHandle } from '@temporalio/client';
import type { BlockJobInput, ProverInput } from '../domain/block';
import { blockSearchAttributes, directBlockWorkflowId, ORCHESTRATION_TASK_QUEUE } from '../domain/names';
import type { ArtifactStore } from '../storage/artifact-store';
import { putBlockInput } from '../storage/block-input';
import type { blockProofWorkflow } from '../workflows';

/** A block job as a person writes it (`npm run prove`, the bench, tests): its input inline. */
export type DirectBlockJob = Omit<BlockJobInput, 'inputRef'> & { input?: ProverInput };

/**
 * Starts a block proof outside any chain (id `prove-<chain>-<n>`): the input goes to the artifact
 * store first and the workflow gets its reference, as a chain's blocks do.
 */
export async function startDirectBlock(
  client: Client,
  store: ArtifactStore,
  job: DirectBlockJob,
  options: { reuseRunning?: boolean } = {},
): Promise<WorkflowHandle<typeof blockProofWorkflow>> {
  const { input, ...rest } = job;
  const inputRef = await putBlockInput(store, input);
  const args: BlockJobInput = { ...rest, ...(inputRef !== undefined ? { inputRef } : {}) };
  return client.workflow.start<typeof blockProofWorkflow>('blockProofWorkflow', {
    taskQueue: ORCHESTRATION_TASK_QUEUE,
    workflowId: directBlockWorkflowId(job.chainId, job.number),
    args: [args],
    ...(options.reuseRunning ? { workflowIdConflictPolicy: 'USE_EXISTING' as const } : {}),
    typedSearchAttributes: blockSearchAttributes(job.chainId, job.number, 'queued', job.gpuClass),
  });
}
