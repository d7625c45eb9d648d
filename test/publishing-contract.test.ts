import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { createProofPublisher } from '../publishing/factory';
import { ConflictingPublicationError, type ProofPublisher, type Publication } from '../publishing/proof-publisher';

/** The suite every proof publisher passes, each built through the factory from its URI. */
const IMPLEMENTATIONS: [string, () => ProofPublisher][] = [
  ['file', () => createProofPublisher(pathToFileURL(mkdtempSync(path.join(tmpdir(), 'prooflane-published-'))).href)],
  ['memory', () => createProofPublisher(`memory://contract-${randomUUID()}`)],
];

const hash = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`;
const publication = (number: number, proof = 'a', chainId = 'contract'): Publication => ({
  chainId,
  number,
  hash: hash(number),
  proofRef: `sha256:${proof.repeat(64).slice(0, 64)}`,
});

describe.each(IMPLEMENTATIONS)('proof publisher contract: %s', (_name, create) => {
  it('publishes a block once: a repeat of the same proof is recognised, a different one refused', async () => {
    const publisher = create();
    expect(await publisher.lookup('contract', 7)).toBeUndefined();
    const first = await publisher.publish(publication(7));
    expect(first.alreadyPublished).toBe(false);
    const again = await publisher.publish(publication(7));
    expect(again).toEqual({ publishedAt: first.publishedAt, alreadyPublished: true });
    await expect(publisher.publish(publication(7, 'b'))).rejects.toBeInstanceOf(ConflictingPublicationError);
    await expect(publisher.publish({ ...publication(7), hash: hash(99) })).rejects.toBeInstanceOf(ConflictingPublicationError);
    expect(await publisher.lookup('contract', 7)).toEqual({ ...publication(7), publishedAt: first.publishedAt });
  });

  it("knows each chain's published head, which a lost chain recovers from", async () => {
    const publisher = create();
    expect(await publisher.head('contract')).toBeNull();
    for (const number of [0, 1, 2, 10]) await publisher.publish(publication(number));
    await publisher.publish(publication(40, 'a', 'other'));
    expect(await publisher.head('contract')).toBe(10);
    expect(await publisher.head('other')).toBe(40);
    expect(await publisher.head('unknown')).toBeNull();
  });

  it('lets exactly one of concurrent publications of a block win', async () => {
    const publisher = create();
    const outcomes = await Promise.allSettled(['a', 'b', 'c', 'a', 'b', 'c'].map((proof) => publisher.publish(publication(3, proof))));
    const fresh = outcomes.filter((outcome) => outcome.status === 'fulfilled' && !outcome.value.alreadyPublished);
    expect(fresh).toHaveLength(1);
    const winner = (await publisher.lookup('contract', 3))!.proofRef;
    for (const [i, outcome] of outcomes.entries()) {
      const proofRef = publication(3, ['a', 'b', 'c'][i % 3]).proofRef;
      if (proofRef === winner) expect(outcome.status).toBe('fulfilled');
      else expect(outcome.status === 'rejected' && outcome.reason instanceof ConflictingPublicationError).toBe(true);
    }
  });

  it('agrees with a model of "first proof per block wins" over random publication sequences', async () => {
    const operation = fc.record({ chain: fc.constantFrom('left', 'right'), number: fc.nat({ max: 3 }), proof: fc.constantFrom('a', 'b') });
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 20 }), async (operations) => {
        const publisher = create();
        const model = new Map<string, string>();
        for (const { chain, number, proof } of operations) {
          const key = `${chain}/${number}`;
          const outcome = await publisher.publish(publication(number, proof, chain)).then(
            (receipt) => (receipt.alreadyPublished ? 'repeat' : 'new'),
            (error: unknown) => (error instanceof ConflictingPublicationError ? 'conflict' : `error ${String(error)}`),
          );
          const expected = !model.has(key) ? 'new' : model.get(key) === proof ? 'repeat' : 'conflict';
          expect(outcome).toBe(expected);
          if (!model.has(key)) model.set(key, proof);
        }
        for (const [key, proof] of model) {
          const [chain, number] = key.split('/');
          expect((await publisher.lookup(chain, Number(number)))?.proofRef).toBe(publication(0, proof).proofRef);
        }
      }),
      { seed: 17, numRuns: 60 },
    );
  });
});

describe('file proof publisher', () => {
  it('never writes a half record: a crashed attempt leaves only a staging file, which a later publish ignores', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'prooflane-published-'));
    const publisher = createProofPublisher(pathToFileURL(root).href);
    // What a SIGKILL between writing and linking leaves: a partial staging file, no record.
    await mkdir(path.join(root, '.staging'));
    writeFileSync(path.join(root, '.staging', 'contract-5-deadbeef0000.tmp'), '{"chainId":"contr');
    expect(await publisher.lookup('contract', 5)).toBeUndefined();
    expect((await publisher.publish(publication(5))).alreadyPublished).toBe(false);
    // The chain's folder holds exactly its records; what the publish staged is gone.
    expect(readdirSync(path.join(root, 'contract'))).toEqual(['5.json']);
    expect(readdirSync(path.join(root, '.staging'))).toEqual(['contract-5-deadbeef0000.tmp']);
    expect((await publisher.lookup('contract', 5))?.proofRef).toBe(publication(5).proofRef);
  });

  it('refuses a chain id or number that would name another path', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'prooflane-published-'));
    const publisher = createProofPublisher(pathToFileURL(path.join(root, 'published')).href);
    await expect(publisher.publish({ ...publication(1), chainId: '../escape' })).rejects.toThrow();
    await expect(publisher.publish({ ...publication(1), number: -1 })).rejects.toThrow();
    await expect(publisher.publish({ ...publication(1), number: 1.5 })).rejects.toThrow();
    expect(existsSync(path.join(root, 'escape'))).toBe(false);
  });
});
