import { blockHash, uniqueChain, waitFor } from './support/cluster';
import { useTestStack } from './support/stack';

/**
 * The Temporal Web UI as an operator uses it on the PostgreSQL-backed server (postgres project
 * only): ui-server lists a chain's blocks by prooflane's search attributes from SQL visibility,
 * and serves each block's workflow page.
 */
const uiUrl = process.env.PROOFLANE_TEST_POSTGRES_UI_URL;

interface Payload {
  data: string;
}
interface Execution {
  execution: { workflowId: string };
  searchAttributes?: { indexedFields?: Record<string, Payload> };
}

function decoded(payload: Payload | undefined): unknown {
  return payload ? JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) : undefined;
}

describe('the Temporal Web UI on PostgreSQL (ui-server)', () => {
  const stack = useTestStack({ pools: [['h100', 4, 'web-ui-node']], api: {} });

  it('finds a chain’s finalized blocks by ChainId, BlockNumber and BlockStatus, and serves their pages', async () => {
    if (!uiUrl)
      throw new Error('no Web UI: the postgres project starts temporal-server with ui-server (test/support/global-setup-postgres.ts)');
    const chainId = uniqueChain('web-ui');
    await stack.api.configureChain(chainId, { mode: 'pipelined', maxInFlight: 2, startNumber: 1 });
    for (const number of [2, 1]) await stack.api.submitBlock(chainId, { number, hash: blockHash(chainId, number), segments: 2 });
    await stack.api.waitUntilFinalized(chainId, 2);

    // What the UI's workflow list asks for when an operator filters by these attributes.
    const query = `ChainId = "${chainId}" AND BlockStatus = "finalized" AND BlockNumber >= 1`;
    const executions = await waitFor('the UI to list both finalized blocks', async () => {
      const response = await fetch(`${uiUrl}/api/v1/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
      if (!response.ok) throw new Error(`ui-server answered ${response.status}: ${await response.text()}`);
      const { executions: listed = [] } = (await response.json()) as { executions?: Execution[] };
      return listed.length === 2 ? listed : undefined;
    });
    const blocks = executions
      .map((listed) => ({
        workflowId: listed.execution.workflowId,
        chainId: decoded(listed.searchAttributes?.indexedFields?.ChainId),
        number: decoded(listed.searchAttributes?.indexedFields?.BlockNumber),
        gpuClass: decoded(listed.searchAttributes?.indexedFields?.GpuClass),
      }))
      .sort((a, b) => Number(a.number) - Number(b.number));
    expect(blocks).toEqual([
      { workflowId: `block-${chainId}-1`, chainId, number: 1, gpuClass: 'h100' },
      { workflowId: `block-${chainId}-2`, chainId, number: 2, gpuClass: 'h100' },
    ]);

    const page = await fetch(`${uiUrl}/namespaces/default/workflows/${blocks[0].workflowId}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
  });
});
