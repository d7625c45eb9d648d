import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { configuredServerOptions, startTemporalServer, type TemporalServerOptions } from '../infra/temporal/factory';
import { DEFAULT_TEMPORAL_DATABASE, dropTemporalDatabases } from '../infra/temporal/postgres-server';
import type { TemporalServer } from '../infra/temporal/server';
import { loadConfig } from '../config/env';
import { TemporalServerEnvSchema } from '../config/temporal-server';
import { artifactStoreUri, publisherUri } from '../config/storage';
import { freePort, spawnEntryPoint, stopProcess, untilReady } from '../infra/processes';
import { DEMO_PROVER_ENV } from '../provers/registry';

export interface LocalSystemOptions {
  server: TemporalServerOptions & { port: number };
  /** Drop the server's PostgreSQL databases at `stop()` (a throwaway system). */
  dropDatabasesOnStop?: boolean;
  apiPort: number;
  dataDir: string;
  /** Extra environment for every prooflane process. */
  env?: NodeJS.ProcessEnv;
  /** Where the processes' stdout/stderr go: inherited (npm start) or piped away (tests, bench). */
  quiet?: boolean;
  /** Metrics ports of the workers: the defaults (orchestration 9464, GPU workers 9465 up; npm start) or spare ones (default). */
  metricsPorts?: 'defaults' | 'spare';
}

/**
 * The whole system on one machine, each part its own OS process as in production: the
 * Temporal server (dev or PostgreSQL), the orchestration worker, GPU workers and the API. Used by
 * `npm start`, the benchmark and the fault tests, which kill and restart the parts.
 */
export class LocalSystem {
  server!: TemporalServer;
  private orchestration?: ChildProcess;
  private api?: ChildProcess;
  private readonly gpuWorkers = new Map<string, ChildProcess>();
  private readonly feeders: ChildProcess[] = [];
  /** Each worker's metrics port: `orchestration`, or the GPU worker's identity. */
  readonly metricsPorts = new Map<string, number>();

  private constructor(private readonly options: LocalSystemOptions) {}

  static async start(options: LocalSystemOptions): Promise<LocalSystem> {
    const system = new LocalSystem(options);
    system.server = await startTemporalServer(options.server);
    try {
      await system.startOrchestration();
      await system.startApi();
    } catch (error) {
      // Nothing of a system that failed to start stays behind: processes, server, throwaway databases.
      await system.stop();
      throw error;
    }
    return system;
  }

  /**
   * A throwaway system for the bench, the soak run and the fault tests: a fresh Temporal server
   * (the kind `PROOFLANE_TEMPORAL_SERVER` names: a SQLite file, or its own PostgreSQL databases
   * dropped at `stop()`) and data folder under the OS temp dir, spare loopback ports unless
   * given, no Web UI, quiet.
   */
  static async startTemporary(options: {
    name: string;
    temporalPort?: number;
    apiPort?: number;
    env?: NodeJS.ProcessEnv;
  }): Promise<LocalSystem> {
    const workDir = mkdtempSync(path.join(tmpdir(), `prooflane-${options.name}-`));
    const settings = loadConfig('local system', TemporalServerEnvSchema);
    const common = {
      port: options.temporalPort ?? (await freePort()),
      headless: true,
      logLevel: 'error' as const,
      stdio: 'ignore' as const,
    };
    const server = { ...configuredServerOptions(settings, common, { folder: workDir, name: options.name }), port: common.port };
    return LocalSystem.start({
      server,
      dropDatabasesOnStop: true,
      apiPort: options.apiPort ?? (await freePort()),
      dataDir: path.join(workDir, 'data'),
      env: { PROOFLANE_LOG_LEVEL: 'ERROR', ...options.env },
      quiet: true,
    });
  }

  /** Where this system's file-backed stores live (`PROOFLANE_DATA_DIR` of its processes). */
  get dataDir(): string {
    return this.options.dataDir;
  }

