import { z } from 'zod';
import { ChainIdSchema, GpuClassSchema, MAX_SEGMENTS, ProverInputSchema, ProverNameSchema } from '../domain/block';
import { ChainModeSchema, MAX_AHEAD_LIMIT, MAX_EVERY } from '../domain/chain';
import { commaList, envInt, envJson, type EnvShape } from './env';
import { ProverEnvShape, requireCommandExecutable } from './provers';
import { StorageEnvSchema } from './storage';
import { TemporalEnvSchema } from './temporal';
import { TemporalServerEnvSchema } from './temporal-server';

/**
 * One configuration schema per process, composed from the fragments each part reads
 * (config/temporal.ts, config/storage.ts, config/provers.ts) and the process's own variables.
 * A process validates its whole schema at start (`loadConfig`) and stops with a message naming
 * every bad variable; README's configuration tables are generated from these schemas.
 */

const LogLevelSchema = z
  .string()
  .transform((level) => level.toUpperCase())
  .pipe(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']))
  .prefault('INFO')
  .describe("log level of the process's JSON log lines and of the Temporal SDK's: TRACE, DEBUG, INFO, WARN or ERROR (any case)");

/** Where a worker process serves its metrics (prooflane's and the Temporal SDK's) for Prometheus. */
const metricsPort = (defaultPort: number) =>
  envInt(0, 65_535)
    .default(defaultPort)
    .describe(`port of the process's Prometheus endpoint (/metrics: prooflane's metrics and the Temporal SDK's); 0 turns it off`);
const MetricsHostSchema = z.string().default('0.0.0.0').describe('interface the metrics endpoint binds to');

const WorkerIdentitySchema = z
  .string()
  .min(1)
  .max(200)
  .optional()
  .describe('worker identity shown in Temporal (default <role>@<host>:<pid>)');

export const ApiConfigSchema = z
  .object({
    ...TemporalEnvSchema.shape,
    ...StorageEnvSchema.shape,
    PROOFLANE_PROVERS: ProverEnvShape.PROOFLANE_PROVERS.describe(
      "backends the cluster's workers serve, comma-separated: blocks and chains naming another get 400",
    ),
    PROOFLANE_API_PORT: envInt(1, 65_535).default(8080).describe('port of the HTTP API'),
    PROOFLANE_API_HOST: z
      .string()
      .default('0.0.0.0')
      .describe('interface the API binds to when API keys are set (without keys: loopback only)'),
    PROOFLANE_API_KEYS: commaList(z.string().min(16, 'an API key needs at least 16 characters'))
      .optional()
      .describe('API keys, comma-separated; clients send Authorization: Bearer <key>. Unset: no authentication, loopback only'),
    PROOFLANE_API_BODY_LIMIT: z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, 'must be a size like 256kb or 1mb')
      .default('256kb')
      .describe('largest accepted request body'),
    PROOFLANE_API_TEMPORAL_TIMEOUT_MS: envInt(100, 300_000)
      .default(10_000)
      .describe(
        "one deadline per request for everything it waits on (its turn, the input's store, Temporal); past it 503 with Retry-After",
      ),
    PROOFLANE_API_MAX_WAITING_PER_CHAIN: envInt(0, 100_000)
      .default(512)
      .describe('requests to one chain that may wait for a turn (8 run at once; a chain holds at most 512 blocks ahead); more get 429'),
    PROOFLANE_DEFAULT_MODE: ChainModeSchema.default('pipelined').describe('mode of a chain that receives blocks before any PUT'),
    PROOFLANE_DEFAULT_MAX_IN_FLIGHT: envInt(1, 256).default(4).describe('maxInFlight of a chain before any PUT'),
    PROOFLANE_DEFAULT_SLOT_SECONDS: z.coerce.number().positive().max(86_400).default(12).describe('slotSeconds of a chain before any PUT'),
    PROOFLANE_DEFAULT_MAX_AHEAD: envInt(1, MAX_AHEAD_LIMIT).default(256).describe('maxAhead of a chain before any PUT'),
    PROOFLANE_DEFAULT_GPU_CLASS: GpuClassSchema.default('h100').describe("GPU class of a chain's blocks before any PUT"),
    PROOFLANE_DEFAULT_PROVER: ProverNameSchema.optional().describe(
      "prover of a chain's blocks before any PUT (default: the first of PROOFLANE_PROVERS)",
    ),
    PROOFLANE_DEFAULT_SEGMENTS: envInt(1, MAX_SEGMENTS).default(8).describe("segments of a chain's blocks before any PUT"),
    PROOFLANE_LOG_LEVEL: LogLevelSchema,
  })
  .superRefine((config, context) => {
    if (config.PROOFLANE_DEFAULT_PROVER && !config.PROOFLANE_PROVERS.includes(config.PROOFLANE_DEFAULT_PROVER)) {
      context.addIssue({
        code: 'custom',
        path: ['PROOFLANE_DEFAULT_PROVER'],
        message: `must be one of PROOFLANE_PROVERS (${config.PROOFLANE_PROVERS.join(', ')})`,
      });
    }
  });

