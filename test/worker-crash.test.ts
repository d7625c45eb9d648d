import { blockProgressQuery } from '../workflows/definitions';
import { simulatedBlock, uniqueChain, waitFor } from './support/cluster';
import { useTestStack } from './support/stack';

describe('a GPU worker killed in the middle of a lease', () => {
  const stack = useTestStack();

  it('has its segments retried on another worker, and the block completes', async () => {
    const victim = await stack.cluster.spawnGpuPool('cpu', 2, 'victim-node');
    const chainId = uniqueChain('crash');
    const handle = await stack.cluster.startBlock(
      simulatedBlock(chainId, 1, {
        segments: 2,
        gpuClass: 'cpu',
        input: { simulate: { segmentMs: 3_000, aggregateMs: 10 } },
        // No budget for prover errors at all: losing a worker must not need one.
        options: { heartbeatTimeoutMs: 1_000, maxAttempts: 1 },
      }),
    );
    // The block's lease (both segments, one GPU each) started on the victim: it is proving when it dies.
    await waitFor('the lease to start on the victim', async () => {
      const description = await handle.describe();
      const started = description.raw.pendingActivities?.filter(
        (activity) => activity.lastWorkerIdentity === 'victim-node' && activity.lastStartedTime,
      );
      return started && started.length === 1 ? true : undefined;
    });
    victim.kill('SIGKILL');
    await new Promise((resolve) => victim.once('exit', resolve));
    await stack.cluster.addGpuPool('cpu', 2, 'survivor-node');

    const result = await handle.result();
    expect(result.verified).toBe(true);
    expect(result.timings.segments.map((s) => s.worker)).toEqual(['survivor-node', 'survivor-node']);
    expect(result.timings.segments.every((s) => s.attempt === 2)).toBe(true);
    expect((await handle.query(blockProgressQuery)).segments).toEqual({ total: 2, done: 2, running: 0, failed: 0 });
  });
});
