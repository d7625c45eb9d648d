import path from 'node:path';
import type { z } from 'zod';
import type { TemporalServerEnvSchema } from '../../config/temporal-server';
import { DEFAULT_DB_FILE, startDevServer, type DevServerOptions } from './dev-server';
import { startPostgresServer, type PostgresServerOptions } from './postgres-server';
import type { TemporalServer, TemporalServerCommonOptions } from './server';

export type TemporalServerOptions = ({ kind: 'dev' } & DevServerOptions) | ({ kind: 'postgres' } & PostgresServerOptions);

/** Starts the Temporal server `options.kind` names and waits until it serves the namespace with prooflane's search attributes. */
export function startTemporalServer(options: TemporalServerOptions): Promise<TemporalServer> {
  return options.kind === 'postgres' ? startPostgresServer(options) : startDevServer(options);
}

/**
 * The server a process's configuration names, with state where it survives restarts: the dev
 * server's SQLite file, or the PostgreSQL databases (their generated configuration beside the
 * SQLite file's folder).
 */
export function configuredServerOptions(
  settings: z.output<typeof TemporalServerEnvSchema>,
  common: TemporalServerCommonOptions,
): TemporalServerOptions {
  if (settings.PROOFLANE_TEMPORAL_SERVER === 'postgres') {
    return {
      kind: 'postgres',
      ...common,
      postgresUrl: settings.PROOFLANE_PG_URL,
      database: settings.PROOFLANE_TEMPORAL_DATABASE,
      historyShards: settings.PROOFLANE_TEMPORAL_HISTORY_SHARDS,
      workDir: path.join(path.dirname(DEFAULT_DB_FILE), `postgres-${settings.PROOFLANE_TEMPORAL_DATABASE}`),
    };
  }
  return { kind: 'dev', ...common, dbFile: settings.TEMPORAL_DB_FILE ?? DEFAULT_DB_FILE };
}

/** Where the configured server keeps its state, for the start-up banner. */
export function describeServerState(options: TemporalServerOptions): string {
  if (options.kind === 'postgres') return `PostgreSQL databases ${options.database} and ${options.database}_visibility`;
  return options.dbFile ? path.dirname(options.dbFile) : 'memory';
}
