import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { LocalSystem } from '../workers/local-system';
import { TestApi } from './support/api';
import { blockHash, waitFor } from './support/cluster';
import { metricNames, sampleValue, scrape, type Sample } from './support/metrics';
import { TestPrometheus } from './support/prometheus';

/**
 * Metrics, alerts and the dashboard against real processes (LocalSystem: its own Temporal dev
 * server, orchestration worker, GPU worker and API, each an OS process on its own metrics port),
 * scraped over HTTP as Prometheus does, and a real Prometheus (Debian's) evaluating the rules.
 */
const ALERTS_DIR = path.resolve(__dirname, '..', 'observability', 'alerts');
const DASHBOARD = path.resolve(__dirname, '..', 'observability', 'grafana', 'prooflane.json');
const run = promisify(execFile);

const simulate = (simulation: Record<string, unknown>) => ({ input: { simulate: { aggregateMs: 10, ...simulation } } });
const hash = (chain: string, number: number) => blockHash(chain, number);

describe('observability of a running system', () => {
  let system: LocalSystem;
  let api: TestApi;
  const gpuNode = 'metrics-node';
  const url = (role: string): string => {
    const found = system.metricsUrls().find((endpoint) => endpoint.role === role);
    if (!found) throw new Error(`no metrics endpoint for ${role}`);
    return found.url;
  };

  beforeAll(async () => {
    system = await LocalSystem.startTemporary({
      name: 'observability',
      env: { PROOFLANE_WORKFLOW_BUNDLE: process.env.PROOFLANE_WORKFLOW_BUNDLE },
    });
    api = TestApi.forUrl(system.apiUrl);
    await system.addGpuWorker('h100', 2, gpuNode);
  });
  afterAll(async () => {
    await system?.stop();
  });

  const chain = 'metrics';
  let countersBefore: Sample[] = [];

  it('each process serves prooflane’s metrics and the Temporal SDK’s on its port while blocks prove', async () => {
    await api.configureChain(chain, { mode: 'pipelined', maxInFlight: 2, startNumber: 1, slotSeconds: 12 });
    await api.submitBlock(chain, { number: 1, hash: hash(chain, 1), segments: 2, ...simulate({ segmentMs: 2_000 }) });
    // While block 1 proves, the node shows its GPUs busy.
    await waitFor('the GPU node to report a busy slot', async () => {
      const busy = sampleValue(await scrape(url(gpuNode)), 'prooflane_gpu_slots', { worker: gpuNode, state: 'busy' });
      return busy !== undefined && busy >= 1 ? busy : undefined;
    });
    // Block 2's slot ended an hour ago: its proof is late. Block 3's prover refuses its input: it fails and halts the chain.
    const anHourAgo = Math.floor(Date.now() / 1000) - 3_600;
    await api.submitBlock(chain, { number: 2, hash: hash(chain, 2), segments: 2, timestamp: anHourAgo, ...simulate({ segmentMs: 20 }) });
    await api.waitUntilFinalized(chain, 2);
    await api.submitBlock(chain, { number: 3, hash: hash(chain, 3), segments: 1, ...simulate({ badInputSegments: [0] }) });
    await api.waitForChain(chain, 'block 3 to halt the chain', (view) => view.halted !== null);

    const fromApi = await scrape(url('api'));
    const event = (name: string) => sampleValue(fromApi, 'prooflane_chain_blocks_total', { chain, event: name });
    expect([event('submitted'), event('proved'), event('finalized'), event('failed'), event('deadline_missed')]).toEqual([3, 2, 2, 1, 1]);
    expect(sampleValue(fromApi, 'prooflane_chain_finalized_head', { chain })).toBe(2);
    expect(sampleValue(fromApi, 'prooflane_chain_head_lag_blocks', { chain })).toBe(1);
    expect(sampleValue(fromApi, 'prooflane_chain_halted', { chain })).toBe(1);
    expect(sampleValue(fromApi, 'prooflane_chain_up', { chain })).toBe(1);
    expect(sampleValue(fromApi, 'prooflane_chain_readable', { chain })).toBe(1);
    // Block 3 waits since its submission, after block 2's finalization: the chain has not progressed since then.
    expect(sampleValue(fromApi, 'prooflane_chain_stalled_seconds', { chain })).toBeGreaterThan(0);
    expect(sampleValue(fromApi, 'prooflane_task_queue_pollers', { task_queue: 'prooflane-gpu-h100-simulated' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(fromApi, 'prooflane_api_block_submissions_total', { outcome: 'accepted' })).toBe(3);
    countersBefore = fromApi.filter((sample) => sample.name === 'prooflane_chain_blocks_total' && sample.labels.chain === chain);

    const fromOrchestration = await scrape(url('orchestration'));
    const labels = { chain, gpu_class: 'h100', prover: 'simulated' };
    expect(sampleValue(fromOrchestration, 'prooflane_block_latency_seconds_count', labels)).toBe(2);
    expect(sampleValue(fromOrchestration, 'prooflane_block_finalized_late_total', { chain })).toBe(1);
    // Block 1 held two GPUs for 2 s each: its GPU time is at least that, counted in the histogram.
    expect(sampleValue(fromOrchestration, 'prooflane_block_gpu_seconds_sum', labels)).toBeGreaterThanOrEqual(3.9);
    for (const name of ['temporal_workflow_task_execution_latency_count', 'temporal_sticky_cache_size', 'process_cpu_seconds_total'])
      expect(metricNames(fromOrchestration).has(name)).toBe(true);

    // Once block 3 failed, nothing holds a GPU.
    const fromGpu = await waitFor('the GPU node to free every slot', async () => {
      const samples = await scrape(url(gpuNode));
      return sampleValue(samples, 'prooflane_gpu_slots', { worker: gpuNode, state: 'busy' }) === 0 ? samples : undefined;
    });
    const task = (work: string, outcome: string) =>
      sampleValue(fromGpu, 'prooflane_gpu_tasks_total', { worker: gpuNode, prover: 'simulated', work, outcome });
    // Blocks 1 and 2 each in one lease (their segments and aggregation on the node); block 3's lease refused its input.
    expect(task('lease', 'ok')).toBe(2);
    expect(task('lease', 'error')).toBe(1);
    expect(sampleValue(fromGpu, 'prooflane_gpu_slots', { worker: gpuNode, state: 'free' })).toBe(2);
    expect(sampleValue(fromGpu, 'prooflane_worker_draining', { worker: gpuNode })).toBe(0);
    expect(sampleValue(fromGpu, 'prooflane_prover_seconds_total', { worker: gpuNode, prover: 'simulated', work: 'lease' })).toBeGreaterThan(
      3.9,
    ); // block 1's two 2 s segments (timers may fire a little early)
    expect(metricNames(fromGpu).has('temporal_activity_schedule_to_start_latency_count')).toBe(true);

    // docs/METRICS.md lists every prooflane metric the processes export.
    const documented = readFileSync(path.resolve(__dirname, '..', 'docs', 'METRICS.md'), 'utf8');
    const exported = [...metricNames([...fromApi, ...fromOrchestration, ...fromGpu])]
      .filter((name) => name.startsWith('prooflane_'))
      .map((name) => name.replace(/_(bucket|sum|count)$/, ''));
    expect(exported.filter((name) => !documented.includes(`\`${name}\``))).toEqual([]);

    // The block view carries the same GPU time, and each segment's worker.
    const view = await api.request('GET', `/v1/chains/${chain}/blocks/1?work=true`);
    const body = view.body as { timings: { gpuMs: number }; work: { segments: { worker: string }[] } };
    expect(body.timings.gpuMs).toBeGreaterThanOrEqual(3_900);
    expect(body.work.segments.map((segment) => segment.worker)).toEqual([gpuNode, gpuNode]);
  });

  it('chain counters, head and lag come from durable state: the same after the API and the orchestration worker are killed and restarted', async () => {
    await system.killApi();
    await system.killOrchestration();
    await system.startOrchestration();
    await system.startApi();
    const after = await waitFor('the restarted API to read the chain', async () => {
      const samples = await scrape(url('api')).catch(() => undefined);
      return samples && sampleValue(samples, 'prooflane_chain_up', { chain }) === 1 ? samples : undefined;
    });
    const counters = after.filter((sample) => sample.name === 'prooflane_chain_blocks_total' && sample.labels.chain === chain);
    expect(counters).toEqual(countersBefore);
    expect(sampleValue(after, 'prooflane_chain_finalized_head', { chain })).toBe(2);
    expect(sampleValue(after, 'prooflane_chain_head_lag_blocks', { chain })).toBe(1);
  });

  it('the alert rules pass promtool’s check and their unit tests', async () => {
    const checked = await run('promtool', ['check', 'rules', path.join(ALERTS_DIR, 'prooflane.rules.yml')]);
    expect(checked.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const tested = await run('promtool', ['test', 'rules', path.join(ALERTS_DIR, 'prooflane.rules.test.yml')]);
    expect(tested.stdout).toMatch(/SUCCESS/);
  });

  describe('with Prometheus scraping every process', () => {
    let prometheus: TestPrometheus;
    const stalled = 'stalls';

    beforeAll(async () => {
      // The committed rules, with ProoflaneChainStalled's hold cut from 1m to 1s: the same expression, a shorter wait.
      const rules = parse(readFileSync(path.join(ALERTS_DIR, 'prooflane.rules.yml'), 'utf8')) as {
        groups: { rules: { alert: string; for?: string }[] }[];
      };
      for (const group of rules.groups) for (const rule of group.rules) if (rule.alert === 'ProoflaneChainStalled') rule.for = '1s';
      const ruleFile = path.join(mkdtempSync(path.join(tmpdir(), 'prooflane-rules-')), 'rules.yml');
      writeFileSync(ruleFile, stringify(rules));
      prometheus = await TestPrometheus.start({
        targets: system.metricsUrls().map(({ role, url: target }) => ({ job: `prooflane-${role}`, url: target })),
        ruleFiles: [ruleFile],
      });
    });
    afterAll(async () => {
      await prometheus?.stop();
    });

    const stallAlert = async () =>
      (await prometheus.alerts()).find((alert) => alert.labels.alertname === 'ProoflaneChainStalled' && alert.labels.chain === stalled);

    it('fires "chain stalled" when the GPU pool stops and resolves it when the pool returns', async () => {
      // Half-second slots: ten slots (the rule's threshold) are 5 s.
      await api.configureChain(stalled, { mode: 'pipelined', maxInFlight: 2, startNumber: 1, slotSeconds: 0.5 });
      await api.submitBlock(stalled, { number: 1, hash: hash(stalled, 1), segments: 2, ...simulate({ segmentMs: 20 }) });
      await api.waitUntilFinalized(stalled, 1);
      expect(await stallAlert()).toBeUndefined();

      await system.stopGpuWorker(gpuNode);
      await api.submitBlock(stalled, { number: 2, hash: hash(stalled, 2), segments: 2, ...simulate({ segmentMs: 20 }) });
      const fired = await waitFor('ProoflaneChainStalled to fire', async () => {
        const alert = await stallAlert();
        return alert?.state === 'firing' ? alert : undefined;
      });
      expect(fired.labels.severity).toBe('critical');
      expect(Number(fired.value)).toBeGreaterThan(5);

      await system.addGpuWorker('h100', 2, gpuNode);
      await api.waitUntilFinalized(stalled, 2);
      await waitFor('ProoflaneChainStalled to resolve', async () => ((await stallAlert()) === undefined ? true : undefined));
    });

    it('every query of the Grafana dashboard is PromQL that Prometheus evaluates, and its chain panels show the chains', async () => {
      const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
      const queries = dashboard.panels.flatMap((panel) =>
        (panel.targets ?? []).map((target) => ({
          panel: panel.title,
          expr: target.expr.replaceAll('$chain', '.*').replaceAll('$gpu_class', '.*'),
        })),
      );
      expect(queries.length).toBeGreaterThan(20);
      for (const { panel, expr } of queries)
        expect({ panel, ...(await prometheus.query(expr)) }).toMatchObject({ panel, status: 'success' });
      const heads = await prometheus.query(`prooflane_chain_finalized_head{chain="${stalled}"}`);
      expect(heads.result).toHaveLength(1);
      const latency = await prometheus.query('histogram_quantile(0.5, sum by (le) (rate(prooflane_block_latency_seconds_bucket[5m])))');
      expect(latency.result).toHaveLength(1);
    });
  });
});
