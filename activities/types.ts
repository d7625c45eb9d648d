import type { BlockRef, ProverInput, ProverName } from '../domain/block';
import type { Verdict } from '../provers/backend';
import type { createGpuActivities } from './gpu';
import type { createOrchestrationActivities } from './orchestration';

/**
 * What the workflows send to activities and get back. Workflows import this file only, and
 * only as types: activity code never enters the workflow bundle.
 */
export interface ProverTask {
  block: BlockRef;
  prover: ProverName;
  input: ProverInput;
  /** Earlier tasks for the same work that ended in a prover error (the workflow retries those). */
  priorAttempts?: number;
}

export interface PlanBlockInput extends ProverTask {
  requestedSegments: number;
  defaultFanIn: number;
}

export interface ProveSegmentInput extends ProverTask {
  index: number;
  segmentCount: number;
}

export interface AggregateProofsInput extends ProverTask {
  from: number;
  to: number;
  childRefs: string[];
}

export interface VerifyBlockProofInput extends ProverTask {
  proofRef: string;
  segmentCount: number;
  fanIn: number;
}

export interface VerifyResult extends Verdict {
  provingMs: number;
}

/** A node's accelerators as the GPU activities see them: one device held per running task. */
export interface DeviceSlots {
  /** Runs `run` on a free device; `waiting` is called every second while none is free. */
  withDevice<T>(run: (device: number) => Promise<T>, options?: { signal?: AbortSignal; waiting?: () => void }): Promise<T>;
}

export type GpuActivities = ReturnType<typeof createGpuActivities>;
export type OrchestrationActivities = ReturnType<typeof createOrchestrationActivities>;
