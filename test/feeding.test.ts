import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { ApiFeedTarget } from '../feeding/api-feed-target';
import { BlockFeeder } from '../feeding/block-feeder';
import { RpcChainSource } from '../feeding/rpc-chain-source';
import { AnvilNode } from '../infra/anvil';
import { freePort } from '../infra/processes';
import { EthproofsRegistry } from '../reporting/ethproofs-registry';
import { RegistryReporter } from '../reporting/registry-reporter';
import { publishedDir, uniqueChain, waitFor } from './support/cluster';
import { useTestStack } from './support/stack';

/**
 * The feeder against a real Ethereum dev node (Foundry's anvil, mining blocks with
 * transactions and reorganizing its head with anvil_reorg), prooflane's real API, sequencer and
 * workers on the test server, and a registry receiver implementing Ethproofs' request shapes.
 */

const TOKEN = 'registry-test-token';
const CLUSTER_ID = 7;
/** Anvil's first two dev accounts (unlocked: eth_sendTransaction needs no key). */
const ALICE = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266';
const BOB = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8';

interface RegistryCall {
  status: string;
  blockNumber: number;
  body: Record<string, unknown>;
}

/** An Ethproofs-compatible receiver: POST /api/v0/proofs/{queued,proving,proved}, bearer auth, 409 for a block proved twice. */
class RegistryReceiver {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    /** Every report it took, in the order it took them. */
    readonly calls: RegistryCall[],
  ) {}

  static async start(): Promise<RegistryReceiver> {
    const proved = new Set<number>();
    const calls: RegistryCall[] = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        const match = /^\/api\/v0\/proofs\/(queued|proving|proved)$/.exec(req.url ?? '');
        if (req.method !== 'POST' || !match) return res.writeHead(404).end();
        if (req.headers.authorization !== `Bearer ${TOKEN}`) return res.writeHead(401).end('{"error":"unauthorized"}');
        const body = JSON.parse(text) as Record<string, unknown>;
        const blockNumber = body.block_number;
        if (typeof blockNumber !== 'number' || body.cluster_id !== CLUSTER_ID) return res.writeHead(400).end('{"error":"bad request"}');
        if (match[1] === 'proved') {
          if (typeof body.proving_time !== 'number' || typeof body.proof !== 'string') return res.writeHead(400).end();
          if (proved.has(blockNumber)) return res.writeHead(409).end('{"error":"already proved"}');
          proved.add(blockNumber);
        }
        calls.push({ status: match[1], blockNumber, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"proof_id":1}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new RegistryReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v0`, calls);
  }

  statusesOf(blockNumber: number): string[] {
    return this.calls.filter((call) => call.blockNumber === blockNumber).map((call) => call.status);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Log lines of a feeder, kept so a test can wait for what it reported. */
function capturedLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

describe('feeder: following a real chain', () => {
  const stack = useTestStack({ pools: [['h100', 4, 'feeder-node']], api: {} });
  let anvil: AnvilNode;
  let registry: RegistryReceiver;
  const running: { stop(): Promise<void> }[] = [];

  beforeEach(async () => {
    anvil = await AnvilNode.start({
      port: await freePort(),
      stateFile: path.join(mkdtempSync(path.join(tmpdir(), 'anvil-')), 'state.json'),
    });
    registry = await RegistryReceiver.start();
  });
  afterEach(async () => {
    for (const part of running.splice(0).reverse()) await part.stop();
    await anvil.stop();
    await registry.close();
  });

  /** A feeder and its registry reporter, as `npm run feed` wires them, in this process. */
  function startFeeder(chainId: string, options: { maxReorgDepth?: number; pollMs?: number } = {}) {
    const source = new RpcChainSource({ httpUrl: anvil.httpUrl, wsUrl: anvil.wsUrl, timeoutMs: 2_000 });
    const { logger, lines } = capturedLogger();
    const reporter = new RegistryReporter(
      new EthproofsRegistry({ baseUrl: registry.url, token: TOKEN, clusterId: CLUSTER_ID }),
      stack.api,
      chainId,
      { pollMs: 100, maxRetryMs: 1_000 },
    );
    const target = new ApiFeedTarget(
      stack.api,
      chainId,
      { gasPerSegment: 21_000, minSegments: 1, maxSegments: 3 },
      {
        simulate: { segmentMs: 30, aggregateMs: 5 },
      },
    );
    const feeder = new BlockFeeder(source, target, {
      chainId,
      every: 1,
      from: 1,
      maxReorgDepth: options.maxReorgDepth ?? 64,
      pollMs: options.pollMs ?? 250,
      logger,
      events: { submitted: (block, outcome) => outcome === 'accepted' && reporter.taken(block.number, block.hash) },
    });
    feeder.start();
    reporter.start();
    const handle = {
      lines,
      stop: async () => {
        await feeder.stop();
        await reporter.stop();
        await source.close();
      },
    };
    running.push(handle);
    return handle;
  }

  /** Waits until the feeder created the chain, then until it finalized `number`. */
  async function untilFinalized(chainId: string, number: number) {
    await waitFor(`the feeder to create chain ${chainId}`, async () =>
      (await stack.api.request('GET', `/v1/chains/${chainId}`)).status === 200 ? true : undefined,
    );
    return stack.api.waitUntilFinalized(chainId, number);
  }

  /** Mines one block per transaction (anvil's automine), each a transfer. */
  async function mineWithTransactions(count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) await anvil.rpc('eth_sendTransaction', [{ from: ALICE, to: BOB, value: '0x1' }]);
  }

  async function canonicalHash(number: number): Promise<string> {
    const block = await anvil.rpc<{ hash: string }>('eth_getBlockByNumber', [`0x${number.toString(16)}`, false]);
    return block.hash.toLowerCase();
  }

  /** Waits until prooflane holds the canonical block at every height from 1 to `head`. */
  async function untilHeld(chainId: string, head: number): Promise<void> {
    await waitFor(`chain ${chainId} to hold the canonical blocks up to ${head}`, async () => {
      for (let number = 1; number <= head; number += 1) {
        const response = await stack.api.request('GET', `/v1/chains/${chainId}/blocks/${number}`);
        if (response.status !== 200 || response.body.hash !== (await canonicalHash(number))) return undefined;
      }
      return true;
    });
  }

  /** Every block 1..head is finalized with the canonical hash, and published once with it. */
  async function expectCanonicalChainFinalized(chainId: string, head: number): Promise<void> {
    const view = await stack.api.waitUntilFinalized(chainId, head);
    expect(view.finalizedHead).toBe(head);
    for (let number = 1; number <= head; number += 1) {
      const hash = await canonicalHash(number);
      expect((await stack.api.block(chainId, number)).hash).toBe(hash);
      const record = JSON.parse(readFileSync(path.join(publishedDir(), chainId, `${number}.json`), 'utf8')) as { hash: string };
      expect(record.hash).toBe(hash);
    }
  }

  it('proves blocks live as they are mined, follows reorgs of depth 1 and 3, and reports queued → proving → proved for each', async () => {
    const chainId = uniqueChain('anvil');
    await mineWithTransactions(2);
    // No polling to speak of: every block after the first look comes from the WebSocket's new heads.
    startFeeder(chainId, { pollMs: 600_000 });
    await untilFinalized(chainId, 2);

    // Blocks 3 to 5 wait on a paused chain while anvil reorganizes them.
    await stack.api.setPaused(chainId, true);
    await mineWithTransactions(3);
    await untilHeld(chainId, 5);
    const before = await canonicalHash(5);
    await anvil.rpc('anvil_reorg', [1, [[{ from: BOB, to: ALICE, value: '0x2' }, 0]]]);
    expect(await canonicalHash(5)).not.toBe(before);
    await untilHeld(chainId, 5);
    const replaced = await Promise.all([3, 4, 5].map(canonicalHash));
    await anvil.rpc('anvil_reorg', [3, [[{ from: BOB, to: ALICE, value: '0x3' }, 1]]]);
    for (const [i, number] of [3, 4, 5].entries()) expect(await canonicalHash(number)).not.toBe(replaced[i]);
    await untilHeld(chainId, 5);
    await mineWithTransactions(1);
    await stack.api.setPaused(chainId, false);

    await expectCanonicalChainFinalized(chainId, 6);
    const view = await stack.api.chain(chainId);
    // Depth 1 forgot block 5; depth 3 forgot 3, 4 and 5.
    expect(view.counters.reorged).toBe(4);
    expect(view.halted).toBeNull();

    // The registry saw each block queued, then proving, then proved (once), with its proof.
    await waitFor('the registry to see every block proved', async () =>
      [1, 2, 3, 4, 5, 6].every((number) => registry.statusesOf(number).includes('proved')) ? true : undefined,
    );
    for (let number = 1; number <= 6; number += 1) {
      const statuses = registry.statusesOf(number);
      const provedAt = statuses.indexOf('proved');
      expect(statuses.filter((status) => status === 'proved')).toHaveLength(1);
      const provingAt = statuses.lastIndexOf('proving', provedAt);
      expect(provingAt).toBeGreaterThan(-1);
      expect(statuses.lastIndexOf('queued', provingAt)).toBeGreaterThan(-1);
      const proof = registry.calls.find((call) => call.blockNumber === number && call.status === 'proved')?.body;
      expect(Buffer.from(String(proof?.proof), 'base64')).toEqual(Buffer.from(await stack.api.proof(chainId, number)));
      expect(proof?.proving_time).toEqual(expect.any(Number));
    }
  });

  it('resumes after a restart without gaps or duplicates, also across a reorg it did not see, and outlives the node going away', async () => {
    const chainId = uniqueChain('anvil-restart');
    await mineWithTransactions(2);
    const first = startFeeder(chainId);
    await untilFinalized(chainId, 2);
    await stack.api.setPaused(chainId, true);
    await mineWithTransactions(2);
    await untilHeld(chainId, 4);

    // The feeder stops; meanwhile the node reorganizes blocks 3 and 4 and mines 5.
    await first.stop();
    running.splice(running.indexOf(first), 1);
    await anvil.rpc('anvil_reorg', [2, [[{ from: BOB, to: ALICE, value: '0x4' }, 0]]]);
    await mineWithTransactions(1);
    const second = startFeeder(chainId);
    await untilHeld(chainId, 5);
    await stack.api.setPaused(chainId, false);
    await expectCanonicalChainFinalized(chainId, 5);

    // The node goes away; the feeder says so and keeps trying; the node comes back with its chain.
    await anvil.stop();
    await waitFor('the feeder to report the node unreachable', async () =>
      second.lines.some((line) => line.includes('cannot follow the chain now')) ? true : undefined,
    );
    await anvil.restart();
    await mineWithTransactions(2);
    await expectCanonicalChainFinalized(chainId, 7);
    const { counters } = await stack.api.chain(chainId);
    // Each canonical block was accepted once, plus the two the reorg replaced; nothing else.
    expect(counters).toMatchObject({ finalized: 7, reorged: 2, submitted: 9 });
  });

  it('halts the chain visibly on a reorg deeper than its limit, and on one below the finalized head', async () => {
    const chainId = uniqueChain('anvil-halt');
    await mineWithTransactions(2);
    startFeeder(chainId, { maxReorgDepth: 2 });
    await untilFinalized(chainId, 2);
    await stack.api.setPaused(chainId, true);
    await mineWithTransactions(3);
    await untilHeld(chainId, 5);

    await anvil.rpc('anvil_reorg', [3, [[{ from: BOB, to: ALICE, value: '0x5' }, 0]]]);
    const halted = await stack.api.waitForChain(chainId, 'a halt', (view) => view.halted !== null);
    expect(halted.halted?.reason).toMatch(/reorganized deeper than 2 blocks/);
    // The operator finds the fork (block 3), reorgs from it and resumes: the feeder follows again.
    await stack.api.reorg(chainId, 3);
    await stack.api.setPaused(chainId, false);
    await expectCanonicalChainFinalized(chainId, 5);

    // A reorg of the finalized head cannot be undone: the chain halts instead of finalizing on top of it.
    await anvil.rpc('anvil_reorg', [1, [[{ from: BOB, to: ALICE, value: '0x6' }, 0]]]);
    const belowHead = await stack.api.waitForChain(chainId, 'a halt', (view) => view.halted !== null);
    expect(belowHead.halted).toMatchObject({ number: 6, reason: expect.stringMatching(/at or below the finalized head 5/) });
  });
});
