/**
 * At most `limit` calls at once per key, the rest wait their turn. A burst of hundreds of
 * concurrent updates to one sequencer made its workflow tasks time out and updates fail;
 * a few in flight per chain keeps it busy without that.
 */
export class KeyedLimiter {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(private readonly limit: number) {}

  async run<T>(key: string, call: () => Promise<T>): Promise<T> {
    if ((this.active.get(key) ?? 0) >= this.limit) {
      await new Promise<void>((resolve) => this.waiting.set(key, [...(this.waiting.get(key) ?? []), resolve]));
    }
    this.active.set(key, (this.active.get(key) ?? 0) + 1);
    try {
      return await call();
    } finally {
      const next = this.waiting.get(key)?.shift();
      this.active.set(key, (this.active.get(key) ?? 1) - 1);
      if (next) next();
      else if (this.active.get(key) === 0) {
        this.active.delete(key);
        this.waiting.delete(key);
      }
    }
  }
}
