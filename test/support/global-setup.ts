import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../../infra/temporal/dev-server';
import { freePort } from '../../infra/processes';
import { DEMO_PROVER_ENV } from '../../provers/registry';

declare global {
  // Shared with global-teardown (same context).
  var __prooflaneTestServer: DevServer | undefined;
}

/** Starts one real Temporal dev server (in memory, our search attributes) and bundles the workflows once. */
export default async function globalSetup(): Promise<void> {
  const workDir = mkdtempSync(path.join(tmpdir(), 'prooflane-test-'));
  const [server, bundle] = await Promise.all([
    freePort().then((port) => startDevServer({ port, headless: true, logLevel: 'error', stdio: 'ignore' })),
    bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger }),
  ]);
  const bundlePath = path.join(workDir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  globalThis.__prooflaneTestServer = server;
  // Test files and the worker processes they spawn find everything through the environment.
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.TEMPORAL_NAMESPACE = server.namespace;
  process.env.PROOFLANE_WORKFLOW_BUNDLE = bundlePath;
  process.env.PROOFLANE_DATA_DIR = path.join(workDir, 'data');
  // The stores of the test cluster live in that folder, whatever the developer's shell names.
  delete process.env.PROOFLANE_ARTIFACT_STORE;
  delete process.env.PROOFLANE_PUBLISHER;
  process.env.PROOFLANE_LOG_LEVEL = process.env.PROOFLANE_LOG_LEVEL ?? 'ERROR';
  // The test server, whatever profile a developer's Temporal client config file holds.
  process.env.TEMPORAL_CONFIG_FILE = path.join(workDir, 'temporal-client.toml');
  writeFileSync(process.env.TEMPORAL_CONFIG_FILE, '# the tests connect to their own dev server: an empty profile\n[profile.default]\n');
  for (const name of Object.keys(process.env)) if (/^TEMPORAL_(API_KEY|TLS|PROFILE|GRPC_META_)/.test(name)) delete process.env[name];
  // Every backend, the example prover behind `command`, as the demo serves them; its files in the work folder.
  Object.assign(process.env, DEMO_PROVER_ENV);
  process.env.PROOFLANE_EXAMPLE_STATE_DIR = path.join(workDir, 'example-prover');
  mkdirSync(process.env.PROOFLANE_EXAMPLE_STATE_DIR, { recursive: true });
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
