import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { temporalSettings, workflowUiUrl } from '../config/temporal';
import { BlockJobSchema, describeIssues, type BlockProofResult } from '../domain/block';
import { artifactStoreUri } from '../config/storage';
import { createArtifactStore } from '../storage/factory';
import { runMain } from '../config/env';
import { startDirectBlock } from './direct-block';

/**
 * Proves one block directly through Temporal, outside any chain (no sequencer, no publication),
 * and prints its timing breakdown:
 *   npm run prove -- --chain solo --number 1 --segments 8
 * Its workflow ids (`prove-<chain>-<n>`) never collide with a chain's blocks.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      chain: { type: 'string', default: 'solo' },
      number: { type: 'string', default: '1' },
      hash: { type: 'string' },
      segments: { type: 'string', default: '8' },
      'gpu-class': { type: 'string', default: 'h100' },
      prover: { type: 'string', default: 'simulated' },
      'segment-ms': { type: 'string' },
      'fan-in': { type: 'string' },
      input: { type: 'string', default: '{}' },
    },
  });
  const chainId = values.chain;
  const number = Number(values.number);
  const input = JSON.parse(values.input) as Record<string, unknown>;
  if (values['segment-ms']) input.simulate = { ...(input.simulate as object | undefined), segmentMs: Number(values['segment-ms']) };
  const parsed = BlockJobSchema.safeParse({
    chainId,
    number,
    // A stable demo hash per (chain, number) so re-running the same command is idempotent.
    hash: values.hash ?? `0x${createHash('sha256').update(`${chainId}/${number}`).digest('hex')}`,
    segments: Number(values.segments),
    gpuClass: values['gpu-class'],
    prover: values.prover,
    options: values['fan-in'] ? { fanIn: Number(values['fan-in']) } : undefined,
  });
  if (!parsed.success) {
    console.error(`invalid block: ${describeIssues(parsed.error)}`);
    process.exit(2);
  }
  const job = parsed.data;
  const settings = temporalSettings();
  const connection = await Connection.connect(settings.connection);
  try {
    const client = new Client({ connection, namespace: settings.namespace });
    const handle = await startDirectBlock(client, createArtifactStore(artifactStoreUri()), { ...job, input }, { reuseRunning: true });
    const workflowId = handle.workflowId;
    console.log(`proving ${job.chainId}#${job.number} (${job.segments} segments on ${job.gpuClass}, prover ${job.prover})`);
    console.log(`watch it: ${workflowUiUrl(settings, workflowId)}`);
    const result: BlockProofResult = await handle.result();
    printResult(result);
  } finally {
    await connection.close();
  }
}

function printResult(result: BlockProofResult): void {
  const t = result.timings;
  console.log(`block proof ${result.proofRef} verified=${result.verified}`);
  console.log(`  ${t.segments.length} segments, ${result.aggregationLevels} aggregation levels (fan-in ${result.fanIn})`);
  console.log(
    `  total ${t.totalMs} ms, prover critical path ${t.criticalPathMs.toFixed(1)} ms, orchestration overhead ${t.overheadMs.toFixed(1)} ms`,
  );
  const byWorker = new Map<string, number>();
  for (const segment of t.segments)
    byWorker.set(`${segment.worker} gpu${segment.device}`, (byWorker.get(`${segment.worker} gpu${segment.device}`) ?? 0) + 1);
  for (const [slot, count] of byWorker) console.log(`  ${slot}: ${count} segment(s)`);
}

runMain('prove', main);
