import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { SEARCH_ATTRIBUTE_CLI_TYPES } from '../../domain/names';
import { APP_ROOT } from '../entry-points';
import { stopProcess } from '../processes';
import {
  exitWatch,
  PROOFLANE_DYNAMIC_CONFIG,
  requireFreePorts,
  servesNamespace,
  waitUntil,
  type TemporalServer,
  type TemporalServerCommonOptions,
} from './server';

/**
 * The embedded Temporal server: `temporal server start-dev` with a SQLite file (state
 * survives restarts), the Web UI, Prometheus metrics and prooflane's search attributes.
 * A cluster on PostgreSQL is infra/temporal/postgres-server.ts.
 */
export interface DevServerOptions extends TemporalServerCommonOptions {
  /** SQLite file; omit for an in-memory server (tests). */
  dbFile?: string;
}

/** Finds or builds the Temporal CLI (infra/temporal/install-cli.sh) and returns its path. */
export function temporalCliPath(): string {
  return execFileSync('bash', [path.join(__dirname, 'install-cli.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

export async function startDevServer(options: DevServerOptions = {}): Promise<TemporalServer> {
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
  for (const [key, value] of Object.entries(PROOFLANE_DYNAMIC_CONFIG))
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);

  // Otherwise a server already on the port would answer our readiness probe in place of ours.
  await requireFreePorts(ip, [port, options.headless ? undefined : (options.uiPort ?? 8233), options.metricsPort], 'Temporal server');
  const child = spawn(temporalCliPath(), args, { stdio: ['ignore', options.stdio ?? 'inherit', options.stdio ?? 'inherit'] });
  const exited = exitWatch(child);
  const address = `${ip}:${port}`;
  const stop = (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => stopProcess(child, signal, 10_000);
  try {
    await waitUntil(
      () => servesNamespace(address, namespace),
      `Temporal dev server on ${address}`,
      exited,
      options.startTimeoutMs ?? 60_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    kind: 'dev',
    address,
    namespace,
    uiUrl: options.headless ? undefined : `http://${ip === '0.0.0.0' ? '127.0.0.1' : ip}:${options.uiPort ?? 8233}`,
    metricsUrl: options.metricsPort ? `http://${ip}:${options.metricsPort}/metrics` : undefined,
    process: child,
    stop,
  };
}

export const DEFAULT_DB_FILE = path.join(APP_ROOT, 'data', 'temporal', 'prooflane.db');
