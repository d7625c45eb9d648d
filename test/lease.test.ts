import { LeaseFailure, LeaseRun, type LeaseCheckpoint, type LeaseEnvironment } from '../activities/lease';
import type { ProveLeaseInput } from '../activities/types';
import { buildAggregationTree } from '../domain/aggregation-tree';
import type { BlockRef, ProverInput } from '../domain/block';
import { BadInputError, ProverFailedError, type ProverContext } from '../provers/backend';
import { standaloneProverContext } from '../provers/runtime';
import { SimulatedProver, type Simulation } from '../provers/simulated';
import { MemoryArtifactStore } from '../storage/memory-artifact-store';
import { GpuSlots } from '../workers/gpu-slots';

/**
 * A lease (activities/lease.ts) on its real parts: the simulated prover, a node's GPU slots, an
 * artifact store in memory. What a node does with a block's share, without Temporal: every
 * segment on a device, the aggregations inside, resumption from its last heartbeat, prover errors
 * within the budget, silent provers taken back, stragglers hedged.
 */
const block: BlockRef = { chainId: 'lease', number: 7, hash: `0x${'ab'.repeat(32)}` };

interface Node {
  prover: SimulatedProver;
  slots: GpuSlots;
  store: MemoryArtifactStore;
  /** Every prover call, in the order they started: `segment:3#1` is segment 3's first attempt. */
  calls: string[];
  beats: LeaseCheckpoint[];
  /** The most devices held at once. */
  peakBusy: number;
}

function node(gpus: number, store = new MemoryArtifactStore()): Node {
  return { prover: new SimulatedProver(), slots: new GpuSlots(gpus), store, calls: [], beats: [], peakBusy: 0 };
}

function leaseInput(segmentCount: number, overrides: Partial<ProveLeaseInput> = {}): ProveLeaseInput {
  return {
    block,
    prover: 'simulated',
    segmentCount,
    fanIn: 4,
    roots: [{ from: 0, to: segmentCount }],
    maxAttempts: 5,
    hedgeFactor: 0,
    priorityKey: 3,
    ...overrides,
  };
}

function run(
  on: Node,
  input: ProveLeaseInput,
  simulate: Partial<Simulation>,
  options: Partial<Pick<LeaseEnvironment, 'checkpoint' | 'attempt' | 'heartbeatTimeoutMs' | 'signal'>> = {},
): Promise<Awaited<ReturnType<LeaseRun['run']>>> {
  const proverInput: ProverInput = { simulate: { segmentMs: 30, aggregateMs: 10, verifyMs: 0, ...simulate } };
  const observe = (task: string, context: ProverContext): void => {
    on.calls.push(`${task}#${context.attempt}`);
    on.peakBusy = Math.max(on.peakBusy, on.slots.busy);
  };
  return new LeaseRun(input, {
    prover: {
      proveSegment: (index, context) => {
        observe(`segment:${index}`, context);
        return on.prover.proveSegment({ block, input: proverInput, index, segmentCount: input.segmentCount }, context);
      },
      aggregate: (aggregate, children, context) => {
        observe(`aggregate:${aggregate.from}-${aggregate.to}`, context);
        return on.prover.aggregate({ block, input: proverInput, from: aggregate.from, to: aggregate.to, children }, context);
      },
    },
    store: on.store,
    slots: on.slots,
    identity: 'node-a',
    signal: options.signal ?? new AbortController().signal,
    attempt: options.attempt ?? 1,
    scheduledAt: Date.now(),
    heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 0,
    checkpoint: options.checkpoint,
    beat: (checkpoint) => on.beats.push(structuredClone(checkpoint)),
    log: () => undefined,
  }).run();
}

async function verifies(on: Node, segmentCount: number, proofRef: string): Promise<boolean> {
  const verdict = await on.prover.verify(
    { block, input: {}, segmentCount, fanIn: 4, proof: await on.store.get(proofRef) },
    standaloneProverContext(),
  );
  return verdict.valid;
}

