/** The part of snarkjs 0.7 (which ships no types) that the groth16 backend uses. */
declare module 'snarkjs' {
  export type VerificationKey = Record<string, unknown>;
  export interface Groth16Proof {
    pi_a: string[];
    pi_b: string[][];
    pi_c: string[];
    protocol: 'groth16';
    curve: 'bn128';
  }
  export type PublicSignals = string[];
  export type CircuitInput = Record<string, string | string[]>;
  export interface Curve {
    terminate(): Promise<void>;
  }

  export const curves: { getCurveFromName(name: 'bn128'): Promise<Curve> };
  export const powersOfTau: {
    newAccumulator(curve: Curve, power: number, fileName: string): Promise<unknown>;
    contribute(oldPtau: string, newPtau: string, name: string, entropy: string): Promise<unknown>;
    preparePhase2(oldPtau: string, newPtau: string): Promise<unknown>;
  };
  export const zKey: {
    newZKey(r1cs: string, ptau: string, zkey: string): Promise<unknown>;
    contribute(oldZkey: string, newZkey: string, name: string, entropy: string): Promise<unknown>;
    exportVerificationKey(zkey: string): Promise<VerificationKey>;
  };
  export const groth16: {
    fullProve(input: CircuitInput, wasm: string, zkey: string): Promise<{ proof: Groth16Proof; publicSignals: PublicSignals }>;
    verify(vkey: VerificationKey, publicSignals: PublicSignals, proof: Groth16Proof): Promise<boolean>;
  };
}
