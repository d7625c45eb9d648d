/** Promise helpers shared by workflow code and activities: plain JavaScript, deterministic. */

/** The first promise to fulfil; rejects with the first error only when all reject (a hedged task and its copy). */
export function firstFulfilled<T>(promises: Promise<T>[]): Promise<T> {
  return new Promise((resolve, reject) => {
    let failures = 0;
    let firstError: unknown;
    for (const promise of promises) {
      promise.then(resolve, (error: unknown) => {
        failures += 1;
        firstError ??= error;
        if (failures === promises.length) reject(firstError);
      });
    }
  });
}
