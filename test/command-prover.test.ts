import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { isProcessAlive } from '../provers/runtime';
import { blockProgressQuery } from '../workflows/definitions';
import { activityRuns } from './support/history';
import { blockHash, uniqueChain, waitFor } from './support/cluster';
import { useTestStack } from './support/stack';

describe('the command prover backend (external executable, JSON in/out)', () => {
  const stack = useTestStack({
    pools: [['l4', 4, 'l4-node']],
  });

  const job = (chainId: string, example: Record<string, unknown> = {}, segments = 3) => ({
    chainId,
    number: 1,
    hash: blockHash(chainId, 1),
    segments,
    gpuClass: 'l4' as const,
    prover: 'command' as const,
    input: { example },
  });

  it('proves and verifies a block through the example prover', async () => {
    const handle = await stack.cluster.startBlock(job(uniqueChain('cmd-ok')));
    const result = await handle.result();
    expect(result.verified).toBe(true);
    expect(result.timings.segments).toHaveLength(3);
    expect(result.timings.segments.every((s) => s.attempt === 1)).toBe(true);
  });

  it('retries a prover that exits non-zero', async () => {
    const handle = await stack.cluster.startBlock(job(uniqueChain('cmd-crash'), { failAttempts: 1 }));
    const result = await handle.result();
    expect(result.verified).toBe(true);
    expect(result.timings.segments.every((s) => s.proverRetries === 1)).toBe(true);
  });

  it('does not retry a prover that rejects its input, and the failure says so', async () => {
    const handle = await stack.cluster.startBlock(job(uniqueChain('cmd-bad'), { badInput: 'malformed witness' }, 1));
    const error: unknown = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause?.message).toMatch(/prover rejected its input \(exit 65\).*malformed witness/);
    // Planning runs the same prover; the block fails at its first step, once.
    const runs = await activityRuns(handle);
    expect(runs.filter((run) => run.attempt > 1)).toHaveLength(0);
  });

  it('fails verification of a block whose prover wrote garbage', async () => {
    const handle = await stack.cluster.startBlock(job(uniqueChain('cmd-garbage'), { garbage: true }, 1));
    const error: unknown = await handle.result().catch((e: unknown) => e);
    expect((error as WorkflowFailedError).cause?.message).toContain('failed verification');
    expect((await handle.query(blockProgressQuery)).status).toBe('failed');
  });

  it('kills the prover process when the block is cancelled', async () => {
    const pidFile = path.join(mkdtempSync(path.join(tmpdir(), 'prooflane-pid-')), 'prover.pid');
    const chainId = uniqueChain('cmd-cancel');
    // The segment's prover sleeps a minute: only cancellation ends it early.
    const handle = await stack.cluster.startBlock({ ...job(chainId, { sleepMs: 60_000, pidFile }, 1) });
    const pid = await waitFor('the segment prover to start', async () => {
      const progress = await handle.query(blockProgressQuery);
      if (progress.segments.running === 0 || !existsSync(pidFile)) return undefined;
      const value = Number(readFileSync(pidFile, 'utf8'));
      return value && isProcessAlive(value) ? value : undefined;
    });
    await handle.cancel();
    await waitFor('the prover process to exit', async () => (isProcessAlive(pid) ? undefined : true), 15_000);
    await expect(handle.result()).rejects.toThrow();
    expect((await handle.query(blockProgressQuery)).status).toBe('cancelled');
  });
});