describe('a lease on one GPU node', () => {
  it('proves its segments at once on the free devices and aggregates them there into a block proof that verifies', async () => {
    const on = node(8);
    const result = await run(on, leaseInput(8), {});
    expect(on.peakBusy).toBe(8);
    expect(result.segments.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(result.segments.map((s) => s.device)).size).toBe(8);
    expect(result.segments.every((s) => s.worker === 'node-a' && s.attempt === 1 && !s.hedged)).toBe(true);
    // Fan-in 4 over 8 segments: two aggregations, then the root.
    expect(result.aggregations.map((a) => [a.level, a.from, a.to])).toEqual([
      [1, 0, 4],
      [1, 4, 8],
      [2, 0, 8],
    ]);
    expect(result.roots).toEqual([expect.objectContaining({ from: 0, to: 8 })]);
    expect(await verifies(on, 8, result.roots[0].proofRef)).toBe(true);
    expect(result.gpuMs).toBeGreaterThanOrEqual(8 * 30 + 3 * 10 - 5);
  });

  it('queues what does not fit on the node, and proves roots that are parts of a larger tree', async () => {
    const on = node(2);
    const result = await run(
      on,
      leaseInput(16, {
        roots: [
          { from: 4, to: 8 },
          { from: 8, to: 12 },
        ],
      }),
      {},
    );
    expect(on.peakBusy).toBe(2);
    expect(result.segments.map((s) => s.index)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    expect(result.roots.map((root) => [root.from, root.to])).toEqual([
      [4, 8],
      [8, 12],
    ]);
  });

  it('resumes from its last heartbeat on another node: only the unfinished work is proved again, lost GPU time counted', async () => {
    const first = node(8);
    const stop = new AbortController();
    // Segments 0-3 finish at once; 4-7 are slow, and the node dies while they run.
    const dying = run(first, leaseInput(8), { slowSegments: { 4: 60_000, 5: 60_000, 6: 60_000, 7: 60_000 } }, { signal: stop.signal });
    await until(() => first.beats.some((beat) => beat.segments.length === 4 && beat.aggregations.length === 1));
    stop.abort(new Error('worker lost'));
    await expect(dying).rejects.toBeInstanceOf(LeaseFailure);
    const lastBeat = first.beats.filter((beat) => beat.segments.length === 4).at(-1)!;
    expect(lastBeat.runningSince).toHaveLength(4);

    const second = node(8, first.store);
    const result = await run(second, leaseInput(8), {}, { checkpoint: lastBeat, attempt: 2 });
    expect(second.calls.sort()).toEqual(['aggregate:0-8#2', 'aggregate:4-8#2', 'segment:4#2', 'segment:5#2', 'segment:6#2', 'segment:7#2']);
    expect(result.segments.filter((s) => s.attempt === 1).map((s) => s.index)).toEqual([0, 1, 2, 3]);
    expect(await verifies(second, 8, result.roots[0].proofRef)).toBe(true);
    const receipts = [...result.segments, ...result.aggregations].reduce((sum, r) => sum + (r.gpuMs ?? 0), 0);
    expect(result.gpuMs).toBeGreaterThan(receipts); // the four slow segments' time on the lost node
  });

  it('proves a segment again when a finished proof of an earlier attempt is gone from the store', async () => {
    const first = node(4);
    const done = await run(first, leaseInput(4), {});
    const store = new MemoryArtifactStore();
    // A new store holds none of the segment proofs the checkpoint names.
    const checkpoint: LeaseCheckpoint = {
      unaccountedMs: 0,
      beatAt: Date.now(),
      runningSince: [],
      segments: done.segments,
      aggregations: [],
    };
    const second = node(4, store);
    const result = await run(second, leaseInput(4), {}, { checkpoint, attempt: 2 });
    expect(second.calls.filter((call) => call.startsWith('segment')).sort()).toEqual([
      'segment:0#2',
      'segment:1#2',
      'segment:2#2',
      'segment:3#2',
    ]);
    expect(await verifies(second, 4, result.roots[0].proofRef)).toBe(true);
  });

  it('retries a prover error on the node within the budget, and fails the lease with its GPU time once it is spent', async () => {
    const on = node(4);
    const result = await run(on, leaseInput(4), { crashingSegments: { 2: 2 } });
    expect(result.segments.find((s) => s.index === 2)).toMatchObject({ proverRetries: 2, attempt: 3 });
    expect(on.calls.filter((call) => call.startsWith('segment:2'))).toEqual(['segment:2#1', 'segment:2#2', 'segment:2#3']);

    const failing = node(4);
    const failure = await run(failing, leaseInput(4, { maxAttempts: 2 }), { crashingSegments: { 1: 5 } }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LeaseFailure);
    expect((failure as LeaseFailure).cause).toBeInstanceOf(ProverFailedError);
    expect((failure as LeaseFailure).gpuMs).toBeGreaterThan(0);
    expect(failing.calls.filter((call) => call.startsWith('segment:1'))).toEqual(['segment:1#1', 'segment:1#2']);
  });

  it('fails at once on bad input, stopping its other segments before it reports: no GPU stays busy for a lost lease', async () => {
    const on = node(4);
    const failure = await run(on, leaseInput(4), { segmentMs: 60_000, badInputSegments: [3] }).catch((error: unknown) => error);
    expect((failure as LeaseFailure).cause).toBeInstanceOf(BadInputError);
    expect(on.slots.busy).toBe(0);
  });

  it('takes back a segment whose prover stopped responding and runs it again, without spending the prover budget', async () => {
    const on = node(4);
    const result = await run(on, leaseInput(4, { maxAttempts: 1 }), { hangingSegments: { 1: 1 } }, { heartbeatTimeoutMs: 500 });
    expect(result.segments.find((s) => s.index === 1)).toMatchObject({ attempt: 2, proverRetries: 0 });
    expect(await verifies(on, 4, result.roots[0].proofRef)).toBe(true);
  });

  it('hedges a straggler at the tail of the lease on a free device; the first copy to finish wins', async () => {
    const on = node(5);
    const result = await run(on, leaseInput(4, { hedgeFactor: 3 }), { slowSegments: { 3: 60_000 } });
    expect(result.segments.find((s) => s.index === 3)).toMatchObject({ hedged: true });
    expect(result.segments.filter((s) => s.hedged)).toHaveLength(1);
    expect(on.calls).toContain('segment:3#1001');
    expect(await verifies(on, 4, result.roots[0].proofRef)).toBe(true);
  });

  it('stops every running prover when the lease is cancelled', async () => {
    const on = node(4);
    const cancel = new AbortController();
    const running = run(on, leaseInput(4), { segmentMs: 60_000 }, { signal: cancel.signal });
    await until(() => on.slots.busy === 4);
    cancel.abort(new Error('block cancelled'));
    await expect(running).rejects.toBeInstanceOf(LeaseFailure);
    expect(on.slots.busy).toBe(0);
  });

  it('starts nothing more on a device once cancelled, even when the cancellation comes while it stores a finished proof', async () => {
    // The store holds every write until the test lets it go: the lease is cancelled in between.
    const held: (() => void)[] = [];
    class HeldStore extends MemoryArtifactStore {
      override async put(bytes: Uint8Array): Promise<string> {
        await new Promise<void>((resolve) => held.push(resolve));
        return super.put(bytes);
      }
    }
    const on = node(2, new HeldStore());
    const cancel = new AbortController();
    const running = run(on, leaseInput(2), {}, { signal: cancel.signal });
    await until(() => held.length === 2);
    cancel.abort(new Error('block cancelled'));
    held.forEach((release) => release());
    await expect(running).rejects.toBeInstanceOf(LeaseFailure);
    // Both segments were proved; the aggregation they would feed never took a device.
    expect(on.calls).toEqual(['segment:0#1', 'segment:1#1']);
    expect(on.slots.busy).toBe(0);
  });

  it('refuses roots that are not nodes of the block tree', () => {
    expect(() => run(node(1), leaseInput(8, { roots: [{ from: 1, to: 5 }] }), {})).toThrow(BadInputError);
    expect(buildAggregationTree(8, 4).to).toBe(8);
  });
});

describe("a node's GPU slots", () => {
  it('hands a freed device to the waiting unit with the lowest priority key, then in arrival order', async () => {
    const slots = new GpuSlots(1);
    const order: string[] = [];
    let releaseFirst!: () => void;
    const first = slots.withDevice(() => new Promise<void>((resolve) => (releaseFirst = resolve)));
    const queued = [
      slots.withDevice(async () => void order.push('behind-a'), { priority: 4 }),
      slots.withDevice(async () => void order.push('head'), { priority: 1 }),
      slots.withDevice(async () => void order.push('behind-b'), { priority: 4 }),
      slots.withDevice(async () => void order.push('aggregation'), { priority: 2 }),
    ];
    await new Promise((resolve) => setImmediate(resolve)); // the first unit is running on the device
    expect(slots.waiting).toBe(4);
    releaseFirst();
    await Promise.all([first, ...queued]);
    expect(order).toEqual(['head', 'aggregation', 'behind-a', 'behind-b']);
  });

  it('lets the worker poll only while a device is free that no task on the node still needs, one poll per queue', async () => {
    const slots = new GpuSlots(4);
    const supplier = slots.slotSupplier();
    const claims = slots.claims()({} as never).inbound!;
    const context = { slotType: 'activity' as const, taskQueue: 'q', workerIdentity: 'w', workerBuildId: '', isSticky: false };
    const used = (permit: object): void => supplier.markSlotUsed({ permit, slotInfo: { type: 'activity', activityType: 'proveLease' } });
    // One poll per queue: a second waits until the first ends; another backend's queue polls on its own.
    const permit = await supplier.reserveSlot(context, new AbortController().signal);
    expect(supplier.tryReserveSlot(context)).toBeNull();
    const other = supplier.tryReserveSlot({ ...context, taskQueue: 'other' });
    expect(other).not.toBeNull();
    supplier.releaseSlot({ permit: other! }); // that poll ended without a task
    // A lease of three segments arrives: it claims three GPUs before it reads anything.
    used(permit);
    let startLease!: () => void;
    const leaseMayStart = new Promise<void>((resolve) => (startLease = resolve));
    let endLease!: () => void;
    const leaseDone = new Promise<void>((resolve) => (endLease = resolve));
    const lease = claims.execute!({ args: [{ roots: [{ from: 0, to: 3 }] }], headers: {} }, async () => {
      await leaseMayStart;
      await Promise.all([0, 1, 2].map(() => slots.withDevice(() => leaseDone)));
      return undefined;
    });
    // One GPU is left: the next poll may open.
    const second = await supplier.reserveSlot(context, new AbortController().signal);
    used(second);
    // A one-segment task takes the last GPU: nothing is left, so nothing polls.
    let endSingle!: () => void;
    const single = claims.execute!({ args: [{ index: 0 }], headers: {} }, () =>
      slots.withDevice(() => new Promise<void>((resolve) => (endSingle = resolve))),
    );
    const abort = new AbortController();
    let polled = false;
    const third = supplier.reserveSlot(context, abort.signal).then(() => (polled = true));
    startLease();
    await new Promise((resolve) => setImmediate(resolve));
    expect(slots.busy).toBe(4);
    expect(polled).toBe(false);
    // The single task ends: its GPU is free and needed by no one, so the poll opens.
    endSingle();
    await single;
    await third;
    expect(polled).toBe(true);
    // A poll the SDK no longer needs (queue q has one open) is given up with the SDK's own reason.
    const reason = new Error('poller stopped');
    const stopped = new AbortController();
    const given = supplier.reserveSlot(context, stopped.signal);
    stopped.abort(reason);
    await expect(given).rejects.toBe(reason);
    endLease();
    await lease;
  });

  it('gives back the devices a task claimed and never took when it ends, so the node polls again', async () => {
    const slots = new GpuSlots(2);
    const supplier = slots.slotSupplier();
    const claims = slots.claims()({} as never).inbound!;
    const context = { slotType: 'activity' as const, taskQueue: 'q', workerIdentity: 'w', workerBuildId: '', isSticky: false };
    const permit = await supplier.reserveSlot(context, new AbortController().signal);
    supplier.markSlotUsed({ permit, slotInfo: { type: 'activity', activityType: 'proveLease' } });
    // A lease of two fails reading its input, before it takes any GPU.
    const failing = claims.execute!({ args: [{ roots: [{ from: 0, to: 2 }] }], headers: {} }, async () => {
      throw new Error('input missing');
    });
    await expect(failing).rejects.toThrow('input missing');
    expect(supplier.tryReserveSlot(context)).not.toBeNull();
  });
});

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}
