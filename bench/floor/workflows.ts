import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { FloorActivities } from './activities';

/**
 * Minimal Temporal workflows of a block's shape, with nothing of prooflane in them: the floor a
 * design on Temporal starts from, and the candidate shapes of a block's hot path, measured on the
 * same server in the same run as prooflane (bench/floor/floor.ts).
 */
export interface FloorJob {
  segments: number;
  segmentMs: number;
  aggregateMs: number;
  /** The task queue of the segment and aggregation activities. */
  taskQueue: string;
}

const activitiesOn = (taskQueue: string) =>
  proxyActivities<FloorActivities>({ taskQueue, startToCloseTimeout: '1 minute', heartbeatTimeout: '10 seconds' });

/** The naive shape: one activity per segment, all at once, then one aggregation activity. */
export async function perSegmentWorkflow(job: FloorJob): Promise<void> {
  const tasks = activitiesOn(job.taskQueue);
  await Promise.all(Array.from({ length: job.segments }, () => tasks.work(job.segmentMs)));
  await tasks.work(job.aggregateMs);
}

/**
 * One activity for the block: it runs every segment at once on its node and aggregates there,
 * reporting each finished segment through heartbeat details. One round trip whatever the count.
 */
export async function leaseWorkflow(job: FloorJob): Promise<void> {
  await activitiesOn(job.taskQueue).lease(job.segments, job.segmentMs, job.aggregateMs);
}

/**
 * The naive shape hosted on the activities' own task queue, so the server hands activities
 * back in the workflow task's response (eager activity dispatch) instead of through matching.
 */
export async function eagerWorkflow(job: FloorJob): Promise<void> {
  await perSegmentWorkflow({ ...job, taskQueue: workflowInfo().taskQueue });
}
