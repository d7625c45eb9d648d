import type { BlockEntry } from '../domain/chain';
import type { BlockFinalizedReport } from '../workflows/sinks';

/**
 * What the sequencer tells its worker's metrics of a finalized block. A multi-proof block is
 * labelled with the prover whose proof completed its quorum (the block's proof, whose time is the
 * block's `provingMs`); its `gpuMs` counts the provers' work finished by the quorum.
 */
export function finalizedReport(chainId: string, entry: Readonly<BlockEntry>): BlockFinalizedReport {
  const { number, workflowId, submittedAt, startedAt, provedAt, finalizedAt, deadlineAt, provingMs, overheadMs, gpuMs } = entry;
  // Counted proofs are in the order they verified, so the last one with the block's proof reference
  // completed the quorum (two deterministic provers can make byte-identical proofs: same reference).
  const deciding = [...(entry.proofs ?? [])].reverse().find((proof) => proof.proofRef === entry.proofRef);
  return {
    chainId,
    number,
    workflowId,
    gpuClass: deciding?.gpuClass ?? entry.gpuClass,
    prover: deciding?.prover ?? entry.prover,
    submittedAt,
    finalizedAt: finalizedAt ?? submittedAt,
    startedAt,
    provedAt,
    deadlineAt,
    provingMs,
    overheadMs,
    gpuMs,
  };
}
