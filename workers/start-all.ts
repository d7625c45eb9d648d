import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_DB_FILE } from '../infra/temporal/dev-server';
import { dataDir } from '../config/storage';
import { LocalSystem } from './local-system';

/**
 * `npm start`: the whole system on one machine. The Temporal dev server (state in
 * data/temporal, Web UI on 8233), one orchestration worker, one simulated GPU node and the
 * HTTP API, each as its own process, as they would run in production. Ctrl-C stops everything.
 */
async function main(): Promise<void> {
  const gpus = Number(process.env.PROOFLANE_DEMO_GPUS ?? 4);
  const gpuClass = process.env.PROOFLANE_DEMO_GPU_CLASS ?? 'h100';
  const apiPort = Number(process.env.PROOFLANE_API_PORT ?? 8080);
  const dbFile = process.env.TEMPORAL_DB_FILE ?? DEFAULT_DB_FILE;
  mkdirSync(dataDir(), { recursive: true });
  console.log('starting the Temporal dev server...');
  const system = await LocalSystem.start({
    server: { dbFile, port: 7233, uiPort: 8233, metricsPort: 9233, logLevel: 'error' },
    apiPort,
    dataDir: dataDir(),
    env: {
      PROOFLANE_LOG_LEVEL: process.env.PROOFLANE_LOG_LEVEL ?? 'WARN',
      PROOFLANE_DEFAULT_GPU_CLASS: gpuClass,
      // Stores named in this shell win over the data folder's.
      ...(process.env.PROOFLANE_ARTIFACT_STORE ? { PROOFLANE_ARTIFACT_STORE: process.env.PROOFLANE_ARTIFACT_STORE } : {}),
      ...(process.env.PROOFLANE_PUBLISHER ? { PROOFLANE_PUBLISHER: process.env.PROOFLANE_PUBLISHER } : {}),
    },
  });
  await system.addGpuWorker(gpuClass, gpus, `${gpuClass}-demo-node`);

  let stopping = false;
  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the API, workers and the Temporal server...');
    await system.stop();
    process.exit(code);
  };
  system.onUnexpectedExit((what, code, signal) => {
    console.error(`${what} exited unexpectedly (${signal ?? `exit ${code}`}); shutting down`);
    void shutdown(1);
  });
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  const api = system.apiUrl;
  console.log(`
prooflane is up.
  HTTP API          ${api}   (${api}/openapi.json)
  Temporal Web UI   ${system.server.uiUrl}
  Temporal gRPC     ${system.server.address}
  GPU pool          ${gpus} × ${gpuClass} (every prover backend; blocks use simulated unless they ask for another)
Submit blocks and watch them finalize in order (in another terminal):
  curl -X PUT ${api}/v1/chains/demo -H 'content-type: application/json' -d '{"mode":"pipelined","maxInFlight":3,"startNumber":1}'
  for n in 3 1 2; do curl -X POST ${api}/v1/chains/demo/blocks -H 'content-type: application/json' -d "{\\"number\\":$n,\\"hash\\":\\"0x$(printf '%064x' $n)\\",\\"segments\\":8}"; echo; done
  curl ${api}/v1/chains/demo
  curl ${api}/v1/chains/demo/blocks/1
Or prove one block directly, outside any chain: npm run prove -- --chain solo --number 1 --segments 8
Ctrl-C stops everything; state survives in ${path.dirname(dbFile)}.
`);
}

main().catch((error: unknown) => {
  console.error(`start: ${(error as Error).message}`);
  process.exit(1);
});
