import { randomBytes } from 'node:crypto';
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
 * SQLite file's folder). A `throwaway` server (bench, tests) keeps its state in that folder
 * instead, or in databases of its own named after it.
 */
export function configuredServerOptions(
  settings: z.output<typeof TemporalServerEnvSchema>,
  common: TemporalServerCommonOptions,
  throwaway?: { folder: string; name: string },
): TemporalServerOptions {
  if (settings.PROOFLANE_TEMPORAL_SERVER === 'postgres') {
    const database = throwaway
      ? `prooflane_tmp_${throwaway.name
          .replace(/[^a-z0-9]/gi, '_')
          .toLowerCase()
          .slice(0, 16)}_${randomBytes(4).toString('hex')}`
      : settings.PROOFLANE_TEMPORAL_DATABASE;
    return {
      kind: 'postgres',
      ...common,
      postgresUrl: settings.PROOFLANE_PG_URL,
      database,
      historyShards: settings.PROOFLANE_TEMPORAL_HISTORY_SHARDS,
      workDir: throwaway ? path.join(throwaway.folder, 'temporal') : path.join(path.dirname(DEFAULT_DB_FILE), `postgres-${database}`),
    };
  }
  const dbFile = throwaway ? path.join(throwaway.folder, 'temporal.db') : (settings.TEMPORAL_DB_FILE ?? DEFAULT_DB_FILE);
  return { kind: 'dev', ...common, dbFile };
}

/** Where the configured server keeps its state, for the start-up banner. */
export function describeServerState(options: TemporalServerOptions): string {
  if (options.kind === 'postgres') return `PostgreSQL databases ${options.database} and ${options.database}_visibility`;
  return options.dbFile ? path.dirname(options.dbFile) : 'memory';
}
