#!/usr/bin/env node
// An example prover for the `command` backend: JSON in, JSON out, hashes for proofs.
// Usage: hash-prover.mjs --input in.json --output out.json
// Knobs under input.example (used by tests and demos):
//   sleepMs          time a prove or aggregate op takes (plan and verify are instant)
//   failAttempts     attempts 1..n exit 1 (a crash; retried by the orchestrator)
//   badInput         exit 65 (bad input; not retried)
//   pidFile          write this process's pid there (to observe cancellation)
//   requireFile      prove ops exit 65 (bad input) unless this file exists: a missing witness an operator can supply
//   garbage          write an output that is not a valid proof
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

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

if (knobs.pidFile) writeFileSync(knobs.pidFile, String(process.pid));
if (knobs.badInput) {
  process.stderr.write(`bad input: ${knobs.badInput}\n`);
  process.exit(65);
}
if (knobs.requireFile && request.op === 'prove' && !existsSync(knobs.requireFile)) {
  process.stderr.write(`witness ${knobs.requireFile} is missing\n`);
  process.exit(65);
}
if (knobs.failAttempts && request.attempt <= knobs.failAttempts) {
  process.stderr.write(`crashing on attempt ${request.attempt}\n`);
  process.exit(1);
}
if (knobs.sleepMs && (request.op === 'prove' || request.op === 'aggregate'))
  await new Promise((resolve) => setTimeout(resolve, knobs.sleepMs));

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