  get env(): NodeJS.ProcessEnv {
    return {
      // This system's own Temporal server, whatever profile a developer's Temporal config file holds.
      TEMPORAL_CONFIG_FILE: this.emptyTemporalConfig(),
      TEMPORAL_ADDRESS: this.server.address,
      TEMPORAL_NAMESPACE: this.server.namespace,
      ...(this.server.uiUrl ? { TEMPORAL_UI_URL: this.server.uiUrl } : {}),
      PROOFLANE_DATA_DIR: this.options.dataDir,
      // Stores in this system's data folder, whatever the caller's environment names.
      PROOFLANE_ARTIFACT_STORE: artifactStoreUri({ PROOFLANE_DATA_DIR: this.options.dataDir }),
      PROOFLANE_PUBLISHER: publisherUri({ PROOFLANE_DATA_DIR: this.options.dataDir }),
      PROOFLANE_API_PORT: String(this.options.apiPort),
      // A demo, bench or test system: every backend, the example prover behind `command`.
      ...DEMO_PROVER_ENV,
      ...this.options.env,
    };
  }

  private emptyTemporalConfig(): string {
    const file = path.join(this.options.dataDir, 'temporal-client.toml');
    if (!existsSync(file)) {
      mkdirSync(this.options.dataDir, { recursive: true });
      writeFileSync(file, '# this system connects to its own Temporal server: an empty profile\n[profile.default]\n');
    }
    return file;
  }

