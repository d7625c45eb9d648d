import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { BlockProofResult } from '../domain/block';
import type { BlockSubmission } from '../domain/chain';
import { ProoflaneClient } from '../api/client';
import type { blockProofWorkflow } from '../workflows';
import { TemporalServerKindSchema, type TemporalServerKind } from '../infra/temporal/server';
import { CpuMeter } from './cpu';
import { runIdealBlock, type BlockMeasurement } from './ideal';
import { FLOOR_SHAPES, TemporalFloor, type FloorShape } from './floor/floor';
import { Push0Baseline } from './push0-baseline';
import { writeReport } from './report';
import type { BenchResults, ProfileName } from './results';
import { hashOf, replaceGpuPool, startBenchSystem } from './stack';
import { summarize, type Summary } from './stats';

/**
 * `npm run bench [-- --quick]`: prooflane's orchestration cost, measured through its real API
 * on a real Temporal server, beside the ideal (no orchestration) and a push0-style
 * NATS JetStream baseline running the same workload in the same run.
 */
const AGGREGATE_MS = 20;
const FAN_IN = 4;

interface Profile {
  name: ProfileName;
  overhead: { segmentMs: number; segments: number[]; blocks: number }[];
  scalingSlots: number[];
  /** Block shapes of the scaling step: segments per block, and segments each slot proves (a multiple of it). */
  scalingShapes: { segments: number; roundsPerSlot: number }[];
  scalingSegmentMs: number;
  headBlocks: number;
}

const PROFILES: Record<Profile['name'], Profile> = {
  default: {
    name: 'default',
    overhead: [
      { segmentMs: 100, segments: [1, 8, 32], blocks: 8 },
      { segmentMs: 1_000, segments: [1, 8, 32], blocks: 4 },
      { segmentMs: 7_000, segments: [1, 8, 32], blocks: 2 },
    ],
    scalingSlots: [1, 2, 4, 8, 16, 32, 64],
    scalingShapes: [
      { segments: 1, roundsPerSlot: 6 },
      { segments: 8, roundsPerSlot: 8 },
    ],
    scalingSegmentMs: 1_000,
    headBlocks: 30,
  },
  quick: {
    name: 'quick',
    overhead: [
      { segmentMs: 100, segments: [1, 8], blocks: 3 },
      { segmentMs: 1_000, segments: [1, 8], blocks: 2 },
    ],
    scalingSlots: [1, 2, 4, 8],
    scalingShapes: [
      { segments: 1, roundsPerSlot: 3 },
      { segments: 4, roundsPerSlot: 4 },
    ],
    scalingSegmentMs: 500,
    headBlocks: 8,
  },
};

const SECTIONS = ['overhead', 'scaling', 'head', 'quorum'];

/** Multi-proof's provers: simulated backends of spread speeds, each on a GPU node of its own class. */
const QUORUM_PROVERS = [
  { gpuClass: 'zkvm-a', segmentMs: 600 },
  { gpuClass: 'zkvm-b', segmentMs: 1_000 },
  { gpuClass: 'zkvm-c', segmentMs: 1_600 },
];
/** The policies measured: one prover alone (today's chains), then quorums over all three. */
const QUORUM_POLICIES = [
  { policy: '1-of-1', gpuClasses: ['zkvm-a'], quorum: 1 },
  { policy: '2-of-3', gpuClasses: ['zkvm-a', 'zkvm-b', 'zkvm-c'], quorum: 2 },
  { policy: '3-of-3', gpuClasses: ['zkvm-a', 'zkvm-b', 'zkvm-c'], quorum: 3 },
];

/**
 * Submits a new block. The bench never resubmits a block itself, but the client does after a
 * `503` whose request may have been applied (the API's deadline passed while the sequencer was
 * busy): the `200` duplicate answer to that retry is this submission's own acceptance.
 */
async function submit(api: ProoflaneClient, chainId: string, block: BlockSubmission): Promise<string> {
  const { workflowId } = await api.submitBlock(chainId, block);
  return workflowId;
}

/**
 * The block's result; the sequencer starts its workflow a moment after accepting it. Until
 * then the handle answers "not found" at once, so the client backs off (up to 50 ms, less than
 * any block takes) instead of polling the server in a tight loop that would steal its CPU.
 */
