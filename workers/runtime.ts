import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

/** Installs the Temporal runtime once per process with the configured log level (PROOFLANE_LOG_LEVEL). */
export function installRuntime(level: LogLevel): void {
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // already installed in this process
  }
}
