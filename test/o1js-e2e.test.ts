import type { AggregateRequest, ProverContext } from '../provers/backend';
import { O1jsProver } from '../provers/o1js/backend';
import type { ProverRegistry } from '../provers/registry';
import { TestApi } from './support/api';
import { TestCluster, uniqueChain } from './support/cluster';

/**
 * A real recursive proof through the normal path: HTTP → sequencer → block workflow → GPU
 * worker slots (each with its o1js prover process) → merge → verification. Minutes, not
 * seconds: the first run on a machine compiles the keys (cached under ~/.cache/prooflane/o1js).
 */
/** A GPU node that returns a forged merge proof: one character of the proof body changed. */
class ForgingO1jsProver extends O1jsProver {
  override async aggregate(request: AggregateRequest, context: ProverContext): Promise<Uint8Array> {
    const proof = JSON.parse(Buffer.from(await super.aggregate(request, context)).toString('utf8')) as { proof: string };
    const at = Math.floor(proof.proof.length / 2);
    proof.proof = proof.proof.slice(0, at) + (proof.proof[at] === 'A' ? 'B' : 'A') + proof.proof.slice(at + 1);
    return Buffer.from(JSON.stringify(proof));
  }
}

describe('o1js backend end to end', () => {
  let cluster: TestCluster;
  let api: TestApi;
  const forger = new ForgingO1jsProver();

  beforeAll(async () => {
    cluster = await TestCluster.start();
    await cluster.addGpuPool('cpu', 2, 'o1js-node');
    await cluster.addGpuPool('l4', 1, 'forging-node', new Map([['o1js', forger]]) as ProverRegistry);
    api = await TestApi.start(cluster);
  });

  afterAll(async () => {
    await api?.close();
    await cluster?.close();
    await forger.close();
  });

  it('proves a 2-segment block with a recursive merge, and the block proof verifies', async () => {
    const chainId = uniqueChain('o1js');
    await api.configure(chainId, {
      mode: 'sequential',
      startNumber: 0,
      defaults: { gpuClass: 'cpu', prover: 'o1js', segments: 2, heartbeatTimeoutMs: 30_000 },
    });
    expect((await api.submit(chainId, 0)).status).toBe(202);
    await api.waitForChain(chainId, 'the o1js block to finalize', (view) => view.finalizedHead === 0 || view.failed.length > 0, 900_000);
    const view = await api.block(chainId, 0);
    expect(view.error).toBeUndefined();
    expect(view.status).toBe('finalized');
    expect(view.proof?.verified).toBe(true);
    const result = await cluster.client.workflow.getHandle(view.workflowId).result();
    expect(result).toMatchObject({ prover: 'o1js', fanIn: 2, aggregationLevels: 1, verified: true });
    console.log(
      `[provers] o1js 2-segment block: segments ${result.timings.segments.map((s: { provingMs: number }) => Math.round(s.provingMs)).join(' / ')} ms, merge ${Math.round(result.timings.aggregationLevels[0].maxProvingMs)} ms, verify ${Math.round(result.timings.verifyMs)} ms, total ${result.timings.totalMs} ms`,
    );
  }, 900_000);

  it('fails a block whose GPU node forged its merge proof, and finalizes nothing', async () => {
    const chainId = uniqueChain('o1js-forged');
    await api.configure(chainId, {
      mode: 'sequential',
      startNumber: 0,
      defaults: { gpuClass: 'l4', prover: 'o1js', segments: 2, heartbeatTimeoutMs: 30_000 },
    });
    expect((await api.submit(chainId, 0)).status).toBe(202);
    const chain = await api.waitForChain(
      chainId,
      'the forged block to fail',
      (view) => view.failed.length > 0 || view.finalizedHead === 0,
      900_000,
    );
    expect(chain.failed).toEqual([0]);
    expect(chain.finalizedHead).toBeNull();
    const view = await api.block(chainId, 0);
    expect(view.status).toBe('failed');
    expect(view.error).toContain('block proof failed verification: the proof does not verify against the verification key');
  }, 900_000);

  it('proves one block with o1js and groth16 at 2-of-2: both real proofs verified, counted and published', async () => {
    const chainId = uniqueChain('two-of-two');
    const configured = await api.configure(chainId, {
      mode: 'sequential',
      startNumber: 0,
      defaults: { gpuClass: 'cpu', segments: 2, heartbeatTimeoutMs: 30_000 },
      proofs: { provers: [{ prover: 'o1js' }, { prover: 'groth16' }], quorum: 2 },
    });
    expect(configured.status).toBe(200);
    expect((await api.submit(chainId, 0)).status).toBe(202);
    await api.waitForChain(chainId, 'the 2-of-2 block to finalize', (view) => view.finalizedHead === 0 || view.failed.length > 0, 900_000);
    const view = await api.block(chainId, 0);
    expect(view.error).toBeUndefined();
    expect(view.status).toBe('finalized');
    const provers = view.proofs?.provers ?? [];
    expect(provers.map((prover) => prover.key).sort()).toEqual(['groth16@cpu', 'o1js@cpu']);
    for (const prover of provers) expect(prover).toMatchObject({ status: 'verified', counted: true });
    // Two different proofs of one block, each made and verified by its own proving system.
    expect(new Set(provers.map((prover) => prover.proofRef)).size).toBe(2);
  }, 900_000);
});
