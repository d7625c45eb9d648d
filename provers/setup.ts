import { parseArgs } from 'node:util';
import type { ProverBackend } from './backend';
import { o1jsCacheDir } from './o1js/protocol';
import { standaloneProverContext } from './runtime';
import { groth16CacheDir } from './groth16/keys';
import { Groth16Prover } from './groth16/backend';
import { O1jsProver } from './o1js/backend';

/**
 * `npm run provers:setup [-- --only o1js|groth16]`: prepares the real provers' keys ahead of
 * time (idempotent: cached keys are reused). Workers that find them missing prepare them on
 * first use, once per machine.
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

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' } } });
  const names = Object.keys(BACKENDS) as RealBackend[];
  if (values.only !== undefined && !names.includes(values.only as RealBackend))
    throw new Error(`--only must be one of ${names.join(', ')}`);
  for (const name of values.only ? [values.only as RealBackend] : names) await prepare(name);
}

main().catch((error: unknown) => {
  console.error(`provers:setup: ${(error as Error).message}`);
  process.exit(1);
});
