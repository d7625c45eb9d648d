import { homedir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ProverNameSchema, type ProverName } from '../domain/block';
import { SimulationSchema, type Simulation } from '../provers/simulated';
import { commaList, envInt, envJson, loadConfig } from './env';

/**
 * Which prover backends a process serves and how they run. A process registers exactly the
 * backends listed: `simulated` and the example `command` prover are for the demo, tests and
 * the bench, which list them explicitly; `command` runs only the executable named here.
 */
export const ProverEnvShape = {
  PROOFLANE_PROVERS: commaList(ProverNameSchema)
    .refine((names) => names.length > 0, 'must name at least one backend')
    .prefault('o1js,groth16')
    .describe('backends this process serves, comma-separated (simulated, command, o1js, groth16); the API accepts blocks only for these'),
  PROOFLANE_COMMAND_PROVER: z
    .string()
    .optional()
    .describe(
      'the `command` backend\'s executable and leading arguments, e.g. "/opt/zkvm/bin/prove --gpu"; required when PROOFLANE_PROVERS lists command',
    ),
  PROOFLANE_COMMAND_ARGS: z
    .string()
    .default('--input {input} --output {output}')
    .describe("the `command` prover's arguments; {input} and {output} become the request and answer files"),
  PROOFLANE_COMMAND_BAD_INPUT_EXIT_CODES: commaList(envInt(1, 255))
    .prefault('2,65')
    .describe('exit codes of the `command` prover that mean "bad input" (not retried)'),
  PROOFLANE_COMMAND_KILL_GRACE_MS: envInt(0, 600_000)
    .default(2_000)
    .describe('after SIGTERM to a cancelled `command` prover, wait this long before SIGKILL'),
  PROOFLANE_EXAMPLE_STATE_DIR: z
    .string()
    .optional()
    .describe("the example `command` prover's folder for its pid and witness files, named after the block (demo and tests only)"),
  O1JS_BACKEND: z.enum(['native', 'wasm']).default('native').describe("o1js's proving backend (native is about 4.5x faster)"),
  PROOFLANE_O1JS_CACHE: z.string().optional().describe('where o1js provers keep compiled keys (default ~/.cache/prooflane/o1js)'),
  PROOFLANE_VERIFIER_KEYS: z
    .string()
    .optional()
    .describe(
      "where the verifier (orchestration worker) reads verification keys, never writes them: a read-only place GPU workers cannot write, filled by npm run provers:setup -- --verifier-keys <dir> (unset: the provers' caches, for one machine)",
    ),
  PROOFLANE_SIMULATION: envJson(SimulationSchema.partial())
    .optional()
    .describe(
      'the simulated backend\'s own settings on this process (JSON, the fields of input.simulate, which a block may still override), e.g. {"segmentMs":1500} for a slower prover class or {"forgeProofs":true} for an unsound one',
    ),
  PROOFLANE_GROTH16_CACHE: z
    .string()
    .optional()
    .describe('where groth16 provers keep circuits and keys (default ~/.cache/prooflane/groth16)'),
};

/** `command` runs only an executable the operator named. */
export function requireCommandExecutable(
  config: { PROOFLANE_PROVERS: ProverName[]; PROOFLANE_COMMAND_PROVER?: string },
  context: z.RefinementCtx,
): void {
  if (config.PROOFLANE_PROVERS.includes('command') && !config.PROOFLANE_COMMAND_PROVER) {
    context.addIssue({
      code: 'custom',
      path: ['PROOFLANE_COMMAND_PROVER'],
      message: 'required when PROOFLANE_PROVERS lists command: the prover executable to run (none is run implicitly)',
    });
  }
}

export const ProverEnvSchema = z.object(ProverEnvShape).superRefine(requireCommandExecutable);

export interface CommandProverSettings {
  command: string;
  args: string[];
  badInputExitCodes: number[];
  /** After SIGTERM to the process group, wait this long before SIGKILL. */
  killGraceMs: number;
}

export interface ProverSettings {
  served: ProverName[];
  command?: CommandProverSettings;
  o1jsBackend: 'native' | 'wasm';
  o1jsCache: string;
  groth16Cache: string;
  /** Verification keys, read only; undefined: the verifier uses the provers' caches. */
  verifierKeys?: string;
  /** The simulated backend's settings on this process (over DEFAULT_SIMULATION). */
  simulation?: Partial<Simulation>;
}

export function proverSettings(env: NodeJS.ProcessEnv = process.env): ProverSettings {
  const variables = loadConfig('prover backends', ProverEnvSchema, env);
  const commandLine = variables.PROOFLANE_COMMAND_PROVER?.split(/\s+/).filter(Boolean);
  return {
    served: [...new Set(variables.PROOFLANE_PROVERS)],
    ...(commandLine?.length
      ? {
          command: {
            command: commandLine[0],
            args: [...commandLine.slice(1), ...variables.PROOFLANE_COMMAND_ARGS.split(/\s+/).filter(Boolean)],
            badInputExitCodes: variables.PROOFLANE_COMMAND_BAD_INPUT_EXIT_CODES,
            killGraceMs: variables.PROOFLANE_COMMAND_KILL_GRACE_MS,
          },
        }
      : {}),
    o1jsBackend: variables.O1JS_BACKEND,
    o1jsCache: path.resolve(variables.PROOFLANE_O1JS_CACHE ?? path.join(homedir(), '.cache', 'prooflane', 'o1js')),
    ...(variables.PROOFLANE_VERIFIER_KEYS ? { verifierKeys: path.resolve(variables.PROOFLANE_VERIFIER_KEYS) } : {}),
    groth16Cache: path.resolve(variables.PROOFLANE_GROTH16_CACHE ?? path.join(homedir(), '.cache', 'prooflane', 'groth16')),
    ...(variables.PROOFLANE_SIMULATION ? { simulation: variables.PROOFLANE_SIMULATION } : {}),
  };
}
