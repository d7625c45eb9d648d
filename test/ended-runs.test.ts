import { EndedRunProgress, proversEnded } from '../api/ended-runs';
import type { BlockProgress, ProverProgress, ProverStatus } from '../domain/block';

/**
 * What the API keeps of block workflow runs (api/ended-runs.ts): a multi-proof run's progress once
 * every prover has ended, so the chain page's polling asks each closed run once; anything that may
 * still change is asked again.
 */
const prover = (gpuClass: string, status: ProverStatus): ProverProgress => ({
  key: `simulated@${gpuClass}`,
  prover: 'simulated',
  gpuClass,
  status,
  counted: status === 'verified',
  late: false,
  carried: false,
  segments: { total: 2, done: status === 'verified' ? 2 : 0, running: 0, failed: 0 },
});

const progress = (...statuses: ProverStatus[]): BlockProgress => ({
  status: 'finalized',
  segments: { total: 2, done: 2, running: 0, failed: 0 },
  aggregation: { total: 1, done: 1 },
  provers: statuses.map((status, i) => prover(`class-${i}`, status)),
  quorum: 1,
});

describe('the progress the API keeps of ended block runs', () => {
  it('keeps a run whose provers have all ended, and nothing that may still change', () => {
    const runs = new EndedRunProgress();
    runs.remember('block-a-1', 'run-1', progress('verified', 'cancelled', 'failed'));
    // keepProving: finalized, but a late prover still proves, so its answer will change.
    runs.remember('block-a-2', 'run-1', progress('verified', 'proving'));
    runs.remember('block-a-3', 'run-1', progress('verified', 'aggregating'));
    // A run of a build before multi-proof names no provers: nothing to judge it by, so it is asked again.
    runs.remember('block-a-4', 'run-1', { ...progress(), provers: undefined });
    expect(runs.get('block-a-1', 'run-1')?.provers?.map((entry) => entry.status)).toEqual(['verified', 'cancelled', 'failed']);
    expect(runs.get('block-a-2', 'run-1')).toBeUndefined();
    expect(runs.get('block-a-3', 'run-1')).toBeUndefined();
    expect(runs.get('block-a-4', 'run-1')).toBeUndefined();
    expect(proversEnded(progress())).toBe(false);
  });

  it('answers for the run it was told about, not for another run of the same workflow id', () => {
    const runs = new EndedRunProgress();
    runs.remember('block-a-1', 'run-1', progress('verified'));
    expect(runs.get('block-a-1', 'run-2')).toBeUndefined();
  });

  it('holds at most its capacity, dropping the run remembered longest ago', () => {
    const runs = new EndedRunProgress(2);
    runs.remember('block-a-1', 'r', progress('verified'));
    runs.remember('block-a-2', 'r', progress('verified'));
    runs.remember('block-a-1', 'r', progress('failed')); // told again: now the newest
    runs.remember('block-a-3', 'r', progress('verified'));
    expect(runs.size).toBe(2);
    expect(runs.get('block-a-2', 'r')).toBeUndefined();
    expect(runs.get('block-a-1', 'r')?.provers?.[0].status).toBe('failed');
    expect(runs.get('block-a-3', 'r')).toBeDefined();
    expect(() => new EndedRunProgress(0)).toThrow(RangeError);
  });
});
