import { Client, Connection } from '@temporalio/client';
import { GpuClassSchema, ProverNameSchema } from '../domain/block';
import { ChainConfigSchema, ChainModeSchema } from '../domain/chain';
import { artifactStoreUri } from '../config/storage';
import { temporalSettings } from '../config/temporal';
import { createArtifactStore } from '../storage/factory';
import { createApp } from './app';
import { ChainService } from './chains';

/**
 * The HTTP API process. Binds to loopback unless API keys are configured.
 *   PROOFLANE_API_PORT (8080), PROOFLANE_API_KEYS (comma-separated), PROOFLANE_API_HOST (with keys only),
 *   PROOFLANE_DEFAULT_{MODE,MAX_IN_FLIGHT,GPU_CLASS,PROVER,SEGMENTS}: the configuration of a chain before any PUT,
 *   PROOFLANE_ARTIFACT_STORE: where block inputs are stored at admission (the workers' store).
 */
async function main(): Promise<void> {
  const env = process.env;
  const settings = temporalSettings();
  const apiKeys = (env.PROOFLANE_API_KEYS ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);
  const defaults = ChainConfigSchema.parse({
    mode: ChainModeSchema.parse(env.PROOFLANE_DEFAULT_MODE ?? 'pipelined'),
    maxInFlight: Number(env.PROOFLANE_DEFAULT_MAX_IN_FLIGHT ?? 4),
    slotSeconds: Number(env.PROOFLANE_DEFAULT_SLOT_SECONDS ?? 12),
    defaults: {
      gpuClass: GpuClassSchema.parse(env.PROOFLANE_DEFAULT_GPU_CLASS ?? 'h100'),
      prover: ProverNameSchema.parse(env.PROOFLANE_DEFAULT_PROVER ?? 'simulated'),
      segments: Number(env.PROOFLANE_DEFAULT_SEGMENTS ?? 8),
    },
  });
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({ connection, namespace: settings.namespace });
  const inputs = createArtifactStore(artifactStoreUri());
  const app = createApp({
    chains: new ChainService({ client, settings, defaults, inputs }),
    apiKeys,
    bodyLimit: env.PROOFLANE_API_BODY_LIMIT,
  });
  const port = Number(env.PROOFLANE_API_PORT ?? 8080);
  // Without keys the API is unauthenticated: never expose it beyond this machine.
  const host = apiKeys.length ? (env.PROOFLANE_API_HOST ?? '0.0.0.0') : '127.0.0.1';
  const server = app.listen(port, host, () => {
    console.log(`prooflane API on http://${host}:${port} (Temporal ${settings.address})`);
    if (!apiKeys.length) console.log('no API keys configured (PROOFLANE_API_KEYS): listening on loopback only, without authentication');
  });
  server.on('error', (error) => {
    console.error(`api: ${error.message}`);
    process.exit(1);
  });
  const shutdown = (): void => {
    server.close(() => void connection.close().then(() => process.exit(0)));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(`api: ${(error as Error).message}`);
  process.exit(1);
});
