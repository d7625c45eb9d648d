import fc from 'fast-check';
import { KeyedLimiter, LimiterBusyError, LimiterTimeoutError } from '../api/keyed-limiter';

/** A call that runs until the test releases it. */
function held(): { promise: Promise<void>; release(): void } {
  let release = (): void => undefined;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

describe('KeyedLimiter: calls per chain in the API', () => {
  it('runs at most `limit` calls per key, hands turns over in arrival order, and refuses beyond `maxWaiting`', async () => {
    const limiter = new KeyedLimiter(2, 2);
    const started: number[] = [];
    const calls = Array.from({ length: 4 }, () => held());
    const runs = calls.map((call, index) =>
      limiter.run('chain', async () => {
        started.push(index);
        await call.promise;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(limiter.waitingFor('chain')).toBe(2);
    await expect(limiter.run('chain', async () => undefined)).rejects.toBeInstanceOf(LimiterBusyError);
    // Another key is not held up by this one.
    await expect(limiter.run('other', async () => 'ran')).resolves.toBe('ran');
    calls[1].release();
    await runs[1];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    for (const call of calls) call.release();
    await Promise.all(runs);
    expect(started).toEqual([0, 1, 2, 3]);
    expect(limiter.waitingFor('chain')).toBe(0);
  });

  it('gives up a wait at its deadline without taking a turn', async () => {
    const limiter = new KeyedLimiter(1, 10);
    const first = held();
    const running = limiter.run('chain', () => first.promise);
    const ran = jest.fn();
    await expect(limiter.run('chain', async () => ran(), Date.now() + 20)).rejects.toBeInstanceOf(LimiterTimeoutError);
    expect(limiter.waitingFor('chain')).toBe(0);
    first.release();
    await running;
    expect(ran).not.toHaveBeenCalled();
    await expect(limiter.run('chain', async () => 'next')).resolves.toBe('next');
  });

  it('never exceeds its bounds and runs every admitted call once, over random arrivals and completions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.oneof(fc.constant('arrive' as const), fc.nat({ max: 20 })), { maxLength: 60 }),
        async (limit, maxWaiting, steps) => {
          const limiter = new KeyedLimiter(limit, maxWaiting);
          let active = 0;
          let ran = 0;
          let refused = 0;
          const running: { release(): void }[] = [];
          const settled: Promise<unknown>[] = [];
          for (const step of steps) {
            if (step === 'arrive') {
              const call = held();
              settled.push(
                limiter
                  .run('k', async () => {
                    active += 1;
                    expect(active).toBeLessThanOrEqual(limit);
                    running.push(call);
                    await call.promise;
                    active -= 1;
                    ran += 1;
                  })
                  .catch((error: unknown) => {
                    expect(error).toBeInstanceOf(LimiterBusyError);
                    refused += 1;
                  }),
              );
            } else if (running.length > 0) {
              running.splice(step % running.length, 1)[0].release();
            }
            await new Promise((resolve) => setImmediate(resolve));
            expect(limiter.waitingFor('k')).toBeLessThanOrEqual(maxWaiting);
          }
          while (running.length > 0 || active > 0) {
            running.splice(0).forEach((call) => call.release());
            await new Promise((resolve) => setImmediate(resolve));
          }
          await Promise.all(settled);
          expect(ran + refused).toBe(steps.filter((step) => step === 'arrive').length);
        },
      ),
      { numRuns: 300, seed: 20261201 },
    );
  });
});
