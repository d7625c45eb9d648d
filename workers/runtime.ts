import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

const LEVELS: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** Installs the Temporal runtime once per process with the log level from PROOFLANE_LOG_LEVEL (default INFO). */
export function installRuntime(): void {
  const wanted = (process.env.PROOFLANE_LOG_LEVEL ?? 'INFO').toUpperCase() as LogLevel;
  const level = LEVELS.includes(wanted) ? wanted : 'INFO';
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // already installed in this process
  }
}
