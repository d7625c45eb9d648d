import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ProverProgress } from '../domain/block';
import type { PublishedRecord } from '../publishing/proof-publisher';
import type { ProverContext, SegmentRequest } from '../provers/backend';
import { whileAlive } from '../provers/runtime';
import { DEFAULT_SIMULATION, SimulatedProver, type Simulation } from '../provers/simulated';
import type { ProverRegistry } from '../provers/registry';
import { stopProcess } from '../infra/processes';
import { publishedDir, uniqueChain, waitFor } from './support/cluster';
import { useTestStack } from './support/stack';

/**
 * Multi-proof against the real test server: independent simulated provers on their own GPU
 * classes, some unsound (their proofs never verify), a chain's proof policy over them, and what
 * its operator sees: when the block finalizes, which proofs count and are published, which
 * provers are stopped, failed or recorded late. Where a test needs one prover to finish after
 * the others, that prover waits at a gate the test opens: the order is the test's, not a race of
 * speeds on a loaded machine.
 */

/** Closed until the test opens it (`hold` closes it again); every segment of a gated prover waits for it, heartbeating. */
class Gate {
  private release: () => void = () => undefined;
  private isOpen = false;
  opened: Promise<void> = this.closed();

  open(): void {
    this.isOpen = true;
    this.release();
  }

  /** Closes an open gate; a gate still closed stays as it is (a failed test's waiters are let go by the next `open`). */
  hold(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.opened = this.closed();
  }

  private closed(): Promise<void> {
    return new Promise<void>((resolve) => (this.release = resolve));
  }
}

/** The simulated prover, each segment held until its gate opens (a node that is still busy). */
class GatedProver extends SimulatedProver {
  constructor(
    settings: Partial<Simulation>,
    private readonly gate: Gate,
  ) {
    super({ ...DEFAULT_SIMULATION, ...settings });
  }

  override async proveSegment(request: SegmentRequest, context: ProverContext): Promise<Uint8Array> {
    await whileAlive(context, this.gate.opened);
    return super.proveSegment(request, context);
  }
}

/** A GPU node whose simulated prover has its own speed (or soundness), held at `gate` if given. */
const prover = (settings: Partial<Simulation>, gate?: Gate): ProverRegistry =>
  new Map([
    ['simulated', gate ? new GatedProver(settings, gate) : new SimulatedProver({ ...DEFAULT_SIMULATION, ...settings })],
  ]) as ProverRegistry;

