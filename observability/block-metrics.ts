import type { InjectedSinks } from '@temporalio/worker';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { BlockFinalizedReport, ChainSinks } from '../workflows/sinks';
import type { Logger } from './logger';
import { GPU_SECONDS_BUCKETS, LATENCY_BUCKETS_SECONDS } from './metrics';

/**
 * The orchestration worker's view of finalized blocks, fed by the sequencer's sink
 * (workflows/sinks.ts): one observation and one log line per block, in finalization order.
 */
export class BlockMetrics {
  private readonly endToEnd: Histogram<'chain' | 'gpu_class' | 'prover'>;
  private readonly overhead: Histogram<'chain' | 'gpu_class' | 'prover'>;
  private readonly endToEndOverhead: Histogram<'chain' | 'gpu_class' | 'prover'>;
  private readonly queued: Histogram<'chain' | 'gpu_class' | 'prover'>;
  private readonly gpu: Histogram<'chain' | 'gpu_class' | 'prover'>;
  private readonly gpuTotal: Counter<'chain' | 'gpu_class' | 'prover'>;
  private readonly late: Counter<'chain'>;

  constructor(
    registry: Registry,
    private readonly logger?: Logger,
  ) {
    const labelNames = ['chain', 'gpu_class', 'prover'] as const;
    const histogram = (name: string, help: string, buckets = LATENCY_BUCKETS_SECONDS) =>
      new Histogram({ name, help, labelNames, buckets, registers: [registry] });
    this.endToEnd = histogram('prooflane_block_latency_seconds', 'Time from a block’s submission to its finalization.');
    this.endToEndOverhead = histogram(
      'prooflane_block_end_to_end_overhead_seconds',
      'Submission to finalization minus the prover time on the block’s critical path: what orchestration cost, queueing included.',
    );
    this.overhead = histogram(
      'prooflane_block_overhead_seconds',
      'Inside the block workflow: its start to its verified proof minus the prover time on the critical path.',
    );
    this.queued = histogram('prooflane_block_queued_seconds', 'Time a block waited in its chain before its workflow started.');
    this.gpu = histogram('prooflane_block_gpu_seconds', 'GPU time one block cost, every attempt counted.', GPU_SECONDS_BUCKETS);
    this.gpuTotal = new Counter({
      name: 'prooflane_block_gpu_seconds_total',
      help: 'GPU time finalized blocks cost, every attempt counted (lost, retried and hedged ones too).',
      labelNames,
      registers: [registry],
    });
    this.late = new Counter({
      name: 'prooflane_block_finalized_late_total',
      help: 'Finalized blocks whose proof came after their deadline.',
      labelNames: ['chain'],
      registers: [registry],
    });
  }

  blockFinalized(report: BlockFinalizedReport): void {
    const labels = { chain: report.chainId, gpu_class: report.gpuClass, prover: report.prover };
    const seconds = (ms: number) => Math.max(0, ms) / 1000;
    const latencyMs = report.finalizedAt - report.submittedAt;
    this.endToEnd.observe(labels, seconds(latencyMs));
    if (report.provingMs !== undefined) this.endToEndOverhead.observe(labels, seconds(latencyMs - report.provingMs));
    if (report.overheadMs !== undefined) this.overhead.observe(labels, seconds(report.overheadMs));
    if (report.startedAt !== undefined) this.queued.observe(labels, seconds(report.startedAt - report.submittedAt));
    if (report.gpuMs !== undefined) {
      this.gpu.observe(labels, seconds(report.gpuMs));
      this.gpuTotal.inc(labels, seconds(report.gpuMs));
    }
    const late = report.deadlineAt !== undefined && report.provedAt !== undefined && report.provedAt > report.deadlineAt;
    if (late) this.late.inc({ chain: report.chainId });
    this.logger?.info(
      {
        chainId: report.chainId,
        blockNumber: report.number,
        workflowId: report.workflowId,
        gpuClass: report.gpuClass,
        prover: report.prover,
        latencyMs,
        provingMs: report.provingMs,
        overheadMs: report.overheadMs,
        gpuMs: report.gpuMs,
        ...(report.deadlineAt !== undefined ? { deadlineMet: !late } : {}),
      },
      'block finalized',
    );
  }

  /** The sinks the orchestration worker registers (Worker.create({ sinks })). */
  sinks(): InjectedSinks<ChainSinks> {
    return { chainEvents: { blockFinalized: { fn: (_info, report) => this.blockFinalized(report), callDuringReplay: false } } };
  }
}
