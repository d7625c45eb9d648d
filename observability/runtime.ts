import { IllegalStateError } from '@temporalio/common';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { temporalLogger, type Logger } from './logger';
import { LATENCY_BUCKETS_SECONDS } from './metrics';

const SDK_LATENCIES = [
  'temporal_activity_schedule_to_start_latency',
  'temporal_activity_execution_latency',
  'temporal_workflow_task_schedule_to_start_latency',
  'temporal_workflow_task_execution_latency',
  'temporal_local_activity_execution_latency',
];

/**
 * Installs the Temporal runtime once per process: the SDK's logs (Core's too) go through the
 * process's logger, and with `sdkMetricsPort` Core exports its metrics (schedule-to-start
 * latencies, slots, pollers, sticky cache) in Prometheus format on that loopback port, which the
 * process's own metrics endpoint serves beside prooflane's (observability/metrics-server.ts).
 */
export function installRuntime(level: LogLevel, options: { logger?: Logger; sdkMetricsPort?: number } = {}): void {
  try {
    Runtime.install({
      logger: options.logger ? temporalLogger(options.logger) : new DefaultLogger(level),
      telemetryOptions: {
        logging: {
          filter: { core: level === 'TRACE' || level === 'DEBUG' ? level : 'WARN', other: 'ERROR' },
          ...(options.logger ? { forward: {} } : {}),
        },
        ...(options.sdkMetricsPort !== undefined
          ? {
              metrics: {
                prometheus: {
                  bindAddress: `127.0.0.1:${options.sdkMetricsPort}`,
                  useSecondsForDurations: true,
                  // The latencies that matter on a block's path resolve milliseconds, as prooflane's own do.
                  histogramBucketOverrides: Object.fromEntries(SDK_LATENCIES.map((name) => [name, LATENCY_BUCKETS_SECONDS])),
                },
              },
            }
          : {}),
      },
    });
  } catch (error) {
    // Installed already in this process (the tests install one per file): keep that one. Anything
    // else (Core cannot bind its metrics port) must stop the process, not fall back silently.
    if (!(error instanceof IllegalStateError && /already been installed/.test(error.message))) throw error;
  }
}
