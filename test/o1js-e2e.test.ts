import { TestApi } from './support/api';
import { TestCluster, uniqueChain } from './support/cluster';

/**
 * A real recursive proof through the normal path: HTTP → sequencer → block workflow → GPU
 * worker slots (each with its o1js prover process) → merge → verification. Minutes, not
 * seconds: the first run on a machine compiles the keys (cached under ~/.cache/prooflane/o1js).
 */
describe('o1js backend end to end', () => {
  let cluster: TestCluster;
  let api: TestApi;

  beforeAll(async () => {
    cluster = await TestCluster.start();
    await cluster.addGpuPool('cpu', 2, 'o1js-node');
    api = await TestApi.start(cluster);
  });

  afterAll(async () => {
    await api?.close();
    await cluster?.close();
  });

  it('proves a 2-segment block with a recursive merge, and the block proof verifies', async () => {
    const chainId = uniqueChain('o1js');
    await api.configure(chainId, { mode: 'sequential', startNumber: 0, defaults: { gpuClass: 'cpu', prover: 'o1js', segments: 2, heartbeatTimeoutMs: 30_000 } });
    expect((await api.submit(chainId, 0)).status).toBe(202);
    await api.waitForChain(chainId, 'the o1js block to finalize', (view) => view.finalizedHead === 0 || view.failed.length > 0, 900_000);
    const view = await api.block(chainId, 0);
    expect(view.error).toBeUndefined();
    expect(view.status).toBe('finalized');
    expect(view.proof?.verified).toBe(true);
    const result = await cluster.client.workflow.getHandle(view.workflowId).result();
    expect(result).toMatchObject({ prover: 'o1js', fanIn: 2, aggregationLevels: 1, verified: true });
    console.log(`[provers] o1js 2-segment block: segments ${result.timings.segments.map((s: { provingMs: number }) => Math.round(s.provingMs)).join(' / ')} ms, merge ${Math.round(result.timings.aggregationLevels[0].maxProvingMs)} ms, verify ${Math.round(result.timings.verifyMs)} ms, total ${result.timings.totalMs} ms`);
  }, 900_000);
});
