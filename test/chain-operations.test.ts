import { createHash } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exampleProverFile, publishedDir, uniqueChain, untilWorkflowExists, waitFor } from './support/cluster';
import { blockWorkflowId, sequencerWorkflowId } from '../domain/names';
import { blockEntryQuery } from '../workflows/definitions';
import { useTestStack } from './support/stack';

describe('chain operations over HTTP', () => {
  const stack = useTestStack({
    pools: [
      ['h100', 8, 'h100-node'],
      ['l4', 4, 'l4-node'],
    ],
    api: {},
  });

  it('answers an identical resubmission with 200 and the same block, and another hash with 409', async () => {
    const chainId = uniqueChain('idem');
    const first = await stack.api.submit(chainId, 0);
    expect(first.status).toBe(202);
    const again = await stack.api.submit(chainId, 0);
    expect(again.status).toBe(200);
    expect(again.body.workflowId).toBe(first.body.workflowId);
    const conflicting = await stack.api.submit(chainId, 0, {}, 'other');
    expect(conflicting.status).toBe(409);
    expect(conflicting.body.error.code).toBe('hash_conflict');
    await stack.api.waitForChain(chainId, 'block 0 to finalize', (view) => view.finalizedHead === 0);
    // Still idempotent after finalization, and still a conflict with another hash.
    expect((await stack.api.submit(chainId, 0)).status).toBe(200);
    expect((await stack.api.submit(chainId, 0, {}, 'other')).status).toBe(409);
    const handles = stack.cluster.client.workflow.list({ query: `ChainId = '${chainId}' AND WorkflowType = 'blockProofWorkflow'` });
    const runs: string[] = [];
    for await (const run of handles) runs.push(run.workflowId);
    expect(runs).toEqual([first.body.workflowId]);
    expect(readdirSync(path.join(publishedDir(), chainId))).toEqual(['0.json']);
  });

  it('reorg cancels running provers and forgets hashes; new hashes can then be submitted', async () => {
    const chainId = uniqueChain('reorg');
    await stack.api.configure(chainId, { mode: 'pipelined', maxInFlight: 4, startNumber: 0 });
    await stack.api.submit(chainId, 0, { input: { simulate: { segmentMs: 20 } } });
    await stack.api.waitForChain(chainId, 'block 0 to finalize', (view) => view.finalizedHead === 0);
    for (const number of [1, 2, 3]) await stack.api.submit(chainId, number, { input: { simulate: { segmentMs: 60_000 } } });
    await stack.api.waitForChain(chainId, 'blocks 1-3 to prove', (view) => view.inFlight.length === 3);
    const oldWorkflow = (await stack.api.block(chainId, 2)).workflowId;

    expect((await stack.api.request('POST', `/v1/chains/${chainId}/reorg`, { fromNumber: 0 })).status).toBe(409);
    const reorg = await stack.api.request('POST', `/v1/chains/${chainId}/reorg`, { fromNumber: 2 });
    expect(reorg.status).toBe(202);
    expect(reorg.body).toMatchObject({ cancelled: [2, 3], forgotten: [2, 3] });
    expect((await stack.api.request('GET', `/v1/chains/${chainId}/blocks/3`)).status).toBe(404);
    const cancelled = await waitFor('the old block 2 workflow to be cancelled', async () => {
      const description = await stack.cluster.client.workflow.getHandle(oldWorkflow).describe();
      return description.status.name === 'CANCELLED' ? description : undefined;
    });
    expect(cancelled.status.name).toBe('CANCELLED');

    for (const number of [2, 3])
      expect((await stack.api.submit(chainId, number, { input: { simulate: { segmentMs: 20 } } }, 'reorged')).status).toBe(202);
    // Block 1 is still proving its minute-long segments; reorg it too so the chain can move on.
    await stack.api.request('POST', `/v1/chains/${chainId}/reorg`, { fromNumber: 1 });
    for (const number of [1, 2, 3])
      expect((await stack.api.submit(chainId, number, { input: { simulate: { segmentMs: 20 } } }, 'final')).status).toBe(202);
    await stack.api.waitForChain(chainId, 'the reorged chain to finalize', (view) => view.finalizedHead === 3);
    const block2 = await stack.api.block(chainId, 2);
    expect(block2.workflowId).not.toBe(oldWorkflow);
    expect(readdirSync(path.join(publishedDir(), chainId)).sort()).toEqual(['0.json', '1.json', '2.json', '3.json']);
  });

  it('halts finalization at a failed block while later blocks prove, and a retry resumes the chain', async () => {
    const chainId = uniqueChain('halt');
    const witness = exampleProverFile(`${chainId}-1.witness`);
    await stack.api.configure(chainId, {
      mode: 'pipelined',
      maxInFlight: 4,
      startNumber: 0,
      defaults: { gpuClass: 'l4', prover: 'command', segments: 2 },
    });
    await stack.api.submit(chainId, 0);
    await stack.api.submit(chainId, 1, { input: { example: { requireWitness: true } } });
    await stack.api.submit(chainId, 2);
    const halted = await stack.api.waitForChain(
      chainId,
      'block 1 to fail and block 2 to prove',
      (view) => view.failed.includes(1) && view.proved.includes(2) && view.finalizedHead === 0,
    );
    expect(halted.finalizedHead).toBe(0);
    expect(halted.failures).toEqual([{ number: 1, error: expect.stringContaining('witness') }]);
    expect((await stack.api.block(chainId, 1)).status).toBe('failed');
    expect((await stack.api.block(chainId, 2)).status).toBe('proved');
    expect((await stack.api.request('POST', `/v1/chains/${chainId}/blocks/2/retry`)).status).toBe(409);

    writeFileSync(witness, 'the operator supplied the witness');
    expect(existsSync(witness)).toBe(true);
    const retry = await stack.api.request('POST', `/v1/chains/${chainId}/blocks/1/retry`);
    expect(retry.status).toBe(202);
    const resumed = await stack.api.waitForChain(chainId, 'the chain to finalize past block 1', (view) => view.finalizedHead === 2);
    expect(resumed.failed).toEqual([]);
    expect((await stack.api.block(chainId, 1)).workflowId).toBe(retry.body.workflowId);
  });

  it('pause stops new blocks from starting; resume starts them', async () => {
    const chainId = uniqueChain('pause');
    await stack.api.submit(chainId, 0, { input: { simulate: { segmentMs: 20 } } });
    await stack.api.waitForChain(chainId, 'block 0 to finalize', (view) => view.finalizedHead === 0);
    const paused = await stack.api.request('POST', `/v1/chains/${chainId}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body.paused).toBe(true);
    const submitted = await stack.api.submit(chainId, 1, { input: { simulate: { segmentMs: 20 } } });
    // The sequencer decides what to start in the workflow task that accepts the block, so its
    // history up to the accepted submission holds that decision: no start for block 1.
    const history = await stack.cluster.client.workflow.getHandle(sequencerWorkflowId(chainId)).fetchHistory();
    const starts = (history.events ?? []).filter(
      (event) => event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId === submitted.body.workflowId,
    );
    expect(starts).toEqual([]);
    const stillQueued = await stack.api.chain(chainId);
    expect(stillQueued.queued).toEqual([1]);
    expect((await stack.api.block(chainId, 1)).status).toBe('queued');
    expect((await stack.api.request('POST', `/v1/chains/${chainId}/resume`)).body.paused).toBe(false);
    await stack.api.waitForChain(chainId, 'block 1 to finalize after resume', (view) => view.finalizedHead === 1);
  });

  it('records whether each block met its slot deadline and marks late ones for the Web UI', async () => {
    const chainId = uniqueChain('deadline');
    await stack.api.configure(chainId, { mode: 'pipelined', maxInFlight: 2, startNumber: 0, slotSeconds: 12 });
    const now = Math.floor(Date.now() / 1000);
    await stack.api.submit(chainId, 0, { timestamp: now, input: { simulate: { segmentMs: 20 } } });
    await stack.api.submit(chainId, 1, { timestamp: now - 60, input: { simulate: { segmentMs: 20 } } });
    await stack.api.waitForChain(chainId, 'both blocks to finalize', (view) => view.finalizedHead === 1);
    const onTime = await stack.api.block(chainId, 0);
    const late = await stack.api.block(chainId, 1);
    expect(onTime.deadline).toEqual({ at: new Date((now + 12) * 1000).toISOString(), met: true });
    expect(late.deadline).toEqual({ at: new Date((now - 48) * 1000).toISOString(), met: false });
    const lateBlocks: string[] = [];
    await waitFor('visibility to index the late block', async () => {
      lateBlocks.length = 0;
      for await (const run of stack.cluster.client.workflow.list({ query: `ChainId = '${chainId}' AND DeadlineMissed = true` }))
        lateBlocks.push(run.workflowId);
      return lateBlocks.length === 1 ? true : undefined;
    });
    expect(lateBlocks).toEqual([late.workflowId]);
  });

  it('serves a block’s proof bytes once it is proved, as stored under its reference', async () => {
    const chainId = uniqueChain('proof');
    await stack.api.submit(chainId, 0, { input: { simulate: { segmentMs: 20 } } });
    await stack.api.waitForChain(chainId, 'block 0 to finalize', (view) => view.finalizedHead === 0);
    const response = await fetch(`${stack.api.baseUrl}/v1/chains/${chainId}/blocks/0/proof`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    const ref = (await stack.api.block(chainId, 0)).proof?.ref;
    expect(response.headers.get('x-proof-ref')).toBe(ref);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(ref);
    // A block without a proof yet, and one the chain does not know.
    await stack.api.submit(chainId, 1, { input: { simulate: { segmentMs: 60_000 } } });
    expect((await stack.api.request('GET', `/v1/chains/${chainId}/blocks/1/proof`)).body.error.code).toBe('not_found');
    expect((await stack.api.request('GET', `/v1/chains/${chainId}/blocks/9/proof`)).status).toBe(404);
    await stack.api.reorg(chainId, 1);
  });

  it('holds publication on a halt request until resume, and proves only its grid with every', async () => {
    const chainId = uniqueChain('halt');
    await stack.api.configure(chainId, { mode: 'pipelined', maxInFlight: 4, startNumber: 10, every: 5 });
    expect((await stack.api.request('POST', `/v1/chains/${chainId}/halt`, { reason: '' })).status).toBe(400);
    const halted = await stack.api.halt(chainId, 'an operator checks the chain');
    expect(halted.halted).toEqual({ number: 10, reason: 'halted on request: an operator checks the chain' });
    expect((await stack.api.submit(chainId, 12)).body.error).toMatchObject({ code: 'invalid_request' });
    for (const number of [10, 15])
      expect((await stack.api.submit(chainId, number, { input: { simulate: { segmentMs: 20 } } })).status).toBe(202);
    // Both prove; neither is published while the halt stands.
    const proved = await stack.api.waitForChain(chainId, 'blocks 10 and 15 to prove', (view) => view.proved.length === 2);
    expect(proved).toMatchObject({ finalizedHead: null, halted: { number: 10 } });
    await stack.api.setPaused(chainId, false);
    const finalized = await stack.api.waitUntilFinalized(chainId, 15);
    expect(finalized).toMatchObject({ finalizedHead: 15, nextToFinalize: 20, every: 5, halted: null });
    expect(readdirSync(path.join(publishedDir(), chainId)).sort()).toEqual(['10.json', '15.json']);
  });

  it('answers 404 for an unknown chain or block', async () => {
    expect((await stack.api.request('GET', '/v1/chains/no-such-chain')).status).toBe(404);
    expect((await stack.api.request('GET', '/v1/chains/no-such-chain/blocks/1')).status).toBe(404);
    expect((await stack.api.request('POST', '/v1/chains/no-such-chain/pause')).status).toBe(404);
    expect((await stack.api.request('POST', '/v1/chains/no-such-chain/reorg', { fromNumber: 1 })).status).toBe(404);
  });
});

describe('sequencer continue-as-new', () => {
  const stack = useTestStack({
    pools: [['h100', 4, 'h100-node']],
    api: { continueAsNewAfterBlocks: 3 },
  });

  it('carries queued and in-flight blocks across runs: none lost, none proved twice', async () => {
    const chainId = uniqueChain('can');
    await stack.api.configure(chainId, { mode: 'pipelined', maxInFlight: 2, startNumber: 0 });
    for (let number = 0; number < 12; number += 1) {
      expect((await stack.api.submit(chainId, number, { input: { simulate: { segmentMs: 150 } } })).status).toBe(202);
    }
    await stack.api.waitForChain(chainId, 'all 12 blocks to finalize', (view) => view.finalizedHead === 11);

    const sequencerRuns: string[] = [];
    for await (const run of stack.cluster.client.workflow.list({ query: `WorkflowId = '${sequencerWorkflowId(chainId)}'` }))
      sequencerRuns.push(run.runId);
    expect(sequencerRuns.length).toBeGreaterThanOrEqual(4);
    const blockRuns: string[] = [];
    for await (const run of stack.cluster.client.workflow.list({ query: `ChainId = '${chainId}' AND WorkflowType = 'blockProofWorkflow'` }))
      blockRuns.push(run.workflowId);
    expect(blockRuns.sort()).toEqual(Array.from({ length: 12 }, (_, n) => blockWorkflowId(chainId, n)).sort());
    expect(readdirSync(path.join(publishedDir(), chainId))).toHaveLength(12);
  });
});

describe('blocks that have left the sequencer window', () => {
  const stack = useTestStack({
    pools: [['h100', 4, 'h100-node']],
    api: { finalizedKept: 1 },
  });

  it('still finds a retried block by its finalized incarnation', async () => {
    const chainId = uniqueChain('window');
    await stack.api.configure(chainId, { mode: 'pipelined', maxInFlight: 2, startNumber: 0 });
    // Block 0 waits for an a100 node that does not exist yet; an operator cancels it, then retries it.
    await stack.api.submit(chainId, 0, { gpuClass: 'a100' });
    await stack.api.waitForChain(chainId, 'block 0 to start', (view) => view.inFlight.includes(0));
    const first = await stack.api.block(chainId, 0);
    await untilWorkflowExists(stack.cluster.client, first.workflowId);
    await stack.cluster.client.workflow.getHandle(first.workflowId).cancel();
    await stack.api.waitForChain(chainId, 'block 0 to be cancelled', (view) => view.failed.includes(0));
    await stack.cluster.addGpuPool('a100', 2, 'a100-node');
    const retry = await stack.api.retry(chainId, 0);
    expect(retry.workflowId).toBe(blockWorkflowId(chainId, 0, 1));
    for (const number of [1, 2]) expect((await stack.api.submit(chainId, number)).status).toBe(202);
    await stack.api.waitUntilFinalized(chainId, 2);

    // Block 0 has left the sequencer's window: only its workflow still knows it.
    const sequencer = stack.cluster.client.workflow.getHandle(sequencerWorkflowId(chainId));
    expect(await sequencer.query(blockEntryQuery, 0)).toBeNull();
    const block = await stack.api.block(chainId, 0);
    expect(block).toMatchObject({ number: 0, status: 'finalized', workflowId: retry.workflowId, proof: { verified: true } });
    expect(block.uiUrl).toContain(encodeURIComponent(retry.workflowId));
    expect((await stack.api.request('GET', `/v1/chains/${chainId}/blocks/3`)).status).toBe(404);
  });
});
