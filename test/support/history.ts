import { temporal } from '@temporalio/proto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { sequencerWorkflowId } from '../../domain/names';
import type { PublishedProof } from '../../activities/types';
import type { PublicationBatch } from '../../publishing/proof-publisher';

export interface ActivityRun {
  type: string;
  attempt: number;
  identity: string;
  completed: boolean;
}

/** Every activity of a workflow as its history records it: type, final attempt, worker, outcome. */
export async function activityRuns(handle: WorkflowHandle): Promise<ActivityRun[]> {
  const history = await handle.fetchHistory();
  const scheduled = new Map<string, ActivityRun>();
  const byStartedId = new Map<string, ActivityRun>();
  for (const event of history.events ?? []) {
    const id = String(event.eventId);
    if (event.activityTaskScheduledEventAttributes) {
      scheduled.set(id, {
        type: event.activityTaskScheduledEventAttributes.activityType?.name ?? '',
        attempt: 0,
        identity: '',
        completed: false,
      });
    } else if (event.activityTaskStartedEventAttributes) {
      const run = scheduled.get(String(event.activityTaskStartedEventAttributes.scheduledEventId));
      if (run) {
        run.attempt = event.activityTaskStartedEventAttributes.attempt ?? 0;
        run.identity = event.activityTaskStartedEventAttributes.identity ?? '';
        byStartedId.set(id, run);
      }
    } else if (event.activityTaskCompletedEventAttributes) {
      const run = scheduled.get(String(event.activityTaskCompletedEventAttributes.scheduledEventId));
      if (run) run.completed = true;
    }
  }
  return [...scheduled.values()];
}

/**
 * A history as committed JSON, through @temporalio/proto's own message class (the SDK's
 * `historyToJSON` needs a single protobufjs copy in node_modules, which npm does not guarantee):
 * 64-bit numbers as strings, enums as names, bytes as base64.
 */
export function historyToJson(history: temporal.api.history.v1.IHistory): string {
  const message = temporal.api.history.v1.History.fromObject(history);
  return JSON.stringify(temporal.api.history.v1.History.toObject(message, { longs: String, enums: String, bytes: String }), null, 1);
}

export function historyFromJson(text: string): temporal.api.history.v1.History {
  return temporal.api.history.v1.History.fromObject(JSON.parse(text));
}

/**
 * The publications of a chain, in the order they ran, each as the block numbers it published:
 * every run of its sequencer, oldest run first (activities in runs started before local
 * publication, local-activity markers since). What ordering tests assert on (timestamps are equal
 * inside a batch and prove nothing about order).
 */
export async function publications(client: Client, chainId: string): Promise<number[][]> {
  const runs: { runId: string; startTime: Date }[] = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = '${sequencerWorkflowId(chainId)}'` }))
    runs.push({ runId: run.runId, startTime: run.startTime });
  runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  const batches: number[][] = [];
  for (const { runId } of runs) {
    const events = (await client.workflow.getHandle(sequencerWorkflowId(chainId), runId).fetchHistory()).events ?? [];
    const completed = new Set(events.map((event) => String(event.activityTaskCompletedEventAttributes?.scheduledEventId ?? '')));
    for (const event of events) {
      const marker = event.markerRecordedEventAttributes;
      if (marker?.markerName === 'core_local_activity' && marker.details?.result?.payloads?.[0]) {
        const data = defaultPayloadConverter.fromPayload<{ activity_type?: string }>(marker.details.data!.payloads![0]);
        if (data.activity_type !== 'publishProofs') continue;
        const published = defaultPayloadConverter.fromPayload<PublishedProof[]>(marker.details.result.payloads[0]);
        batches.push(published.map((proof) => proof.number));
        continue;
      }
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled?.activityType?.name !== 'publishProofs' || !completed.has(String(event.eventId))) continue;
      const batch = defaultPayloadConverter.fromPayload<PublicationBatch>(scheduled.input!.payloads![0]);
      batches.push(batch.proofs.map((proof) => proof.number));
    }
  }
  return batches;
}

/** The block numbers a chain published, in the order it published them (see `publications`). */
export async function publicationOrder(client: Client, chainId: string): Promise<number[]> {
  return (await publications(client, chainId)).flat();
}
