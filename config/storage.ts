import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { APP_ROOT } from '../infra/entry-points';
import { loadConfig } from './env';

/** Where a process keeps local state and which stores it names (URIs: see storage/factory.ts, publishing/factory.ts). */
export const StorageEnvSchema = z.object({
  PROOFLANE_DATA_DIR: z
    .string()
    .optional()
    .describe("local state: the dev server's SQLite file, file-backed stores by default (default ./data, git-ignored)"),
  PROOFLANE_ARTIFACT_STORE: z
    .url('must be a URI such as file:///data/artifacts')
    .optional()
    .describe(
      'URI of the artifact store (block inputs, proofs); every process of a cluster names the same (default file://<data dir>/artifacts)',
    ),
  PROOFLANE_PUBLISHER: z
    .url('must be a URI such as file:///data/published')
    .optional()
    .describe('URI of the proof publisher, where finalized proofs are published (default file://<data dir>/published)'),
});

export interface StorageSettings {
  dataDir: string;
  artifactStore: string;
  publisher: string;
}

export function storageSettings(env: NodeJS.ProcessEnv = process.env): StorageSettings {
  const variables = loadConfig('storage', StorageEnvSchema, env);
  const dir = path.resolve(variables.PROOFLANE_DATA_DIR ?? path.join(APP_ROOT, 'data'));
  return {
    dataDir: dir,
    artifactStore: variables.PROOFLANE_ARTIFACT_STORE ?? pathToFileURL(path.join(dir, 'artifacts')).href,
    publisher: variables.PROOFLANE_PUBLISHER ?? pathToFileURL(path.join(dir, 'published')).href,
  };
}

/** Local state (the dev server's SQLite file, file-backed stores by default) lives here (git-ignored). */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return storageSettings(env).dataDir;
}

/** Where proof artifacts live: every worker of a cluster must name the same store. */
export function artifactStoreUri(env: NodeJS.ProcessEnv = process.env): string {
  return storageSettings(env).artifactStore;
}

/** Where finalized proofs are published. */
export function publisherUri(env: NodeJS.ProcessEnv = process.env): string {
  return storageSettings(env).publisher;
}
