import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { describeIssues } from '../domain/block';
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
} from './backend';
import type { CommandProverSettings } from '../config/provers';
import { clip } from '../domain/failures';
import { processReaper } from './process-reaper';
import { keepAlive } from './runtime';

/** Lines of the prover's output kept for a failure message, and the length of each. */
const STDERR_LINES_KEPT = 5;
const STDERR_LINE_CHARS = 240;

/**
 * Runs any external prover executable with a JSON-in/JSON-out file contract:
 *   <command> <args with {input} and {output} replaced by file paths>
 * The input file holds `{op, block, input, attempt, device, ...}`; the output file
 * answers per op (see docs/PROVERS.md). Exit 0 is success; an exit code listed in
 * `badInputExitCodes` is a non-retryable bad-input failure; anything else
 * (other codes, killed by a signal) is a retryable prover failure. The executable is the
 * operator's (`PROOFLANE_COMMAND_PROVER`, config/provers.ts): there is no default.
 */
const PlanOutput = z.object({ segmentCount: z.number().int().min(1), fanIn: z.number().int().min(2) });
const ProofOutput = z.object({ proof: z.string().min(1) });
const VerifyOutput = z.object({ valid: z.boolean(), reason: z.string().optional() });

export class CommandProver implements ProverBackend {
  readonly name = 'command' as const;

  constructor(private readonly config: CommandProverSettings) {}

  async plan(request: PlanRequest, context: ProverContext): Promise<BlockPlan> {
    const out = await this.run(
      {
        op: 'plan',
        block: request.block,
        input: request.input,
        requestedSegments: request.requestedSegments,
        defaultFanIn: request.defaultFanIn,
      },
      context,
    );
    return parseOutput(PlanOutput, out, 'plan');
  }

  async proveSegment(request: SegmentRequest, context: ProverContext): Promise<Uint8Array> {
    const out = await this.run(
      { op: 'prove', block: request.block, input: request.input, index: request.index, segmentCount: request.segmentCount },
      context,
    );
    return Buffer.from(parseOutput(ProofOutput, out, 'prove').proof, 'base64');
  }

  async aggregate(request: AggregateRequest, context: ProverContext): Promise<Uint8Array> {
    const children = request.children.map((bytes) => Buffer.from(bytes).toString('base64'));
    const out = await this.run(
      { op: 'aggregate', block: request.block, input: request.input, from: request.from, to: request.to, children },
      context,
    );
    return Buffer.from(parseOutput(ProofOutput, out, 'aggregate').proof, 'base64');
  }

  async verify(request: VerifyRequest, context: ProverContext): Promise<Verdict> {
    const proof = Buffer.from(request.proof).toString('base64');
    const out = await this.run(
      { op: 'verify', block: request.block, input: request.input, segmentCount: request.segmentCount, fanIn: request.fanIn, proof },
      context,
    );
    return parseOutput(VerifyOutput, out, 'verify');
  }

  private async run(payload: Record<string, unknown>, context: ProverContext): Promise<unknown> {
    const dir = await mkdtemp(path.join(tmpdir(), 'prooflane-cmd-'));
    try {
      const inputFile = path.join(dir, 'in.json');
      const outputFile = path.join(dir, 'out.json');
      await writeFile(inputFile, JSON.stringify({ ...payload, attempt: context.attempt, device: context.device }));
      const args = this.config.args.map((arg) => arg.replaceAll('{input}', inputFile).replaceAll('{output}', outputFile));
      await this.spawnAndWait(args, context);
      let text: string;
      try {
        text = await readFile(outputFile, 'utf8');
      } catch {
        throw new ProverFailedError(`prover exited 0 but wrote no output file (${payload.op})`);
      }
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new ProverFailedError(`prover wrote output that is not JSON (${payload.op})`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private spawnAndWait(args: string[], context: ProverContext): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (context.signal.aborted) return reject(context.signal.reason);
      const env = { ...process.env };
      if (context.device >= 0) env.CUDA_VISIBLE_DEVICES = String(context.device);
      // Own process group, so cancellation kills the prover and everything it started.
      const child = spawn(this.config.command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
      // If this worker dies before the prover ends, the reaper kills the group (no orphan keeps the GPU).
      const group = child.pid;
      if (group !== undefined) processReaper.track(group);
      const stderrTail: string[] = [];
      const forward = (chunk: Buffer): void => {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line) continue;
          const kept = clip(line, STDERR_LINE_CHARS);
          context.log(`[prover ${child.pid}] ${kept}`);
          stderrTail.push(kept);
          if (stderrTail.length > STDERR_LINES_KEPT) stderrTail.shift();
        }
      };
      child.stderr.on('data', forward);
      child.stdout.on('data', forward);
      const stopProgress = keepAlive(context);
      let killTimer: NodeJS.Timeout | undefined;
      const killGroup = (signal: NodeJS.Signals): void => {
        try {
          if (child.pid) process.kill(-child.pid, signal);
        } catch {
          // already gone
        }
      };
      const onAbort = (): void => {
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), this.config.killGraceMs);
      };
      context.signal.addEventListener('abort', onAbort, { once: true });
      child.on('error', (error) => {
        stopProgress();
        context.signal.removeEventListener('abort', onAbort);
        reject(new ProverFailedError(`cannot start prover ${this.config.command}: ${error.message}`));
      });
      child.on('close', (code, signal) => {
        stopProgress();
        if (killTimer) clearTimeout(killTimer);
        context.signal.removeEventListener('abort', onAbort);
        // Reap anything the prover left behind in its group.
        killGroup('SIGKILL');
        if (group !== undefined) processReaper.untrack(group);
        if (context.signal.aborted) return reject(context.signal.reason);
        if (code === 0) return resolve();
        const detail = stderrTail.length ? `: ${stderrTail.join(' | ')}` : '';
        if (code !== null && this.config.badInputExitCodes.includes(code)) {
          return reject(new BadInputError(`prover rejected its input (exit ${code})${detail}`));
        }
        reject(new ProverFailedError(`prover failed (${signal ? `signal ${signal}` : `exit ${code}`})${detail}`));
      });
    });
  }
}

function parseOutput<T>(schema: z.ZodType<T>, output: unknown, op: string): T {
  const parsed = schema.safeParse(output);
  if (!parsed.success) throw new ProverFailedError(`prover output for ${op} does not match the contract: ${describeIssues(parsed.error)}`);
  return parsed.data;
}
