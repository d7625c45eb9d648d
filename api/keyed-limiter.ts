/** The limiter's queue for a key is full: the caller should come back later (429). */
export class LimiterBusyError extends Error {
  override readonly name = 'LimiterBusyError';
}

/** The caller's deadline passed while it waited for its turn (503). */
export class LimiterTimeoutError extends Error {
  override readonly name = 'LimiterTimeoutError';
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * At most `limit` calls at once per key, and at most `maxWaiting` more waiting their turn; a
 * waiter gives up at its deadline. A burst of hundreds of concurrent updates to one sequencer
 * made its workflow tasks time out; a few in flight per chain keeps it busy without that, and the
 * bounded queue keeps a chain that stopped answering from piling requests up in the API.
 */
export class KeyedLimiter {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(
    private readonly limit: number,
    private readonly maxWaiting: number = Number.POSITIVE_INFINITY,
  ) {}

  /** Requests waiting for a turn on `key` right now. */
  waitingFor(key: string): number {
    return this.waiting.get(key)?.length ?? 0;
  }

  async run<T>(key: string, call: () => Promise<T>, deadline = Number.POSITIVE_INFINITY): Promise<T> {
    if ((this.active.get(key) ?? 0) >= this.limit) await this.waitTurn(key, deadline);
    else this.active.set(key, (this.active.get(key) ?? 0) + 1);
    try {
      return await call();
    } finally {
      this.release(key);
    }
  }

  /** Resolves once a finishing call hands its slot over (the slot stays counted as active). */
  private waitTurn(key: string, deadline: number): Promise<void> {
    const queue = this.waiting.get(key) ?? [];
    if (queue.length >= this.maxWaiting) throw new LimiterBusyError(`${queue.length} requests are already waiting`);
    this.waiting.set(key, queue);
    return new Promise<void>((resolve, reject) => {
      const timer = Number.isFinite(deadline)
        ? setTimeout(
            () => {
              const index = queue.indexOf(waiter);
              if (index >= 0) queue.splice(index, 1);
              if (queue.length === 0 && this.waiting.get(key) === queue) this.waiting.delete(key);
              reject(new LimiterTimeoutError('waited for a turn past the deadline'));
            },
            Math.max(0, deadline - Date.now()),
          )
        : undefined;
      const waiter: Waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject,
      };
      queue.push(waiter);
    });
  }

  private release(key: string): void {
    const next = this.waiting.get(key)?.shift();
    if (next) return next.resolve(); // the slot passes to the next waiter
    if (this.waiting.get(key)?.length === 0) this.waiting.delete(key);
    const active = (this.active.get(key) ?? 1) - 1;
    if (active > 0) this.active.set(key, active);
    else this.active.delete(key);
  }
}
