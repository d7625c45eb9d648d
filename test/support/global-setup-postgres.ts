import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { loadConfig } from '../../config/env';
import { TemporalServerEnvSchema } from '../../config/temporal-server';
import { freePort } from '../../infra/processes';
import { dropTemporalDatabases, startPostgresServer } from '../../infra/temporal/postgres-server';
import { startS3Server } from '../../infra/s3/s3-server';
import { keepForTeardown, prepareTestRun, stopTestServers } from './test-run';

/**
 * The postgres project: the suites production depends on, run again in the production
 * configuration: temporal-server with PostgreSQL persistence and SQL visibility (PROOFLANE_PG_URL,
 * default the loopback server; databases of their own that the teardown drops), and proofs in an
 * S3 bucket (a real S3-compatible server, VersityGW).
 */
export default async function globalSetup(): Promise<void> {
  const workDir = await prepareTestRun();
  const { PROOFLANE_PG_URL } = loadConfig('postgres tests', TemporalServerEnvSchema);
  const database = `prooflane_test_${randomBytes(4).toString('hex')}`;
  try {
    const server = await startPostgresServer({
      postgresUrl: PROOFLANE_PG_URL,
      database,
      port: await freePort(),
      uiPort: await freePort(),
      logLevel: 'error',
      stdio: 'ignore',
      workDir: path.join(workDir, 'temporal-postgres'),
    });
    keepForTeardown(server, () => dropTemporalDatabases(PROOFLANE_PG_URL, database));
    process.env.PROOFLANE_TEST_POSTGRES_ADDRESS = server.address;
    process.env.PROOFLANE_TEST_POSTGRES_UI_URL = server.uiUrl;
    const s3 = await startS3Server({ dataDir: path.join(workDir, 's3'), stdio: 'ignore' });
    keepForTeardown(s3);
    process.env.PROOFLANE_TEST_POSTGRES_ARTIFACT_STORE = await s3.artifactStoreUri('prooflane-test', 'artifacts');
    // Where the AWS SDK's default chain finds them, in every test file and worker process.
    Object.assign(process.env, s3.credentialsEnv);
  } catch (error) {
    // Jest runs no teardown after a failed setup: stop what did start here.
    await stopTestServers();
    throw new Error(
      `the postgres test project could not start temporal-server on PostgreSQL at ${PROOFLANE_PG_URL} (PROOFLANE_PG_URL) ` +
        `or its S3 server: ${(error as Error).message}\nWithout a PostgreSQL server, run the other suites alone: npx jest --selectProjects dev`,
    );
  }
}
