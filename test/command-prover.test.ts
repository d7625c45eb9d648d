import { existsSync, readFileSync } from 'node:fs';
import { WorkflowFailedError } from '@temporalio/client';
import { isProcessAlive } from '../provers/runtime';
import { blockProgressQuery } from '../workflows/definitions';
import { activityRuns } from './support/history';
import { blockHash, exampleProverFile, uniqueChain, waitFor } from './support/cluster';
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
    const chainId = uniqueChain('cmd-cancel');
    const pidFile = exampleProverFile(`${chainId}-1-prove-0.pid`);
    // The segment's prover sleeps a minute: only cancellation ends it early.
    const handle = await stack.cluster.startBlock({ ...job(chainId, { sleepMs: 60_000, recordPid: true }, 1) });
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

  it('kills its prover when the GPU worker dies by SIGKILL: no orphan keeps the GPU', async () => {
    // A node of its own class, as an OS process, so the block can only run there.
    const node = await stack.cluster.spawnGpuPool('l40s', 1, 'l40s-doomed-node');
    const chainId = uniqueChain('cmd-orphan');
    const pidFile = exampleProverFile(`${chainId}-1-prove-0.pid`);
    const handle = await stack.cluster.startBlock({ ...job(chainId, { sleepMs: 60_000, recordPid: true }, 1), gpuClass: 'l40s' });
    try {
      const pid = await waitFor('the segment prover to start', async () => {
        if (!existsSync(pidFile)) return undefined;
        const value = Number(readFileSync(pidFile, 'utf8'));
        return value && isProcessAlive(value) ? value : undefined;
      });
      node.kill('SIGKILL');
      await waitFor('the orphaned prover to be killed', async () => (isProcessAlive(pid) ? undefined : true), 15_000);
    } finally {
      await handle.terminate('test over: its only node is gone');
    }
  });
});