  /** The running processes of the system by role, e.g. for CPU accounting in the benchmark. */
  processes(): { role: string; pid: number }[] {
    const running = [
      { role: 'temporal server', child: this.server.process },
      { role: 'orchestration worker', child: this.orchestration },
      { role: 'API', child: this.api },
      ...[...this.gpuWorkers.values()].map((child) => ({ role: 'GPU workers', child })),
    ];
    return running.flatMap(({ role, child }) =>
      child?.pid !== undefined && child.exitCode === null && child.signalCode === null ? [{ role, pid: child.pid }] : [],
    );
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.options.apiPort}`;
  }

  async startOrchestration(): Promise<void> {
    const metricsPort = await this.metricsPortFor('orchestration', 9464);
    this.orchestration = await this.spawn('workers/orchestration-worker.ts', [], 'orchestration worker', metricsPort);
  }

  /** The metrics endpoints of the API and the workers, by role. */
  metricsUrls(): { role: string; url: string }[] {
    return [
      { role: 'api', url: `${this.apiUrl}/metrics` },
      ...[...this.metricsPorts].map(([role, port]) => ({ role, url: `http://127.0.0.1:${port}/metrics` })),
    ];
  }

  /** A worker keeps its port across restarts; a new one gets the next default, or a spare port. */
  private async metricsPortFor(role: string, defaultPort: number): Promise<number> {
    const known = this.metricsPorts.get(role);
    if (known !== undefined) return known;
    const port = this.options.metricsPorts === 'defaults' ? defaultPort : await freePort();
    this.metricsPorts.set(role, port);
    return port;
  }

  async startApi(): Promise<void> {
    this.api = await this.spawn('api/main.ts', [], 'prooflane API');
  }

  async addGpuWorker(
    gpuClass: string,
    gpus: number,
    identity: string,
    extraArgs: string[] = [],
    env: NodeJS.ProcessEnv = {},
  ): Promise<ChildProcess> {
    const gpuWorkersSoFar = [...this.metricsPorts.keys()].filter((role) => role !== 'orchestration').length;
    const metricsPort = await this.metricsPortFor(identity, 9465 + gpuWorkersSoFar);
    const child = await this.spawn(
      'workers/gpu-worker.ts',
      ['--gpu-class', gpuClass, '--gpus', String(gpus), '--identity', identity, ...extraArgs],
      'GPU worker',
      metricsPort,
      env,
    );
    this.gpuWorkers.set(identity, child);
    return child;
  }

  /** Starts a block feeder (`npm run feed` with these flags) against this system's API; resolves once it follows. */
  async startFeeder(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
    const child = await this.spawn('feeding/main.ts', args, 'block feeder ready', undefined, { PROOFLANE_API_URL: this.apiUrl, ...env });
    this.feeders.push(child);
    return child;
  }

  /** Stops a GPU worker: SIGTERM drains it, SIGKILL is a crash. Resolves when it has exited. */
  async stopGpuWorker(identity: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.gpuWorkers.get(identity);
    this.gpuWorkers.delete(identity);
    if (child) await this.stopChild(child, signal, 60_000);
  }

  async stopGpuWorkers(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.all([...this.gpuWorkers.keys()].map((identity) => this.stopGpuWorker(identity, signal)));
  }

  async killOrchestration(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.orchestration) await this.stopChild(this.orchestration, signal);
  }

  async killApi(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.api) await this.stopChild(this.api, signal);
  }

  /** Kills the Temporal server (SIGKILL: a crash) and starts it again on the same database. */
  async restartServer(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.stopServer(signal);
    await this.startServer();
  }

  /** Stops the Temporal server (SIGKILL: a crash); the rest of the system keeps running without it. */
  async stopServer(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.expectedExits.add(this.server.process);
    await this.server.stop(signal);
  }

  /** Starts the Temporal server again on the same database and port. */
  async startServer(): Promise<void> {
    this.server = await startTemporalServer(this.options.server);
    for (const hook of this.serverRestartHooks) await hook(this.server);
  }

  /** Runs `hook` after every server restart (a test's client reconnects there). */
  onServerRestart(hook: (server: TemporalServer) => Promise<void>): void {
    this.serverRestartHooks.push(hook);
  }

  /** Called when a prooflane process exits without being stopped through this class. */
  onUnexpectedExit(handler: (what: string, code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.unexpectedExit = handler;
  }

  async stop(): Promise<void> {
    await Promise.all(this.feeders.map((child) => this.stopChild(child, 'SIGTERM', 15_000)));
    const children = [...this.gpuWorkers.values(), this.orchestration, this.api].filter(
      (child): child is ChildProcess => child !== undefined,
    );
    await Promise.all(children.map((child) => this.stopChild(child, 'SIGTERM', 15_000)));
    await this.server.stop();
    if (this.options.dropDatabasesOnStop && this.options.server.kind === 'postgres') {
      await dropTemporalDatabases(this.options.server.postgresUrl, this.options.server.database ?? DEFAULT_TEMPORAL_DATABASE);
    }
  }

  private readonly expectedExits = new WeakSet<ChildProcess>();
  private readonly serverRestartHooks: ((server: TemporalServer) => Promise<void>)[] = [];
  private unexpectedExit?: (what: string, code: number | null, signal: NodeJS.Signals | null) => void;

  private stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs = 15_000): Promise<void> {
    this.expectedExits.add(child);
    return stopProcess(child, signal, graceMs);
  }

  private async spawn(
    script: string,
    args: string[],
    readyLine: string,
    metricsPort?: number,
    extraEnv: NodeJS.ProcessEnv = {},
  ): Promise<ChildProcess> {
    const child = spawnEntryPoint(script, args, {
      env: {
        ...this.env,
        ...extraEnv,
        ...(metricsPort !== undefined ? { PROOFLANE_METRICS_PORT: String(metricsPort), PROOFLANE_METRICS_HOST: '127.0.0.1' } : {}),
      },
      stdio: ['ignore', 'pipe', this.options.quiet ? 'ignore' : 'inherit'],
    });
    await untilReady(child, readyLine, script, this.options.quiet ? undefined : (line) => process.stdout.write(`${line}\n`));
    child.once('exit', (code, signal) => {
      if (!this.expectedExits.has(child)) this.unexpectedExit?.(script, code, signal);
    });
    return child;
  }
}
