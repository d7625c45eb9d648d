/**
 * The GPUs of one node. The worker runs one activity slot per GPU, so a free device
 * always exists when a task starts; each task holds its device until it ends.
 */
export class GpuSlots {
  private readonly free: number[];

  constructor(readonly count: number) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`a GPU worker needs at least one GPU, got ${count}`);
    this.free = Array.from({ length: count }, (_, device) => device);
  }

  async withDevice<T>(run: (device: number) => Promise<T>): Promise<T> {
    const device = this.free.shift();
    if (device === undefined) throw new Error(`all ${this.count} GPU slots are busy: the worker accepted more tasks than it has GPUs`);
    try {
      return await run(device);
    } finally {
      this.free.push(device);
      this.free.sort((a, b) => a - b);
    }
  }
}
