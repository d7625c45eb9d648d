import type { WorkflowHandle } from '@temporalio/client';

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
