import { parseArgs } from 'node:util';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startDirectBlock, type DirectBlockJob } from '../cli/direct-block';
import { ProoflaneClient } from '../api/client';
import { sequencerWorkflowId } from '../domain/names';
import { createArtifactStore } from '../storage/factory';
import { replaceGpuPool, startBenchSystem } from './stack';
import { summarize } from './stats';

/**
 * `npm run bench:trace [-- --blocks 20 --segment-ms 100]`: where a block's orchestration
 * milliseconds go. Proves one-segment blocks one at a time, started directly (no sequencer, no
 * API), and reads each block workflow's history: every hop between two events is timed by the
 * server's own event timestamps. Prints P50 / P95 per hop over the blocks (the first is a
 * warm-up and is dropped).
 *
 * `npm run bench:trace -- --through-api [--segments 8]`: the whole path instead, for a few blocks
 * submitted over HTTP to a sequential chain: the sequencer's and the block's events merged on one
 * timeline, in ms from the HTTP submission.
 */
const EventType = temporal.api.enums.v1.EventType;

interface Hop {
  name: string;
  from: (types: number[]) => number;
  to: (types: number[]) => number;
}

const nth =
  (type: number, n: number): ((types: number[]) => number) =>
  (types) =>
    types.indexOf(type, n === 0 ? 0 : nth(type, n - 1)(types) + 1);
const HOPS: Hop[] = [
  {
    name: 'workflow task 1: scheduled → started (dispatch to the orchestration worker)',
    from: nth(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, 0),
    to: nth(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, 0),
  },
  {
    name: 'workflow task 1: started → completed (workflow start, plan local activity, schedule)',
    from: nth(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, 0),
    to: nth(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, 0),
  },
  {
    name: 'segment: scheduled → started (dispatch to a GPU worker)',
    from: nth(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, 0),
    to: nth(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED, 0),
  },
  {
    name: 'segment: started → completed (prover time + worker bookkeeping)',
    from: nth(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED, 0),
    to: nth(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, 0),
  },
  {
    name: 'workflow task 2: scheduled → started',
    from: nth(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, 1),
    to: nth(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, 1),
  },
  {
    name: 'workflow task 2: started → completed (verify local activity, result)',
    from: nth(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, 1),
    to: nth(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, 1),
  },
  { name: 'whole block: started → closed', from: nth(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, 0), to: (types) => types.length - 1 },
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      blocks: { type: 'string', default: '20' },
      'segment-ms': { type: 'string', default: '100' },
      'through-api': { type: 'boolean', default: false },
      segments: { type: 'string', default: '1' },
    },
  });
  if (values['through-api'])
    return traceThroughApi(Math.min(Number(values.blocks), 3), Number(values.segments), Number(values['segment-ms']));
  const blocks = Number(values.blocks);
  const segmentMs = Number(values['segment-ms']);
  const stack = await startBenchSystem({ apiPort: 18082, temporalPort: 17235 });
  const connection = await Connection.connect({ address: stack.server.address });
  const client = new Client({ connection });
  const store = createArtifactStore(stack.env.PROOFLANE_ARTIFACT_STORE as string);
  try {
    await replaceGpuPool(stack, 1);
    const samples: number[][] = HOPS.map(() => []);
    for (let i = 0; i <= blocks; i += 1) {
      const job: DirectBlockJob = {
        chainId: 'trace',
        number: i,
        hash: `0x${'1'.padStart(64, '0')}`,
        segments: 1,
        gpuClass: 'h100',
        prover: 'simulated',
        input: { simulate: { segmentMs, verifyMs: 0 } },
      };
      const handle = await startDirectBlock(client, store, job);
      await handle.result();
      if (i === 0) continue; // warm-up
      const events = (await handle.fetchHistory()).events ?? [];
      const types = events.map((event) => Number(event.eventType));
      const at = (index: number): number =>
        Number(events[index].eventTime?.seconds ?? 0) * 1_000 + (events[index].eventTime?.nanos ?? 0) / 1e6;
      HOPS.forEach((hop, k) => samples[k].push(at(hop.to(types)) - at(hop.from(types))));
    }
    console.log(`${blocks} blocks of 1 × ${segmentMs} ms (simulated), one at a time; ms from the server's event timestamps`);
    console.log('| hop | P50 | P95 |\n| --- | --- | --- |');
    HOPS.forEach((hop, k) => {
      const summary = summarize(samples[k]);
      console.log(`| ${hop.name} | ${summary.p50.toFixed(1)} | ${summary.p95.toFixed(1)} |`);
    });
  } finally {
    await connection.close();
    await stack.stop();
  }
}

const eventName = (type: number): string => (EventType[type] ?? String(type)).replace('EVENT_TYPE_', '');
const eventTimes = async (handle: WorkflowHandle): Promise<{ at: number; name: string }[]> =>
  ((await handle.fetchHistory()).events ?? []).map((event) => ({
    at: Number(event.eventTime?.seconds ?? 0) * 1_000 + (event.eventTime?.nanos ?? 0) / 1e6,
    name: eventName(Number(event.eventType)),
  }));

async function traceThroughApi(blocks: number, segments: number, segmentMs: number): Promise<void> {
  const stack = await startBenchSystem({ apiPort: 18082, temporalPort: 17235 });
  const connection = await Connection.connect({ address: stack.server.address });
  const client = new Client({ connection });
  const api = new ProoflaneClient(stack.apiUrl);
  try {
    await replaceGpuPool(stack, segments);
    const chainId = 'trace-api';
    await api.configureChain(chainId, { mode: 'sequential', maxInFlight: 1, startNumber: 0 });
    for (let n = 0; n <= blocks; n += 1) {
      const submitted = Date.now();
      const { workflowId } = await api.submitBlock(chainId, {
        number: n,
        hash: `0x${(n + 1).toString(16).padStart(64, '0')}`,
        segments,
        gpuClass: 'h100',
        input: { simulate: { segmentMs, aggregateMs: 20, verifyMs: 0 } },
      });
      const accepted = Date.now();
      await api.waitUntilFinalized(chainId, n, 60_000, 5);
      const finalizedSeen = Date.now();
      if (n === 0) continue; // warm-up
      const block = await eventTimes(client.workflow.getHandle(workflowId));
      const sequencer = (await eventTimes(client.workflow.getHandle(sequencerWorkflowId(chainId)))).filter(
        (event) => event.at >= submitted - 1 && event.at <= finalizedSeen,
      );
      const timeline = [
        ...block.map((event) => ({ ...event, who: 'block' })),
        ...sequencer.map((event) => ({ ...event, who: 'sequencer' })),
        { at: accepted, name: 'HTTP 202 received', who: 'client' },
        { at: finalizedSeen, name: 'finalized seen by polling the chain (5 ms)', who: 'client' },
      ].sort((a, b) => a.at - b.at);
      console.log(`\nblock ${n}: ${segments} × ${segmentMs} ms, ms from the HTTP submission`);
      for (const event of timeline) console.log(`${(event.at - submitted).toFixed(1).padStart(8)}  ${event.who.padEnd(9)} ${event.name}`);
    }
  } finally {
    await connection.close();
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`bench:trace: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
