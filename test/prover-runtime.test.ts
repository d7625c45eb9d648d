import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { readArtifact } from '../activities/artifacts';
import { FailureTypes } from '../domain/failures';
import { contiguityProblem, isProcessAlive } from '../provers/runtime';
import { createArtifactStore } from '../storage/factory';

describe('aggregation input check', () => {
  it('accepts children that cover the range in order, and says where any other split goes wrong', () => {
    expect(
      contiguityProblem(
        [
          { from: 0, to: 2 },
          { from: 2, to: 5 },
        ],
        0,
        5,
      ),
    ).toBeUndefined();
    expect(
      contiguityProblem(
        [
          { from: 0, to: 2 },
          { from: 3, to: 5 },
        ],
        0,
        5,
      ),
    ).toBe('child proofs are not contiguous at segment 2');
    expect(
      contiguityProblem(
        [
          { from: 2, to: 5 },
          { from: 0, to: 2 },
        ],
        0,
        5,
      ),
    ).toBe('child proofs are not contiguous at segment 0');
    expect(contiguityProblem([{ from: 0, to: 2 }], 0, 5)).toBe('child proofs end at 2, expected 5');
  });

  it('accepts exactly the in-order splits of a range', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 10 }), fc.boolean(), (cuts, swap) => {
        const bounds = [0, ...[...cuts].sort((a, b) => a - b), 100];
        const children = bounds.slice(1).map((to, i) => ({ from: bounds[i], to }));
        if (swap && children.length > 1) [children[0], children[1]] = [children[1], children[0]];
        return (contiguityProblem(children, 0, 100) === undefined) === !(swap && children.length > 1);
      }),
      { seed: 5, numRuns: 300 },
    );
  });
});

describe('a task whose proof is missing or corrupt', () => {
  it('fails for good, with its own failure type, instead of being retried until its time budget runs out', async () => {
    const store = createArtifactStore(`memory://activities-${randomUUID()}`);
    const missing = await readArtifact(store, `sha256:${'0'.repeat(64)}`).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ApplicationFailure);
    expect(missing).toMatchObject({ type: FailureTypes.ArtifactMissing, nonRetryable: true });
    const malformed = await readArtifact(store, '../../etc/passwd').catch((error: unknown) => error);
    expect(malformed).toMatchObject({ type: FailureTypes.ArtifactMissing, nonRetryable: true });
    const ref = await store.put(Buffer.from('proof'));
    expect(Buffer.from(await readArtifact(store, ref)).toString()).toBe('proof');
  });
});

describe('process probe', () => {
  it('sees this process and not a pid that does not exist', () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(2 ** 22 + 12_345)).toBe(false);
  });
});