async function blockResult(client: Client, workflowId: string): Promise<BlockProofResult> {
  for (let waitMs = 5; ; waitMs = Math.min(50, waitMs * 2)) {
    try {
      return await client.workflow.getHandle<typeof blockProofWorkflow>(workflowId).result();
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

interface ProoflaneBlock extends BlockMeasurement {
  /** Submission over HTTP to finalization, minus the critical path: what a client sees. */
  endToEndOverheadMs: number;
  scheduleToStartMs: number[];
  finishToSeenMs: number[];
}

/** When the last unit of work the workflow saw at `seenAt` finished: the end of that lease. */
function leaseFinishedAt(t: BlockProofResult['timings'], seenAt: number): number {
  const finished = [...t.segments.map((s) => s.finishedAt), ...t.aggregationLevels.map((level) => level.finishedAt)];
  return Math.max(...finished.filter((at) => at <= seenAt));
}

async function proveThroughApi(
  api: ProoflaneClient,
  client: Client,
  chainId: string,
  number: number,
  segments: number,
  segmentMs: number,
): Promise<ProoflaneBlock> {
  const submitted = Date.now();
  const workflowId = await submit(api, chainId, {
    number,
    hash: hashOf(number),
    segments,
    gpuClass: 'h100',
    input: { simulate: { segmentMs, aggregateMs: AGGREGATE_MS, verifyMs: 0 } },
  });
  const result = await blockResult(client, workflowId);
  const finalized = Date.now();
  const t = result.timings;
  return {
    segmentMs,
    segments,
    wallMs: t.totalMs,
    criticalPathMs: t.criticalPathMs,
    overheadMs: t.overheadMs,
    endToEndOverheadMs: finalized - submitted - t.criticalPathMs,
    scheduleToStartMs: t.segments.map((s) => s.startedAt - s.scheduledAt),
    // A lease reports when all of its work is done: a segment is seen once its lease's last unit
    // (the top aggregation inside it) has finished, so that is where "seen" is measured from.
    finishToSeenMs: t.segments.map((s) => s.seenAt - leaseFinishedAt(t, s.seenAt)),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      nats: { type: 'string', default: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' },
      // For tuning one part at a time: `--only scaling --slots 1,32`. A partial run keeps its
      // results file but leaves docs/BENCHMARKS.md to full runs.
      only: { type: 'string' },
      slots: { type: 'string' },
      // `--temporal postgres`: the same run on temporal-server with PostgreSQL persistence.
      temporal: { type: 'string', default: 'dev' },
    },
  });
  const temporalServer = TemporalServerKindSchema.parse(values.temporal);
  process.env.PROOFLANE_TEMPORAL_SERVER = temporalServer;
  const profile = PROFILES[values.quick ? 'quick' : 'default'];
  const sections = new Set(values.only ? values.only.split(',') : SECTIONS);
  for (const section of sections)
    if (!SECTIONS.includes(section)) throw new Error(`--only: unknown section ${section}; sections are ${SECTIONS.join(', ')}`);
  if (values.slots) profile.scalingSlots = values.slots.split(',').map(Number);
  const partial = sections.size < SECTIONS.length || values.slots !== undefined;
  const log = (message: string): void => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
  const stack = await startBenchSystem({ apiPort: 18080, temporalPort: 17233 });
  const connection = await Connection.connect({ address: stack.server.address });
  const client = new Client({ connection });
  const api = new ProoflaneClient(stack.apiUrl);
  const results: BenchResults = {
    profile: profile.name,
    startedAt: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    temporalServer,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      temporal:
        temporalServer === 'postgres'
          ? 'temporal-server 1.29.1 on PostgreSQL (persistence and SQL visibility, 4 history shards, loopback), one task queue partition, priority matcher'
          : 'temporal CLI v1.5.1 (Server 1.29.1) start-dev, SQLite file, one task queue partition, priority matcher',
    },
    overhead: [],
    dispatch: { scheduleToStart: summarize([]), finishToSeen: summarize([]), scheduleToStartSamples: [] },
    aggregation: { fanIn: FAN_IN, aggregateMs: AGGREGATE_MS },
    scalingSegmentMs: profile.scalingSegmentMs,
    scaling: [],
    head: {
      blocks: 0,
      latency: summarize([]),
      deadlineMet: 0,
      slotSeconds: 12,
      segments: 4,
      segmentMs: 1_000,
      intervalMs: 1_000,
      criticalPathMs: NaN,
    },
  };
  let push0: Push0Baseline | undefined;
  let floor: TemporalFloor | undefined;
  try {
    // ---- per-block overhead: ideal, push0-style baseline and prooflane, same workload ----------
    if (sections.has('overhead')) {
      const maxSegments = Math.max(...profile.overhead.flatMap((o) => o.segments));
      await replaceGpuPool(stack, maxSegments);
      push0 = await Push0Baseline.start(values.nats, maxSegments);
      floor = await TemporalFloor.start(stack.server.address, client, maxSegments);
      const scheduleToStart: number[] = [];
      const finishToSeen: number[] = [];
      for (const { segmentMs, segments: counts, blocks } of profile.overhead) {
        for (const segments of counts) {
          log(`overhead: ${blocks} blocks of ${segments} × ${segmentMs} ms`);
          const chainId = `bench-ovh-${segmentMs}-${segments}-${randomUUID().slice(0, 6)}`;
          // Leases as large as the bench's one GPU node (defaults.leaseSegments: the GPUs per node).
          await api.configureChain(chainId, {
            mode: 'sequential',
            maxInFlight: 1,
            startNumber: 0,
            defaults: { leaseSegments: maxSegments },
          });
          const ideal: BlockMeasurement[] = [];
          const baseline: BlockMeasurement[] = [];
          const ours: ProoflaneBlock[] = [];
          const shapes = Object.fromEntries(FLOOR_SHAPES.map((shape) => [shape, [] as number[]])) as Record<FloorShape, number[]>;
          // A warm-up block per configuration is proved and discarded (worker caches, JIT).
          await proveThroughApi(api, client, chainId, 0, segments, segmentMs);
          for (const shape of FLOOR_SHAPES) await floor.runBlock(shape, segments, segmentMs, AGGREGATE_MS);
          for (let i = 1; i <= blocks; i += 1) {
            ideal.push(await runIdealBlock({ chainId, number: i, hash: hashOf(i) }, segments, segmentMs, AGGREGATE_MS, FAN_IN));
            baseline.push(await push0.runBlock(`${chainId}-${i}`, segments, segmentMs, AGGREGATE_MS, FAN_IN));
            for (const shape of FLOOR_SHAPES) shapes[shape].push(await floor.runBlock(shape, segments, segmentMs, AGGREGATE_MS));
            const block = await proveThroughApi(api, client, chainId, i, segments, segmentMs);
            ours.push(block);
            scheduleToStart.push(...block.scheduleToStartMs);
            finishToSeen.push(...block.finishToSeenMs);
          }
          results.overhead.push({
            segmentMs,
            segments,
            criticalPathMs: summarize(ours.map((b) => b.criticalPathMs)).p50,
            ideal: summarize(ideal.map((b) => b.overheadMs)),
            push0: summarize(baseline.map((b) => b.overheadMs)),
            prooflane: summarize(ours.map((b) => b.overheadMs)),
            prooflaneEndToEnd: summarize(ours.map((b) => b.endToEndOverheadMs)),
            floor: Object.fromEntries(FLOOR_SHAPES.map((shape) => [shape, summarize(shapes[shape])])) as Record<FloorShape, Summary>,
          });
        }
      }
      results.dispatch = {
        scheduleToStart: summarize(scheduleToStart),
        finishToSeen: summarize(finishToSeen),
        scheduleToStartSamples: scheduleToStart,
      };
      await push0.stop();
      push0 = undefined;
      await floor.stop();
      floor = undefined;
    }

    // ---- scaling: a saturating stream of blocks over n GPU slots, prooflane and the baseline ------
    if (sections.has('scaling')) {
      /** Segment proofs per second between the first segment start and the last finish. */
      const throughputOf = (startedAt: number[], finishedAt: number[]) => {
        const seconds = (Math.max(...finishedAt) - Math.min(...startedAt)) / 1000;
        return { seconds, throughput: startedAt.length / seconds };
      };
      for (const { segments, roundsPerSlot } of profile.scalingShapes) {
        for (const slots of profile.scalingSlots) {
          const blocks = (slots * roundsPerSlot) / segments;
          const simulate = { segmentMs: profile.scalingSegmentMs, aggregateMs: 0, verifyMs: 0 };
          log(`scaling: ${blocks} blocks of ${segments} × ${profile.scalingSegmentMs} ms over ${slots} slots`);
          await replaceGpuPool(stack, slots);
          const chainId = `bench-scale-${segments}-${slots}-${randomUUID().slice(0, 6)}`;
          const meter = new CpuMeter(stack.processes());
          await api.configureChain(chainId, {
            mode: 'pipelined',
            maxInFlight: Math.min(256, Math.max(2, Math.ceil((slots * 2) / segments))),
            startNumber: 0,
            defaults: { leaseSegments: slots },
          });
          const ids = await Promise.all(
            Array.from({ length: blocks }, (_, n) =>
              submit(api, chainId, { number: n, hash: hashOf(n), segments, gpuClass: 'h100', input: { simulate } }),
            ),
          );
          // Waiting on the chain, not on each of hundreds of block handles, keeps the client's load off the system it measures.
          // Polled a few times a second: cheap for the system it measures.
          await api.waitUntilFinalized(chainId, blocks - 1, 30 * 60_000, 250);
          const cpu = meter.stop();
          const done = await Promise.all(ids.map((id) => blockResult(client, id)));
          const segmentsDone = done.flatMap((r) => r.timings.segments);
          const ours = throughputOf(
            segmentsDone.map((s) => s.startedAt),
            segmentsDone.map((s) => s.finishedAt),
          );
          results.scaling.push({ system: 'prooflane', segments, slots, blocks, ...ours, efficiency: 0, cpu });

          // The push0-style baseline with as many dispatchers as slots, same stream.
          const baseline = await Push0Baseline.start(values.nats, slots);
          try {
            const stream = await baseline.runStream(chainId, blocks, segments, profile.scalingSegmentMs, 0, FAN_IN);
            results.scaling.push({
              system: 'push0',
              segments,
              slots,
              blocks,
              ...throughputOf(stream.startedAt, stream.finishedAt),
              efficiency: 0,
            });
          } finally {
            await baseline.stop();
          }
        }
      }
      for (const row of results.scaling) {
        const single = results.scaling.find((r) => r.system === row.system && r.segments === row.segments && r.slots === 1);
        row.efficiency = single ? row.throughput / (row.slots * single.throughput) : NaN;
      }
    }

    // ---- head-of-chain latency: a pipelined chain under a steady stream ---------------------
    if (sections.has('head')) {
      await replaceGpuPool(stack, 32);
      const head = results.head;
      head.blocks = profile.headBlocks;
      const chainId = `bench-head-${randomUUID().slice(0, 6)}`;
      log(`head-of-chain: ${head.blocks} blocks of ${head.segments} × ${head.segmentMs} ms, one every ${head.intervalMs} ms`);
      await api.configureChain(chainId, {
        mode: 'pipelined',
        maxInFlight: 8,
        startNumber: 0,
        slotSeconds: head.slotSeconds,
        defaults: { leaseSegments: 32 },
      });
      const latencies: number[] = [];
      const criticalPaths: number[] = [];
      let met = 0;
      const pending: Promise<void>[] = [];
      for (let n = 0; n < head.blocks; n += 1) {
        const submitted = Date.now();
        const workflowId = await submit(api, chainId, {
          number: n,
          hash: hashOf(n),
          segments: head.segments,
          gpuClass: 'h100',
          timestamp: Math.floor(submitted / 1000),
          input: { simulate: { segmentMs: head.segmentMs, aggregateMs: AGGREGATE_MS, verifyMs: 0 } },
        });
        pending.push(
          blockResult(client, workflowId).then(async (result) => {
            latencies.push(Date.now() - submitted);
            criticalPaths.push(result.timings.criticalPathMs);
            const view = await api.block(chainId, n);
            if (view.deadline?.met) met += 1;
          }),
        );
        await new Promise((resolve) => setTimeout(resolve, head.intervalMs));
      }
      await Promise.all(pending);
      head.latency = summarize(latencies);
      head.criticalPathMs = summarize(criticalPaths).p50;
      head.deadlineMet = met;
    }

    // ---- multi-proof: head-of-chain latency at 1-of-1, 2-of-3 and 3-of-3 -----------------------
    if (sections.has('quorum')) {
      await stack.stopGpuWorkers();
      const blocks = Math.max(6, Math.round(profile.headBlocks / 2));
      const segments = 4;
      const intervalMs = 1_000;
      for (const { gpuClass, segmentMs } of QUORUM_PROVERS) {
        // Each prover's speed is its node's: blocks carry no simulate settings here.
        await stack.addGpuWorker(gpuClass, 8, `bench-${gpuClass}`, ['--provers', 'simulated'], {
          PROOFLANE_SIMULATION: JSON.stringify({ segmentMs, aggregateMs: AGGREGATE_MS, verifyMs: 0 }),
        });
      }
      const quorum: NonNullable<BenchResults['quorum']> = {
        measuredBy: { command: results.command, startedAt: results.startedAt },
        provers: QUORUM_PROVERS,
        blocks,
        segments,
        intervalMs,
        rows: [],
      };
      for (const { policy, gpuClasses, quorum: k } of QUORUM_POLICIES) {
        const chainId = `bench-quorum-${policy}-${randomUUID().slice(0, 6)}`;
        log(`multi-proof ${policy}: ${blocks} blocks of ${segments} segments, one every ${intervalMs} ms`);
        await api.configureChain(chainId, {
          mode: 'pipelined',
          maxInFlight: 8,
          startNumber: 0,
          defaults: { leaseSegments: 8, segments },
          proofs: { provers: gpuClasses.map((gpuClass) => ({ prover: 'simulated' as const, gpuClass })), quorum: k },
        });
        const latencies: number[] = [];
        const decidingPaths: number[] = [];
        const gpu: number[] = [];
        const pending: Promise<void>[] = [];
        for (let n = 0; n < blocks; n += 1) {
          const submitted = Date.now();
          const workflowId = await submit(api, chainId, { number: n, hash: hashOf(n), timestamp: Math.floor(submitted / 1000) });
          pending.push(
            blockResult(client, workflowId).then(async (result) => {
              // Finalization as the chain recorded it: the workflow itself ends later, once the provers it stopped let go.
              const finalizedAt = (await api.block(chainId, n)).timings?.finalizedAt;
              if (!finalizedAt) throw new Error(`${chainId} block ${n} has no finalization time`);
              latencies.push(Date.parse(finalizedAt) - submitted);
              decidingPaths.push(result.timings.criticalPathMs);
              gpu.push(result.timings.gpuMs);
            }),
          );
          await new Promise((resolve) => setTimeout(resolve, intervalMs));
        }
        await Promise.all(pending);
        quorum.rows.push({
          policy,
          latency: summarize(latencies),
          decidingPathMs: summarize(decidingPaths).p50,
          gpuMs: summarize(gpu).p50,
        });
      }
      results.quorum = quorum;
    }
  } finally {
    await push0?.stop();
    await floor?.stop();
    await connection.close();
    await stack.stop();
  }

  const resultsDir = path.join(__dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(
    resultsDir,
    `${results.startedAt.replace(/[:.]/g, '-')}-${profile.name}${temporalServer === 'postgres' ? '-postgres' : ''}${partial ? '-partial' : ''}.json`,
  );
  writeFileSync(file, JSON.stringify(results, null, 2));
  if (partial) {
    // A partial run that measured multi-proof adds its section to the report of the newest full run.
    const full = temporalServer === 'dev' && results.quorum ? newestFullRun(resultsDir, profile.name, 'dev') : undefined;
    if (full) {
      writeReport(
        { ...full, quorum: results.quorum },
        path.join(__dirname, '..', 'docs'),
        newestFullRun(resultsDir, profile.name, 'postgres'),
      );
      log(`results: ${path.relative(process.cwd(), file)}; its multi-proof section joins docs/BENCHMARKS.md`);
      return;
    }
    log(`results: ${path.relative(process.cwd(), file)} (partial run: docs/BENCHMARKS.md left as it is)`);
    return;
  }
  // The report is the newest full dev-server run of this profile, with the newest PostgreSQL run beside it.
  const dev = temporalServer === 'dev' ? results : newestFullRun(resultsDir, profile.name, 'dev');
  const onPostgres = temporalServer === 'postgres' ? results : newestFullRun(resultsDir, profile.name, 'postgres');
  if (!dev) {
    log(
      `results: ${path.relative(process.cwd(), file)} (no full dev-server run of profile ${profile.name} yet: docs/BENCHMARKS.md left as it is)`,
    );
    return;
  }
  writeReport(dev, path.join(__dirname, '..', 'docs'), onPostgres);
  log(`results: ${path.relative(process.cwd(), file)}; report: docs/BENCHMARKS.md`);
}

/** The newest full run of `profile` on `server` kept in bench/results (file names sort by time). */
function newestFullRun(dir: string, profile: ProfileName, server: TemporalServerKind): BenchResults | undefined {
  const suffix = `-${profile}${server === 'postgres' ? '-postgres' : ''}.json`;
  const [newest] = readdirSync(dir)
    .filter((name) => name.endsWith(suffix))
    .sort()
    .reverse();
  return newest ? (JSON.parse(readFileSync(path.join(dir, newest), 'utf8')) as BenchResults) : undefined;
}

main().catch((error: unknown) => {
  console.error(`bench: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
