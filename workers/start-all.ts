import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { configuredServerOptions, describeServerState } from '../infra/temporal/factory';
import { loadConfig, runMain } from '../config/env';
import { DemoConfigSchema } from '../config/processes';
import { storageSettings } from '../config/storage';
import { createLogger, lifecycleLogger } from '../observability/logger';
import { AnvilNode } from '../infra/anvil';
import { LocalSystem } from './local-system';

/**
 * `npm start [-- --temporal postgres]`: the whole system on one machine. A Temporal server (the
 * dev server with state in data/temporal, or temporal-server on PostgreSQL with ui-server; Web UI
 * on 8233 either way), one orchestration worker, one simulated GPU node and the HTTP API, each as
 * its own process, as they would run in production. With `--anvil`, also a local Ethereum dev
 * node (Foundry's anvil, a block every PROOFLANE_DEMO_BLOCK_SECONDS) and a block feeder that
 * proves its chain `anvil` live. Ctrl-C stops everything.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { temporal: { type: 'string' }, anvil: { type: 'boolean' } } });
  if (values.temporal !== undefined) process.env.PROOFLANE_TEMPORAL_SERVER = values.temporal;
  const config = loadConfig('start', DemoConfigSchema);
  const gpus = config.PROOFLANE_DEMO_GPUS;
  const gpuClass = config.PROOFLANE_DEMO_GPU_CLASS;
  const apiPort = config.PROOFLANE_API_PORT;
  const storage = storageSettings();
  mkdirSync(storage.dataDir, { recursive: true });
  const server = { ...configuredServerOptions(config, { uiPort: 8233, metricsPort: 9233, logLevel: 'error' }), port: 7233 };
  const logger = lifecycleLogger(createLogger('start', config.PROOFLANE_LOG_LEVEL));
  logger.info(`starting the Temporal ${server.kind === 'postgres' ? 'server on PostgreSQL' : 'dev server'}`);
  const system = await LocalSystem.start({
    server,
    apiPort,
    dataDir: storage.dataDir,
    metricsPorts: 'defaults',
    env: {
      PROOFLANE_LOG_LEVEL: config.PROOFLANE_LOG_LEVEL,
      PROOFLANE_DEFAULT_GPU_CLASS: gpuClass,
      PROOFLANE_DEFAULT_PROVER: 'simulated',
      // Stores named in this shell win over the data folder's.
      ...(config.PROOFLANE_ARTIFACT_STORE ? { PROOFLANE_ARTIFACT_STORE: config.PROOFLANE_ARTIFACT_STORE } : {}),
      ...(config.PROOFLANE_PUBLISHER ? { PROOFLANE_PUBLISHER: config.PROOFLANE_PUBLISHER } : {}),
    },
  });
  await system.addGpuWorker(gpuClass, gpus, `${gpuClass}-demo-node`);
  let anvil: AnvilNode | undefined;
  if (values.anvil) {
    const stateDir = path.join(storage.dataDir, 'anvil');
    mkdirSync(stateDir, { recursive: true });
    logger.info('starting an anvil node and a feeder for its chain');
    anvil = await AnvilNode.start({
      port: config.PROOFLANE_DEMO_ANVIL_PORT,
      blockTimeSeconds: config.PROOFLANE_DEMO_BLOCK_SECONDS,
      stateFile: path.join(stateDir, 'state.json'),
    });
    await system.startFeeder(['--chain', 'anvil', '--rpc', anvil.wsUrl, '--from', '1'], {
      // Empty dev blocks would be one segment each: four, of 1.5 s, so the chain page shows them fan out.
      PROOFLANE_FEED_MIN_SEGMENTS: '4',
      PROOFLANE_FEED_INPUT: JSON.stringify({ simulate: { segmentMs: 1_500, aggregateMs: 200 } }),
    });
  }

  let stopping = false;
  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping the API, workers and the Temporal server');
    await system.stop();
    await anvil?.stop();
    process.exit(code);
  };
  system.onUnexpectedExit((what, code, signal) => {
    logger.error({ process: what, code, signal }, `${what} exited unexpectedly; shutting down`);
    void shutdown(1);
  });
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  const api = system.apiUrl;
  // Instructions for the person at the terminal, not a log line.
  process.stdout.write(`
prooflane is up.
  HTTP API          ${api}   (${api}/openapi.json)
  Temporal Web UI   ${system.server.uiUrl}
  Temporal gRPC     ${system.server.address}
  Chain page        ${api}/chains/demo   (live: the chain's state and its last blocks)
  Metrics           ${system
    .metricsUrls()
    .map(({ url }) => url)
    .join('  ')}
  GPU pool          ${gpus} × ${gpuClass} (demo backends: simulated, command with the example prover, o1js, groth16; blocks use simulated unless they ask for another)
Submit blocks and watch them finalize in order (in another terminal):
  curl -X PUT ${api}/v1/chains/demo -H 'content-type: application/json' -d '{"mode":"pipelined","maxInFlight":3,"startNumber":1}'
  for n in 3 1 2; do curl -X POST ${api}/v1/chains/demo/blocks -H 'content-type: application/json' -d "{\\"number\\":$n,\\"hash\\":\\"0x$(printf '%064x' $n)\\",\\"segments\\":8}"; echo; done
  curl ${api}/v1/chains/demo
  curl ${api}/v1/chains/demo/blocks/1
Or prove one block directly, outside any chain: npm run prove -- --chain solo --number 1 --segments 8
${
  anvil
    ? `Anvil node        ${anvil.wsUrl}   (a block every ${config.PROOFLANE_DEMO_BLOCK_SECONDS} s, proved live in chain anvil: ${api}/chains/anvil)
Follow it again, proving every 4th block, in chain anvil-every-4:
  PROOFLANE_FEED_INPUT='{"simulate":{"segmentMs":500}}' npm run feed -- --chain anvil-every-4 --rpc ${anvil.wsUrl} --every 4
`
    : `Follow a real chain: npm start -- --anvil (a local dev node), or npm run feed -- --chain <id> --rpc <ws or http URL>
`
}
Ctrl-C stops everything; state survives in ${describeServerState(server)}.
`);
}

runMain('start', main);
