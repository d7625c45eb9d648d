import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { stopProcess } from './processes';

/** Foundry's anvil from its npm package (@foundry-rs/anvil, a devDependency): a real Ethereum dev node. */
const ANVIL_BIN = path.resolve(__dirname, '..', 'node_modules', '.bin', 'anvil');

export interface AnvilOptions {
  port: number;
  /** Mine a block every this many seconds (default: a block per transaction, and on `anvil_mine`). */
  blockTimeSeconds?: number;
  /** Keep the chain in this file across restarts (anvil's --state: loaded at start, written at exit). */
  stateFile?: string;
}

/**
 * An anvil node on loopback, for the demo (`npm start -- --anvil`) and the feeder's tests. It
 * answers JSON-RPC over HTTP and WebSocket on one port. `stop` ends it with SIGTERM, so a node
 * with a state file writes its chain there first.
 */
export class AnvilNode {
  private constructor(
    readonly options: AnvilOptions,
    private child: ChildProcess,
  ) {}

  get httpUrl(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.options.port}`;
  }

  static async start(options: AnvilOptions): Promise<AnvilNode> {
    const node = new AnvilNode(options, AnvilNode.spawn(options));
    await node.untilAnswering();
    return node;
  }

  private static spawn(options: AnvilOptions): ChildProcess {
    const args = ['--host', '127.0.0.1', '--port', String(options.port), '--silent'];
    if (options.blockTimeSeconds !== undefined) args.push('--block-time', String(options.blockTimeSeconds));
    if (options.stateFile !== undefined) args.push('--state', options.stateFile);
    return spawn(ANVIL_BIN, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  }

  /** One JSON-RPC call over HTTP (anvil_* and evm_* included). */
  async rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const response = await fetch(this.httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    });
    const body = (await response.json()) as { result?: T; error?: { message: string } };
    if (body.error) throw new Error(`anvil ${method}: ${body.error.message}`);
    return body.result as T;
  }

  async stop(): Promise<void> {
    await stopProcess(this.child, 'SIGTERM', 10_000);
  }

  /** Starts the node again on the same port (and state file). */
  async restart(): Promise<void> {
    await this.stop();
    this.child = AnvilNode.spawn(this.options);
    await this.untilAnswering();
  }

  private async untilAnswering(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`anvil exited with code ${this.child.exitCode}`);
      try {
        await this.rpc('eth_blockNumber');
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`anvil did not answer on port ${this.options.port}: ${String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
}
