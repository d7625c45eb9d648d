import type { LogLevel } from '@temporalio/common';
import type { Registry } from 'prom-client';
import { freePort } from '../infra/processes';
import { createLogger, lifecycleLogger, type Logger } from './logger';
import { serveMetrics, type MetricsEndpoint } from './metrics-server';
import { processRegistry } from './metrics';
import { installRuntime } from './runtime';

/** A worker process's logger, metrics registry and endpoint, with the Temporal runtime wired to both. */
export interface ProcessTelemetry {
  logger: Logger;
  registry: Registry;
  /** The metrics endpoint, when one is served (port > 0). */
  endpoint?: MetricsEndpoint;
  close(): Promise<void>;
}

/** A worker's telemetry settings, as its configuration schema names them (config/processes.ts). */
export interface TelemetryConfig {
  PROOFLANE_LOG_LEVEL: LogLevel;
  PROOFLANE_METRICS_PORT: number;
  PROOFLANE_METRICS_HOST: string;
}

export async function startProcessTelemetry(processName: string, config: TelemetryConfig): Promise<ProcessTelemetry> {
  const options = {
    level: config.PROOFLANE_LOG_LEVEL,
    metricsPort: config.PROOFLANE_METRICS_PORT,
    metricsHost: config.PROOFLANE_METRICS_HOST,
  };
  const logger = createLogger(processName, options.level);
  const registry = processRegistry();
  if (options.metricsPort === 0) {
    installRuntime(options.level, { logger });
    return { logger, registry, close: async () => undefined };
  }
  // Core exports on a loopback port of its own; the process's endpoint serves it with prooflane's.
  const sdkMetricsPort = await freePort();
  installRuntime(options.level, { logger, sdkMetricsPort });
  const endpoint = await serveMetrics({ registry, port: options.metricsPort, host: options.metricsHost, sdkMetricsPort, logger });
  lifecycleLogger(logger).info({ port: endpoint.port }, `metrics on http://${options.metricsHost}:${endpoint.port}/metrics`);
  return { logger, registry, endpoint, close: () => endpoint.close() };
}