describe('multi-proof: a block proved by several provers, finalized at a quorum', () => {
  const lateForgerGate = new Gate();
  const lateGate = new Gate();
  const soundGate = new Gate();
  const stack = useTestStack({
    pools: [
      ['fast', 2, 'fast-node', prover({ segmentMs: 100, aggregateMs: 10 })],
      ['mid', 2, 'mid-node', prover({ segmentMs: 300, aggregateMs: 10 })],
      // Far slower than a test may wait: a block that needed it would time the test out.
      ['slow', 2, 'slow-node', prover({ segmentMs: 600_000, aggregateMs: 10 })],
      // Fast and unsound: its proofs are well-formed but never verify.
      ['forger', 2, 'forger-node', prover({ segmentMs: 20, aggregateMs: 5, forgeProofs: true })],
      // Unsound, and proving only once the test has seen the sound provers verify.
      ['late-forger', 2, 'late-forger-node', prover({ segmentMs: 20, aggregateMs: 5, forgeProofs: true }, lateForgerGate)],
      // Sound, and proving only once the test has seen the block finalize.
      ['late', 2, 'late-node', prover({ segmentMs: 20, aggregateMs: 5 }, lateGate)],
      // Sound, and proving only once the test has seen what must come before the quorum.
      ['sound-a', 2, 'sound-a-node', prover({ segmentMs: 50, aggregateMs: 5 }, soundGate)],
      ['sound-b', 2, 'sound-b-node', prover({ segmentMs: 50, aggregateMs: 5 }, soundGate)],
    ],
    api: {},
  });
  const policy = (gpuClasses: string[], quorum: number, keepProving = false) => ({
    mode: 'pipelined',
    startNumber: 0,
    defaults: { segments: 2 },
    proofs: { provers: gpuClasses.map((gpuClass) => ({ prover: 'simulated', gpuClass })), quorum, keepProving },
  });
  const proversOf = async (chainId: string, number: number): Promise<Record<string, ProverProgress>> => {
    const view = await stack.api.block(chainId, number);
    return Object.fromEntries((view.proofs?.provers ?? []).map((entry) => [entry.gpuClass, entry]));
  };
  const published = (chainId: string, number: number): PublishedRecord =>
    JSON.parse(readFileSync(path.join(publishedDir(), chainId, `${number}.json`), 'utf8')) as PublishedRecord;

  it('2-of-3 finalizes at the second verified proof, publishes both, and cancels the third prover', async () => {
    const chainId = uniqueChain('quorum');
    expect((await stack.api.configure(chainId, policy(['fast', 'mid', 'slow'], 2))).status).toBe(200);
    expect((await stack.api.submit(chainId, 0)).status).toBe(202);
    await stack.api.waitUntilFinalized(chainId, 0);
    // The slow prover was not waited for: it is stopped, its GPUs freed.
    const provers = await waitFor('the slow prover to be cancelled', async () => {
      const now = await proversOf(chainId, 0);
      return now.slow?.status === 'cancelled' ? now : undefined;
    });
    expect(provers.fast).toMatchObject({ status: 'verified', counted: true });
    expect(provers.mid).toMatchObject({ status: 'verified', counted: true });
    expect(provers.slow).toMatchObject({ status: 'cancelled', counted: false });
    const record = published(chainId, 0);
    expect(record.proofs?.map((proof) => proof.gpuClass).sort()).toEqual(['fast', 'mid']);
    expect(record.proofs?.every((proof) => proof.verified && proof.gpuMs > 0 && proof.provingMs > 0)).toBe(true);
    // The block's proof is one of the two that made the quorum.
    expect([provers.fast.proofRef, provers.mid.proofRef]).toContain(record.proofRef);
  });

  it('never counts a forger: it fails, named in the block view, and the two sound provers make the quorum', async () => {
    const chainId = uniqueChain('forger');
    soundGate.hold();
    await stack.api.configure(chainId, policy(['forger', 'sound-a', 'sound-b'], 2));
    await stack.api.submit(chainId, 0);
    // The forger's proof fails verification while the sound provers are still at work.
    const forger = await waitFor('the forger to fail', async () => {
      const now = await proversOf(chainId, 0);
      return now.forger?.status === 'failed' ? now.forger : undefined;
    });
    expect(forger).toMatchObject({ counted: false, error: expect.stringMatching(/failed verification/) });
    expect((await stack.api.block(chainId, 0)).status).toBe('proving');
    soundGate.open();
    await stack.api.waitUntilFinalized(chainId, 0);
    const provers = await proversOf(chainId, 0);
    expect(provers.forger).toMatchObject({ status: 'failed', counted: false });
    expect(
      published(chainId, 0)
        .proofs?.map((proof) => proof.gpuClass)
        .sort(),
    ).toEqual(['sound-a', 'sound-b']);
  });

  it('2-of-2 with a forger fails the block as soon as the quorum is out of reach, naming the forger', async () => {
    const chainId = uniqueChain('forged');
    await stack.api.configure(chainId, policy(['forger', 'slow'], 2));
    await stack.api.submit(chainId, 0);
    const failed = await stack.api.waitForChain(chainId, 'the block to fail', (view) => view.failed.includes(0));
    expect(failed.failures[0].error).toMatch(
      /quorum not reached: 0 of the 2 verified proofs needed.*simulated@forger: block proof failed verification/,
    );
    // The sound prover is not left proving a block that cannot be proved.
    const provers = await waitFor('the sound prover to be stopped', async () => {
      const now = await proversOf(chainId, 0);
      return now.slow?.status === 'cancelled' ? now : undefined;
    });
    expect(provers.forger).toMatchObject({ status: 'failed', counted: false });
  });

  it('3-of-3 with a forger that fails last keeps the verified proofs; a retry re-proves only the forger', async () => {
    const chainId = uniqueChain('forged');
    await stack.api.configure(chainId, policy(['late-forger', 'fast', 'mid'], 3));
    await stack.api.submit(chainId, 0);
    await waitFor('the sound provers to verify', async () => {
      const now = await proversOf(chainId, 0);
      return now.fast?.status === 'verified' && now.mid?.status === 'verified' ? true : undefined;
    });
    lateForgerGate.open();
    const failed = await stack.api.waitForChain(chainId, 'the block to fail', (view) => view.failed.includes(0));
    expect(failed.finalizedHead).toBeNull();
    expect(failed.failures[0].error).toMatch(
      /quorum not reached: 2 of the 3 verified proofs needed.*simulated@late-forger: block proof failed verification/,
    );

    await stack.api.retry(chainId, 0);
    await stack.api.waitForChain(chainId, 'the retry to fail again', (view) => view.failed.includes(0) && view.counters.failed === 2);
    // The two proofs that verified were carried (verified again, not proved again); only the forger proved again.
    const provers = await proversOf(chainId, 0);
    expect(provers.fast).toMatchObject({ status: 'verified', carried: true });
    expect(provers.mid).toMatchObject({ status: 'verified', carried: true });
    expect(provers['late-forger']).toMatchObject({ status: 'failed', carried: false });
    expect(provers.fast.segments.running + provers.mid.segments.running).toBe(0);
  });

  it('keepProving records a late proof without delaying finalization; only the quorum is published', async () => {
    const chainId = uniqueChain('late');
    await stack.api.configure(chainId, policy(['fast', 'late'], 1, true));
    await stack.api.submit(chainId, 0);
    await stack.api.waitUntilFinalized(chainId, 0);
    // Finalized on the fast proof while the other prover was still proving (held at its gate).
    const atFinalization = await proversOf(chainId, 0);
    expect(atFinalization.fast).toMatchObject({ status: 'verified', counted: true });
    expect(atFinalization.late).toMatchObject({ status: 'proving', counted: false });
    expect(published(chainId, 0).proofs?.map((proof) => proof.gpuClass)).toEqual(['fast']);

    lateGate.open();
    const late = await waitFor('the late proof to be recorded', async () => {
      const now = await proversOf(chainId, 0);
      return now.late?.status === 'verified' ? now.late : undefined;
    });
    expect(late).toMatchObject({ counted: false, late: true });
    expect(published(chainId, 0).proofs).toHaveLength(1);
  });

  it("reaches the quorum through the other provers when one prover's GPU pool is killed mid-block", async () => {
    const chainId = uniqueChain('killed');
    const doomed = await stack.cluster.spawnGpuPool('doomed', 2, 'doomed-node', {
      PROOFLANE_PROVERS: 'simulated',
      PROOFLANE_SIMULATION: JSON.stringify({ segmentMs: 600_000 }),
    });
    await stack.api.configure(chainId, {
      ...policy([], 2),
      proofs: {
        provers: [
          { prover: 'simulated', gpuClass: 'doomed' },
          { prover: 'simulated', gpuClass: 'sound-a', segments: 8 },
          { prover: 'simulated', gpuClass: 'sound-b', segments: 8 },
        ],
        quorum: 2,
      },
    });
    // The other two prove only once the doomed node is dead: the quorum comes after the kill.
    soundGate.hold();
    await stack.api.submit(chainId, 0);
    await waitFor('the doomed node to hold its share of the block', async () => {
      const provers = await proversOf(chainId, 0);
      return (provers.doomed?.segments.running ?? 0) > 0 ? true : undefined;
    });
    await stopProcess(doomed, 'SIGKILL', 5_000);
    expect((await stack.api.block(chainId, 0)).status).toBe('proving');
    soundGate.open();
    await stack.api.waitUntilFinalized(chainId, 0);
    const provers = await waitFor('the dead node to be let go', async () => {
      const now = await proversOf(chainId, 0);
      return now.doomed?.status === 'cancelled' ? now : undefined;
    });
    expect([provers['sound-a'].counted, provers['sound-b'].counted]).toEqual([true, true]);
  });
});
