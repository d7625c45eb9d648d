import { temporal } from '@temporalio/proto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { BlockProofResult } from '../../domain/block';
import { sequencerWorkflowId } from '../../domain/names';

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
 * The block numbers a chain finalized, in the order its sequencer saw them published, oldest run
 * first: each block workflow it started completes only after publishing (its completion event
 * carries the result), and a block started by an earlier run is looked up in the publisher
 * (a completed `publishedProof` activity that found the record). A block is granted its
 * publication only after the sequencer saw the one before it published, so this order is the
 * publication order. A block seen twice (its report and a reconciliation both looked it up)
 * counts once: the publisher keeps one record per block. What ordering tests assert on
 * (timestamps prove nothing about order).
 */
export async function publicationOrder(client: Client, chainId: string): Promise<number[]> {
  const runs: { runId: string; startTime: Date }[] = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = '${sequencerWorkflowId(chainId)}'` }))
    runs.push({ runId: run.runId, startTime: run.startTime });
  runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  const numbers: number[] = [];
  const seen = (number: number): void => {
    if (!numbers.includes(number)) numbers.push(number);
  };
  for (const { runId } of runs) {
    const events = (await client.workflow.getHandle(sequencerWorkflowId(chainId), runId).fetchHistory()).events ?? [];
    const lookups = new Map<string, number>();
    for (const event of events) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled?.activityType?.name === 'publishedProof')
        lookups.set(String(event.eventId), defaultPayloadConverter.fromPayload<{ number: number }>(scheduled.input!.payloads![0]).number);
      const found = event.activityTaskCompletedEventAttributes;
      const looked = found ? lookups.get(String(found.scheduledEventId)) : undefined;
      if (found && looked !== undefined && defaultPayloadConverter.fromPayload(found.result!.payloads![0]) !== null) seen(looked);
      const completed = event.childWorkflowExecutionCompletedEventAttributes;
      if (completed) seen(defaultPayloadConverter.fromPayload<BlockProofResult>(completed.result!.payloads![0]).block.number);
    }
  }
  return numbers;
}
