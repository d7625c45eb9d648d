import type { ProverRegistry } from '../provers/registry';
import type { AggregateRequest, ProverContext } from '../provers/backend';
import { Groth16Prover } from '../provers/groth16/backend';
import { TestApi } from './support/api';
import { TestCluster, uniqueChain } from './support/cluster';

/**
 * Real Groth16 proofs through the normal path: HTTP → sequencer → block workflow → GPU worker
 * slots → aggregation → verification of every proof in the block artifact. The first run on a
 * machine prepares the keys (powers of tau and two circuits: about 2.5 min on 2 cores).
 */

/** A GPU node that returns a forged aggregation proof: one digit of the proof changed. */
class ForgingGroth16Prover extends Groth16Prover {
  override async aggregate(request: AggregateRequest, context: ProverContext): Promise<Uint8Array> {
    const artifact = JSON.parse(Buffer.from(await super.aggregate(request, context)).toString('utf8')) as { proof: { pi_a: string[] } };
    const digits = artifact.proof.pi_a[0];
    artifact.proof.pi_a[0] = digits.slice(0, -1) + String((Number(digits.slice(-1)) + 1) % 10);
    return Buffer.from(JSON.stringify(artifact));
  }
}

describe('groth16 backend end to end', () => {
  let cluster: TestCluster;
  let api: TestApi;
  const forger = new ForgingGroth16Prover();

  beforeAll(async () => {
    cluster = await TestCluster.start();
    await cluster.addGpuPool('cpu', 2, 'groth16-node');
    await cluster.addGpuPool('l4', 2, 'forging-node', new Map([['groth16', forger]]) as ProverRegistry);
    api = await TestApi.start(cluster);
  });

  afterAll(async () => {
    await api?.close();
    await cluster?.close();
    await forger.close();
  });

  it('proves a 2-segment block: two segment proofs and one aggregation proof, all verified', async () => {
    const chainId = uniqueChain('groth16');
    await api.configure(chainId, {
      mode: 'sequential',
      startNumber: 0,
      defaults: { gpuClass: 'cpu', prover: 'groth16', segments: 2, heartbeatTimeoutMs: 30_000 },
    });
    expect((await api.submit(chainId, 0)).status).toBe(202);
    await api.waitForChain(chainId, 'the groth16 block to finalize', (view) => view.finalizedHead === 0 || view.failed.length > 0, 600_000);
    const view = await api.block(chainId, 0);
    expect(view.error).toBeUndefined();
    expect(view.status).toBe('finalized');
    expect(view.proof?.verified).toBe(true);
    const result = await cluster.client.workflow.getHandle(view.workflowId).result();
    expect(result).toMatchObject({ prover: 'groth16', fanIn: 8, aggregationLevels: 1, verified: true });
    console.log(
      `[provers] groth16 2-segment block: segments ${result.timings.segments.map((s: { provingMs: number }) => Math.round(s.provingMs)).join(' / ')} ms, aggregation ${Math.round(result.timings.aggregationLevels[0].maxProvingMs)} ms, verify ${Math.round(result.timings.verifyMs)} ms, total ${result.timings.totalMs} ms`,
    );
  }, 600_000);

  it('fails a block whose GPU node forged its aggregation proof, and finalizes nothing', async () => {
    const chainId = uniqueChain('forged');
    await api.configure(chainId, {
      mode: 'sequential',
      startNumber: 0,
      defaults: { gpuClass: 'l4', prover: 'groth16', segments: 2, heartbeatTimeoutMs: 30_000 },
    });
    expect((await api.submit(chainId, 0)).status).toBe(202);
    const chain = await api.waitForChain(
      chainId,
      'the forged block to fail',
      (view) => view.failed.length > 0 || view.finalizedHead === 0,
      600_000,
    );
    expect(chain.failed).toEqual([0]);
    expect(chain.finalizedHead).toBeNull();
    const view = await api.block(chainId, 0);
    expect(view.status).toBe('failed');
    expect(view.error).toContain('block proof failed verification: the aggregate proof of segments 0-2 does not verify');
  }, 600_000);
});
