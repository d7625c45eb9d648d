import { AsyncLocalStorage } from 'node:async_hooks';
import type { ActivityInterceptorsFactory, ActivitySlotInfo, CustomSlotSupplier, SlotPermit, SlotReleaseContext } from '@temporalio/worker';
import type { DeviceOptions, DeviceSlots } from '../activities/gpu';

/** A slot permit: the task queue whose poll it allows. */
interface DevicePermit extends SlotPermit {
  taskQueue: string;
}

/** The devices a task on the node will still ask for. */
interface DeviceClaim {
  devices: number;
}

/** Devices a GPU task needs: a lease one per segment it proves, any other task one. */
function devicesNeeded(task: unknown): number {
  const roots = (task as { roots?: { from: number; to: number }[] } | undefined)?.roots;
  if (!Array.isArray(roots)) return 1;
  return Math.max(
    1,
    roots.reduce((sum, root) => sum + Math.max(0, root.to - root.from), 0),
  );
}

interface Waiter {
  priority: number;
  take(device: number): void;
}

/**
 * The GPUs of one node; each unit of prover work holds a device until it ends. A lease (one
 * activity, several segments) asks for a device per unit, so the node's queue of units waiting
 * for a device is ordered here: by Temporal priority key (the chain head first), then first come
 * first served. The worker polls Temporal only while a device is free that no task on the node
 * still needs (`slotSupplier`, `claims`), so a busy node leaves new leases to idle ones.
 */
export class GpuSlots implements DeviceSlots {
  private readonly free: number[];
  private readonly waiters: Waiter[] = [];
  /**
   * Task queues with a poll open: one at a time per queue, since a task may be a lease that needs
   * every free device, and what it needs is known only once it arrives. Per queue, because a poll
   * waits up to a minute for a task: idle polls of one backend must not keep another's from polling.
   */
  private readonly polling = new Set<string>();
  private readonly pollers: { taskQueue: string; resolve(): void }[] = [];
  /** Devices that tasks on the node will still ask for (a lease: its segments not yet on a device). */
  private needed = 0;
  private readonly claimOfTask = new AsyncLocalStorage<DeviceClaim>();

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
    // The device this task said it needs is no longer needed: it holds it.
    const claim = this.claimOfTask.getStore();
    if (claim && claim.devices > 0) {
      claim.devices -= 1;
      this.needed -= 1;
    }
    try {
      // Cancelled between the grant and now: the device goes back, nothing starts on it.
      options.signal?.throwIfAborted();
      return await run(device);
    } finally {
      this.release(device);
    }
  }

  /**
   * Temporal's activity slots for this node: a permit (and so a poll) only while a device is free
   * that no task on the node still needs, one poll open per task queue. The permit is spent when
   * its task arrives (`markSlotUsed`); the task then claims the devices it needs (`claims`), and
   * the next poll opens only if some are left. A poll that ends without a task gives its turn back.
   */
  slotSupplier(): CustomSlotSupplier<ActivitySlotInfo> {
    return {
      type: 'custom',
      reserveSlot: (context, abortSignal) => this.reservePermit(context.taskQueue, abortSignal),
      tryReserveSlot: (context) => (this.canPoll(context.taskQueue) ? this.permit(context.taskQueue) : null),
      markSlotUsed: (context) => {
        // The task claims its devices as it starts (`claims`), which wakes the next poll.
        this.polling.delete((context.permit as DevicePermit).taskQueue);
      },
      releaseSlot: (context: SlotReleaseContext<ActivitySlotInfo>) => {
        if (context.slotInfo === undefined) this.polling.delete((context.permit as DevicePermit).taskQueue);
        this.wakePollers();
      },
    };
  }

  /**
   * An activity interceptor that makes each task claim the devices it will need before it reads
   * its inputs (a lease: one per segment; any other GPU task: one), and gives back what it did not
   * take when it ends, however it ends.
   */
  claims(): ActivityInterceptorsFactory {
    return () => ({
      inbound: {
        execute: async (input, next) => {
          const claim: DeviceClaim = { devices: devicesNeeded(input.args[0]) };
          this.needed += claim.devices;
          this.wakePollers();
          try {
            return await this.claimOfTask.run(claim, () => next(input));
          } finally {
            this.needed -= claim.devices;
            claim.devices = 0;
            this.wakePollers();
          }
        },
      },
    });
  }

  private canPoll(taskQueue: string): boolean {
    return this.waiters.length === 0 && !this.polling.has(taskQueue) && this.free.length > this.needed;
  }

  private permit(taskQueue: string): DevicePermit {
    this.polling.add(taskQueue);
    return { taskQueue };
  }

  private reservePermit(taskQueue: string, abortSignal: AbortSignal): Promise<SlotPermit> {
    if (this.canPoll(taskQueue)) return Promise.resolve(this.permit(taskQueue));
    return new Promise<SlotPermit>((resolve, reject) => {
      const poller = {
        taskQueue,
        resolve: () => {
          abortSignal.removeEventListener('abort', onAbort);
          resolve(this.permit(taskQueue));
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
      if (!this.canPoll(poller.taskQueue)) continue;
      this.pollers.splice(this.pollers.indexOf(poller), 1);
      poller.resolve();
    }
  }

  private acquire({ signal, waiting, priority = 5 }: DeviceOptions): Promise<number> {
    // A unit stopped before it asked (its lease cancelled while it stored a proof) takes no device.
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
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
