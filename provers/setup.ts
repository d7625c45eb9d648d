import { O1jsProver } from './o1js/backend';
import type { ProverContext } from './backend';

/**
 * `npm run provers:setup`: prepares the real provers' keys ahead of time (idempotent: cached
 * keys are reused). Workers that find them missing prepare them on first use, once per process.
 */
async function main(): Promise<void> {
  const started = Date.now();
  console.log('o1js: compiling the block program (keys cached in ~/.cache/prooflane/o1js, PROOFLANE_O1JS_CACHE)...');
  const prover = new O1jsProver();
  const context: ProverContext = {
    signal: new AbortController().signal,
    progress: () => undefined,
    progressIntervalMs: 5_000,
    device: 0,
    attempt: 1,
    log: (message) => console.log(`o1js: ${message}`),
  };
  try {
    // Planning is instant; proving a segment makes the prover process compile (or load) its keys first.
    const block = { chainId: 'setup', number: 0, hash: `0x${'00'.repeat(32)}` };
    await prover.proveSegment({ block, input: {}, index: 0, segmentCount: 1 }, context);
    console.log(`o1js: ready after ${((Date.now() - started) / 1000).toFixed(1)} s (keys compiled or loaded, one segment proved)`);
  } finally {
    await prover.close();
  }
}

main().catch((error: unknown) => {
  console.error(`provers:setup: ${(error as Error).message}`);
  process.exit(1);
});
