import type { CpuShares } from './cpu';
import type { FloorShape } from './floor/floor';
import type { TemporalServerKind } from '../infra/temporal/server';
import type { Summary } from './stats';

/** What one `npm run bench` run measured: written to bench/results/<time>-<profile>.json and rendered by report.ts. */
export type ProfileName = 'default' | 'quick';

export interface ScalingRow {
  system: 'prooflane' | 'push0';
  /** Segments per block. */
  segments: number;
  slots: number;
  blocks: number;
  seconds: number;
  /** Segment proofs per second. */
  throughput: number;
  efficiency: number;
  /** prooflane only: CPU seconds per process role while the step ran. */
  cpu?: { wallSeconds: number; cpuSeconds: CpuShares };
}

export interface BenchResults {
  profile: ProfileName;
  startedAt: string;
  command: string;
  /** The Temporal server the run measured on (results before PostgreSQL existed: dev). */
  temporalServer?: TemporalServerKind;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string; temporal: string };
  overhead: {
    segmentMs: number;
    segments: number;
    ideal: Summary;
    push0: Summary;
    prooflane: Summary;
    prooflaneEndToEnd: Summary;
    /** Minimal Temporal workflows of the same shape on the same server (bench/floor/): `perSegment` is the floor. */
    floor: Record<FloorShape, Summary>;
    criticalPathMs: number;
  }[];
  dispatch: { scheduleToStart: Summary; finishToSeen: Summary; scheduleToStartSamples: number[] };
  /** The overhead rows' aggregation tree (the scaling step aggregates in 0 ms). */
  aggregation: { fanIn: number; aggregateMs: number };
  scalingSegmentMs: number;
  scaling: ScalingRow[];
  head: {
    blocks: number;
    latency: Summary;
    deadlineMet: number;
    slotSeconds: number;
    segments: number;
    segmentMs: number;
    intervalMs: number;
    /** One block's critical path: a segment, the aggregation levels and verification (ms). */
    criticalPathMs: number;
  };
  /**
   * Multi-proof: the same stream of blocks on chains of one policy each, over simulated provers of
   * spread speeds on their own GPU nodes (absent from runs before multi-proof).
   */
  quorum?: {
    /** The run that measured this section (a partial run's section joins the newest full run's report). */
    measuredBy: { command: string; startedAt: string };
    /** Each prover's GPU class and segment time. */
    provers: { gpuClass: string; segmentMs: number }[];
    blocks: number;
    segments: number;
    intervalMs: number;
    rows: {
      /** `k-of-n`. */
      policy: string;
      /** Submission → finalized. */
      latency: Summary;
      /** The quorum-completing proof's critical path (P50). */
      decidingPathMs: number;
      /** GPU time per block, every prover counted (those stopped at the quorum too), P50. */
      gpuMs: number;
    }[];
  };
}
