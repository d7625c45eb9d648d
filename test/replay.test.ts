import { Registry } from 'prom-client';
import { BlockMetrics } from '../observability/block-metrics';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJson } from './support/history';

/**
 * Every committed history (test/histories/<recorded>/, real runs recorded by
 * `npm run histories:record`) replays on the workflows as they are now. A change to a workflow's
 * command sequence that is not guarded by `patched()` fails here, in CI, instead of failing every
 * running sequencer and block after a deploy (docs/RELIABILITY.md, "Upgrades").
 */
const ROOT = path.join(__dirname, 'histories');
const HISTORIES = readdirSync(ROOT, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .flatMap((folder) =>
    readdirSync(path.join(ROOT, folder.name))
      .filter((name) => name.endsWith('.json'))
      .map((name) => path.join(folder.name, name)),
  );

describe('replay of committed workflow histories', () => {
  it('has histories of both workflows to replay: sequencer runs through continue-as-new, hedged and aggregated blocks', () => {
    const names = HISTORIES.map((file) => path.basename(file));
    expect(names.filter((name) => name.startsWith('sequencer-run-')).length).toBeGreaterThanOrEqual(2);
    expect(names).toEqual(expect.arrayContaining(['block-aggregation-tree.json', 'block-hedged.json', 'block-retried.json']));
  });

  it.each(HISTORIES)('replays %s without a determinism error', async (file) => {
    const history = historyFromJson(readFileSync(path.join(ROOT, file), 'utf8'));
    // The orchestration worker's sinks, as in production (they are not called while replaying).
    const bundle = {
      workflowBundle: { codePath: process.env.PROOFLANE_WORKFLOW_BUNDLE as string },
      sinks: new BlockMetrics(new Registry()).sinks(),
    };
    // Throws DeterminismViolationError (or a ReplayError) when today's code would do something else.
    await Worker.runReplayHistory(bundle, history, path.basename(file, '.json'));
  });
});
