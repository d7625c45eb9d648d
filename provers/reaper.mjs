#!/usr/bin/env node
// The reaper of one worker process's external provers (provers/process-reaper.ts). It reads
// "+<pgid>" and "-<pgid>" lines on stdin; when stdin closes, its worker has gone (even by
// SIGKILL), and every process group still listed is killed so no prover keeps a GPU.
import { createInterface } from 'node:readline';

const groups = new Set();
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const pgid = Number(line.slice(1));
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  if (line[0] === '+') groups.add(pgid);
  else if (line[0] === '-') groups.delete(pgid);
});
lines.on('close', () => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  process.exit(0);
});
