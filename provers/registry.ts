import path from 'node:path';
import type { ProverSettings } from '../config/provers';
import type { ProverName } from '../domain/block';
import type { ProverBackend } from './backend';
import { CommandProver } from './command';
import { Groth16Prover } from './groth16/backend';
import { O1jsProver } from './o1js/backend';
import { DEFAULT_SIMULATION, SimulatedProver } from './simulated';

export type ProverRegistry = ReadonlyMap<ProverName, ProverBackend>;

/**
 * The backends a process serves, exactly those its configuration lists (`PROOFLANE_PROVERS`);
 * nothing is registered implicitly. Real provers start their processes on first use.
 */
export function createProverRegistry(settings: Pick<ProverSettings, 'served' | 'command' | 'simulation'>): ProverRegistry {
  const build: Record<ProverName, () => ProverBackend> = {
    simulated: () => new SimulatedProver({ ...DEFAULT_SIMULATION, ...settings.simulation }),
    command: () => {
      if (!settings.command) throw new Error('the command backend needs PROOFLANE_COMMAND_PROVER: the prover executable to run');
      return new CommandProver(settings.command);
    },
    o1js: () => new O1jsProver(),
    groth16: () => new Groth16Prover(),
  };
  return new Map(settings.served.map((name) => [name, build[name]()]));
}

/** The example prover of the `command` backend (hashes for proofs), for the demo, tests and the bench. */
export const EXAMPLE_PROVER = path.join(__dirname, 'examples', 'hash-prover.mjs');

/** `PROOFLANE_COMMAND_PROVER` that runs the example prover with this Node. */
export const EXAMPLE_COMMAND_LINE = `${process.execPath} ${EXAMPLE_PROVER}`;

/** Every backend, the example prover behind `command`: what the demo, the tests and the bench serve. */
export const DEMO_PROVER_ENV = {
  PROOFLANE_PROVERS: 'simulated,command,o1js,groth16',
  PROOFLANE_COMMAND_PROVER: EXAMPLE_COMMAND_LINE,
} as const;
