import { BlockNotFoundError, createPublicClient, http, webSocket, type Block, type PublicClient } from 'viem';
import type { ChainSource, SourceBlock } from './chain-source';

export interface RpcEndpoints {
  /** Where reads go: an HTTP(S) JSON-RPC URL. */
  httpUrl: string;
  /** Where new heads are subscribed to (eth_subscribe newHeads), when the endpoint has WebSocket. */
  wsUrl?: string;
  /** Each request's timeout. */
  timeoutMs?: number;
}

/** How long after a lost subscription a new one is tried. */
const RESUBSCRIBE_MS = 2_000;

/**
 * An Ethereum JSON-RPC endpoint as the feeder's chain source, through viem. Reads go over HTTP
 * (each one on its own, so an endpoint that goes away and comes back needs nothing but its
 * next request); new heads come over a WebSocket subscription when there is one, which is
 * renewed whenever it fails. The subscription is only a hint to look now: the feeder also
 * polls, so a silent socket delays it by one poll at most.
 */
export class RpcChainSource implements ChainSource {
  private readonly reader: PublicClient;
  private readonly subscriptions = new Set<() => void>();
  private closed = false;

  constructor(private readonly endpoints: RpcEndpoints) {
    this.reader = createPublicClient({ transport: http(endpoints.httpUrl, { timeout: endpoints.timeoutMs ?? 10_000, retryCount: 0 }) });
  }

  /** The HTTP URL of a WebSocket one on the same host and port (as anvil, reth and many providers serve both). */
  static httpUrlOf(url: string): string {
    return url.replace(/^ws(s?):\/\//i, 'http$1://');
  }

  async latest(): Promise<SourceBlock> {
    return sourceBlock(await this.reader.getBlock({ blockTag: 'latest' }));
  }

  async byNumber(number: number): Promise<SourceBlock | undefined> {
    try {
      return sourceBlock(await this.reader.getBlock({ blockNumber: BigInt(number) }));
    } catch (error) {
      if (error instanceof BlockNotFoundError) return undefined;
      throw error;
    }
  }

  watchHeads(onHead: () => void): () => void {
    const wsUrl = this.endpoints.wsUrl;
    if (!wsUrl) return () => undefined;
    let stop: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    let active = true;
    const subscribe = (renewed: boolean): void => {
      if (!active || this.closed) return;
      // Heads announced while the socket was down are not announced again: look once now.
      if (renewed) onHead();
      // A fresh client each time; viem keeps its sockets by URL and opens a new one once the old one closed.
      const client = createPublicClient({ transport: webSocket(wsUrl, { reconnect: false, timeout: this.endpoints.timeoutMs ?? 10_000 }) });
      const unwatch = client.watchBlockNumber({
        onBlockNumber: () => onHead(),
        onError: () => {
          stop?.();
          if (!active || this.closed) return;
          if (timer) clearTimeout(timer);
          timer = setTimeout(() => subscribe(true), RESUBSCRIBE_MS);
        },
      });
      stop = () => {
        stop = undefined;
        unwatch();
        // The socket itself, which unwatching leaves open (it would keep the process alive).
        void client.transport
          .getRpcClient()
          .then((socket) => socket.close())
          .catch(() => undefined);
      };
    };
    subscribe(false);
    const unsubscribe = (): void => {
      active = false;
      if (timer) clearTimeout(timer);
      stop?.();
      this.subscriptions.delete(unsubscribe);
    };
    this.subscriptions.add(unsubscribe);
    return unsubscribe;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const unsubscribe of [...this.subscriptions]) unsubscribe();
  }
}

function sourceBlock(block: Block): SourceBlock {
  if (block.number === null || block.hash === null) throw new Error('the endpoint answered a pending block');
  return {
    number: Number(block.number),
    hash: block.hash.toLowerCase(),
    parentHash: block.parentHash.toLowerCase(),
    timestamp: Number(block.timestamp),
    gasUsed: block.gasUsed,
    transactionCount: block.transactions.length,
  };
}
