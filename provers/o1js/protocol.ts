import path from 'node:path';
import { proverSettings } from '../../config/provers';

/** Where the prover processes keep the compiled keys, per machine (`PROOFLANE_O1JS_CACHE`, config/provers.ts). */
export function o1jsCacheDir(): string {
  return proverSettings().o1jsCache;
}

/** The block program's verification key, as a prover process writes it into its cache after compiling. */
export const VK_FILE = 'prooflane-block.vk.json';

/** Where the verification key is exported to under a verifier-keys folder (PROOFLANE_VERIFIER_KEYS). */
export function o1jsExportedVkPath(verifierKeys: string): string {
  return path.join(verifierKeys, 'o1js', VK_FILE);
}

/** Messages between an o1js prover backend and its long-lived prover process (Node IPC). */
export type ProverRequest =
  | { id: number; op: 'chunk'; blockHash: string; index: number }
  | { id: number; op: 'merge'; left: string; right: string }
  | { id: number; op: 'verify'; blockHash: string; segmentCount: number; proof: string };

export type ProverReply =
  | { id: number; ok: true; result: string | { valid: boolean; reason?: string } }
  | { id: number; ok: false; badInput: boolean; error: string };

export type ProverStatus = { ready: true; compileMs: number };
