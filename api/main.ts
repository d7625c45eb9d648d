import { Client, Connection } from '@temporalio/client';
import { loadConfig, runMain } from '../config/env';
import { ApiConfigSchema } from '../config/processes';
import { storageSettings } from '../config/storage';
import { temporalSettings } from '../config/temporal';
import { ChainConfigSchema } from '../domain/chain';
import { createArtifactStore } from '../storage/factory';
import { createApp } from './app';
import { ChainService } from './chains';
import { createLogger, lifecycleLogger } from '../observability/logger';

/**
 * The HTTP API process; its configuration is ApiConfigSchema (config/processes.ts). Binds to
 * loopback unless API keys are configured. It starts whether or not Temporal is reachable:
 * /healthz says the process lives, /readyz whether Temporal answers.
 */
async function main(): Promise<void> {
  const config = loadConfig('api', ApiConfigSchema);
  const logger = createLogger('api', config.PROOFLANE_LOG_LEVEL);
  const settings = temporalSettings();
  const served = config.PROOFLANE_PROVERS;
  const defaults = ChainConfigSchema.parse({
    mode: config.PROOFLANE_DEFAULT_MODE,
    maxInFlight: config.PROOFLANE_DEFAULT_MAX_IN_FLIGHT,
    slotSeconds: config.PROOFLANE_DEFAULT_SLOT_SECONDS,
    maxAhead: config.PROOFLANE_DEFAULT_MAX_AHEAD,
    defaults: {
      gpuClass: config.PROOFLANE_DEFAULT_GPU_CLASS,
      prover: config.PROOFLANE_DEFAULT_PROVER ?? served[0],
      segments: config.PROOFLANE_DEFAULT_SEGMENTS,
    },
  });
  // Lazy: the first request connects, so the API comes up (and answers /readyz 503) while Temporal is down.
  const connection = Connection.lazy(settings.connection);
  const client = new Client({ connection, namespace: settings.namespace });
  const apiKeys = config.PROOFLANE_API_KEYS ?? [];
  const app = createApp({
    chains: new ChainService({
      client,
      settings,
      defaults,
      inputs: createArtifactStore(storageSettings().artifactStore),
      temporalTimeoutMs: config.PROOFLANE_API_TEMPORAL_TIMEOUT_MS,
      maxWaitingPerChain: config.PROOFLANE_API_MAX_WAITING_PER_CHAIN,
      logger,
    }),
    servedProvers: served,
    apiKeys,
    bodyLimit: config.PROOFLANE_API_BODY_LIMIT,
    logger,
  });
  // Without keys the API is unauthenticated: never expose it beyond this machine.
  const host = apiKeys.length ? config.PROOFLANE_API_HOST : '127.0.0.1';
  const port = config.PROOFLANE_API_PORT;
  const server = app.listen(port, host, () => {
    lifecycleLogger(logger).info({ host, port, temporal: settings.address, provers: served }, `prooflane API on http://${host}:${port}`);
    if (!apiKeys.length) logger.warn('no API keys configured (PROOFLANE_API_KEYS): listening on loopback only, without authentication');
  });
  server.on('error', (error) => {
    logger.fatal({ err: error }, `cannot serve on ${host}:${port}`);
    process.exit(1);
  });
  const shutdown = (): void => {
    server.close(() => void connection.close().then(() => process.exit(0)));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

runMain('api', main);
