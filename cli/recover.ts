import { parseArgs } from 'node:util';
import { ProoflaneClient } from '../api/client';
import { loadConfig, runMain } from '../config/env';
import { CliConfigSchema } from '../config/processes';

/**
 * Recovers a chain whose sequencer closed (terminated by an operator or by Temporal), through the API:
 *   npm run recover -- --chain mainnet [--api http://127.0.0.1:8080]
 * Until then the chain answers 503 chain_stopped. The new sequencer takes the last run's
 * configuration and its finalized head from the publication records; blocks above the head are
 * submitted again by their clients.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      chain: { type: 'string' },
      api: { type: 'string' },
    },
  });
  const config = loadConfig('recover', CliConfigSchema);
  if (!values.chain) {
    console.error('usage: npm run recover -- --chain <chainId> [--api <url>]');
    process.exit(2);
  }
  const view = await new ProoflaneClient(values.api ?? config.PROOFLANE_API_URL).recover(values.chain);
  console.log(
    `chain ${view.chainId} recovered: finalized head ${view.finalizedHead ?? 'none'}, next to finalize ${view.nextToFinalize ?? 'the first block submitted'}`,
  );
}

runMain('recover', main);
