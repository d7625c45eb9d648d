import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ProoflaneClient } from '../api/client';
import { AnvilNode } from '../infra/anvil';
import { freePort, stopProcess, untilReady } from '../infra/processes';
import { blockHash, uniqueChain, waitFor } from './support/cluster';

const REPO = path.resolve(__dirname, '..');
const run = promisify(execFile);

/**
 * The built artifact as production runs it: `npm run build`, then every process under plain
 * node on dist/ (no tsx loader, the orchestration worker on the pre-built workflow bundle),
 * proving a chain's blocks through the HTTP API against the test server.
 */
describe('npm run build, then node on the build', () => {
  const processes: ChildProcess[] = [];
  let api: ProoflaneClient;
  let start: (script: string, args: string[], readyLine: string, extraEnv?: NodeJS.ProcessEnv) => Promise<void>;
  let apiUrl: string;

  beforeAll(async () => {
    await run(process.execPath, ['--import', 'tsx', path.join(REPO, 'infra', 'build.ts')], { cwd: REPO });
    const apiPort = await freePort();
    // The built bundle, not the test run's: a built worker finds its own.
    const env: NodeJS.ProcessEnv = { ...process.env, PROOFLANE_API_PORT: String(apiPort), PROOFLANE_PROVERS: 'simulated' };
    delete env.PROOFLANE_WORKFLOW_BUNDLE;
    start = async (script: string, args: string[], readyLine: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<void> => {
      // Each worker on a spare metrics port: the defaults (9464, 9465) may be taken on this machine.
      const metrics = { PROOFLANE_METRICS_PORT: String(await freePort()), PROOFLANE_METRICS_HOST: '127.0.0.1' };
      const child = spawn(process.execPath, [path.join(REPO, 'dist', script), ...args], {
        env: { ...env, ...metrics, ...extraEnv },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      processes.push(child);
      await untilReady(child, readyLine, script);
    };
    await start('workers/orchestration-worker.js', [], 'orchestration worker');
    await start('workers/gpu-worker.js', ['--gpu-class', 'h100', '--gpus', '4', '--identity', 'built-node'], 'GPU worker');
    await start('api/main.js', [], 'prooflane API');
    apiUrl = `http://127.0.0.1:${apiPort}`;
    api = new ProoflaneClient(apiUrl);
  });

  afterAll(async () => {
    await Promise.all(processes.map((child) => stopProcess(child, 'SIGTERM', 15_000)));
  });

  it('runs on JavaScript alone: no process loads tsx, and the orchestration worker loads the pre-built bundle', () => {
    for (const child of processes) {
      expect(child.spawnargs.join(' ')).not.toMatch(/tsx/);
      expect(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8')).not.toMatch(/tsx/);
    }
    expect(readFileSync(path.join(REPO, 'dist', 'workflow-bundle.js'), 'utf8')).toMatch(/blockProofWorkflow/);
  });

  it('proves blocks submitted out of order and finalizes them in order', async () => {
    const chainId = uniqueChain('built');
    await api.configureChain(chainId, { mode: 'pipelined', maxInFlight: 3, startNumber: 1 });
    for (const number of [3, 1, 2]) {
      await api.submitBlock(chainId, { number, hash: blockHash(chainId, number), segments: 4 });
    }
    const view = await api.waitUntilFinalized(chainId, 3);
    expect(view.finalizedHead).toBe(3);
    const block = await api.block(chainId, 2);
    expect(block.status).toBe('finalized');
    expect(block.segments).toMatchObject({ total: 4, done: 4, failed: 0 });
    expect(block.proof?.verified).toBe(true);
  });

  it('follows a chain with the built feeder: blocks mined on a node are proved and finalized', async () => {
    const anvil = await AnvilNode.start({ port: await freePort() });
    try {
      const chainId = uniqueChain('built-feed');
      await start('feeding/main.js', ['--chain', chainId, '--rpc', anvil.wsUrl, '--api', apiUrl, '--from', '1'], 'block feeder ready', {
        PROOFLANE_FEED_INPUT: JSON.stringify({ simulate: { segmentMs: 20 } }),
      });
      await anvil.rpc('anvil_mine', ['0x3']);
      await waitFor(`the feeder to create chain ${chainId}`, async () =>
        (await api.request('GET', `/v1/chains/${chainId}`)).status === 200 ? true : undefined,
      );
      const view = await api.waitForChain(chainId, 'block 3 to finalize', (chain) => (chain.finalizedHead ?? 0) >= 3);
      expect(view).toMatchObject({ startNumber: 1, every: 1, halted: null });
      const block = await anvil.rpc<{ hash: string }>('eth_getBlockByNumber', ['0x3', false]);
      expect((await api.block(chainId, 3)).hash).toBe(block.hash.toLowerCase());
    } finally {
      await stopProcess(processes.pop() as ChildProcess, 'SIGTERM', 15_000);
      await anvil.stop();
    }
  });
});
