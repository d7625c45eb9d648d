import { TestApi, type TestApiOptions } from './api';
import { TestCluster } from './cluster';

export interface TestStackOptions {
  /** GPU pools to start, each as `addGpuPool`'s arguments. */
  pools?: Parameters<TestCluster['addGpuPool']>[];
  /** Starts the HTTP API over the cluster, with these options. */
  api?: TestApiOptions;
}

/**
 * A describe block's real stack: a cluster on the shared test server with its GPU pools and,
 * when asked, the HTTP API over it; started before the block's tests and stopped after them.
 */
export function useTestStack(options: TestStackOptions = {}): { readonly cluster: TestCluster; readonly api: TestApi } {
  let cluster: TestCluster | undefined;
  let api: TestApi | undefined;
  beforeAll(async () => {
    cluster = await TestCluster.start();
    for (const pool of options.pools ?? []) await cluster.addGpuPool(...pool);
    if (options.api) api = await TestApi.start(cluster, options.api);
  });
  afterAll(async () => {
    await api?.close();
    await cluster?.close();
  });
  return {
    get cluster(): TestCluster {
      if (!cluster) throw new Error('the test stack starts in beforeAll: use it inside tests');
      return cluster;
    },
    get api(): TestApi {
      if (!api) throw new Error(options.api ? 'the test stack starts in beforeAll: use it inside tests' : 'this test stack has no API');
      return api;
    },
  };
}
