import { startDevServer } from '../../infra/temporal/dev-server';
import { freePort } from '../../infra/processes';
import { keepForTeardown, prepareTestRun } from './test-run';

/** The dev project: one real Temporal dev server (in memory, our search attributes) for all its files. */
export default async function globalSetup(): Promise<void> {
  const [, server] = await Promise.all([
    prepareTestRun(),
    freePort().then((port) => startDevServer({ port, headless: true, logLevel: 'error', stdio: 'ignore' })),
  ]);
  keepForTeardown(server);
  process.env.PROOFLANE_TEST_DEV_ADDRESS = server.address;
}
