import path from 'node:path';

/**
 * The live chain page (GET /chains/:chainId): plain HTML, CSS and a browser script, served as
 * files (copied beside the build by infra/build.ts). The script reads only the public API.
 */
export const CHAIN_PAGE_DIR = path.join(__dirname, 'chain-page');
