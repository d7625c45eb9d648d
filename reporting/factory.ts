import { EthproofsRegistry } from './ethproofs-registry';
import type { ProofRegistry } from './proof-registry';

export interface RegistrySettings {
  /** The registry's API base (http or https): an Ethproofs-compatible API. */
  url: string;
  token: string;
  clusterId: number;
}

/** The registry a URL names. Only Ethproofs-compatible HTTP APIs exist so far; the scheme picks among future kinds. */
export function createProofRegistry(settings: RegistrySettings): ProofRegistry {
  const { protocol } = new URL(settings.url);
  if (protocol === 'http:' || protocol === 'https:') {
    return new EthproofsRegistry({ baseUrl: settings.url, token: settings.token, clusterId: settings.clusterId });
  }
  throw new Error(`proof registry ${settings.url}: unsupported scheme ${protocol} (an Ethproofs-compatible http(s) API)`);
}
