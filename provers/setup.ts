import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runMain } from '../config/env';
import type { ProverBackend } from './backend';
import { o1jsCacheDir, o1jsExportedVkPath, VK_FILE } from './o1js/protocol';
import { standaloneProverContext } from './runtime';
import { exportGroth16VerificationKeys, groth16CacheDir } from './groth16/keys';
import { Groth16Prover } from './groth16/backend';
import { O1jsProver } from './o1js/backend';

/**
 * `npm run provers:setup [-- --only o1js|groth16] [--verifier-keys <dir>]`: prepares the real
 * provers' keys ahead of time (idempotent: cached keys are reused). Workers that find them
 * missing prepare them on first use, once per machine. With `--verifier-keys`, also exports the
 * verification keys into `<dir>`, the read-only folder the orchestration workers verify with
 * (PROOFLANE_VERIFIER_KEYS): a GPU node that rewrites its own cache cannot change what verifies.
 */
const BACKENDS = {
  o1js: { cache: `${o1jsCacheDir()} (PROOFLANE_O1JS_CACHE)`, create: (): ProverBackend => new O1jsProver() },
  groth16: { cache: `${groth16CacheDir()} (PROOFLANE_GROTH16_CACHE)`, create: (): ProverBackend => new Groth16Prover() },
} as const;
type RealBackend = keyof typeof BACKENDS;

async function prepare(name: RealBackend): Promise<void> {
  const started = Date.now();
  console.log(`${name}: preparing keys (cached in ${BACKENDS[name].cache})...`);
  const prover = BACKENDS[name].create();
  const context = standaloneProverContext({ progressIntervalMs: 5_000, log: (message) => console.log(`${name}: ${message}`) });
  try {
    // Proving one segment makes the backend compile (or load) its keys first, and checks them.
    const block = { chainId: 'setup', number: 0, hash: `0x${'00'.repeat(32)}` };
    await prover.proveSegment({ block, input: {}, index: 0, segmentCount: 1 }, context);
    console.log(`${name}: ready after ${((Date.now() - started) / 1000).toFixed(1)} s (keys prepared or loaded, one segment proved)`);
  } finally {
    await prover.close?.();
  }
}

/** Copies a prepared backend's verification keys into the verifier's folder. */
async function exportVerificationKeys(name: RealBackend, verifierKeys: string): Promise<void> {
  const log = (message: string): void => console.log(`${name}: ${message}`);
  const written =
    name === 'o1js'
      ? await copyTo(path.join(o1jsCacheDir(), VK_FILE), o1jsExportedVkPath(verifierKeys))
      : await exportGroth16VerificationKeys(verifierKeys, log);
  log(`verification keys exported: ${written.join(', ')}`);
}

async function copyTo(from: string, to: string): Promise<string[]> {
  await mkdir(path.dirname(to), { recursive: true });
  await copyFile(from, to);
  return [to];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, 'verifier-keys': { type: 'string' } } });
  const names = Object.keys(BACKENDS) as RealBackend[];
  if (values.only !== undefined && !names.includes(values.only as RealBackend))
    throw new Error(`--only must be one of ${names.join(', ')}`);
  for (const name of values.only ? [values.only as RealBackend] : names) {
    await prepare(name);
    if (values['verifier-keys']) await exportVerificationKeys(name, path.resolve(values['verifier-keys']));
  }
}

runMain('provers:setup', main);
