/** What both projects share: TypeScript through ts-jest, one workflow bundle per run. */
const shared = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

/**
 * The suites production depends on (the block pipeline, the sequencer's ordering, faults with a
 * server restart), run a second time on temporal-server with PostgreSQL persistence.
 */
const POSTGRES_SUITES = ['block-pipeline', 'sequencer-ordering', 'faults'];
/** Suites of the PostgreSQL-backed server alone: the Web UI there is ui-server's. */
const POSTGRES_ONLY_SUITES = ['temporal-web-ui'];

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'dev',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...POSTGRES_ONLY_SUITES.map((suite) => `/${suite}\\.test\\.ts$`)],
      // One Temporal dev server for the whole project.
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      setupFiles: ['<rootDir>/test/support/setup-each-file.ts'],
    },
    {
      ...shared,
      displayName: 'postgres',
      testMatch: [...POSTGRES_SUITES, ...POSTGRES_ONLY_SUITES].map((suite) => `**/${suite}.test.ts`),
      // One temporal-server on PostgreSQL for the whole project.
      globalSetup: '<rootDir>/test/support/global-setup-postgres.ts',
      setupFiles: ['<rootDir>/test/support/setup-each-postgres-file.ts'],
    },
  ],
  // A guard against hangs, not a performance threshold.
  testTimeout: 180_000,
};
