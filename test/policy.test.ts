import fc from 'fast-check';
import { FailureTypes, NEVER_RETRIED } from '../domain/failures';
import {
  aggregationPriority,
  GPU_TASK_RETRY,
  hedgeDueAt,
  LOCAL_ACTIVITY_RETRY,
  proverRetryDelayMs,
  PUBLICATION_RETRY,
  segmentPriority,
} from '../workflows/policy';

const SEED = { seed: 23, numRuns: 500 };
const distance = fc.integer({ min: -3, max: 10_000 });

describe('scheduling policy', () => {
  it('puts the chain head first: its segments and aggregations get key 1, every other task a later key', () => {
    expect(segmentPriority(0)).toBe(1);
    expect(aggregationPriority(segmentPriority(0))).toBe(1);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), (d) => segmentPriority(d) > 1 && aggregationPriority(segmentPriority(d)) > 1),
      SEED,
    );
  });

  it('keeps keys within Temporal’s five levels and never ranks a farther block before a nearer one', () => {
    fc.assert(
      fc.property(distance, distance, (a, b) => {
        const [near, far] = a <= b ? [a, b] : [b, a];
        const keys = [segmentPriority(near), segmentPriority(far)];
        return keys.every((key) => Number.isInteger(key) && key >= 1 && key <= 5) && keys[0] <= keys[1];
      }),
      SEED,
    );
  });

  it('runs any block’s aggregations before any other non-head block’s queued segments', () => {
    fc.assert(
      fc.property(distance, fc.integer({ min: 1, max: 10_000 }), (a, b) => aggregationPriority(segmentPriority(a)) < segmentPriority(b)),
      SEED,
    );
  });

  it('backs prover retries off exponentially up to 10 s', () => {
    expect([0, 1, 2, 3].map(proverRetryDelayMs)).toEqual([200, 400, 800, 1600]);
    fc.assert(
      fc.property(
        fc.nat({ max: 60 }),
        (retry) => proverRetryDelayMs(retry) <= proverRetryDelayMs(retry + 1) && proverRetryDelayMs(retry) <= 10_000,
      ),
      SEED,
    );
  });

  it('hedges a straggler after hedgeFactor times the median of the finished segments', () => {
    expect(hedgeDueAt(1_000, 3, [100, 300, 200])).toBe(1_600);
    expect(hedgeDueAt(1_000, 3, [100, 200, 300, 400])).toBe(1_900);
  });

  it('leaves prover errors of GPU tasks to the block workflow’s budget and never retries what cannot heal', () => {
    expect(GPU_TASK_RETRY.nonRetryableErrorTypes).toEqual(expect.arrayContaining([...NEVER_RETRIED, FailureTypes.ProverFailed]));
    expect(GPU_TASK_RETRY.maximumAttempts).toBeUndefined();
    expect(LOCAL_ACTIVITY_RETRY.nonRetryableErrorTypes).not.toContain(FailureTypes.ProverFailed);
    for (const policy of [GPU_TASK_RETRY, LOCAL_ACTIVITY_RETRY, PUBLICATION_RETRY]) {
      expect(policy.nonRetryableErrorTypes).toEqual(expect.arrayContaining([FailureTypes.BadInput, FailureTypes.ArtifactCorrupt]));
    }
  });
});
