import { clip } from './failures';
import { proverKey, type CountedProof, type ProverRun } from './block';

/**
 * The quorum rule of multi-proof (docs/DESIGN.md, "Multi-proof"), with no Temporal in it: the
 * block workflow wires its provers' outcomes to a `ProofQuorum`, the chain book checks a report
 * with `quorumProofs`, and both are tested without a server (test/quorum.test.ts).
 *
 * - A block is proved when `quorum` of its provers have each produced a proof that the
 *   orchestration worker verified; the first `quorum` verified proofs are the ones that count.
 * - A proof that fails verification is a failure of its prover, never counted.
 * - The block fails as soon as fewer than `quorum` provers can still succeed.
 * - A proof verified after the quorum is late: recorded, never counted.
 */

/** Where one prover stands in a block's quorum. */
export type QuorumStanding = 'proving' | 'verified' | 'failed' | 'cancelled';

export class ProofQuorum {
  private readonly standing = new Map<string, QuorumStanding>();
  private readonly reasons = new Map<string, string>();
  private readonly countedProofs: CountedProof[] = [];
  private readonly lateProofs: CountedProof[] = [];

  constructor(
    readonly provers: readonly ProverRun[],
    readonly quorum: number,
  ) {
    if (quorum < 1 || quorum > provers.length) throw new Error(`quorum ${quorum} of ${provers.length} provers cannot be reached`);
    for (const run of provers) this.standing.set(proverKey(run), 'proving');
  }

  /** A prover's proof verified: it counts while the quorum is not reached, later it is late. Answers which. */
  verified(proof: CountedProof): 'counted' | 'late' | 'ignored' {
    const key = proverKey(proof);
    if (this.standing.get(key) !== 'proving') return 'ignored';
    this.standing.set(key, 'verified');
    if (this.reached) {
      this.lateProofs.push(proof);
      return 'late';
    }
    this.countedProofs.push(proof);
    return 'counted';
  }

  /** A prover failed for good (its proof did not verify, its prover errors ran out, its input is bad for it). */
  failed(key: string, reason: string): void {
    if (this.standing.get(key) !== 'proving') return;
    this.standing.set(key, 'failed');
    this.reasons.set(key, clip(reason));
  }

  /** A prover was stopped (the quorum was reached without it, or the block was cancelled). */
  cancelled(key: string): void {
    if (this.standing.get(key) === 'proving') this.standing.set(key, 'cancelled');
  }

  standingOf(key: string): QuorumStanding | undefined {
    return this.standing.get(key);
  }

  get reached(): boolean {
    return this.countedProofs.length >= this.quorum;
  }

  /** Fewer than `quorum` provers can still succeed: the block fails. */
  get unreachable(): boolean {
    return !this.reached && this.countedProofs.length + this.stillProving().length < this.quorum;
  }

  /** The quorum is reached or cannot be: the block's outcome is known. */
  get decided(): boolean {
    return this.reached || this.unreachable;
  }

  /** The proofs that count, in the order they were verified (at most `quorum`). */
  counted(): CountedProof[] {
    return [...this.countedProofs];
  }

  /** Proofs verified after the quorum (keepProving). */
  late(): CountedProof[] {
    return [...this.lateProofs];
  }

  /** Keys of the provers with no outcome yet. */
  stillProving(): string[] {
    return [...this.standing].filter(([, standing]) => standing === 'proving').map(([key]) => key);
  }

  /** Why the block cannot be proved: how many proofs it needs and has, and each failed prover's reason. */
  failureReason(): string {
    const failures = [...this.reasons].map(([key, reason]) => `${key}: ${reason}`);
    return `${this.countedProofs.length} of the ${this.quorum} verified proofs needed, ${this.stillProving().length} prover(s) still running; ${failures.join('; ') || 'no prover failed'}`;
  }
}

/**
 * The proofs of a report that count for a block proved by `provers` at `quorum`: verified, each
 * from a different listed prover, the first of each prover only. The report proves the block only
 * when there are at least `quorum` of them (the chain book's rule).
 */
export function quorumProofs(provers: readonly Pick<ProverRun, 'prover' | 'gpuClass'>[], proofs: readonly CountedProof[]): CountedProof[] {
  const listed = new Set(provers.map(proverKey));
  const seen = new Set<string>();
  const counted: CountedProof[] = [];
  for (const proof of proofs) {
    const key = proverKey(proof);
    if (proof.verified !== true || !listed.has(key) || seen.has(key)) continue;
    seen.add(key);
    counted.push(proof);
  }
  return counted;
}
