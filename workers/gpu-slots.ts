import type { ActivitySlotInfo, CustomSlotSupplier, SlotPermit, SlotReleaseContext } from '@temporalio/worker';
import type { DeviceOptions, DeviceSlots } from '../activities/gpu';

/** A slot permit: the task queue whose poll it allows. */
interface DevicePermit extends SlotPermit {
  taskQueue: string;
}

interface Waiter {
  priority: number;
  take(device: number): void;
}

/**
 * The GPUs of one node; each unit of prover work holds a device until it ends. A lease (one
 * activity, several segments) asks for a device per unit, so the node's queue of units waiting
 * for a device is ordered here: by Temporal priority key (the chain head first), then first come
 * first served. The worker polls Temporal only while a device is free and not yet promised to a
 * task on its way (`slotSupplier`), so a busy node leaves new leases to idle ones.
 */
export class GpuSlots implements DeviceSlots {
  private readonly free: number[];
  private readonly waiters: Waiter[] = [];
  /**
   * Per task queue, slot permits handed to pollers whose task has not arrived yet: each will want a
   * device. Counted per queue because a poll waits up to a minute for a task: a node serving
   * several backends must not let idle polls of one queue keep the others from polling.
   */
  private readonly promised = new Map<string, number>();
  private readonly pollers: { taskQueue: string; resolve(): void }[] = [];

  constructor(readonly count: number) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`a GPU worker needs at least one GPU, got ${count}`);
    this.free = Array.from({ length: count }, (_, device) => device);
  }

  /** Devices held now. */
  get busy(): number {
    return this.count - this.free.length;
  }

  /** Units waiting for a device. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Runs `run` on a free device; `waiting` is called every second while none is free. */
  async withDevice<T>(run: (device: number) => Promise<T>, options: DeviceOptions = {}): Promise<T> {
    const device = await this.acquire(options);
    try {
      return await run(device);
    } finally {
      this.release(device);
    }
  }

  /**
   * Temporal's activity slots for this node: a permit (and so a poll) only while a device is free
   * that no earlier permit of the same task queue has promised. A permit turns into a device
   * request when its task arrives (`markSlotUsed`); a poll that ends without a task gives its
   * promise back. (Tasks of several queues arriving at once wait here for a device, in priority order.)
   */
  slotSupplier(): CustomSlotSupplier<ActivitySlotInfo> {
    return {
      type: 'custom',
      reserveSlot: (context, abortSignal) => this.reservePermit(context.taskQueue, abortSignal),
      tryReserveSlot: (context) => (this.canPromise(context.taskQueue) ? this.promise(context.taskQueue) : null),
      markSlotUsed: (context) => this.unpromise(context.permit),
      releaseSlot: (context: SlotReleaseContext<ActivitySlotInfo>) => {
        if (context.slotInfo !== undefined) return;
        this.unpromise(context.permit);
        this.wakePollers();
      },
    };
  }

  private canPromise(taskQueue: string): boolean {
    return this.waiters.length === 0 && this.free.length > (this.promised.get(taskQueue) ?? 0);
  }

  private promise(taskQueue: string): DevicePermit {
    this.promised.set(taskQueue, (this.promised.get(taskQueue) ?? 0) + 1);
    return { taskQueue };
  }

  private unpromise(permit: SlotPermit): void {
    const { taskQueue } = permit as DevicePermit;
    this.promised.set(taskQueue, Math.max(0, (this.promised.get(taskQueue) ?? 0) - 1));
  }

  private reservePermit(taskQueue: string, abortSignal: AbortSignal): Promise<SlotPermit> {
    if (this.canPromise(taskQueue)) return Promise.resolve(this.promise(taskQueue));
    return new Promise<SlotPermit>((resolve, reject) => {
      const poller = {
        taskQueue,
        resolve: () => {
          abortSignal.removeEventListener('abort', onAbort);
          resolve(this.promise(taskQueue));
        },
      };
      const onAbort = (): void => {
        const index = this.pollers.indexOf(poller);
        if (index >= 0) this.pollers.splice(index, 1);
        // The SDK expects its own abort reason back (anything else is logged as a supplier error).
        reject(abortSignal.reason);
      };
      if (abortSignal.aborted) return onAbort();
      abortSignal.addEventListener('abort', onAbort, { once: true });
      this.pollers.push(poller);
    });
  }

  private wakePollers(): void {
    for (const poller of [...this.pollers]) {
      if (!this.canPromise(poller.taskQueue)) continue;
      this.pollers.splice(this.pollers.indexOf(poller), 1);
      poller.resolve();
    }
  }

  private acquire({ signal, waiting, priority = 5 }: DeviceOptions): Promise<number> {
    const device = this.waiters.length === 0 ? this.free.shift() : undefined;
    if (device !== undefined) return Promise.resolve(device);
    return new Promise<number>((resolve, reject) => {
      const tick = setInterval(() => waiting?.(), 1_000);
      const waiter: Waiter = {
        priority,
        take: (granted) => {
          clearInterval(tick);
          signal?.removeEventListener('abort', onAbort);
          resolve(granted);
        },
      };
      const onAbort = (): void => {
        clearInterval(tick);
        const queued = this.waiters.indexOf(waiter);
        if (queued >= 0) this.waiters.splice(queued, 1);
        this.wakePollers();
        reject(signal?.reason ?? new Error('aborted'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      // Lower keys first; equal keys in arrival order.
      const at = this.waiters.findIndex((queued) => queued.priority > priority);
      this.waiters.splice(at < 0 ? this.waiters.length : at, 0, waiter);
    });
  }

  private release(device: number): void {
    const next = this.waiters.shift();
    if (next) return next.take(device);
    this.free.push(device);
    this.free.sort((a, b) => a - b);
    this.wakePollers();
  }
}
