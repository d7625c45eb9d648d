import { parseArgs } from 'node:util';
import { ProoflaneClient } from '../api/client';
import { loadConfig, runMain } from '../config/env';
import { FeederConfigSchema } from '../config/processes';
import { createLogger, lifecycleLogger } from '../observability/logger';
import { createProofRegistry } from '../reporting/factory';
import { RegistryReporter } from '../reporting/registry-reporter';
import { ApiFeedTarget } from './api-feed-target';
import { BlockFeeder } from './block-feeder';
import { RpcChainSource } from './rpc-chain-source';

/**
 * `npm run feed -- --chain <id> --rpc <url>`: follows one chain's Ethereum JSON-RPC endpoint and
 * submits its blocks to prooflane's API, answering reorgs from the chain itself; with a
 * registry configured, reports each block to it (docs/FEEDING.md). One process per chain.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      chain: { type: 'string' },
      rpc: { type: 'string' },
      'rpc-http': { type: 'string' },
      api: { type: 'string' },
      every: { type: 'string' },
      from: { type: 'string' },
      'max-reorg-depth': { type: 'string' },
    },
  });
  const flags = {
    PROOFLANE_FEED_CHAIN: values.chain,
    PROOFLANE_FEED_RPC_URL: values.rpc,
    PROOFLANE_FEED_HTTP_RPC_URL: values['rpc-http'],
    PROOFLANE_API_URL: values.api,
    PROOFLANE_FEED_EVERY: values.every,
    PROOFLANE_FEED_FROM: values.from,
    PROOFLANE_FEED_MAX_REORG_DEPTH: values['max-reorg-depth'],
  };
  for (const [name, value] of Object.entries(flags)) if (value !== undefined) process.env[name] = value;
  const config = loadConfig('feeder', FeederConfigSchema);
  const chainId = config.PROOFLANE_FEED_CHAIN;
  const logger = createLogger(`feeder:${chainId}`, config.PROOFLANE_LOG_LEVEL);

  const rpc = config.PROOFLANE_FEED_RPC_URL;
  const isWebSocket = /^wss?:/i.test(rpc);
  const source = new RpcChainSource({
    httpUrl: config.PROOFLANE_FEED_HTTP_RPC_URL ?? (isWebSocket ? RpcChainSource.httpUrlOf(rpc) : rpc),
    ...(isWebSocket ? { wsUrl: rpc } : {}),
  });
  // Past the API's own deadline (10 s by default): a hung connection fails, and the next poll tries again.
  const api = new ProoflaneClient(config.PROOFLANE_API_URL, config.PROOFLANE_API_KEY, 30_000);
  const reporter =
    config.PROOFLANE_REGISTRY_URL !== undefined
      ? new RegistryReporter(
          createProofRegistry({
            url: config.PROOFLANE_REGISTRY_URL,
            token: config.PROOFLANE_REGISTRY_TOKEN as string,
            clusterId: config.PROOFLANE_REGISTRY_CLUSTER_ID as number,
          }),
          api,
          chainId,
          { pollMs: config.PROOFLANE_REGISTRY_POLL_MS, logger },
        )
      : undefined;
  const target = new ApiFeedTarget(
    api,
    chainId,
    {
      gasPerSegment: config.PROOFLANE_FEED_GAS_PER_SEGMENT,
      minSegments: config.PROOFLANE_FEED_MIN_SEGMENTS,
      maxSegments: config.PROOFLANE_FEED_MAX_SEGMENTS,
    },
    config.PROOFLANE_FEED_INPUT ?? {},
  );
  const stop = async (code: number): Promise<void> => {
    await feeder.stop();
    await reporter?.stop();
    await source.close();
    process.exit(code);
  };
  const feeder = new BlockFeeder(source, target, {
    chainId,
    every: config.PROOFLANE_FEED_EVERY,
    ...(config.PROOFLANE_FEED_FROM !== undefined ? { from: config.PROOFLANE_FEED_FROM } : {}),
    maxReorgDepth: config.PROOFLANE_FEED_MAX_REORG_DEPTH,
    pollMs: config.PROOFLANE_FEED_POLL_MS,
    logger,
    events: { submitted: (block, outcome) => outcome === 'accepted' && reporter?.taken(block.number, block.hash) },
    onFatal: (error) => {
      logger.fatal({ chainId }, error.message);
      void stop(2);
    },
  });
  feeder.start();
  reporter?.start();
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  lifecycleLogger(logger).info(
    { chainId, rpc, api: config.PROOFLANE_API_URL, every: config.PROOFLANE_FEED_EVERY, registry: config.PROOFLANE_REGISTRY_URL ?? null },
    `block feeder ready: following ${rpc} into chain ${chainId}`,
  );
}

runMain('feeder', main);
