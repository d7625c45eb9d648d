import { existsSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { blockWorkflowId, sequencerWorkflowId } from '../domain/names';
import { FailureTypes } from '../domain/failures';
import { blockHash, publishedDir, simulatedBlock, uniqueChain, untilWorkflowExists, waitFor } from './support/cluster';
import { useTestStack } from './support/stack';
import { dataDir } from '../config/storage';
import { blockProgressQuery } from '../workflows/definitions';
import { digestOf } from '../storage/artifact-store';
import type { LeaseResult } from '../activities/types';

/**
 * The ways a chain used to lose its way, each against the real stack: admission that stranded
 * blocks, a retry without its input, a terminated block or sequencer, unbounded payloads, a
 * publication that failed the sequencer, a lost artifact.
 */

const slow = { input: { simulate: { segmentMs: 60_000 } } };
const fast = { input: { simulate: { segmentMs: 20, aggregateMs: 5 } } };

/** The largest payload in a workflow's history, in bytes: what Temporal's 2 MiB / 4 MiB limits apply to. */
function largestPayload(events: temporal.api.history.v1.IHistoryEvent[]): number {
  let largest = 0;
  const visit = (value: unknown): void => {
    if (!value || typeof value !== 'object') return;
    if (value instanceof Uint8Array) return;
    const payload = value as { data?: Uint8Array; metadata?: unknown };
    if (payload.data instanceof Uint8Array && payload.metadata) largest = Math.max(largest, payload.data.length);
    for (const child of Object.values(value)) visit(child);
  };
  events.forEach(visit);
  return largest;
}

describe('chain safety over HTTP', () => {
  const stack = useTestStack({ pools: [['h100', 8, 'h100-node']], api: {} });

  it('refuses a block below the first one submitted instead of accepting and stranding it', async () => {
    const chainId = uniqueChain('shuffled');
    expect((await stack.api.submit(chainId, 10, fast)).status).toBe(202);
    const below = await stack.api.submit(chainId, 9, fast);
    expect(below.status).toBe(409);
    expect(below.body.error.code).toBe('below_start');
    const view = await stack.api.waitUntilFinalized(chainId, 10);
    expect(view).toMatchObject({ startNumber: 10, finalizedHead: 10, queued: [], inFlight: [], proved: [] });
    expect((await stack.api.request('GET', `/v1/chains/${chainId}/blocks/9`)).status).toBe(404);
    // Moving the start is refused while the chain holds blocks.
    expect((await stack.api.configure(chainId, { mode: 'pipelined', startNumber: 0 })).body.error.code).toBe('start_fixed');
  });

  it('answers 429 with Retry-After beyond the window ahead of the head, and a block number that is not a safe integer 400', async () => {
    const chainId = uniqueChain('window');
    await stack.api.configure(chainId, { mode: 'pipelined', startNumber: 0, maxAhead: 3, slotSeconds: 2 });
    expect((await stack.api.submit(chainId, 2, slow)).status).toBe(202);
    const ahead = await stack.api.submit(chainId, 3, slow);
    expect(ahead.status).toBe(429);
    expect(ahead.body.error.code).toBe('beyond_window');
    expect(ahead.headers?.['retry-after']).toBe('2');
    expect((await stack.api.submit(chainId, 2 ** 53, slow)).status).toBe(400);
    await stack.api.request('POST', `/v1/chains/${chainId}/reorg`, { fromNumber: 0 });
  });

  it('retries a block with its input: a block that failed on bad input fails again, with the same reason, instead of proving something else', async () => {
    const chainId = uniqueChain('retry-input');
    await stack.api.configure(chainId, { mode: 'pipelined', startNumber: 0 });
    await stack.api.submit(chainId, 0, { input: { simulate: { segmentMs: 10, badInputSegments: [1] } } });
    const failed = await stack.api.waitForChain(chainId, 'block 0 to fail', (view) => view.failed.includes(0));
    const retry = await stack.api.retry(chainId, 0);
    expect(retry.workflowId).toBe(blockWorkflowId(chainId, 0, 1));
    const again = await stack.api.waitForChain(
      chainId,
      'the retry to fail',
      (view) => view.failed.includes(0) && view.inFlight.length === 0,
    );
    expect((await stack.api.block(chainId, 0)).workflowId).toBe(retry.workflowId);
    expect(again.failures).toEqual(failed.failures);
    expect(again.failures[0].error).toMatch(/input rejected/);
    expect(again.halted).toEqual({ number: 0, reason: failed.failures[0].error });
    expect(existsSync(path.join(publishedDir(), chainId))).toBe(false);
  });

  it('marks a block whose workflow an operator terminated as failed, and a retry finalizes it', async () => {
    const chainId = uniqueChain('terminated');
    await stack.api.configure(chainId, { mode: 'sequential', startNumber: 0 });
    await stack.api.submit(chainId, 0, slow);
    await stack.api.submit(chainId, 1, fast);
    await stack.api.waitForChain(chainId, 'block 0 to start', (view) => view.inFlight.includes(0));
    await untilWorkflowExists(stack.cluster.client, blockWorkflowId(chainId, 0));
    await stack.cluster.client.workflow.getHandle(blockWorkflowId(chainId, 0)).terminate('operator');
    const view = await stack.api.waitForChain(chainId, 'block 0 to fail', (chain) => chain.failed.includes(0));
    expect(view.halted?.number).toBe(0);
    expect(view.failures[0].error).toMatch(/closed without reporting/i);
    // The only in-flight slot (sequential) is free again: block 1 proves, not waiting behind block 0.
    await stack.api.waitForChain(chainId, 'block 1 to prove', (chain) => chain.proved.includes(1));
    expect((await stack.api.retry(chainId, 0)).workflowId).toBe(blockWorkflowId(chainId, 0, 1));
    // The retry proves the same minute-long input; the operator replaces the block instead.
    await stack.api.request('POST', `/v1/chains/${chainId}/reorg`, { fromNumber: 0 });
    await stack.api.submit(chainId, 0, fast, 'again');
    await stack.api.submit(chainId, 1, fast, 'again');
    await stack.api.waitUntilFinalized(chainId, 1);
  });

  it('never recreates a terminated chain empty: it answers 503 until recovered, then keeps its finalized head', async () => {
    const chainId = uniqueChain('recreate');
    await stack.api.configure(chainId, { mode: 'pipelined', startNumber: 0, maxInFlight: 2 });
    for (const number of [0, 1]) await stack.api.submit(chainId, number, fast);
    await stack.api.waitUntilFinalized(chainId, 1);
    await stack.api.submit(chainId, 2, slow);
    await stack.api.waitForChain(chainId, 'block 2 to start', (view) => view.inFlight.includes(2));
    await untilWorkflowExists(stack.cluster.client, blockWorkflowId(chainId, 2));
    await stack.cluster.client.workflow.getHandle(sequencerWorkflowId(chainId)).terminate('operator');

    const refused = await stack.api.submit(chainId, 1, fast);
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('chain_stopped');
    expect((await stack.api.request('POST', `/v1/chains/${chainId}/blocks/2/retry`)).body.error.code).toBe('chain_stopped');
    expect((await stack.api.request('GET', `/v1/chains/${chainId}`)).body.error.code).toBe('chain_stopped');

    const recovered = await stack.api.recover(chainId);
    expect(recovered).toMatchObject({ finalizedHead: 1, nextToFinalize: 2, maxInFlight: 2, inFlight: [] });
    // The orphaned block 2 was terminated with the old run; a finalized number is never accepted again.
    expect((await stack.cluster.client.workflow.getHandle(blockWorkflowId(chainId, 2)).describe()).status.name).toBe('TERMINATED');
    const finalizedAgain = await stack.api.submit(chainId, 1, fast);
    expect(finalizedAgain.status).toBe(409);
    expect(finalizedAgain.body.error.code).toBe('already_finalized');
    expect((await stack.api.request('POST', `/v1/chains/${chainId}/recover`)).status).toBe(409);
    await stack.api.submit(chainId, 2, fast);
    await stack.api.waitUntilFinalized(chainId, 2);
    expect(readdirSync(path.join(publishedDir(), chainId)).sort()).toEqual(['0.json', '1.json', '2.json']);
  });

  it('keeps block inputs out of Temporal: a 200 KB input travels as a reference through the sequencer and every activity', async () => {
    const chainId = uniqueChain('big-input');
    await stack.api.configure(chainId, { mode: 'pipelined', startNumber: 0 });
    const input = { simulate: { segmentMs: 10 }, witness: ['w'.repeat(100_000), 'v'.repeat(100_000)] };
    await stack.api.submit(chainId, 0, { segments: 8, input });
    await stack.api.waitUntilFinalized(chainId, 0);
    const client = stack.cluster.client;
    const sequencer = (await client.workflow.getHandle(sequencerWorkflowId(chainId)).fetchHistory()).events ?? [];
    const block = (await client.workflow.getHandle(blockWorkflowId(chainId, 0)).fetchHistory()).events ?? [];
    expect(largestPayload(sequencer)).toBeLessThan(4_096);
    expect(largestPayload(block)).toBeLessThan(4_096);
  });

  it('halts the chain, without failing its sequencer, when a publication is refused; a retry resumes it', async () => {
    const chainId = uniqueChain('pub-halt');
    await stack.api.configure(chainId, { mode: 'pipelined', startNumber: 0 });
    // Another proof of block 0 is already out, under another hash: the publisher refuses ours.
    mkdirSync(path.join(publishedDir(), chainId), { recursive: true });
    const foreign = path.join(publishedDir(), chainId, '0.json');
    const record = { chainId, number: 0, hash: blockHash(chainId, 0, 'foreign'), proofRef: `sha256:${'0'.repeat(64)}`, publishedAt: 1 };
    writeFileSync(foreign, JSON.stringify(record));
    await stack.api.submit(chainId, 0, fast);
    await stack.api.submit(chainId, 1, fast);
    const halted = await stack.api.waitForChain(chainId, 'the chain to halt at block 0', (view) => view.halted !== null);
    expect(halted.halted).toEqual({ number: 0, reason: expect.stringMatching(/^publication failed: .*already published/) });
    expect(halted.finalizedHead).toBeNull();
    expect((await stack.cluster.client.workflow.getHandle(sequencerWorkflowId(chainId)).describe()).status.name).toBe('RUNNING');
    // The operator removes the foreign record and retries the publication.
    rmSync(foreign);
    expect((await stack.api.request('POST', `/v1/chains/${chainId}/blocks/0/retry`)).status).toBe(202);
    const resumed = await stack.api.waitUntilFinalized(chainId, 1);
    expect(resumed.halted).toBeNull();
  });
});

describe('blocks carried through continue-as-new', () => {
  const stack = useTestStack({ pools: [['h100', 4, 'h100-node']], api: { continueAsNewAfterBlocks: 1, reconcileEveryMs: 300 } });

  it('notices a block started by an earlier run that closed without reporting, and fails it visibly', async () => {
    const chainId = uniqueChain('reconcile');
    await stack.api.configure(chainId, { mode: 'pipelined', startNumber: 0 });
    await stack.api.submit(chainId, 0, slow);
    await stack.api.waitForChain(chainId, 'block 0 to start', (view) => view.inFlight.includes(0));
    // The next submission is accepted by a later run (continue-as-new after every block).
    await stack.api.submit(chainId, 1, fast);
    const runs = async (): Promise<number> => {
      let count = 0;
      for await (const _ of stack.cluster.client.workflow.list({ query: `WorkflowId = '${sequencerWorkflowId(chainId)}'` })) count += 1;
      return count;
    };
    await waitFor('the sequencer to continue as new twice', async () => ((await runs()) >= 3 ? true : undefined));
    await untilWorkflowExists(stack.cluster.client, blockWorkflowId(chainId, 0));
    await stack.cluster.client.workflow.getHandle(blockWorkflowId(chainId, 0)).terminate('operator');
    const view = await stack.api.waitForChain(chainId, 'block 0 to fail', (chain) => chain.failed.includes(0));
    expect(view.failures).toEqual([{ number: 0, error: 'block workflow closed without reporting: TERMINATED' }]);
    await stack.api.retry(chainId, 0);
    await stack.api.request('POST', `/v1/chains/${chainId}/reorg`, { fromNumber: 0 });
  });
});

describe('lost artifacts', () => {
  const stack = useTestStack({ pools: [['h100', 4, 'h100-node']] });

  it('proves a segment again when its proof is gone before aggregation, instead of failing or waiting an hour', async () => {
    const chainId = uniqueChain('lost');
    const handle = await stack.cluster.startBlock(
      simulatedBlock(chainId, 1, {
        segments: 2,
        // One segment a lease: the aggregation above them is a task of its own, reading proofs from the store.
        options: { hedgeFactor: 0, fanIn: 2, leaseSegments: 1 },
        input: { simulate: { segmentMs: 10, aggregateMs: 5, slowSegments: { '1': 6_000 } } },
      }),
    );
    // Segment 0 is done while segment 1 is still proving: its proof is deleted from the store.
    await waitFor('segment 0 to be proved', async () => ((await handle.query(blockProgressQuery)).segments.done >= 1 ? true : undefined));
    const history = (await handle.fetchHistory()).events ?? [];
    const completed = history.flatMap((event) =>
      event.activityTaskCompletedEventAttributes?.result?.payloads
        ? [defaultPayloadConverter.fromPayload<LeaseResult>(event.activityTaskCompletedEventAttributes.result.payloads[0])]
        : [],
    );
    expect(completed).toHaveLength(1);
    const digest = digestOf(completed[0].roots[0].proofRef);
    rmSync(path.join(dataDir(), 'artifacts', 'sha256', digest.slice(0, 2), digest));

    const result = await handle.result();
    expect(result.verified).toBe(true);
    const events = (await handle.fetchHistory()).events ?? [];
    const failures = events.flatMap((event) => {
      const failure = event.activityTaskFailedEventAttributes?.failure;
      return failure ? [failure.applicationFailureInfo?.type] : [];
    });
    expect(failures).toEqual([FailureTypes.ArtifactMissing]);
    // Two leases, and segment 0's again.
    const leases = events.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'proveLease');
    expect(leases).toHaveLength(3);
  });
});