export const OrchestrationWorkerConfigSchema = z
  .object({
    ...TemporalEnvSchema.shape,
    ...StorageEnvSchema.shape,
    ...ProverEnvShape,
    PROOFLANE_WORKFLOW_BUNDLE: z.string().optional().describe('a pre-built workflow bundle to load (default: bundle workflows/ at start)'),
    PROOFLANE_WORKER_IDENTITY: WorkerIdentitySchema,
    PROOFLANE_LOG_LEVEL: LogLevelSchema,
    PROOFLANE_METRICS_PORT: metricsPort(9464),
    PROOFLANE_METRICS_HOST: MetricsHostSchema,
  })
  .superRefine(requireCommandExecutable);

export const GpuWorkerConfigSchema = z
  .object({
    ...TemporalEnvSchema.shape,
    ...StorageEnvSchema.shape,
    ...ProverEnvShape,
    PROOFLANE_GPU_CLASS: GpuClassSchema.describe('GPU class of this node (--gpu-class), e.g. h100, b200, l40s, rtx5090, cpu'),
    PROOFLANE_GPUS: envInt(1, 1_024).optional().describe('GPUs of this node, one slot each (--gpus; default: counted by nvidia-smi)'),
    PROOFLANE_DRAIN_SECONDS: envInt(0, 86_400)
      .default(30)
      .describe('on SIGTERM, how long running proofs may finish before they are cancelled and retried elsewhere (--drain-seconds)'),
    PROOFLANE_WORKER_IDENTITY: WorkerIdentitySchema.describe(
      'worker identity shown in Temporal (--identity; default <class>@<host>:<pid>)',
    ),
    PROOFLANE_LOG_LEVEL: LogLevelSchema,
    PROOFLANE_METRICS_PORT: metricsPort(9465),
    PROOFLANE_METRICS_HOST: MetricsHostSchema,
  })
  .superRefine(requireCommandExecutable);

export const DemoConfigSchema = z.object({
  ...StorageEnvSchema.shape,
  PROOFLANE_DEMO_GPUS: envInt(1, 64).default(4).describe('simulated GPUs of the demo node'),
  PROOFLANE_DEMO_GPU_CLASS: GpuClassSchema.default('h100').describe('GPU class of the demo node'),
  PROOFLANE_API_PORT: envInt(1, 65_535).default(8080).describe('port of the HTTP API'),
  PROOFLANE_DEMO_ANVIL_PORT: envInt(1, 65_535).default(8545).describe("port of the demo's anvil node (npm start -- --anvil)"),
  PROOFLANE_DEMO_BLOCK_SECONDS: envInt(1, 3_600).default(4).describe("seconds between the demo anvil node's blocks"),
  ...TemporalServerEnvSchema.shape,
  PROOFLANE_LOG_LEVEL: LogLevelSchema.prefault('WARN'),
});

export const TemporalServerConfigSchema = z.object({
  ...TemporalServerEnvSchema.shape,
  TEMPORAL_IP: z.string().optional().describe('interface the server binds to (default 127.0.0.1)'),
  TEMPORAL_PORT: envInt(1, 65_535).default(7233).describe("the server's gRPC port"),
  TEMPORAL_UI_PORT: envInt(1, 65_535).default(8233).describe("the Web UI's port"),
  TEMPORAL_METRICS_PORT: envInt(1, 65_535).default(9233).describe("the server's Prometheus metrics port"),
});

const RpcUrlSchema = z.string().regex(/^(wss?|https?):\/\/\S+$/i, 'must be a ws://, wss://, http:// or https:// URL');

