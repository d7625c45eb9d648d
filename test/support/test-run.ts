import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TemporalServer } from '../../infra/temporal/server';
import { DEMO_PROVER_ENV } from '../../provers/registry';

declare global {
  // Shared by the global setups and teardowns of both projects (same context).
  var __prooflaneTestRun: Promise<string> | undefined;
  var __prooflaneTestServers: { server: { stop(): Promise<void> }; dispose?: () => Promise<void> }[] | undefined;
}

/**
 * What every test project shares, made once per run whichever projects run: a work folder and
 * one workflow bundle, and the environment every test file and the worker processes it spawns
 * read. Resolves to the work folder.
 */
export function prepareTestRun(): Promise<string> {
  globalThis.__prooflaneTestRun ??= (async () => {
    const workDir = mkdtempSync(path.join(tmpdir(), 'prooflane-test-'));
    const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger });
    const bundlePath = path.join(workDir, 'workflow-bundle.js');
    writeFileSync(bundlePath, bundle.code);
    process.env.PROOFLANE_TEST_WORK_DIR = workDir;
    process.env.PROOFLANE_WORKFLOW_BUNDLE = bundlePath;
    // The stores of the test cluster live in the work folder, whatever the developer's shell names.
    delete process.env.PROOFLANE_ARTIFACT_STORE;
    delete process.env.PROOFLANE_PUBLISHER;
    process.env.PROOFLANE_LOG_LEVEL = process.env.PROOFLANE_LOG_LEVEL ?? 'ERROR';
    // The test servers, whatever profile a developer's Temporal client config file holds.
    process.env.TEMPORAL_CONFIG_FILE = path.join(workDir, 'temporal-client.toml');
    writeFileSync(process.env.TEMPORAL_CONFIG_FILE, '# the tests connect to their own servers: an empty profile\n[profile.default]\n');
    for (const name of Object.keys(process.env)) if (/^TEMPORAL_(API_KEY|TLS|PROFILE|GRPC_META_)/.test(name)) delete process.env[name];
    // Every backend, the example prover behind `command`, as the demo serves them; its files in the work folder.
    Object.assign(process.env, DEMO_PROVER_ENV);
    process.env.PROOFLANE_EXAMPLE_STATE_DIR = path.join(workDir, 'example-prover');
    mkdirSync(process.env.PROOFLANE_EXAMPLE_STATE_DIR, { recursive: true });
    return workDir;
  })();
  return globalThis.__prooflaneTestRun;
}

/** Keeps `server` for the teardown, which stops it (and runs `dispose`, e.g. dropping its databases). */
export function keepForTeardown(server: { stop(): Promise<void> }, dispose?: () => Promise<void>): void {
  (globalThis.__prooflaneTestServers ??= []).push({ server, dispose });
}

/** Stops every server a global setup started, in reverse order. */
export async function stopTestServers(): Promise<void> {
  const servers = globalThis.__prooflaneTestServers ?? [];
  globalThis.__prooflaneTestServers = [];
  for (const { server, dispose } of servers.reverse()) {
    await server.stop();
    await dispose?.();
  }
}

/**
 * Points this test file at its project's server and data folder. Jest gives every file its own
 * copy of the environment, so two projects' files never see each other's settings.
 */
export function useProjectServer(kind: TemporalServer['kind']): void {
  const address = process.env[`PROOFLANE_TEST_${kind.toUpperCase()}_ADDRESS`];
  if (!address) throw new Error(`no ${kind} test server: the ${kind} project's global setup did not run`);
  process.env.TEMPORAL_ADDRESS = address;
  process.env.TEMPORAL_NAMESPACE = 'default';
  process.env.PROOFLANE_TEMPORAL_SERVER = kind;
  process.env.PROOFLANE_DATA_DIR = path.join(process.env.PROOFLANE_TEST_WORK_DIR ?? tmpdir(), `data-${kind}`);
  const artifactStore = process.env[`PROOFLANE_TEST_${kind.toUpperCase()}_ARTIFACT_STORE`];
  if (artifactStore) process.env.PROOFLANE_ARTIFACT_STORE = artifactStore;
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
