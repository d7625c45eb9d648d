import { Context } from '@temporalio/activity';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface FloorActivities {
  /** Simulated proving work of `ms`. */
  work(ms: number): Promise<void>;
  /** `segments` simulated proofs at once, each reported by heartbeat, then the aggregation. */
  lease(segments: number, segmentMs: number, aggregateMs: number): Promise<void>;
}

export const floorActivities: FloorActivities = {
  work: sleep,
  async lease(segments, segmentMs, aggregateMs) {
    const done: number[] = [];
    await Promise.all(
      Array.from({ length: segments }, async (_, index) => {
        await sleep(segmentMs);
        done.push(index);
        Context.current().heartbeat(done);
      }),
    );
    await sleep(aggregateMs);
  },
};
