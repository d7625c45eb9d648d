import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { floorActivities } from './activities';
import type { eagerWorkflow, FloorJob, leaseWorkflow, perSegmentWorkflow } from './workflows';

/** The shapes measured beside prooflane: `perSegment` is the floor; the others are candidate hot paths. */
export const FLOOR_SHAPES = ['perSegment', 'lease', 'eager'] as const;
export type FloorShape = (typeof FLOOR_SHAPES)[number];

const WORKFLOW_OF: Record<FloorShape, string> = {
  perSegment: 'perSegmentWorkflow',
  lease: 'leaseWorkflow',
  eager: 'eagerWorkflow',
};
type FloorWorkflow = typeof perSegmentWorkflow | typeof leaseWorkflow | typeof eagerWorkflow;

/**
 * Minimal Temporal workflows of each block shape (bench/floor/workflows.ts) on the bench's own
 * Temporal server, with TypeScript SDK workers in this process: workflows on one queue, activities
 * on another (the way prooflane splits orchestration from GPU nodes), and the eager shape's
 * workflows and activities on a third. Each worker gets one activity slot and one poll per
 * segment, like a GPU node.
 */
export class TemporalFloor {
  private constructor(
    private readonly connection: NativeConnection,
    private readonly client: Client,
    private readonly workers: Worker[],
    private readonly running: Promise<void>,
    private readonly queues: { workflows: string; activities: string; eager: string },
  ) {}

  static async start(address: string, client: Client, maxSegments: number): Promise<TemporalFloor> {
    const connection = await NativeConnection.connect({ address });
    const id = randomUUID().slice(0, 8);
    const queues = { workflows: `floor-workflows-${id}`, activities: `floor-activities-${id}`, eager: `floor-eager-${id}` };
    const slots = maxSegments + 1;
    const activityOptions = {
      activities: floorActivities,
      maxConcurrentActivityTaskExecutions: slots,
      activityTaskPollerBehavior: { type: 'simple-maximum' as const, maximum: slots },
    };
    const workflowsPath = require.resolve('./workflows');
    const workers = await Promise.all([
      Worker.create({ connection, taskQueue: queues.workflows, workflowsPath }),
      Worker.create({ connection, taskQueue: queues.activities, ...activityOptions }),
      Worker.create({ connection, taskQueue: queues.eager, workflowsPath, ...activityOptions }),
    ]);
    const running = Promise.all(workers.map((worker) => worker.run())).then(() => undefined);
    return new TemporalFloor(connection, client, workers, running, queues);
  }

  /** Client start → result, minus the simulated work on the critical path (one segment and the aggregation), in ms. */
  async runBlock(shape: FloorShape, segments: number, segmentMs: number, aggregateMs: number): Promise<number> {
    const job: FloorJob = { segments, segmentMs, aggregateMs, taskQueue: this.queues.activities };
    const started = performance.now();
    await this.client.workflow.execute<FloorWorkflow>(WORKFLOW_OF[shape], {
      workflowId: `floor-${shape}-${randomUUID()}`,
      taskQueue: shape === 'eager' ? this.queues.eager : this.queues.workflows,
      args: [job],
    });
    return performance.now() - started - segmentMs - aggregateMs;
  }

  async stop(): Promise<void> {
    for (const worker of this.workers) worker.shutdown();
    await this.running;
    await this.connection.close();
  }
}
