import {
  AckPolicy,
  connect,
  DeliverPolicy,
  JSONCodec,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type NatsConnection,
} from 'nats';
import { buildAggregationTree, type TreeNode } from '../domain/aggregation-tree';
import type { BlockMeasurement } from './ideal';

/**
 * A push0-style orchestrator over NATS JetStream, for comparison in the same run: segment
 * tasks go to a persistent work-queue stream; a consumer group of dispatchers (one pull
 * consumer shared by D dispatchers, one task in hand each, like one GPU slot each) runs the
 * same simulated work and publishes results to a results stream; a collector aggregates a
 * block once all its segments are in (same tree and fan-in as prooflane) and verifies it.
 */
interface Task {
  block: string;
  index: number;
  segmentMs: number;
}
interface Result {
  block: string;
  index: number;
  provingMs: number;
  /** Wall-clock start and end of the simulated proof, for throughput. */
  startedAt: number;
  finishedAt: number;
}

const codec = JSONCodec<Task | Result>();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Push0Baseline {
  private readonly waiting = new Map<string, { segments: number; results: Result[]; done: (results: Result[]) => void }>();
  private running = true;
  private readonly loops: Promise<void>[] = [];

  private constructor(
    private readonly connections: NatsConnection[],
    private readonly js: JetStreamClient,
  ) {}

  static async start(url: string, dispatchers: number): Promise<Push0Baseline> {
    const main = await connect({ servers: url });
    const jsm = await main.jetstreamManager();
    for (const name of ['P0TASKS', 'P0RESULTS']) await jsm.streams.delete(name).catch(() => undefined);
    await jsm.streams.add({ name: 'P0TASKS', subjects: ['p0.tasks'], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
    await jsm.streams.add({ name: 'P0RESULTS', subjects: ['p0.results'], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
    await jsm.consumers.add('P0TASKS', {
      durable_name: 'dispatchers',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: dispatchers * 2,
    });
    await jsm.consumers.add('P0RESULTS', { durable_name: 'collector', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    const connections = [main];
    const baseline = new Push0Baseline(connections, main.jetstream());
    for (let d = 0; d < dispatchers; d += 1) {
      const nc = await connect({ servers: url });
      connections.push(nc);
      baseline.loops.push(baseline.dispatch(nc.jetstream()));
    }
    baseline.loops.push(baseline.collect());
    return baseline;
  }

  /** Runs one block end to end and measures it like prooflane's blocks. */
  async runBlock(block: string, segments: number, segmentMs: number, aggregateMs: number, fanIn: number): Promise<BlockMeasurement> {
    const started = performance.now();
    const { criticalPathMs } = await this.proveBlock(block, segments, segmentMs, aggregateMs, fanIn);
    const wallMs = performance.now() - started;
    return { segmentMs, segments, wallMs, criticalPathMs, overheadMs: wallMs - criticalPathMs };
  }

  /** Publishes a block's segment tasks, waits for the collector to have them all, aggregates. */
  private async proveBlock(
    block: string,
    segments: number,
    segmentMs: number,
    aggregateMs: number,
    fanIn: number,
  ): Promise<{ results: Result[]; criticalPathMs: number }> {
    const collected = new Promise<Result[]>((done) => this.waiting.set(block, { segments, results: [], done }));
    await Promise.all(
      Array.from({ length: segments }, (_, index) => this.js.publish('p0.tasks', codec.encode({ block, index, segmentMs }))),
    );
    const results = await collected;
    // The collector aggregates with the same tree as prooflane (nodes in parallel where they can be).
    const byIndex = new Map(results.map((r) => [r.index, r.provingMs]));
    const aggregate = async (node: TreeNode): Promise<number> => {
      if (node.kind === 'segment') return byIndex.get(node.index) ?? 0;
      const childPaths = await Promise.all(node.children.map(aggregate));
      const t = performance.now();
      await sleep(aggregateMs);
      return performance.now() - t + Math.max(...childPaths);
    };
    return { results, criticalPathMs: await aggregate(buildAggregationTree(segments, fanIn)) };
  }

  /**
   * A saturating stream: all blocks' segments published at once, each block aggregated by the
   * collector when its segments are in. Resolves with every segment's start and finish.
   */
  async runStream(
    prefix: string,
    blocks: number,
    segments: number,
    segmentMs: number,
    aggregateMs: number,
    fanIn: number,
  ): Promise<{ startedAt: number[]; finishedAt: number[] }> {
    const done = await Promise.all(
      Array.from({ length: blocks }, (_, b) => this.proveBlock(`${prefix}-${b}`, segments, segmentMs, aggregateMs, fanIn)),
    );
    const results = done.flatMap((block) => block.results);
    return { startedAt: results.map((r) => r.startedAt), finishedAt: results.map((r) => r.finishedAt) };
  }

  async stop(): Promise<void> {
    this.running = false;
    // Each loop's pending pull expires within a second; closing under it would abort it noisily.
    await Promise.allSettled(this.loops);
    await Promise.all(this.connections.map((nc) => nc.close()));
  }

  private async dispatch(js: JetStreamClient): Promise<void> {
    const consumer = await js.consumers.get('P0TASKS', 'dispatchers');
    while (this.running) {
      const message = await consumer.next({ expires: 1_000 }).catch(() => null);
      if (!message) continue;
      const task = codec.decode(message.data) as Task;
      const startedAt = Date.now();
      const t = performance.now();
      await sleep(task.segmentMs);
      const provingMs = performance.now() - t;
      await js.publish('p0.results', codec.encode({ block: task.block, index: task.index, provingMs, startedAt, finishedAt: Date.now() }));
      message.ack();
    }
  }

  private async collect(): Promise<void> {
    const consumer = await this.js.consumers.get('P0RESULTS', 'collector');
    while (this.running) {
      const message = await consumer.next({ expires: 1_000 }).catch(() => null);
      if (!message) continue;
      const result = codec.decode(message.data) as Result;
      message.ack();
      const entry = this.waiting.get(result.block);
      if (!entry) continue;
      entry.results.push(result);
      if (entry.results.length === entry.segments) {
        this.waiting.delete(result.block);
        entry.done(entry.results);
      }
    }
  }
}
