import { createLogger } from '../../observability/logger';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Cache, setBackend, verify, type VerificationKey } from 'o1js';
import { proverSettings } from '../../config/provers';
import { o1jsCacheDir, o1jsExportedVkPath, VK_FILE, type ProverReply, type ProverRequest, type ProverStatus } from './protocol';

/**
 * One GPU slot's o1js prover, in its own process: proving blocks the event loop for
 * seconds, so it never runs inside a Temporal worker. It compiles the program once (keys
 * cached per machine), then proves and verifies on request, one request at a time.
 */
const O1JS_CACHE_DIR = o1jsCacheDir();

async function main(): Promise<void> {
  // The native backend must be chosen before o1js does any work (it is ~4.5x faster than WASM).
  if (proverSettings().o1jsBackend === 'native') setBackend('native');
  const { BlockProgram, BlockProof, Transition, genesisState, segmentTransactions, stateAfter } = await import('./program');
  const vkFile = path.join(O1JS_CACHE_DIR, VK_FILE);
  const mode = process.argv[2] === 'verify' ? 'verify' : 'prove';
  // A verifier with its own keys folder trusts only the key exported there: the provers' cache is the GPU workers' to write.
  const { verifierKeys } = proverSettings();

  let verificationKey: VerificationKey | string;
  const started = Date.now();
  if (mode === 'verify' && verifierKeys) {
    const exported = o1jsExportedVkPath(verifierKeys);
    if (!existsSync(exported))
      throw new Error(`no o1js verification key at ${exported}: export it with npm run provers:setup -- --verifier-keys ${verifierKeys}`);
    verificationKey = (JSON.parse(readFileSync(exported, 'utf8')) as { data: string }).data;
  } else if (mode === 'verify' && existsSync(vkFile)) {
    // A verifier needs only the verification key, not the proving keys.
    verificationKey = (JSON.parse(readFileSync(vkFile, 'utf8')) as { data: string }).data;
  } else {
    // Only a compiling process writes the cache: a verifier with exported keys may have no writable cache at all.
    mkdirSync(O1JS_CACHE_DIR, { recursive: true });
    const compiled = await BlockProgram.compile({ cache: Cache.FileSystem(O1JS_CACHE_DIR) });
    verificationKey = compiled.verificationKey;
    writeFileSync(vkFile, JSON.stringify({ data: compiled.verificationKey.data, hash: compiled.verificationKey.hash.toString() }));
  }
  const status: ProverStatus = { ready: true, compileMs: Date.now() - started };
  process.send?.(status);

  const badInput = (id: number, error: string): ProverReply => ({ id, ok: false, badInput: true, error });

  process.on('message', (request: ProverRequest) => {
    void (async (): Promise<ProverReply> => {
      switch (request.op) {
        case 'chunk': {
          const start = stateAfter(request.blockHash, request.index);
          const transactions = segmentTransactions(request.blockHash, request.index);
          const end = stateAfter(request.blockHash, request.index + 1);
          const { proof } = await BlockProgram.chunk(new Transition({ start, end }), transactions);
          return { id: request.id, ok: true, result: JSON.stringify(proof.toJSON()) };
        }
        case 'merge': {
          let left: InstanceType<typeof BlockProof>;
          let right: InstanceType<typeof BlockProof>;
          try {
            left = await BlockProof.fromJSON(JSON.parse(request.left));
            right = await BlockProof.fromJSON(JSON.parse(request.right));
          } catch (error) {
            return badInput(request.id, `child proof is not an o1js block proof: ${(error as Error).message}`);
          }
          if (!left.publicInput.end.equals(right.publicInput.start).toBoolean())
            return badInput(request.id, 'child proofs do not chain (left.end != right.start)');
          const { proof } = await BlockProgram.merge(
            new Transition({ start: left.publicInput.start, end: right.publicInput.end }),
            left,
            right,
          );
          return { id: request.id, ok: true, result: JSON.stringify(proof.toJSON()) };
        }
        case 'verify': {
          let json: { publicInput: string[] };
          try {
            json = JSON.parse(request.proof) as { publicInput: string[] };
          } catch {
            return { id: request.id, ok: true, result: { valid: false, reason: 'proof is not JSON' } };
          }
          const expected = [genesisState(request.blockHash).toString(), stateAfter(request.blockHash, request.segmentCount).toString()];
          if (JSON.stringify(json.publicInput) !== JSON.stringify(expected)) {
            return {
              id: request.id,
              ok: true,
              result: { valid: false, reason: 'proof is not of this block’s transition (genesis → final state)' },
            };
          }
          const valid = await verify(json as Parameters<typeof verify>[0], verificationKey).catch(() => false);
          return {
            id: request.id,
            ok: true,
            result: valid ? { valid } : { valid, reason: 'the proof does not verify against the verification key' },
          };
        }
      }
    })()
      .catch((error: unknown): ProverReply => ({ id: request.id, ok: false, badInput: false, error: (error as Error).message }))
      .then((reply) => process.send?.(reply));
  });
  process.on('disconnect', () => process.exit(0));
}

main().catch((error: unknown) => {
  createLogger('o1js-prover', 'ERROR', 'stderr').fatal({ err: error }, 'o1js prover failed');
  process.exit(1);
});
