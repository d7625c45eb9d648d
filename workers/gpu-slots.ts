import type { DeviceSlots } from '../activities/gpu';

/**
 * The GPUs of one node; each task holds a device until it ends. A worker that serves one prover
 * backend takes at most one task per GPU, so a device is always free when its task starts. A
 * node that serves several backends polls one task queue per backend and may take more tasks
 * than it has GPUs: the extra tasks wait here, first come first served, heartbeating.
 */
export class GpuSlots implements DeviceSlots {
  private readonly free: number[];
  private readonly waiters: ((device: number) => void)[] = [];

  constructor(readonly count: number) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`a GPU worker needs at least one GPU, got ${count}`);
    this.free = Array.from({ length: count }, (_, device) => device);
  }

  /** Devices a task holds now. */
  get busy(): number {
    return this.count - this.free.length;
  }

  /** Tasks waiting for a device. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Runs `run` on a free device; `waiting` is called every second while none is free. */
  async withDevice<T>(run: (device: number) => Promise<T>, options: { signal?: AbortSignal; waiting?: () => void } = {}): Promise<T> {
    const device = await this.acquire(options.signal, options.waiting);
    try {
      return await run(device);
    } finally {
      this.release(device);
    }
  }

  private acquire(signal?: AbortSignal, waiting?: () => void): Promise<number> {
    const device = this.free.shift();
    if (device !== undefined) return Promise.resolve(device);
    return new Promise<number>((resolve, reject) => {
      const tick = setInterval(() => waiting?.(), 1_000);
      const onAbort = (): void => {
        clearInterval(tick);
        const queued = this.waiters.indexOf(take);
        if (queued >= 0) this.waiters.splice(queued, 1);
        reject(signal?.reason ?? new Error('aborted'));
      };
      const take = (granted: number): void => {
        clearInterval(tick);
        signal?.removeEventListener('abort', onAbort);
        resolve(granted);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(take);
    });
  }

  private release(device: number): void {
    const next = this.waiters.shift();
    if (next) return next(device);
    this.free.push(device);
    this.free.sort((a, b) => a - b);
  }
}
