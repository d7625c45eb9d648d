import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { loadConfig, runMain } from '../../config/env';
import { DevServerConfigSchema } from '../../config/processes';
import { SEARCH_ATTRIBUTE_CLI_TYPES } from '../../domain/names';
import { stopProcess } from '../processes';

/**
 * The embedded Temporal server: `temporal server start-dev` with a SQLite file (state
 * survives restarts), the Web UI, Prometheus metrics and prooflane's search attributes.
 * Production runs a Temporal cluster instead (see infra/README.md).
 */
export interface DevServerOptions {
  /** SQLite file; omit for an in-memory server (tests). */
  dbFile?: string;
  ip?: string;
  port?: number;
  uiPort?: number;
  /** Omit to run without the Web UI. */
  headless?: boolean;
  metricsPort?: number;
  namespace?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  startTimeoutMs?: number;
  /** Where the server's output goes; defaults to this process's stderr. */
  stdio?: 'inherit' | 'ignore';
}

export interface DevServer {
  address: string;
  namespace: string;
  uiUrl?: string;
  metricsUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Finds or builds the Temporal CLI (infra/temporal/install-cli.sh) and returns its path. */
export function temporalCliPath(): string {
  return execFileSync('bash', [path.join(__dirname, 'install-cli.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? 7233;
  const namespace = options.namespace ?? 'default';
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--namespace',
    namespace,
    '--log-level',
    options.logLevel ?? 'warn',
  ];
  if (options.dbFile) {
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
    // Write-ahead log with normal sync: state survives a crash of the server process (what the
    // fault tests do) without an fsync on every write, which dominated dispatch latency.
    args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  }
  if (options.headless) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort ?? 8233));
  if (options.metricsPort) args.push('--metrics-port', String(options.metricsPort));
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_CLI_TYPES)) args.push('--search-attribute', `${name}=${type}`);
  // Task queue priority (the chain head's segments go first) needs the priority matcher on server 1.29,
  // and one partition per queue: priority orders tasks within a partition, not across partitions.
  // One node has no use for more partitions anyway.
  args.push('--dynamic-config-value', 'matching.useNewMatcher=true');
  args.push('--dynamic-config-value', 'matching.numTaskqueueReadPartitions=1');
  args.push('--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1');
  // Activities a workflow schedules on its own task queue come back in the workflow task's
  // response (the benchmark measures this shape beside prooflane's, bench/floor/).
  args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');

  // Otherwise a server already on the port would answer our readiness probe in place of ours.
  for (const taken of [port, options.headless ? undefined : (options.uiPort ?? 8233), options.metricsPort]) {
    if (taken !== undefined && !(await portIsFree(ip, taken))) {
      throw new Error(`port ${taken} on ${ip} is already in use: is another Temporal server (or npm start) running?`);
    }
  }
  const child = spawn(temporalCliPath(), args, { stdio: ['ignore', options.stdio ?? 'inherit', options.stdio ?? 'inherit'] });
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal ? `signal ${signal}` : `exit code ${code}`;
  });
  const address = `${ip}:${port}`;
  const stop = (): Promise<void> => stopProcess(child, 'SIGTERM', 10_000);

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited)
      throw new Error(`Temporal dev server exited during start-up (${exited}); see its output above. Is port ${port} already taken?`);
    if (await answers(address, namespace)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Temporal dev server did not answer on ${address} within ${(options.startTimeoutMs ?? 60_000) / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    address,
    namespace,
    uiUrl: options.headless ? undefined : `http://${ip === '0.0.0.0' ? '127.0.0.1' : ip}:${options.uiPort ?? 8233}`,
    metricsUrl: options.metricsPort ? `http://${ip}:${options.metricsPort}/metrics` : undefined,
    process: child,
    stop,
  };
}

function portIsFree(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, ip, () => probe.close(() => resolve(true)));
  });
}

/** True once the frontend serves the namespace and our search attributes are registered. */
async function answers(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1_000 });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    return Object.keys(SEARCH_ATTRIBUTE_CLI_TYPES).every((name) => customAttributes && name in customAttributes);
  } catch {
    return false;
  } finally {
    await connection?.close();
  }
}

export const DEFAULT_DB_FILE = path.join(REPO_ROOT, 'data', 'temporal', 'prooflane.db');

async function main(): Promise<void> {
  const config = loadConfig('temporal dev server', DevServerConfigSchema);
  const server = await startDevServer({
    dbFile: config.TEMPORAL_DB_FILE ?? DEFAULT_DB_FILE,
    ip: config.TEMPORAL_IP,
    port: config.TEMPORAL_PORT,
    uiPort: config.TEMPORAL_UI_PORT,
    metricsPort: config.TEMPORAL_METRICS_PORT,
  });
  console.log(`Temporal dev server on ${server.address}; Web UI ${server.uiUrl}; metrics ${server.metricsUrl}`);
  const shutdown = (): void => void server.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  server.process.once('exit', (code) => process.exit(code ?? 1));
}

if (require.main === module) runMain('temporal', main);
