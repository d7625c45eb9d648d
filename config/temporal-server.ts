import { z } from 'zod';
import { TemporalServerKindSchema } from '../infra/temporal/server';
import { envInt } from './env';

/**
 * The Temporal server a local system runs (`npm start`, `npm run temporal`, the benchmark): the
 * CLI's dev server on SQLite, or temporal-server on PostgreSQL (`--temporal postgres`).
 */
export const TemporalServerEnvSchema = z.object({
  PROOFLANE_TEMPORAL_SERVER: TemporalServerKindSchema.default('dev').describe(
    'Temporal server to run (--temporal): dev (the CLI dev server on SQLite) or postgres (temporal-server on PostgreSQL, Web UI by ui-server)',
  ),
  TEMPORAL_DB_FILE: z.string().optional().describe("the dev server's SQLite file (default data/temporal/prooflane.db)"),
  PROOFLANE_PG_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default('postgres://postgres@127.0.0.1:5432')
    .describe('PostgreSQL that holds the Temporal cluster of --temporal postgres: postgres://user[:password]@host[:port]'),
  PROOFLANE_TEMPORAL_DATABASE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,40}$/, 'must be a lower-case SQL identifier')
    .default('prooflane_temporal')
    .describe("database of Temporal's persistence on PostgreSQL; visibility goes to <name>_visibility"),
  PROOFLANE_TEMPORAL_HISTORY_SHARDS: envInt(1, 16_384)
    .default(4)
    .describe("history shards of a new PostgreSQL cluster (fixed at its database's first start)"),
});
