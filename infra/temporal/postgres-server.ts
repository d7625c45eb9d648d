import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs, type Duration } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { stopProcess } from '../processes';
import { SEARCH_ATTRIBUTE_CLI_TYPES } from '../../domain/names';
import {
  exitWatch,
  portIsFree,
  PROOFLANE_DYNAMIC_CONFIG,
  requireFreePorts,
  servesNamespace,
  waitUntil,
  type TemporalServer,
  type TemporalServerCommonOptions,
} from './server';

const run = promisify(execFile);

/**
 * A Temporal cluster on PostgreSQL, as production runs it, on one machine: `temporal-server`
 * (all four services in one process) with PostgreSQL persistence and SQL visibility, the schema
 * created or upgraded by `temporal-sql-tool` (idempotent), the namespace and prooflane's search
 * attributes registered, and the Web UI served by `ui-server`. The three programs are pinned
 * builds from the Go module proxy (infra/temporal/install-server.sh).
 */
export interface PostgresServerOptions extends TemporalServerCommonOptions {
  /** `postgres://user:password@host:port`; a database part is ignored (see `database`). */
  postgresUrl: string;
  /** Database of Temporal's persistence (default prooflane_temporal); visibility goes to `<database>_visibility`. */
  database?: string;
  /** Fixed at the first start of a database: it cannot change afterwards. */
  historyShards?: number;
  /** Folder for the generated server and Web UI configuration. */
  workDir: string;
  /** How long closed workflows stay visible (default 3 days). */
  retention?: Duration;
}

export const DEFAULT_TEMPORAL_DATABASE = 'prooflane_temporal';

interface TemporalPrograms {
  server: string;
  sqlTool: string;
  uiServer: string;
}

let programs: TemporalPrograms | undefined;

