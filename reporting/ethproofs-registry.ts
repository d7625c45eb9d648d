import { RegistryRefused, RegistryUnavailable, type ProofRegistry, type RegistryReport } from './proof-registry';

export interface EthproofsOptions {
  /** The API's base, e.g. https://ethproofs.org/api/v0 (reports go to <base>/proofs/<status>). */
  baseUrl: string;
  /** Bearer token of the cluster's API key. */
  token: string;
  /** The cluster's id at the registry. */
  clusterId: number;
  timeoutMs?: number;
}

/**
 * An Ethproofs-compatible proof registry over HTTP: `POST <base>/proofs/queued`, `/proving` and
 * `/proved` with JSON `{block_number, cluster_id}`, and for `proved` also `proving_time` (ms) and
 * `proof` (base64), with `Authorization: Bearer <token>`. A `409` to `proved` means the block is
 * already proved there: done. Other 4xx are refusals (RegistryRefused); network errors, 429 and
 * 5xx are RegistryUnavailable, sent again by the reporter.
 */
export class EthproofsRegistry implements ProofRegistry {
  private readonly base: string;

  constructor(private readonly options: EthproofsOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
  }

  async report(report: RegistryReport): Promise<void> {
    const body: Record<string, unknown> = { block_number: report.blockNumber, cluster_id: this.options.clusterId };
    if (report.status === 'proved') {
      body.proving_time = Math.max(0, Math.round(report.provingTimeMs));
      body.proof = Buffer.from(report.proof).toString('base64');
    }
    let response: Response;
    try {
      response = await fetch(`${this.base}/proofs/${report.status}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.token}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new RegistryUnavailable(`registry ${this.base}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const text = await response.text().catch(() => '');
    if (response.ok) return;
    if (response.status === 409 && report.status === 'proved') return;
    const what = `registry ${this.base} answered ${response.status} to ${report.status} of block ${report.blockNumber}: ${text.slice(0, 200)}`;
    if (response.status === 429 || response.status >= 500) throw new RegistryUnavailable(what);
    throw new RegistryRefused(what, response.status === 401 || response.status === 403);
  }
}
