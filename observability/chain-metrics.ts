import { Counter, Gauge, type Registry } from 'prom-client';
import type { ChainStates, TaskQueueStat } from '../api/chains';
import { ZERO_COUNTERS, type ChainCounters } from '../domain/chain';
import type { ChainView } from '../api/schemas';
import { gpuTaskQueue } from '../domain/names';
import type { ProverName } from '../domain/block';
import type { Logger } from './logger';

/** Where the chain metrics read from: the chains' durable state in Temporal (api/chains.ts). */
export interface ChainStateSource {
  chainStates(): Promise<ChainStates>;
  taskQueueStats(taskQueues: string[]): Promise<TaskQueueStat[]>;
}

/** One reading of every chain and GPU task queue, taken at most once per `maxAgeMs` however often Prometheus scrapes. */
interface Reading {
  at: number;
  chains: ChainStates;
  queues: (TaskQueueStat & { gpuClass: string; prover: string })[];
  ok: boolean;
}

const COUNTER_NAMES: Record<keyof ChainCounters, string> = {
  submitted: 'submitted',
  proved: 'proved',
  finalized: 'finalized',
  failed: 'failed',
  cancelled: 'cancelled',
  reorged: 'reorged',
  deadlineMissed: 'deadline_missed',
};

/**
 * Per-chain and per-task-queue metrics, read at scrape time from what Temporal holds (each
 * chain's sequencer state, each GPU queue's backlog and pollers), never from this process's
 * memory: they survive restarts of the API and the workers, and any API replica answers the same.
 */
export class ChainMetrics {
  private reading: Promise<Reading> | undefined;
  private last: Reading | undefined;