/** Finds or builds temporal-server, temporal-sql-tool and ui-server (infra/temporal/install-server.sh), once per process. */
export function temporalServerPrograms(): TemporalPrograms {
  if (programs) return programs;
  const [server, sqlTool, uiServer] = execFileSync('bash', [path.join(__dirname, 'install-server.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .trim()
    .split('\n');
  programs = { server, sqlTool, uiServer };
  return programs;
}

interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

function postgresTarget(url: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`PostgreSQL URL ${JSON.stringify(url)} is not a URL: expected postgres://user[:password]@host[:port]`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
    throw new Error(`PostgreSQL URL ${url} must start with postgres:// or postgresql://`);
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 5432,
    user: decodeURIComponent(parsed.username) || 'postgres',
    password: decodeURIComponent(parsed.password),
  };
}

function sqlToolArgs(target: PostgresTarget, database: string): string[] {
  return ['--plugin', 'postgres12', '--ep', target.host, '-p', String(target.port), '-u', target.user, '--db', database];
}

/** temporal-sql-tool reads the password from its environment: argv is visible to every user of the machine. */
function sqlToolEnv(target: PostgresTarget): { env: NodeJS.ProcessEnv } {
  return { env: { ...process.env, SQL_PASSWORD: target.password } };
}

/**
 * Creates Temporal's two databases when they are missing and brings their schemas to this
 * server's version; a second run changes nothing. The schemas are the ones embedded in
 * temporal-sql-tool, so they always match the server built beside it.
 */
export async function setUpTemporalDatabases(sqlTool: string, postgresUrl: string, database: string): Promise<void> {
  const target = postgresTarget(postgresUrl);
  for (const [db, schema] of [
    [database, 'postgresql/v12/temporal'],
    [`${database}_visibility`, 'postgresql/v12/visibility'],
  ] as const) {
    const args = sqlToolArgs(target, db);
    try {
      await run(sqlTool, [...args, 'create-database'], sqlToolEnv(target));
    } catch (error) {
      const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
      if (!/already exists/.test(output))
        throw new Error(`temporal-sql-tool could not create database ${db} on ${target.host}:${target.port}:\n${output}`);
    }
    // Version tables only (idempotent), then every versioned step newer than what the database has.
    await run(sqlTool, [...args, 'setup-schema', '-v', '0.0'], sqlToolEnv(target));
    await run(sqlTool, [...args, 'update-schema', '--schema-name', schema], sqlToolEnv(target));
  }
}

/** Drops both databases of a throwaway server (tests, the benchmark). */
export async function dropTemporalDatabases(postgresUrl: string, database: string): Promise<void> {
  const { sqlTool } = temporalServerPrograms();
  const target = postgresTarget(postgresUrl);
  for (const db of [database, `${database}_visibility`])
    await run(sqlTool, [...sqlToolArgs(target, db), 'drop-database', '--force'], sqlToolEnv(target));
}

function yamlDynamicConfig(values: Record<string, boolean | number>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}:\n  - value: ${JSON.stringify(value)}\n    constraints: {}\n`)
    .join('');
}

interface ServicePorts {
  frontend: number;
  frontendHttp: number;
  history: number;
  matching: number;
  worker: number;
  membership: { frontend: number; history: number; matching: number; worker: number };
}

/**
 * Temporal's usual ports around 7233 for the default frontend port; otherwise (tests run several
 * servers) spare ones below 32768, where the cluster_membership table stores them as smallint.
 * A restart on the same work folder takes the same ports again: a host that comes back under its
 * old membership address takes its shards back at once, where a new address waits for the old
 * one to be declared dead (measured: about 60 s).
 */
async function servicePorts(frontend: number, ip: string, workDir: string): Promise<ServicePorts> {
  if (frontend === 7233) {
    return {
      frontend,
      frontendHttp: 7243,
      history: 7234,
      matching: 7235,
      worker: 7239,
      membership: { frontend: 6933, history: 6934, matching: 6935, worker: 6939 },
    };
  }
  const file = path.join(workDir, 'ports.json');
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as ServicePorts;
    const all = [saved.frontendHttp, saved.history, saved.matching, saved.worker, ...Object.values(saved.membership)];
    if (saved.frontend === frontend && (await Promise.all(all.map((port) => portIsFree(ip, port)))).every(Boolean)) return saved;
  }
  const taken = new Set<number>([frontend]);
  const spare = async (): Promise<number> => {
    for (;;) {
      const port = 20_000 + Math.floor(Math.random() * 12_000);
      if (!taken.has(port) && (await portIsFree(ip, port))) {
        taken.add(port);
        return port;
      }
    }
  };
  const ports: ServicePorts = {
    frontend,
    frontendHttp: await spare(),
    history: await spare(),
    matching: await spare(),
    worker: await spare(),
    membership: { frontend: await spare(), history: await spare(), matching: await spare(), worker: await spare() },
  };
  mkdirSync(workDir, { recursive: true });
  writeFileSync(file, JSON.stringify(ports));
  return ports;
}

function serverConfig(options: PostgresServerOptions, target: PostgresTarget, ports: ServicePorts, ip: string): string {
  const database = options.database ?? DEFAULT_TEMPORAL_DATABASE;
  const store = (db: string, maxConns: number): string => `      sql:
        pluginName: postgres12
        databaseName: ${JSON.stringify(db)}
        connectAddr: ${JSON.stringify(`${target.host}:${target.port}`)}
        connectProtocol: tcp
        user: ${JSON.stringify(target.user)}
        password: ${JSON.stringify(target.password)}
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: 1h
`;
  const service = (grpc: number, membership: number, http?: number): string =>
    `    rpc:\n      grpcPort: ${grpc}\n      membershipPort: ${membership}\n      bindOnIP: ${JSON.stringify(ip)}\n${http ? `      httpPort: ${http}\n` : ''}`;
  return `# Generated by infra/temporal/postgres-server.ts at every start.
log:
  stdout: true
  level: ${options.logLevel ?? 'warn'}
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${options.historyShards ?? 4}
  datastores:
    postgres-default:
${store(database, 20)}    postgres-visibility:
${store(`${database}_visibility`, 4)}global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: ${JSON.stringify(ip)}
${
  options.metricsPort
    ? `  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: ${JSON.stringify(`${ip}:${options.metricsPort}`)}
`
    : ''
}services:
  frontend:
${service(ports.frontend, ports.membership.frontend, ports.frontendHttp)}  history:
${service(ports.history, ports.membership.history)}  matching:
${service(ports.matching, ports.membership.matching)}  worker:
${service(ports.worker, ports.membership.worker)}clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: ${JSON.stringify(`${ip}:${ports.frontend}`)}
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: ${JSON.stringify(path.join(options.workDir, 'config', 'dynamicconfig.yaml'))}
  pollInterval: 10s
`;
}

/** Registers the namespace and prooflane's search attributes where missing (idempotent). */
async function registerNamespace(address: string, namespace: string, retention: Duration, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const connection = await Connection.connect({ address, connectTimeout: timeoutMs });
  try {
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(retention),
      });
    } catch (error) {
      if (!/already exists|AlreadyExists/i.test((error as Error).message)) throw error;
    }
    const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
    const wanted = Object.fromEntries(
      Object.entries(SEARCH_ATTRIBUTE_CLI_TYPES).map(([name, type]) => [
        name,
        IndexedValueType[`INDEXED_VALUE_TYPE_${type.toUpperCase()}` as keyof typeof IndexedValueType],
      ]),
    );
    // A new namespace reaches every service's namespace cache within seconds: retry until it has.
    for (;;) {
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
        const missing = Object.fromEntries(Object.entries(wanted).filter(([name]) => !(customAttributes && name in customAttributes)));
        if (Object.keys(missing).length > 0) await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`could not register prooflane's search attributes in ${namespace}: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  } finally {
    await connection.close();
  }
}

