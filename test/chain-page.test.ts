import { chromium, type Browser, type Page } from 'playwright-core';
import type { ProverRegistry } from '../provers/registry';
import { DEFAULT_SIMULATION, SimulatedProver, type Simulation } from '../provers/simulated';
import { blockHash, uniqueChain, waitFor } from './support/cluster';
import { useTestStack } from './support/stack';

/**
 * The live chain page (GET /chains/:id) in headless Chromium (Debian's, driven by playwright-core)
 * over the real API and workers: what an operator watching a chain sees.
 */
const CHROMIUM = process.env.PROOFLANE_CHROMIUM ?? '/usr/bin/chromium';
const node = 'page-node';
/** A GPU node whose simulated prover has its own speed. */
const prover = (settings: Partial<Simulation>): ProverRegistry =>
  new Map([['simulated', new SimulatedProver({ ...DEFAULT_SIMULATION, ...settings })]]) as ProverRegistry;

describe('the live chain page', () => {
  const stack = useTestStack({
    pools: [
      ['h100', 4, node],
      // A multi-proof chain's provers: two that finish, one far slower than the test waits.
      ['page-quick', 2, 'page-quick-node', prover({ segmentMs: 100, aggregateMs: 10 })],
      ['page-steady', 2, 'page-steady-node', prover({ segmentMs: 300, aggregateMs: 10 })],
      ['page-stuck', 2, 'page-stuck-node', prover({ segmentMs: 600_000, aggregateMs: 10 })],
    ],
    api: {},
  });
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows blocks moving from queued through proving to finalized, a failed block with its reason, and no console errors', async () => {
    const chainId = uniqueChain('page');
    const api = stack.api;
    await api.configureChain(chainId, { mode: 'pipelined', maxInFlight: 2, startNumber: 1, slotSeconds: 12 });
    await api.request('POST', `/v1/chains/${chainId}/pause`);
    const now = Math.floor(Date.now() / 1000);
    // Block 1 proves for about 3 s on 4 GPUs; block 2's prover refuses its input.
    await api.submitBlock(chainId, {
      number: 1,
      hash: blockHash(chainId, 1),
      segments: 4,
      timestamp: now,
      input: { simulate: { segmentMs: 3_000 } },
    });
    await api.submitBlock(chainId, { number: 2, hash: blockHash(chainId, 2), segments: 1, input: { simulate: { badInputSegments: [0] } } });

    await page.goto(`${api.baseUrl}/chains/${chainId}`);
    const row = (number: number, status: string) => page.locator(`.row[data-block="${number}"][data-status="${status}"]`);
    await row(1, 'queued').waitFor();
    await row(2, 'queued').waitFor();
    await expect(page.locator('#chain-state').textContent()).resolves.toBe('paused');

    await api.request('POST', `/v1/chains/${chainId}/resume`);
    await row(1, 'proving').waitFor();
    await row(1, 'finalized').waitFor({ timeout: 30_000 });
    await row(2, 'failed').waitFor({ timeout: 30_000 });

    // Block 1's four segments, each drawn in its GPU worker's colour, and the deadline marker.
    // The page redraws every second: wait for what it shows rather than read one frame.
    const shows = (selector: string, count: number) =>
      waitFor(`${count} × ${selector}`, async () => ((await page.locator(selector).count()) === count ? true : undefined), 30_000);
    await shows(`.row[data-block="1"] .segment[data-worker="${node}"]`, 4);
    await shows('.row[data-block="1"] .deadline', 1);
    await expect(page.locator('#legend').textContent()).resolves.toContain(node);
    // The failure, its reason, and the halt it causes.
    await expect(page.locator('#failures li[data-block="2"]').textContent()).resolves.toContain('input rejected by the prover');
    await page.locator('#halt').waitFor({ state: 'visible' });
    await expect(page.locator('#halt').textContent()).resolves.toContain('Finalization stopped at block 2');
    await expect(page.locator('#chain-state').textContent()).resolves.toBe('halted');
    // Block numbers open the block's workflow in the Temporal Web UI.
    const view = await api.block(chainId, 1);
    await expect(page.locator('.row[data-block="1"] a.number').getAttribute('href')).resolves.toBe(view.uiUrl);

    expect(problems).toEqual([]);
  });

  it('draws a lane per prover of a multi-proof block: the two whose proofs counted, and the one stopped at the quorum', async () => {
    const chainId = uniqueChain('page-quorum');
    const api = stack.api;
    const gpuClasses = ['page-quick', 'page-steady', 'page-stuck'];
    await api.configureChain(chainId, {
      mode: 'pipelined',
      startNumber: 0,
      defaults: { segments: 2 },
      proofs: { provers: gpuClasses.map((gpuClass) => ({ prover: 'simulated', gpuClass })), quorum: 2 },
    });
    await api.submitBlock(chainId, { number: 0, hash: blockHash(chainId, 0) });
    await page.goto(`${api.baseUrl}/chains/${chainId}`);
    await page.locator('.row[data-block="0"][data-status="finalized"]').waitFor({ timeout: 30_000 });
    const lane = (gpuClass: string) => `.row[data-block="0"] .lane[data-prover="simulated@${gpuClass}"]`;
    const shows = (selector: string, count = 1) =>
      waitFor(`${count} × ${selector}`, async () => ((await page.locator(selector).count()) === count ? true : undefined), 30_000);
    await shows(`${lane('page-quick')}[data-status="verified"][data-counted="true"]`);
    await shows(`${lane('page-steady')}[data-status="verified"][data-counted="true"]`);
    await shows(`${lane('page-stuck')}[data-status="cancelled"][data-counted="false"]`);
    await expect(page.locator(`${lane('page-quick')} .prover`).textContent()).resolves.toBe('page-quick · counted');
    await expect(page.locator(`${lane('page-stuck')} .prover`).textContent()).resolves.toBe('page-stuck · stopped at quorum');
    await shows('.row[data-block="0"] .lane .span', 3);
    expect(problems).toEqual([]);
  });

  it('answers an unknown chain with a readable problem, not a blank page', async () => {
    await page.goto(`${stack.api.baseUrl}/chains/${uniqueChain('nobody')}`);
    await page.locator('#problem').waitFor({ state: 'visible' });
    await expect(page.locator('#problem').textContent()).resolves.toMatch(/not_found/);
  });
});
