import { parseArgs } from 'node:util';
import { loadConfig, runMain } from '../../config/env';
import { TemporalServerConfigSchema } from '../../config/processes';
import { createLogger, lifecycleLogger } from '../../observability/logger';
import { configuredServerOptions, describeServerState, startTemporalServer } from './factory';

/** `npm run temporal [-- --temporal postgres]`: the Temporal server alone, with its Web UI and metrics. */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { temporal: { type: 'string' } } });
  if (values.temporal !== undefined) process.env.PROOFLANE_TEMPORAL_SERVER = values.temporal;
  const config = loadConfig('temporal', TemporalServerConfigSchema);
  const options = configuredServerOptions(config, {
    ip: config.TEMPORAL_IP,
    port: config.TEMPORAL_PORT,
    uiPort: config.TEMPORAL_UI_PORT,
    metricsPort: config.TEMPORAL_METRICS_PORT,
  });
  const server = await startTemporalServer(options);
  lifecycleLogger(createLogger('temporal')).info(
    { address: server.address, uiUrl: server.uiUrl, metricsUrl: server.metricsUrl, state: describeServerState(options) },
    `Temporal ${server.kind} server on ${server.address}; Web UI ${server.uiUrl}; metrics ${server.metricsUrl}`,
  );
  const shutdown = (): void => void server.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  // The server died on its own: take its Web UI down with it rather than leave it on the port.
  server.process.once('exit', (code) => void server.stop().then(() => process.exit(code ?? 1)));
}

runMain('temporal', main);