export async function startPostgresServer(options: PostgresServerOptions): Promise<TemporalServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? 7233;
  const namespace = options.namespace ?? 'default';
  const database = options.database ?? DEFAULT_TEMPORAL_DATABASE;
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const { server: serverProgram, sqlTool, uiServer } = temporalServerPrograms();
  const target = postgresTarget(options.postgresUrl);
  const ports = await servicePorts(port, ip, options.workDir);
  await requireFreePorts(
    ip,
    [
      port,
      ports.frontendHttp,
      ports.history,
      ports.matching,
      ports.worker,
      ...Object.values(ports.membership),
      options.headless ? undefined : (options.uiPort ?? 8233),
      options.metricsPort,
    ],
    'Temporal server',
  );
  await setUpTemporalDatabases(sqlTool, options.postgresUrl, database);

  const configDir = path.join(options.workDir, 'config');
  mkdirSync(configDir, { recursive: true });
  // It holds the database password: readable by this user only.
  writeFileSync(path.join(configDir, 'prooflane.yaml'), serverConfig(options, target, ports, ip), { mode: 0o600 });
  writeFileSync(path.join(configDir, 'dynamicconfig.yaml'), yamlDynamicConfig(PROOFLANE_DYNAMIC_CONFIG));

  const stdio = options.stdio ?? 'inherit';
  const server = spawn(serverProgram, ['--root', options.workDir, '--config', 'config', '--env', 'prooflane', '--allow-no-auth', 'start'], {
    stdio: ['ignore', stdio, stdio],
  });
  const serverExited = exitWatch(server);
  const address = `${ip}:${port}`;
  let ui: ChildProcess | undefined;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    await Promise.all([stopProcess(server, signal, 15_000), ui ? stopProcess(ui, 'SIGTERM', 5_000) : undefined]);
  };
  try {
    await waitUntil(() => frontendAnswers(address), `temporal-server on ${address}`, serverExited, timeoutMs);
    await registerNamespace(address, namespace, options.retention ?? '3 days', timeoutMs);
    await waitUntil(() => servesNamespace(address, namespace), `temporal-server on ${address}`, serverExited, timeoutMs);
    if (!options.headless) ui = await startUiServer(uiServer, options, address, namespace, ip, stdio);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    kind: 'postgres',
    address,
    namespace,
    uiUrl: ui ? `http://${ip === '0.0.0.0' ? '127.0.0.1' : ip}:${options.uiPort ?? 8233}` : undefined,
    metricsUrl: options.metricsPort ? `http://${ip}:${options.metricsPort}/metrics` : undefined,
    process: server,
    stop,
  };
}

async function frontendAnswers(address: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1_000 });
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close();
  }
}

async function startUiServer(
  program: string,
  options: PostgresServerOptions,
  address: string,
  namespace: string,
  ip: string,
  stdio: 'inherit' | 'ignore',
): Promise<ChildProcess> {
  const uiPort = options.uiPort ?? 8233;
  const configDir = path.join(options.workDir, 'ui', 'config');
  mkdirSync(configDir, { recursive: true });
  writeFileSync(
    path.join(configDir, 'prooflane.yaml'),
    `# Generated by infra/temporal/postgres-server.ts at every start.
temporalGrpcAddress: ${JSON.stringify(address)}
host: ${JSON.stringify(ip)}
port: ${uiPort}
enableUi: true
defaultNamespace: ${JSON.stringify(namespace)}
notifyOnNewVersion: false
refreshInterval: 1m
cors:
  cookieInsecure: true
  allowOrigins: []
`,
  );
  // Its stdout is one line per HTTP request: only its errors are worth showing.
  const ui = spawn(program, ['--root', path.join(options.workDir, 'ui'), '--config', 'config', '--env', 'prooflane', 'start'], {
    stdio: ['ignore', 'ignore', stdio],
  });
  const url = `http://${ip === '0.0.0.0' ? '127.0.0.1' : ip}:${uiPort}`;
  const answering = async (): Promise<boolean> => {
    try {
      return (await fetch(`${url}/api/v1/namespaces/${encodeURIComponent(namespace)}`)).ok;
    } catch {
      return false;
    }
  };
  try {
    await waitUntil(answering, `ui-server on ${url}`, exitWatch(ui), 30_000);
  } catch (error) {
    await stopProcess(ui, 'SIGTERM', 5_000);
    throw error;
  }
  return ui;
}
