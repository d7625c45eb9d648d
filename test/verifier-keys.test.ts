import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Groth16Prover } from '../provers/groth16/backend';
import { exportGroth16VerificationKeys } from '../provers/groth16/keys';
import { standaloneProverContext } from '../provers/runtime';

/**
 * The verifier's trust anchor (docs/SECURITY.md): with PROOFLANE_VERIFIER_KEYS set, the
 * orchestration worker verifies with the keys exported there and nothing else, so a GPU node
 * that rewrites its own key cache cannot change what verifies. Real groth16 proofs.
 */
describe('verification keys: the verifier reads only its own folder', () => {
  const prover = new Groth16Prover();
  const block = { chainId: 'vk', number: 1, hash: `0x${'cd'.repeat(32)}` };
  const context = () => standaloneProverContext({ progressIntervalMs: 1_000 });
  const work = mkdtempSync(path.join(tmpdir(), 'prooflane-verifier-keys-'));
  const before = process.env.PROOFLANE_VERIFIER_KEYS;

  afterAll(async () => {
    if (before === undefined) delete process.env.PROOFLANE_VERIFIER_KEYS;
    else process.env.PROOFLANE_VERIFIER_KEYS = before;
    await prover.close();
  });

  const verifyWith = async (verifierKeys: string, proof: Uint8Array) => {
    process.env.PROOFLANE_VERIFIER_KEYS = verifierKeys;
    return prover.verify({ block, input: {}, segmentCount: 1, fanIn: 8, proof }, context());
  };

  it('accepts a valid proof with the exported keys, rejects it when only that folder holds other keys, and says when it holds none', async () => {
    // Proved with the provers' own cache (prepared on first use).
    const proof = await prover.proveSegment({ block, input: {}, index: 0, segmentCount: 1 }, context());
    const exported = path.join(work, 'exported');
    const files = await exportGroth16VerificationKeys(exported, () => undefined);
    expect(files).toHaveLength(2);
    expect(await verifyWith(exported, proof)).toEqual({ valid: true });

    // The same layout holding the aggregate circuit's key in the segment's place: the cache is unchanged, the verdict is not.
    const swapped = path.join(work, 'swapped');
    const segmentFile = files.find((file) => file.includes(`${path.sep}segment-`))!;
    const aggregateFile = files.find((file) => file.includes(`${path.sep}aggregate-`))!;
    for (const file of files) {
      const target = path.join(swapped, path.relative(exported, file));
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, readFileSync(file === segmentFile ? aggregateFile : file));
    }
    expect((await verifyWith(swapped, proof)).valid).toBe(false);

    const empty = path.join(work, 'empty');
    expect(existsSync(empty)).toBe(false);
    await expect(verifyWith(empty, proof)).rejects.toThrow(
      /no groth16 verification key at .*: export it with npm run provers:setup -- --verifier-keys/,
    );
  });
});