  constructor(
    registry: Registry,
    private readonly source: ChainStateSource,
    private readonly options: { servedProvers: readonly ProverName[]; maxAgeMs?: number; logger?: Logger },
  ) {
    const read = () => this.read();
    const chainGauge = (name: string, help: string, value: (view: ChainStates['running'][number], now: number) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['chain'],
        registers: [registry],
        async collect() {
          const { chains, at } = await read();
          this.reset();
          for (const view of chains.running) {
            const measured = value(view, at);
            if (measured !== undefined) this.set({ chain: view.chainId }, measured);
          }
        },
      });
    new Counter({
      name: 'prooflane_chain_blocks_total',
      help: 'Blocks of a chain by event (submitted, proved, finalized, failed, cancelled, reorged, deadline_missed), from its durable state.',
      labelNames: ['chain', 'event'],
      registers: [registry],
      async collect() {
        const { chains } = await read();
        this.reset();
        for (const view of chains.running)
          for (const [key, event] of Object.entries(COUNTER_NAMES))
            this.inc({ chain: view.chainId, event }, view.counters[key as keyof ChainCounters]);
      },
    });
    chainGauge('prooflane_chain_finalized_head', 'Highest finalized block number of a chain.', (view) => view.finalizedHead ?? undefined);
    chainGauge('prooflane_chain_highest_block', 'Highest block number a chain holds.', (view) => view.highestNumber ?? undefined);
    chainGauge('prooflane_chain_head_lag_blocks', 'Blocks a chain holds that are not finalized yet.', (view) => view.waiting);
    chainGauge(
      'prooflane_chain_head_lag_seconds',
      'How long the oldest block not yet finalized has waited (since its timestamp, else its submission); 0 when none waits.',
      (view, now) => (view.waitingSince === null ? 0 : Math.max(0, (now - view.waitingSince) / 1000)),
    );
    chainGauge(
      'prooflane_chain_stalled_seconds',
      'How long a chain with blocks waiting has made no progress: since its last finalization or the submission of its oldest waiting block, whichever is later; 0 when none waits.',
      (view, now) =>
        view.waitingSubmittedAt === null ? 0 : Math.max(0, (now - Math.max(view.waitingSubmittedAt, view.lastFinalizedAt ?? 0)) / 1000),
    );
    chainGauge('prooflane_chain_last_finalized_timestamp_seconds', 'When a chain last finalized a block (Unix seconds).', (view) =>
      view.lastFinalizedAt === null ? undefined : view.lastFinalizedAt / 1000,
    );
    chainGauge(
      'prooflane_chain_slot_seconds',
      'A chain’s configured slot time (its deadline after a block’s timestamp).',
      (view) => view.slotSeconds,
    );
    chainGauge('prooflane_chain_halted', '1 while finalization stopped at a block until an operator retries or reorgs it.', (view) =>
      view.halted ? 1 : 0,
    );
    chainGauge('prooflane_chain_paused', '1 while a chain is paused.', (view) => (view.paused ? 1 : 0));
    chainGauge('prooflane_chain_in_flight', 'Blocks of a chain proving now.', (view) => view.inFlight.length);
    chainGauge('prooflane_chain_queued', 'Blocks of a chain waiting to start proving.', (view) => view.queued.length);
    new Gauge({
      name: 'prooflane_chain_readable',
      help: '1 when the chain’s sequencer answered the last reading; 0 when it did not in time (its series repeat its last known view).',
      labelNames: ['chain'],
      registers: [registry],
      async collect() {
        const { chains } = await read();
        this.reset();
        const unreadable = new Set(chains.unreadable);
        for (const view of chains.running) this.set({ chain: view.chainId }, unreadable.has(view.chainId) ? 0 : 1);
      },
    });
    new Gauge({
      name: 'prooflane_chain_up',
      help: '1 for a chain whose sequencer runs, 0 for one whose sequencer closed (terminated or failed: POST /recover).',
      labelNames: ['chain'],
      registers: [registry],
      async collect() {
        const { chains } = await read();
        this.reset();
        for (const view of chains.running) this.set({ chain: view.chainId }, 1);
        for (const chainId of chains.stopped) this.set({ chain: chainId }, 0);
      },
    });
    const queueGauge = (name: string, help: string, value: (stat: Reading['queues'][number]) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['task_queue', 'gpu_class', 'prover'],
        registers: [registry],
        async collect() {
          const { queues } = await read();
          this.reset();
          for (const stat of queues) this.set({ task_queue: stat.taskQueue, gpu_class: stat.gpuClass, prover: stat.prover }, value(stat));
        },
      });
    queueGauge(
      'prooflane_task_queue_backlog',
      'Tasks waiting in a GPU class’s task queue (Temporal’s approximate backlog).',
      (stat) => stat.backlog,
    );
    queueGauge(
      'prooflane_task_queue_backlog_age_seconds',
      'Age of the oldest task waiting in a GPU task queue.',
      (stat) => stat.backlogAgeSeconds,
    );
    queueGauge('prooflane_task_queue_pollers', 'Workers that polled a GPU task queue recently.', (stat) => stat.pollers);
    new Gauge({
      name: 'prooflane_chain_metrics_up',
      help: '1 when the last reading of the chains from Temporal succeeded, else 0 (the chain metrics are then the last good reading).',
      registers: [registry],
      async collect() {
        this.set((await read()).ok ? 1 : 0);
      },
    });
  }

  /** The current reading: one per scrape (every gauge's collect shares it), at most one in flight. */
  private read(): Promise<Reading> {
    const maxAgeMs = this.options.maxAgeMs ?? 1_000;
    if (this.last && Date.now() - this.last.at < maxAgeMs) return Promise.resolve(this.last);
    this.reading ??= this.take().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async take(): Promise<Reading> {
    const at = Date.now();
    try {
      const read = await this.source.chainStates();
      // A chain whose sequencer did not answer in time keeps its last known view (and says so in
      // prooflane_chain_readable): its series must not vanish, or its alerts would start over.
      const known = new Map((this.last?.chains.running ?? []).map((view) => [view.chainId, view]));
      const stale = read.unreadable.map((chainId) => known.get(chainId)).filter((view): view is ChainView => view !== undefined);
      const chains: ChainStates = { ...read, running: [...read.running.map(withDefaults), ...stale] };
      // The GPU queues the chains use: each chain's default class, per served backend.
      const classes = new Set(chains.running.map((view) => view.defaults.gpuClass).filter((gpuClass): gpuClass is string => !!gpuClass));
      const queues = [...classes].flatMap((gpuClass) =>
        this.options.servedProvers.map((prover) => ({ gpuClass, prover, name: gpuTaskQueue(gpuClass, prover) })),
      );
      const stats = await this.source.taskQueueStats(queues.map((queue) => queue.name));
      this.last = {
        at,
        chains,
        ok: true,
        queues: stats.map((stat, index) => ({ ...stat, gpuClass: queues[index].gpuClass, prover: queues[index].prover })),
      };
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'chain metrics: could not read the chains from Temporal');
      this.last = {
        at,
        chains: this.last?.chains ?? { running: [], unreadable: [], stopped: [] },
        queues: this.last?.queues ?? [],
        ok: false,
      };
    }
    return this.last;
  }
}

/** A view from a sequencer of an earlier build (during a rolling upgrade) lacks the newer fields: theirs are zero. */
function withDefaults(view: ChainView): ChainView {
  return {
    ...view,
    counters: { ...ZERO_COUNTERS, ...view.counters },
    waiting: view.waiting ?? 0,
    waitingSince: view.waitingSince ?? null,
    waitingSubmittedAt: view.waitingSubmittedAt ?? null,
    lastFinalizedAt: view.lastFinalizedAt ?? null,
    highestNumber: view.highestNumber ?? null,
  };
}