export const FeederConfigSchema = z
  .object({
    PROOFLANE_FEED_CHAIN: ChainIdSchema.describe('the prooflane chain the feeder submits to (--chain), e.g. mainnet'),
    PROOFLANE_FEED_RPC_URL: RpcUrlSchema.describe(
      'Ethereum JSON-RPC endpoint followed (--rpc): ws(s):// subscribes to new heads and reads over HTTP(S) on the same host and port; http(s):// polls',
    ),
    PROOFLANE_FEED_HTTP_RPC_URL: RpcUrlSchema.optional().describe(
      "the endpoint's HTTP(S) URL for reads when it is not the WebSocket URL's host and port (--rpc-http)",
    ),
    PROOFLANE_API_URL: z.url().default('http://127.0.0.1:8080').describe('the prooflane API blocks are submitted to (--api)'),
    PROOFLANE_API_KEY: z.string().min(16).optional().describe('API key sent as Authorization: Bearer, when the API has keys'),
    PROOFLANE_FEED_EVERY: envInt(1, MAX_EVERY)
      .default(1)
      .describe("prove every Nth block (--every); a new chain is created with it, an existing chain's must match"),
    PROOFLANE_FEED_FROM: envInt(0)
      .optional()
      .describe(
        'first block of a chain prooflane does not know yet (--from; default: the head when the feeder starts): backfill from here',
      ),
    PROOFLANE_FEED_MAX_REORG_DEPTH: envInt(1, 10_000)
      .default(64)
      .describe('deepest reorg the feeder follows by itself (--max-reorg-depth); a deeper one halts the chain'),
    PROOFLANE_FEED_POLL_MS: envInt(50, 600_000)
      .default(2_000)
      .describe('how often the endpoint is read when no new head is announced (the fallback for WebSocket)'),
    PROOFLANE_FEED_GAS_PER_SEGMENT: envInt(1)
      .default(2_000_000)
      .describe('segments of a block: one per this much gas used, within the two bounds below (docs/FEEDING.md)'),
    PROOFLANE_FEED_MIN_SEGMENTS: envInt(1, MAX_SEGMENTS).default(1).describe('fewest segments of a block (an empty one has this many)'),
    PROOFLANE_FEED_MAX_SEGMENTS: envInt(1, MAX_SEGMENTS).default(64).describe('most segments of a block'),
    PROOFLANE_FEED_INPUT: envJson(ProverInputSchema)
      .optional()
      .describe('JSON object merged into every block\'s prover input beside `block` (e.g. {"simulate":{"segmentMs":500}})'),
    PROOFLANE_REGISTRY_URL: z
      .url()
      .optional()
      .describe('Ethproofs-compatible proof registry the chain is reported to, e.g. https://ethproofs.org/api/v0 (unset: none)'),
    PROOFLANE_REGISTRY_TOKEN: z.string().min(1).optional().describe("the registry's API key (Authorization: Bearer)"),
    PROOFLANE_REGISTRY_CLUSTER_ID: envInt(0).optional().describe("the cluster's id at the registry"),
    PROOFLANE_REGISTRY_POLL_MS: envInt(50, 600_000).default(1_000).describe("how often the chain's blocks are read for the registry"),
    PROOFLANE_LOG_LEVEL: LogLevelSchema,
  })
  .superRefine((config, context) => {
    if (config.PROOFLANE_FEED_MIN_SEGMENTS > config.PROOFLANE_FEED_MAX_SEGMENTS) {
      context.addIssue({ code: 'custom', path: ['PROOFLANE_FEED_MIN_SEGMENTS'], message: 'must not exceed PROOFLANE_FEED_MAX_SEGMENTS' });
    }
    if (config.PROOFLANE_REGISTRY_URL) {
      for (const name of ['PROOFLANE_REGISTRY_TOKEN', 'PROOFLANE_REGISTRY_CLUSTER_ID'] as const) {
        if (config[name] === undefined)
          context.addIssue({ code: 'custom', path: [name], message: 'is required with PROOFLANE_REGISTRY_URL' });
      }
    }
  });

export const CliConfigSchema = z.object({
  ...TemporalEnvSchema.shape,
  ...StorageEnvSchema.shape,
  PROOFLANE_API_URL: z.url().default('http://127.0.0.1:8080').describe('the API that `npm run recover` talks to (--api)'),
});

/** Every process and its schema, in the order README lists them. */
export const PROCESS_CONFIGS: { process: string; command: string; schema: z.ZodObject<EnvShape> }[] = [
  { process: 'HTTP API', command: 'npm run api', schema: ApiConfigSchema },
  { process: 'orchestration worker', command: 'npm run worker:orchestration', schema: OrchestrationWorkerConfigSchema },
  { process: 'GPU worker', command: 'npm run worker -- --gpu-class <class>', schema: GpuWorkerConfigSchema },
  { process: 'block feeder', command: 'npm run feed -- --chain <id> --rpc <url>', schema: FeederConfigSchema },
  { process: 'whole system on one machine', command: 'npm start', schema: DemoConfigSchema },
  { process: 'Temporal server', command: 'npm run temporal', schema: TemporalServerConfigSchema },
  { process: 'operator commands', command: 'npm run prove, npm run recover', schema: CliConfigSchema },
];
