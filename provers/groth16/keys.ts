import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { proverSettings } from '../../config/provers';
import { promisify } from 'node:util';
import * as snarkjs from 'snarkjs';
import type { VerificationKey } from 'snarkjs';
import { isProcessAlive } from '../runtime';

/**
 * Groth16 parameters, prepared once per machine and cached (never committed):
 * - powers of tau for 2^12 constraints (a local ceremony: one random contribution);
 * - per circuit, its circom2 build (R1CS + witness WASM), its proving key (zkey, with one
 *   random phase-2 contribution) and its verification key.
 * The keys hold randomness, so every process must use the same files: preparation runs under a
 * lock in the cache folder. A multi-node cluster runs `npm run provers:setup` once and shares
 * the folder (PROOFLANE_GROTH16_CACHE), or its proofs will not verify across nodes.
 */
export type CircuitName = 'segment' | 'aggregate';

export interface CircuitKeys {
  wasm: string;
  zkey: string;
  vkey: VerificationKey;
}

export type Groth16Keys = Record<CircuitName, CircuitKeys>;

const POWER = 12;
const CIRCUITS: CircuitName[] = ['segment', 'aggregate'];
const execFileAsync = promisify(execFile);

/** Where circuits and keys are kept, per machine (`PROOFLANE_GROTH16_CACHE`, config/provers.ts). */
export function groth16CacheDir(): string {
  return proverSettings().groth16Cache;
}

let prepared: Promise<Groth16Keys> | undefined;

/** The keys, prepared on first call in this process (and on this machine, if not cached). */
export function groth16Keys(log: (message: string) => void): Promise<Groth16Keys> {
  prepared ??= prepareKeys(log).catch((error: unknown) => {
    prepared = undefined; // let a later task try again
    throw error;
  });
  return prepared;
}

async function prepareKeys(log: (message: string) => void): Promise<Groth16Keys> {
  const cache = groth16CacheDir();
  await mkdir(cache, { recursive: true });
  const dirs = Object.fromEntries(CIRCUITS.map((name) => [name, path.join(cache, `${name}-${circuitId(name)}`)])) as Record<
    CircuitName,
    string
  >;
  if (!CIRCUITS.every((name) => existsSync(path.join(dirs[name], 'vkey.json')))) {
    await withKeysLock(path.join(cache, '.lock'), log, async () => {
      const ptau = path.join(cache, `pot${POWER}.ptau`);
      if (!existsSync(ptau)) await powersOfTau(ptau, log);
      for (const name of CIRCUITS) if (!existsSync(path.join(dirs[name], 'vkey.json'))) await buildCircuit(name, ptau, dirs[name], log);
    });
  }
  const keys = {} as Groth16Keys;
  for (const name of CIRCUITS) {
    keys[name] = {
      wasm: path.join(dirs[name], `${name}_js`, `${name}.wasm`),
      zkey: path.join(dirs[name], `${name}.zkey`),
      vkey: JSON.parse(await readFile(path.join(dirs[name], 'vkey.json'), 'utf8')) as VerificationKey,
    };
  }
  return keys;
}

/** Where a circuit's verification key is exported to, under a verifier-keys folder (PROOFLANE_VERIFIER_KEYS). */
function exportedVkeyPath(verifierKeys: string, name: CircuitName): string {
  return path.join(verifierKeys, 'groth16', `${name}-${circuitId(name)}`, 'vkey.json');
}

const verifierKeysRead = new Map<string, Promise<Record<CircuitName, VerificationKey>>>();

/**
 * The verification keys the verifier trusts. With a verifier-keys folder (PROOFLANE_VERIFIER_KEYS),
 * only the keys exported there, never the provers' cache, which GPU workers write; without one
 * (one machine, one user), the cache's.
 */
export function groth16VerificationKeys(log: (message: string) => void): Promise<Record<CircuitName, VerificationKey>> {
  const { verifierKeys } = proverSettings();
  if (!verifierKeys) return groth16Keys(log).then((keys) => ({ segment: keys.segment.vkey, aggregate: keys.aggregate.vkey }));
  let read = verifierKeysRead.get(verifierKeys);
  if (!read) {
    read = (async () => {
      const keys = {} as Record<CircuitName, VerificationKey>;
      for (const name of CIRCUITS) {
        const file = exportedVkeyPath(verifierKeys, name);
        if (!existsSync(file))
          throw new Error(
            `no groth16 verification key at ${file}: export it with npm run provers:setup -- --verifier-keys ${verifierKeys}`,
          );
        keys[name] = JSON.parse(await readFile(file, 'utf8')) as VerificationKey;
      }
      return keys;
    })();
    read.catch(() => verifierKeysRead.delete(verifierKeys));
    verifierKeysRead.set(verifierKeys, read);
  }
  return read;
}

