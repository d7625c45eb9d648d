import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Local state (the dev server's SQLite file, file-backed stores by default) lives here (git-ignored). */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.PROOFLANE_DATA_DIR ?? path.join(__dirname, '..', 'data'));
}

/** Where proof artifacts live (`PROOFLANE_ARTIFACT_STORE`, a URI): every worker of a cluster must name the same store. */
export function artifactStoreUri(env: NodeJS.ProcessEnv = process.env): string {
  return env.PROOFLANE_ARTIFACT_STORE ?? pathToFileURL(path.join(dataDir(env), 'artifacts')).href;
}

/** Where finalized proofs are published (`PROOFLANE_PUBLISHER`, a URI). */
export function publisherUri(env: NodeJS.ProcessEnv = process.env): string {
  return env.PROOFLANE_PUBLISHER ?? pathToFileURL(path.join(dataDir(env), 'published')).href;
}
