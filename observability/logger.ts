import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import pino, { type Logger } from 'pino';

/**
 * One logger per process: JSON lines on stdout with `time`, `level`, `process` and the fields of
 * the context they come from (`chainId`, `blockNumber`, `workflowId`, `gpuClass`, `worker`).
 * The Temporal SDK's own logs (workflow and activity loggers, Core) go through it too
 * (`temporalLogger`), so one pipeline carries everything a process says.
 */
export type { Logger } from 'pino';

export function createLogger(processName: string, level: LogLevel = 'INFO', destination: 'stdout' | 'stderr' = 'stdout'): Logger {
  return pino(
    {
      level: level.toLowerCase(),
      base: { process: processName },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: destination === 'stdout' ? 1 : 2, sync: true }),
  );
}

/** Names the SDK uses for its context fields, renamed to the ones prooflane's own lines carry. */
const FIELD_NAMES: Record<string, string> = { taskQueue: 'taskQueue', workflowId: 'workflowId', workerIdentity: 'worker' };

/** The Temporal SDK's Logger interface over a pino logger (`Runtime.install({ logger })`). */
export function temporalLogger(logger: Logger): TemporalLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    const fields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(meta ?? {})) fields[FIELD_NAMES[key] ?? key] = value;
    logger[level === 'WARN' ? 'warn' : (level.toLowerCase() as 'trace' | 'debug' | 'info' | 'error')](fields, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}

/**
 * The logger for a process's lifecycle lines (listening, ready, stopping): written at INFO even
 * when the configured level is higher, because supervisors (npm start, the tests) wait for them.
 */
export function lifecycleLogger(logger: Logger): Logger {
  return logger.isLevelEnabled('info') ? logger : logger.child({}, { level: 'info' });
}
