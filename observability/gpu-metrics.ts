import type { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LeaseResult } from '../activities/types';
import type { WorkReceipt } from '../domain/block';
import { FailureTypes } from '../domain/failures';
import { HEDGE_ATTEMPT_OFFSET } from '../workflows/policy';
import type { Logger } from './logger';

/** What the metrics read off a node's GPUs (workers/gpu-slots.ts). */
export interface SlotUsage {
  readonly count: number;
  readonly busy: number;
  readonly waiting: number;
}

type TaskLabels = 'gpu_class' | 'prover' | 'worker' | 'work';

/** The `work` label of each GPU activity. */
const WORK_OF_ACTIVITY: Record<string, string> = { proveLease: 'lease', proveSegment: 'segment', aggregateProofs: 'aggregation' };

/**
 * One GPU node's metrics: its slots (busy, free, tasks waiting for one), the time its tasks took
 * by outcome, the prover time of the proofs it made, and how often it ran a retry, a hedged copy
 * or a task taken over from a lost worker; whether it drains. Fed by an activity interceptor, so
 * the activities themselves know nothing of metrics.
 */
export class GpuWorkerMetrics {
  private readonly taskSeconds: Counter<TaskLabels | 'outcome'>;
  private readonly tasks: Counter<TaskLabels | 'outcome'>;
  private readonly proverSeconds: Counter<TaskLabels>;
  private readonly retries: Counter<TaskLabels>;
  private readonly hedges: Counter<TaskLabels>;
  private readonly takeovers: Counter<TaskLabels>;

  constructor(
    registry: Registry,
    private readonly node: { gpuClass: string; worker: string; slots: SlotUsage; draining: () => boolean },
    private readonly logger?: Logger,
  ) {
    const { gpuClass, worker, slots } = node;
    const nodeLabels = { gpu_class: gpuClass, worker };
    new Gauge({
      name: 'prooflane_gpu_slots',
      help: 'GPU slots of a node by state (busy: a task holds the device; free).',
      labelNames: ['gpu_class', 'worker', 'state'],
      registers: [registry],
      collect() {
        this.set({ ...nodeLabels, state: 'busy' }, slots.busy);
        this.set({ ...nodeLabels, state: 'free' }, slots.count - slots.busy);
      },
    });
    new Gauge({
      name: 'prooflane_gpu_tasks_waiting',
      help: 'Tasks a node took that wait for one of its GPUs (a node serving several backends).',
      labelNames: ['gpu_class', 'worker'],
      registers: [registry],
      collect() {
        this.set(nodeLabels, slots.waiting);
      },
    });
    new Gauge({
      name: 'prooflane_worker_draining',
      help: '1 while the node drains (stopped polling, finishing its running proofs), else 0.',
      labelNames: ['gpu_class', 'worker'],
      registers: [registry],
      collect() {
        this.set(nodeLabels, node.draining() ? 1 : 0);
      },
    });
    const labelNames = ['gpu_class', 'prover', 'worker', 'work'] as const;
    this.taskSeconds = new Counter({
      name: 'prooflane_gpu_task_seconds_total',
      help: 'Wall time of the node’s task attempts by outcome (ok, prover_failed, cancelled, error): what its GPUs were occupied with.',
      labelNames: [...labelNames, 'outcome'],
      registers: [registry],
    });
    this.tasks = new Counter({
      name: 'prooflane_gpu_tasks_total',
      help: 'Task attempts the node ran, by outcome.',
      labelNames: [...labelNames, 'outcome'],
      registers: [registry],
    });
    this.proverSeconds = new Counter({
      name: 'prooflane_prover_seconds_total',
      help: 'Time the prover backend computed for the proofs the node produced.',
      labelNames,
      registers: [registry],
    });
    this.retries = new Counter({
      name: 'prooflane_prover_retries_total',
      help: 'Tasks the node ran as a retry after a prover error.',
      labelNames,
      registers: [registry],
    });
    this.hedges = new Counter({
      name: 'prooflane_hedges_total',
      help: 'Hedged copies of straggling segments the node ran.',
      labelNames,
      registers: [registry],
    });
    this.takeovers = new Counter({
      name: 'prooflane_worker_losses_total',
      help: 'Tasks the node took over from an attempt whose worker was lost (heartbeat timeout) or drained.',
      labelNames,
      registers: [registry],
    });
  }

  /** The interceptor to register on each of the node's workers (Worker.create({ interceptors: { activity } })). */
  interceptor(): ActivityInterceptorsFactory {
    return (context: Context) => ({
      inbound: {
        execute: async (input, next) => {
          const task = (input.args[0] ?? {}) as { prover?: string; priorAttempts?: number; block?: { chainId: string; number: number } };
          const labels = {
            gpu_class: this.node.gpuClass,
            prover: task.prover ?? 'unknown',
            worker: this.node.worker,
            work: WORK_OF_ACTIVITY[context.info.activityType] ?? 'segment',
          };
          const priorAttempts = task.priorAttempts ?? 0;
          if (priorAttempts >= HEDGE_ATTEMPT_OFFSET) this.hedges.inc(labels);
          else if (priorAttempts > 0) this.retries.inc(labels);
          if (context.info.attempt > 1) this.takeovers.inc(labels);
          const started = performance.now();
          const ended = (outcome: string): void => {
            this.tasks.inc({ ...labels, outcome });
            this.taskSeconds.inc({ ...labels, outcome }, (performance.now() - started) / 1000);
          };
          try {
            const result = (await next(input)) as WorkReceipt | LeaseResult;
            ended('ok');
            if ('roots' in result) {
              // A lease: its units' prover time, the prover errors and hedged copies it ran on this node
              // (a resumed lease also returns what an earlier attempt's node proved).
              const here = (unit: { worker: string }): boolean => unit.worker === this.node.worker;
              const units = [...result.segments, ...result.aggregations].filter(here);
              this.proverSeconds.inc(labels, units.reduce((sum, unit) => sum + unit.provingMs, 0) / 1000);
              const retried = result.segments.filter(here).reduce((sum, segment) => sum + segment.proverRetries, 0);
              if (retried > 0) this.retries.inc(labels, retried);
              const hedged = result.segments.filter((segment) => here(segment) && segment.hedged).length;
              if (hedged > 0) this.hedges.inc(labels, hedged);
            } else {
              this.proverSeconds.inc(labels, result.provingMs / 1000);
            }
            return result;
          } catch (error) {
            const type = (error as { type?: string } | null)?.type;
            const outcome =
              error instanceof CancelledFailure ? 'cancelled' : type === FailureTypes.ProverFailed ? 'prover_failed' : 'error';
            ended(outcome);
            this.logger?.[outcome === 'cancelled' ? 'info' : 'warn'](
              {
                chainId: task.block?.chainId,
                blockNumber: task.block?.number,
                workflowId: context.info.workflowExecution?.workflowId,
                gpuClass: labels.gpu_class,
                worker: labels.worker,
                activity: context.info.activityType,
                attempt: context.info.attempt,
                outcome,
                err: error,
              },
              'GPU task ended without a proof',
            );
            throw error;
          }
        },
      },
    });
  }
}
