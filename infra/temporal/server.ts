import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { z } from 'zod';
import { SEARCH_ATTRIBUTE_CLI_TYPES } from '../../domain/names';

/**
 * The Temporal server a local system runs on: the CLI's embedded dev server (SQLite, one
 * process; the default) or a Temporal cluster on PostgreSQL (temporal-server, its schema set up by
 * temporal-sql-tool, the Web UI served by ui-server). Both are started by `startTemporalServer`
 * (infra/temporal/factory.ts) and answer with the same handle.
 */
export const TemporalServerKindSchema = z
  .enum(['dev', 'postgres'])
  .describe('Temporal server to run: dev (the CLI dev server on SQLite) or postgres (temporal-server on PostgreSQL)');
export type TemporalServerKind = z.infer<typeof TemporalServerKindSchema>;

export interface TemporalServer {
  kind: TemporalServerKind;
  /** Frontend gRPC host:port. */
  address: string;
  namespace: string;
  uiUrl?: string;
  metricsUrl?: string;
  /** The Temporal server's own process (a test kills it to crash the server). */
  process: ChildProcess;
  /** Stops the server (SIGKILL: a crash) and its Web UI; its state stays in its database. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** What every kind of server takes. */
export interface TemporalServerCommonOptions {
  ip?: string;
  port?: number;
  uiPort?: number;
  /** Run without the Web UI. */
  headless?: boolean;
  metricsPort?: number;
  namespace?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  startTimeoutMs?: number;
  /** Where the server's output goes; defaults to this process's stderr. */
  stdio?: 'inherit' | 'ignore';
}

/**
 * Dynamic configuration prooflane runs with, on every kind of server (and documented for
 * production clusters in docs/OPERATIONS.md).
 */
export const PROOFLANE_DYNAMIC_CONFIG: Record<string, boolean | number> = {
  // Task queue priority (the chain head's segments go first) needs the priority matcher on server
  // 1.29, and one partition per queue: priority orders tasks within a partition, not across them.
  'matching.useNewMatcher': true,
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
  // Activities a workflow schedules on its own task queue come back in the workflow task's
  // response (the benchmark measures this shape beside prooflane's, bench/floor/).
  'system.enableActivityEagerExecution': true,
};

export function portIsFree(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, ip, () => probe.close(() => resolve(true)));
  });
}

/** Fails with a clear message when one of `ports` is taken, before a server would fail on it less clearly. */
export async function requireFreePorts(ip: string, ports: (number | undefined)[], what: string): Promise<void> {
  for (const port of ports) {
    if (port !== undefined && !(await portIsFree(ip, port))) {
      throw new Error(`port ${port} on ${ip} is already in use: is another ${what} (or npm start) running?`);
    }
  }
}

/** True once the frontend serves `namespace` and prooflane's search attributes are registered in it. */
export async function servesNamespace(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1_000 });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    return Object.keys(SEARCH_ATTRIBUTE_CLI_TYPES).every((name) => customAttributes && name in customAttributes);
  } catch {
    return false;
  } finally {
    await connection?.close();
  }
}

/**
 * Polls `ready` until it answers true; fails when the process exits first (`exited()` names how)
 * or the deadline passes.
 */
export async function waitUntil(
  ready: () => Promise<boolean>,
  what: string,
  exited: () => string | undefined,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const exit = exited();
    if (exit) throw new Error(`${what} exited during start-up (${exit}); see its output above`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Records how `child` exited, for `waitUntil`. */
export function exitWatch(child: ChildProcess): () => string | undefined {
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal ? `signal ${signal}` : `exit code ${code}`;
  });
  return () => exited;
}
