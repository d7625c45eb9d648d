import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { startDevServer } from '../../infra/temporal/dev-server';
import { freePort } from '../../infra/processes';
import { blockWorkflowId, directBlockWorkflowId, sequencerWorkflowId } from '../../domain/names';
import { DEMO_PROVER_ENV } from '../../provers/registry';
import { historyToJson } from '../support/history';

/**
 * Records the workflow histories that test/replay.test.ts replays against every change of the
 * workflows (docs/RELIABILITY.md, "Upgrades"): real runs of the current code on a fresh dev
 * server. Run it when a change is meant to alter the command sequence, after guarding that
 * change with `patched()`, and commit the new folder beside the old ones (old histories keep
 * guarding the runs that are still out there):
 *   npm run histories:record -- --as 2026-12-01
 * Scenarios: a pipelined chain through continue-as-new, with a halt, a retry and a reorg; a multi-proof
 * block (2 of 3 provers, the third stopped at the quorum); a
 * block with an aggregation tree; a block whose straggler is hedged; a block that proves a lost
 * artifact again.
 */
const { values } = parseArgs({ options: { as: { type: 'string', default: new Date().toISOString().slice(0, 10) } } });
const OUT = path.join(__dirname, values.as);

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const workDir = mkdtempSync(path.join(tmpdir(), 'prooflane-histories-'));
  const server = await startDevServer({ port: await freePort(), headless: true, logLevel: 'error', stdio: 'ignore' });
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.TEMPORAL_NAMESPACE = server.namespace;
  process.env.PROOFLANE_DATA_DIR = path.join(workDir, 'data');
  delete process.env.PROOFLANE_ARTIFACT_STORE;
  delete process.env.PROOFLANE_PUBLISHER;
  // The backends of the test environment (test/support/global-setup.ts).
  Object.assign(process.env, DEMO_PROVER_ENV);
  const bundlePath = path.join(workDir, 'workflow-bundle.js');
  writeFileSync(bundlePath, (await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows') })).code);
  process.env.PROOFLANE_WORKFLOW_BUNDLE = bundlePath;
  // Imported after the environment names the server and the stores.
  const { TestCluster, simulatedBlock, untilWorkflowExists } = await import('../support/cluster');
  const { TestApi } = await import('../support/api');
  const cluster = await TestCluster.start();
  try {
    await cluster.addGpuPool('h100', 4, 'h100-node');
    const api = await TestApi.start(cluster, { continueAsNewAfterBlocks: 4 });
    try {
      await recordChain(
        cluster.client,
        api,
        (gpus) => cluster.addGpuPool('a100', gpus, 'a100-node').then(() => undefined),
        untilWorkflowExists,
      );
    } finally {
      await api.close();
    }
    const tree = await cluster.startBlock(
      simulatedBlock('history', 1, {
        segments: 5,
        options: { fanIn: 2, leaseSegments: 2 },
        input: { simulate: { segmentMs: 20, aggregateMs: 5 } },
      }),
    );
    await tree.result();
    await save(cluster.client, directBlockWorkflowId('history', 1), 'block-aggregation-tree');
    const hedged = await cluster.startBlock(
      simulatedBlock('history', 2, { segments: 4, input: { simulate: { segmentMs: 100, aggregateMs: 5, slowSegments: { '3': 5_000 } } } }),
    );
    const hedgedResult = await hedged.result();
    if (!hedgedResult.timings.segments.some((segment) => segment.hedged)) throw new Error('the straggler was not hedged');
    await save(cluster.client, directBlockWorkflowId('history', 2), 'block-hedged');
    // Multi-proof: three provers at quorum 2; the third's GPU class has no node, so it is stopped at the quorum.
    const multi = await cluster.startBlock(
      simulatedBlock('history', 3, {
        segments: 2,
        input: { simulate: { segmentMs: 20, aggregateMs: 5 } },
        proofs: {
          provers: [
            { prover: 'simulated', gpuClass: 'h100', segments: 2 },
            { prover: 'simulated', gpuClass: 'a100', segments: 3 },
            { prover: 'simulated', gpuClass: 'no-such-node', segments: 2 },
          ],
          quorum: 2,
        },
      }),
    );
    const multiResult = await multi.result();
    if (multiResult.provers?.[2]?.status !== 'cancelled') throw new Error('the third prover was not stopped at the quorum');
    await save(cluster.client, directBlockWorkflowId('history', 3), 'block-multi-proof');
  } finally {
    await cluster.close();
    await server.stop();
  }
}

/** A pipelined chain: blocks finalize through several continue-as-new runs; one halts, is retried; a reorg replaces two. */
async function recordChain(
  client: Client,
  api: import('../support/api').TestApi,
  addA100Pool: (gpus: number) => Promise<void>,
  untilWorkflowExists: (client: Client, workflowId: string) => Promise<void>,
): Promise<void> {
  const chainId = 'history-chain';
  const fast = { input: { simulate: { segmentMs: 20, aggregateMs: 5 } } };
  await api.configure(chainId, { mode: 'pipelined', maxInFlight: 2, startNumber: 0 });
  for (const number of [0, 1, 2]) await api.submit(chainId, number, fast);
  await api.waitUntilFinalized(chainId, 2);
  // Block 3 waits for an a100 node that does not exist; the operator cancels it: the chain halts there.
  await api.submit(chainId, 3, { ...fast, gpuClass: 'a100' });
  await api.waitForChain(chainId, 'block 3 to start', (view) => view.inFlight.includes(3));
  await untilWorkflowExists(client, blockWorkflowId(chainId, 3));
  await client.workflow.getHandle(blockWorkflowId(chainId, 3)).cancel();
  await api.waitForChain(chainId, 'the chain to halt at block 3', (view) => view.halted?.number === 3);
  // Blocks 4 and 5 are submitted, then replaced by a reorg.
  for (const number of [4, 5]) await api.submit(chainId, number, { input: { simulate: { segmentMs: 60_000 } } });
  await api.waitForChain(chainId, 'blocks 4 and 5 to start', (view) => view.inFlight.length === 2);
  await api.request('POST', `/v1/chains/${chainId}/reorg`, { fromNumber: 4 });
  await addA100Pool(2);
  await api.retry(chainId, 3);
  for (const number of [4, 5, 6]) await api.submit(chainId, number, fast, 'reorged');
  await api.waitUntilFinalized(chainId, 6);
  const runs: string[] = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = '${sequencerWorkflowId(chainId)}'` })) runs.push(run.runId);
  if (runs.length < 2) throw new Error(`the chain did not continue as new (${runs.length} run)`);
  for (const [index, runId] of runs.reverse().entries())
    await save(client, sequencerWorkflowId(chainId), `sequencer-run-${index + 1}`, runId);
  await save(client, blockWorkflowId(chainId, 3, 1), 'block-retried');
}

async function save(client: Client, workflowId: string, name: string, runId?: string): Promise<void> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  writeFileSync(path.join(OUT, `${name}.json`), `${historyToJson(history)}\n`);
  console.log(`recorded ${name}.json (${history.events?.length ?? 0} events)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
