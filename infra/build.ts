import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { runMain } from '../config/env';

/**
 * `npm run build`: prooflane as production runs it. TypeScript compiled to dist/ (node runs it,
 * never tsx), the files the code reads beside it (circuits, the prover helpers, the install
 * scripts), and the workflow code pre-bundled once into dist/workflow-bundle.js, which a built
 * orchestration worker loads instead of bundling at every start.
 */
const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');

/** Files that are not TypeScript but are read or run at run time: by folder and extension. */
const ASSETS: { folder: string; extension: string }[] = [
  { folder: 'provers', extension: '.circom' },
  { folder: 'provers', extension: '.mjs' },
  { folder: 'infra', extension: '.sh' },
  // The live chain page, served as it is (no build step for users).
  { folder: 'api/chain-page', extension: '.html' },
  { folder: 'api/chain-page', extension: '.css' },
  { folder: 'api/chain-page', extension: '.js' },
];

async function main(): Promise<void> {
  const started = Date.now();
  rmSync(DIST, { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  for (const { folder, extension } of ASSETS) {
    const files = readdirSync(path.join(ROOT, folder), { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith(extension));
    for (const file of files.map((name) => path.join(folder, name))) {
      mkdirSync(path.dirname(path.join(DIST, file)), { recursive: true });
      cpSync(path.join(ROOT, file), path.join(DIST, file));
    }
  }
  const { code } = await bundleWorkflowCode({ workflowsPath: path.join(DIST, 'workflows', 'index.js') });
  writeFileSync(path.join(DIST, 'workflow-bundle.js'), code);
  if (!existsSync(path.join(DIST, 'workers', 'orchestration-worker.js')))
    throw new Error('build: dist/workers/orchestration-worker.js is missing');
  console.log(`built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s (workflow bundle ${(code.length / 1024).toFixed(0)} KiB)`);
}

runMain('build', main);
