import { fork, type ChildProcess } from 'node:child_process';
import {
  BadInputError,
  ProverFailedError,
  type AggregateRequest,
  type BlockPlan,
  type PlanRequest,
  type ProverBackend,
  type ProverContext,
  type SegmentRequest,
  type Verdict,
  type VerifyRequest,
} from '../backend';
import { codePath, NODE_LOADER_ARGS } from '../../infra/entry-points';
import { whileAlive } from '../runtime';
import type { ProverReply, ProverRequest, ProverStatus } from './protocol';

type Payload = ProverRequest extends infer R ? (R extends ProverRequest ? Omit<R, 'id'> : never) : never;

/** A long-lived prover process for one GPU slot (or the verifier); replaced when killed. */
class ProverProcess {
  private child?: ChildProcess;
  private ready?: Promise<void>;
  private nextId = 1;
  /** One proof at a time per process, as on a GPU slot. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly pending = new Map<number, { resolve: (reply: ProverReply) => void; reject: (error: Error) => void }>();

  constructor(
    private readonly mode: 'prove' | 'verify',
    private readonly log: (message: string) => void,
  ) {}

  request(payload: Payload, context: ProverContext): Promise<ProverReply> {
    const run = this.queue.then(() => this.send(payload, context));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async send(payload: Payload, context: ProverContext): Promise<ProverReply> {
    if (context.signal.aborted) throw context.signal.reason;
    const onAbort = (): void => this.kill();
    context.signal.addEventListener('abort', onAbort, { once: true });
    try {
      // Heartbeat all along: the compile on first use and the proof itself take seconds to minutes.
      return await whileAlive(
        context,
        this.start().then(() => {
          const id = this.nextId++;
          return new Promise<ProverReply>((resolve, reject) => {
            this.pending.set(id, { resolve, reject });
            this.child?.send({ ...payload, id } as ProverRequest);
          });
        }),
      );
    } finally {
      context.signal.removeEventListener('abort', onAbort);
    }
  }

  /** Stops the prover at once (cancellation); the next request starts a fresh process. */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const child = fork(codePath('provers/o1js/prover-process.ts'), [this.mode], {
      execArgv: NODE_LOADER_ARGS,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    this.ready = new Promise<void>((resolve, reject) => {
      child.on('message', (message: ProverReply | ProverStatus) => {
        if ('ready' in message) {
          this.log(`o1js ${this.mode} process ${child.pid} ready (compile ${message.compileMs} ms)`);
          return resolve();
        }
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        waiter?.resolve(message);
      });
      child.once('exit', (code, signal) => {
        const error = new ProverFailedError(`o1js prover process exited (${signal ?? `exit ${code}`})`);
        reject(error);
        for (const waiter of this.pending.values()) waiter.reject(error);
        this.pending.clear();
        this.child = undefined;
        this.ready = undefined;
      });
    });
    return this.ready;
  }
}

/**
 * Real recursive proofs with o1js (Kimchi/Pickles, native backend). Fan-in is 2: a merge
 * verifies two child proofs in its circuit. Each GPU slot has its own prover process that
 * keeps its compiled keys; the block proof is verified by a separate verifier process that
 * needs only the verification key.
 */
export class O1jsProver implements ProverBackend {
  readonly name = 'o1js' as const;
  private readonly processes = new Map<number, ProverProcess>();

  async plan(request: PlanRequest): Promise<BlockPlan> {
    return { segmentCount: request.requestedSegments, fanIn: 2 };
  }

  async proveSegment(request: SegmentRequest, context: ProverContext): Promise<Uint8Array> {
    return Buffer.from(
      this.unwrap(
        await this.process(context).request({ op: 'chunk', blockHash: request.block.hash, index: request.index }, context),
      ) as string,
    );
  }

  async aggregate(request: AggregateRequest, context: ProverContext): Promise<Uint8Array> {
    if (request.children.length !== 2) throw new BadInputError(`o1js merges exactly two proofs, got ${request.children.length}`);
    const [left, right] = request.children.map((bytes) => Buffer.from(bytes).toString('utf8'));
    return Buffer.from(this.unwrap(await this.process(context).request({ op: 'merge', left, right }, context)) as string);
  }

  async verify(request: VerifyRequest, context: ProverContext): Promise<Verdict> {
    const reply = await this.process(context, 'verify').request(
      {
        op: 'verify',
        blockHash: request.block.hash,
        segmentCount: request.segmentCount,
        proof: Buffer.from(request.proof).toString('utf8'),
      },
      context,
    );
    return this.unwrap(reply) as Verdict;
  }

  async close(): Promise<void> {
    for (const process of this.processes.values()) process.kill();
    this.processes.clear();
  }

  private process(context: ProverContext, mode: 'prove' | 'verify' = 'prove'): ProverProcess {
    const key = mode === 'verify' ? -2 : context.device;
    let process = this.processes.get(key);
    if (!process) {
      process = new ProverProcess(mode, context.log);
      this.processes.set(key, process);
    }
    return process;
  }

  private unwrap(reply: ProverReply): ProverReply extends infer R ? (R extends { ok: true; result: infer T } ? T : never) : never {
    if (reply.ok) return reply.result;
    if (reply.badInput) throw new BadInputError(reply.error);
    throw new ProverFailedError(reply.error);
  }
}
