import { proverSettings } from '../../config/provers';

/** Where the prover processes keep the compiled keys, per machine (`PROOFLANE_O1JS_CACHE`, config/provers.ts). */
export function o1jsCacheDir(): string {
  return proverSettings().o1jsCache;
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
