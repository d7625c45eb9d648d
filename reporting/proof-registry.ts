/**
 * Where a proving cluster reports what it does with each block, as real-time proving clusters
 * report to Ethproofs: `queued` when it takes a block, `proving` when proving starts, `proved`
 * with the proof and its proving time. Reports are sent at least once and in this order per
 * block; a registry must take a repeated report as done (Ethproofs answers 409 to a repeated
 * `proved`). Off the chain's path: a registry that is down delays reports, never finalization.
 */
export interface ProofRegistry {
  report(report: RegistryReport): Promise<void>;
}

export type RegistryStatus = 'queued' | 'proving' | 'proved';

export type RegistryReport =
  | { status: 'queued' | 'proving'; blockNumber: number }
  | {
      status: 'proved';
      blockNumber: number;
      /** Wall-clock ms from the block's proving start to its verified proof. */
      provingTimeMs: number;
      proof: Uint8Array;
    };

/** The registry refused the report for good (bad token, a malformed request): sending it again cannot help. */
export class RegistryRefused extends Error {
  override readonly name = 'RegistryRefused';
  /** 401 or 403: the cluster's token, not the report, is wrong; the reporter keeps the report and tries again. */
  constructor(
    message: string,
    readonly unauthorized = false,
  ) {
    super(message);
  }
}

/** The registry could not be reached or failed (network, 5xx, 429): the report is sent again later. */
export class RegistryUnavailable extends Error {
  override readonly name = 'RegistryUnavailable';
}
