#!/usr/bin/env node
// An example prover for the `command` backend: JSON in, JSON out, hashes for proofs.
// Usage: hash-prover.mjs --input in.json --output out.json
// Knobs under input.example (used by tests and demos):
//   sleepMs          time a prove or aggregate op takes, at most 10 minutes (plan and verify are instant)
//   failAttempts     attempts 1..n exit 1 (a crash; retried by the orchestrator)
//   badInput         exit 65 (bad input; not retried)
//   recordPid        write this process's pid into the state directory (to observe cancellation)
//   requireWitness   prove ops exit 65 (bad input) until the block's witness file is in the state directory:
//                    a missing witness an operator can supply
//   garbage          write an output that is not a valid proof
// No knob names a path: files live only in the operator's PROOFLANE_EXAMPLE_STATE_DIR, named after
// the block (<chainId>-<number>.witness, <chainId>-<number>-<op>-<index>.pid).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const argv = process.argv.slice(2);
const arg = (name) => {
  const i = argv.indexOf(name);
  if (i < 0 || !argv[i + 1]) {
    process.stderr.write(`usage: hash-prover.mjs --input in.json --output out.json (missing ${name})\n`);
    process.exit(2);
  }
  return argv[i + 1];
};
const inputPath = arg('--input');
const outputPath = arg('--output');
const request = JSON.parse(readFileSync(inputPath, 'utf8'));
const knobs = (request.input && request.input.example) || {};
const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64');
const unb64 = (text) => JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
const { chainId, number, hash } = request.block;
if (!/^[a-z0-9-]{1,64}$/.test(chainId) || !Number.isSafeInteger(number) || number < 0) {
  process.stderr.write('request.block has no valid chainId and number\n');
  process.exit(65);
}
const stateDir = process.env.PROOFLANE_EXAMPLE_STATE_DIR;
const stateFile = (name) => (stateDir ? path.join(stateDir, name) : undefined);

const pidFile = knobs.recordPid === true && stateFile(`${chainId}-${number}-${request.op}-${request.index ?? 'x'}.pid`);
if (pidFile) writeFileSync(pidFile, String(process.pid));
if (knobs.badInput) {
  process.stderr.write(`bad input: ${String(knobs.badInput).slice(0, 200)}\n`);
  process.exit(65);
}
if (knobs.requireWitness === true && request.op === 'prove') {
  const witness = stateFile(`${chainId}-${number}.witness`);
  if (!witness || !existsSync(witness)) {
    process.stderr.write(`the witness of block ${number} is missing\n`);
    process.exit(65);
  }
}
if (knobs.failAttempts && request.attempt <= knobs.failAttempts) {
  process.stderr.write(`crashing on attempt ${request.attempt}\n`);
  process.exit(1);
}
const sleepMs = Math.min(Number(knobs.sleepMs) || 0, 600_000);
if (sleepMs > 0 && (request.op === 'prove' || request.op === 'aggregate')) await new Promise((resolve) => setTimeout(resolve, sleepMs));

const leaf = (index) => ({ from: index, to: index + 1, digest: sha256(`seg|${chainId}|${number}|${hash}|${index}`) });
const merge = (children) => ({
  from: children[0].from,
  to: children.at(-1).to,
  digest: sha256(`agg|${children.map((c) => c.digest).join('|')}`),
});
// The same tree as domain/aggregation-tree.ts: groups of fanIn, a group of one carried up.
const root = (count, fanIn) => {
  let nodes = Array.from({ length: count }, (_, i) => leaf(i));
  while (nodes.length > 1) {
    const next = [];
    for (let i = 0; i < nodes.length; i += fanIn) {
      const group = nodes.slice(i, i + fanIn);
      next.push(group.length === 1 ? group[0] : merge(group));
    }
    nodes = next;
  }
  return nodes[0];
};

let output;
switch (request.op) {
  case 'plan':
    output = { segmentCount: request.requestedSegments, fanIn: request.defaultFanIn };
    break;
  case 'prove':
    output = { proof: knobs.garbage ? 'bm90IGEgcHJvb2Y=' : b64(leaf(request.index)) };
    break;
  case 'aggregate': {
    const children = request.children.map(unb64);
    for (let i = 1; i < children.length; i++) {
      if (children[i].from !== children[i - 1].to) {
        process.stderr.write('children are not contiguous\n');
        process.exit(65);
      }
    }
    output = { proof: b64(merge(children)) };
    break;
  }
  case 'verify': {
    let proof;
    try {
      proof = unb64(request.proof);
    } catch {
      output = { valid: false, reason: 'proof is not decodable' };
      break;
    }
    const expected = root(request.segmentCount, request.fanIn);
    const valid = proof.from === 0 && proof.to === request.segmentCount && proof.digest === expected.digest;
    output = valid ? { valid } : { valid, reason: 'digest does not match the block' };
    break;
  }
  default:
    process.stderr.write(`unknown op ${request.op}\n`);
    process.exit(2);
}
writeFileSync(outputPath, JSON.stringify(output));