/** Copies the verification keys of the prepared circuits into a verifier-keys folder (provers:setup). */
export async function exportGroth16VerificationKeys(verifierKeys: string, log: (message: string) => void): Promise<string[]> {
  const keys = await groth16Keys(log);
  const written: string[] = [];
  for (const name of CIRCUITS) {
    const file = exportedVkeyPath(verifierKeys, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(keys[name].vkey));
    written.push(file);
  }
  return written;
}

/** Source of the circuit and its circomlib: a change to either means new keys. */
function circuitId(name: CircuitName): string {
  const source = readFileSync(circuitSource(name), 'utf8');
  const circomlib = (require('circomlib/package.json') as { version: string }).version;
  return createHash('sha256').update(`${source}\ncircomlib ${circomlib}\npower ${POWER}`).digest('hex').slice(0, 16);
}

function circuitSource(name: CircuitName): string {
  return path.join(__dirname, 'circuits', `${name}.circom`);
}

async function powersOfTau(target: string, log: (message: string) => void): Promise<void> {
  const started = Date.now();
  log(`groth16: powers of tau 2^${POWER}, one random contribution (about 2 min on 2 cores, once per machine)...`);
  const work = await mkdtemp(`${target}.tmp-`);
  try {
    const curve = await snarkjs.curves.getCurveFromName('bn128');
    await snarkjs.powersOfTau.newAccumulator(curve, POWER, path.join(work, '0.ptau'));
    await snarkjs.powersOfTau.contribute(
      path.join(work, '0.ptau'),
      path.join(work, '1.ptau'),
      'prooflane local',
      randomBytes(32).toString('hex'),
    );
    await snarkjs.powersOfTau.preparePhase2(path.join(work, '1.ptau'), path.join(work, 'final.ptau'));
    await rename(path.join(work, 'final.ptau'), target);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  log(`groth16: powers of tau ready after ${seconds(started)}`);
}

async function buildCircuit(name: CircuitName, ptau: string, target: string, log: (message: string) => void): Promise<void> {
  const started = Date.now();
  log(`groth16: compiling ${name}.circom with circom2 and generating its keys...`);
  const work = await mkdtemp(`${target}.tmp-`);
  try {
    const circom = require.resolve('circom2/cli.js');
    const nodeModules = path.dirname(path.dirname(require.resolve('circomlib/package.json')));
    await execFileAsync(process.execPath, [circom, circuitSource(name), '--r1cs', '--wasm', '--O2', '-l', nodeModules, '-o', work], {
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`circom2 failed on ${name}.circom: ${error.stderr || error.stdout || error.message}`);
    });
    const r1cs = path.join(work, `${name}.r1cs`);
    await snarkjs.zKey.newZKey(r1cs, ptau, path.join(work, 'initial.zkey'));
    await snarkjs.zKey.contribute(
      path.join(work, 'initial.zkey'),
      path.join(work, `${name}.zkey`),
      'prooflane local',
      randomBytes(32).toString('hex'),
    );
    await rm(path.join(work, 'initial.zkey'));
    const vkey = await snarkjs.zKey.exportVerificationKey(path.join(work, `${name}.zkey`));
    // vkey.json last: its presence marks a complete folder.
    await writeFile(path.join(work, 'vkey.json'), JSON.stringify(vkey));
    await rm(target, { recursive: true, force: true });
    await rename(work, target);
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  }
  log(`groth16: ${name} keys ready after ${seconds(started)}`);
}

/**
 * A lock folder naming its owner (host and pid) and beating while the owner works. The folder may
 * sit on a volume many nodes share (the keys volume of a cluster), where a pid means nothing
 * across hosts and every container's process is pid 1: an owner on this host is judged by its
 * pid, any other by its heartbeat, and a lock whose heartbeat stopped is taken over.
 */
export async function withKeysLock<T>(lock: string, log: (message: string) => void, work: () => Promise<T>): Promise<T> {
  const owner = path.join(lock, 'owner');
  const heartbeat = path.join(lock, 'heartbeat');
  let announced = false;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const [host, pidText] = (await readFile(owner, 'utf8').catch(() => '')).split(' ');
      const pid = Number(pidText);
      const beat = await stat(heartbeat).catch(() => stat(lock).catch(() => ({ mtimeMs: 0 })));
      const abandoned = host === hostname() && Number.isInteger(pid) ? !isProcessAlive(pid) : Date.now() - beat.mtimeMs > LOCK_STALE_MS;
      if (abandoned) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (!announced)
        log(`groth16: another process (${host || 'unknown host'}, pid ${pidText ?? '?'}) is preparing the keys; waiting for it`);
      announced = true;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const beating = setInterval(() => {
    const now = new Date();
    void utimes(heartbeat, now, now).catch(() => undefined);
  }, LOCK_STALE_MS / 6);
  beating.unref();
  try {
    await writeFile(heartbeat, '');
    await writeFile(owner, `${hostname()} ${process.pid}`);
    return await work();
  } finally {
    clearInterval(beating);
    await rm(lock, { recursive: true, force: true });
  }
}

/** A lock whose heartbeat is older than this is abandoned (its owner beats every 5 s). */
const LOCK_STALE_MS = 30_000;

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
