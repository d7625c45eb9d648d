import type { ProverName } from '../domain/block';
import type { ProverBackend } from './backend';
import { CommandProver } from './command';
import { Groth16Prover } from './groth16/backend';
import { O1jsProver } from './o1js/backend';
import { SimulatedProver } from './simulated';

export type ProverRegistry = ReadonlyMap<ProverName, ProverBackend>;

/** The backends a worker serves, by name. */
export function defaultProverRegistry(): ProverRegistry {
  // Real provers start their processes on first use, so a worker that never sees them pays nothing.
  const backends: ProverBackend[] = [new SimulatedProver(), new CommandProver(), new O1jsProver(), new Groth16Prover()];
  return new Map(backends.map((backend) => [backend.name, backend]));
}
