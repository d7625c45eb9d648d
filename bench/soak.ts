import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { ProoflaneClient } from '../api/client';
import type { BlockView } from '../api/schemas';
import { LocalSystem } from '../workers/local-system';
import { hashOf } from './stack';

/**
 * `npm run soak [-- --blocks 300 --chains 4 --minutes 10]`: a few hundred blocks over several
 * chains while GPU workers are killed at random and provers crash and hang. At the end every
 * block must be finalized (or failed with a reason), in order per chain, each proof published
 * once. Prints a summary table; exits non-zero when an invariant breaks or time runs out.
 */
interface ChainReport {
  chain: string;
  blocks: number;
  finalized: number;
  failed: number;
  failures: string[];
  inOrder: boolean;
  published: number;
  blockWorkflows: number;
}

// A seeded generator: the same arguments give the same workload and fault schedule.
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      blocks: { type: 'string', default: '240' },
      chains: { type: 'string', default: '4' },
      minutes: { type: 'string', default: '10' },
      seed: { type: 'string', default: '7' },
    },
  });
  const totalBlocks = Number(values.blocks);
  const chains = Array.from({ length: Number(values.chains) }, (_, i) => `soak-${i}`);
  const perChain = Math.ceil(totalBlocks / chains.length);
  const deadline = Date.now() + Number(values.minutes) * 60_000;
  const rand = random(Number(values.seed));
  const log = (message: string): void => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${message}`);

  const system = await LocalSystem.startTemporary({ name: 'soak' });
  const connection = await Connection.connect({ address: system.server.address });
  const client = new Client({ connection });
  const api = new ProoflaneClient(system.apiUrl);

  let nodes = 0;
  const live: string[] = [];
  const addNode = async (): Promise<void> => {
    const identity = `soak-node-${nodes++}`;
    await system.addGpuWorker('h100', 4, identity);
    live.push(identity);
  };
  let kills = 0;
  let ok = false;
  const started = Date.now();
  try {
    for (let i = 0; i < 3; i += 1) await addNode();
    for (const chain of chains)
      await api.configureChain(chain, {
        mode: 'pipelined',
        maxInFlight: 4,
        startNumber: 0,
        defaults: { gpuClass: 'h100', heartbeatTimeoutMs: 1_500 },
      });

    // Submit every chain's blocks in a shuffled order, a few at a time.
    const submissions = chains.flatMap((chain) => Array.from({ length: perChain }, (_, n) => ({ chain, n })));
    for (let i = submissions.length - 1; i > 0; i -= 1) {
      const j = Math.floor(rand() * (i + 1));
      [submissions[i], submissions[j]] = [submissions[j], submissions[i]];
    }
    log(`${submissions.length} blocks over ${chains.length} chains; GPU workers killed at random`);
    const submitting = (async () => {
      for (const { chain, n } of submissions) {
        const segments = 1 + Math.floor(rand() * 4);
        const { accepted } = await api.submitBlock(chain, {
          number: n,
          hash: hashOf(n),
          segments,
          input: {
            simulate: { segmentMs: 100 + Math.floor(rand() * 300), aggregateMs: 20, failureRate: 0.1, hangProbability: 0.02, seed: n },
          },
        });
        if (!accepted) throw new Error(`submission of ${chain}#${n} was answered as a resubmission`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    // Chaos: every few seconds a random GPU worker dies (SIGKILL) and a fresh one joins.
    let chaos = true;
    const chaosLoop = (async () => {
      while (chaos) {
        await new Promise((resolve) => setTimeout(resolve, 3_000 + rand() * 4_000));
        if (!chaos || live.length === 0) break;
        const victim = live.splice(Math.floor(rand() * live.length), 1)[0];
        await system.stopGpuWorker(victim, 'SIGKILL');
        kills += 1;
        await addNode();
      }
    })();

    await submitting;
    const done = async (): Promise<boolean> => {
      for (const chain of chains) {
        const view = await api.chain(chain);
        if (view.failed.length === 0 && view.finalizedHead !== perChain - 1) return false;
      }
      return true;
    };
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error('time is up before every block settled');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    chaos = false;
    await chaosLoop;

    const reports: ChainReport[] = [];
    for (const chain of chains) {
      const views = await Promise.all(Array.from({ length: perChain }, (_, n): Promise<BlockView> => api.block(chain, n)));
      const finalizedAt = views.filter((v) => v.status === 'finalized').map((v) => Date.parse(v.timings?.finalizedAt ?? ''));
      const publishedDir = path.join(system.dataDir, 'published', chain);
      let blockWorkflows = 0;
      for await (const run of client.workflow.list({ query: `ChainId = '${chain}' AND WorkflowType = 'blockProofWorkflow'` }))
        blockWorkflows += run.workflowId ? 1 : 0;
      reports.push({
        chain,
        blocks: perChain,
        finalized: views.filter((v) => v.status === 'finalized').length,
        failed: views.filter((v) => v.status === 'failed').length,
        failures: views.filter((v) => v.error).map((v) => `#${v.number}: ${v.error}`),
        inOrder: finalizedAt.every((at, i) => i === 0 || at >= finalizedAt[i - 1]),
        published: existsSync(publishedDir) ? readdirSync(publishedDir).length : 0,
        blockWorkflows,
      });
    }
    console.log(
      `\nsoak: ${submissions.length} blocks, ${chains.length} chains, ${kills} GPU workers killed, ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    console.log('| chain | blocks | finalized | failed | in order | proofs published | block workflows |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of reports)
      console.log(
        `| ${r.chain} | ${r.blocks} | ${r.finalized} | ${r.failed} | ${r.inOrder ? 'yes' : 'NO'} | ${r.published} | ${r.blockWorkflows} |`,
      );
    for (const r of reports) for (const failure of r.failures) console.log(`failed ${r.chain} ${failure}`);
    // Invariants: every block settled, order held, one publication per finalized block, one workflow per block.
    ok = reports.every(
      (r) => r.finalized + r.failed === r.blocks && r.inOrder && r.published === r.finalized && r.blockWorkflows === r.blocks,
    );
    console.log(ok ? 'soak: every invariant held' : 'soak: an invariant broke (see the table)');
  } finally {
    await connection.close();
    await system.stop();
  }
  process.exit(ok ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(`soak: ${(error as Error).message}`);
  process.exit(1);
});
