import { existsSync } from 'node:fs';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createOrchestrationActivities } from '../activities/orchestration';
import { ConfigError, loadConfig, runMain } from '../config/env';
import { OrchestrationWorkerConfigSchema } from '../config/processes';
import { proverSettings } from '../config/provers';
import { storageSettings } from '../config/storage';
import { temporalSettings } from '../config/temporal';
import { ORCHESTRATION_TASK_QUEUE, SEARCH_ATTRIBUTE_CLI_TYPES } from '../domain/names';
import { createProverRegistry, type ProverRegistry } from '../provers/registry';
import { createProofPublisher } from '../publishing/factory';
import { createArtifactStore } from '../storage/factory';
import { BUILT_WORKFLOW_BUNDLE, RUNS_FROM_BUILD } from '../infra/entry-points';
import { Registry } from 'prom-client';
import { BlockMetrics } from '../observability/block-metrics';
import { lifecycleLogger, type Logger } from '../observability/logger';
import { startProcessTelemetry } from '../observability/process-telemetry';

/**
 * Hosts the workflows (sequencers, block proofs) and the light activities (plan,
 * verify). Stateless: run as many as needed; Temporal holds the state.
 */
export interface OrchestrationWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** The artifact store's URI (see storage/factory.ts); GPU workers must name the same store. */
  artifactStore: string;
  /** Where finalized proofs are published: the proof publisher's URI (see publishing/factory.ts). */
  publisher: string;
  /** A pre-built workflow bundle (tests, fast restarts); otherwise the build's, or workflows/ bundled at start. */
  workflowBundlePath?: string;
  /** The backends it plans and verifies blocks for: exactly these (config/provers.ts). */
  provers: ProverRegistry;
  identity?: string;
  /** Where finalized blocks' metrics go (observability/block-metrics.ts); default: a registry of its own. */
  metrics?: Registry;
  logger?: Logger;
}

export async function createOrchestrationWorker(options: OrchestrationWorkerOptions): Promise<Worker> {
  const bundle = options.workflowBundlePath ?? (RUNS_FROM_BUILD ? BUILT_WORKFLOW_BUNDLE : undefined);
  if (bundle && !existsSync(bundle)) throw new ConfigError(`orchestration worker: no workflow bundle at ${bundle}: run npm run build`);
  // A built process loads the bundle `npm run build` made; only development bundles at start.
  const workflows = bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: require.resolve('../workflows') };
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: ORCHESTRATION_TASK_QUEUE,
    ...(options.identity ? { identity: options.identity } : {}),
    ...workflows,
    // A restarted orchestration worker gets its workflows' tasks back after this long instead of
    // the 10 s default (tasks for a dead worker's sticky queue wait that long before moving on).
    stickyQueueScheduleToStartTimeout: '3 seconds',
    sinks: new BlockMetrics(options.metrics ?? new Registry(), options.logger).sinks(),
    activities: createOrchestrationActivities({
      provers: options.provers,
      store: createArtifactStore(options.artifactStore),
      publisher: createProofPublisher(options.publisher),
    }),
  });
}

/**
 * Stops the worker at start when the namespace lacks one of prooflane's search attributes:
 * without it every block start would be refused and each chain would stall. Servers that do
 * not let this client list them (a managed service's permissions) are trusted to have them.
 */
async function requireSearchAttributes(connection: NativeConnection, namespace: string, logger: Logger): Promise<void> {
  let registered: Record<string, unknown>;
  try {
    registered = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (error) {
    logger.warn({ namespace, err: error }, `cannot list the search attributes of ${namespace}; not checked`);
    return;
  }
  const missing = Object.entries(SEARCH_ATTRIBUTE_CLI_TYPES).filter(([name]) => !(name in registered));
  if (missing.length === 0) return;
  const commands = missing.map(
    ([name, type]) => `temporal operator search-attribute create --namespace ${namespace} --name ${name} --type ${type}`,
  );
  throw new ConfigError(
    `orchestration-worker: namespace ${namespace} lacks the search attributes ${missing.map(([name]) => name).join(', ')}; create them first:\n  ${commands.join('\n  ')}`,
  );
}

async function main(): Promise<void> {
  const config = loadConfig('orchestration-worker', OrchestrationWorkerConfigSchema);
  const telemetry = await startProcessTelemetry('orchestration-worker', config);
  const { logger } = telemetry;
  const settings = temporalSettings();
  const storage = storageSettings();
  const provers = createProverRegistry(proverSettings());
  try {
    const connection = await NativeConnection.connect(settings.connection);
    try {
      await requireSearchAttributes(connection, settings.namespace, logger);
      const worker = await createOrchestrationWorker({
        provers,
        connection,
        namespace: settings.namespace,
        artifactStore: storage.artifactStore,
        publisher: storage.publisher,
        workflowBundlePath: config.PROOFLANE_WORKFLOW_BUNDLE,
        identity: config.PROOFLANE_WORKER_IDENTITY,
        metrics: telemetry.registry,
        logger,
      });
      lifecycleLogger(logger).info(
        { worker: worker.options.identity, taskQueue: ORCHESTRATION_TASK_QUEUE, temporal: settings.address },
        `orchestration worker ${worker.options.identity} serving ${[...provers.keys()].join(', ')}`,
      );
      await worker.run();
    } finally {
      await connection.close();
    }
  } finally {
    await Promise.all([...provers.values()].map((backend) => backend.close?.()));
    await telemetry.close();
  }
}

if (require.main === module) runMain('orchestration-worker', main);
