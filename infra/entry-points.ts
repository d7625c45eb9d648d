import path from 'node:path';

/**
 * Where prooflane's code runs from: the TypeScript source under tsx (development, tests), or
 * `npm run build`'s JavaScript in dist/ under plain node (production images). Entry points that
 * start other processes ask here how, so a built process never needs tsx.
 */
export const RUNS_FROM_BUILD = __filename.endsWith('.js');

/** The repository's (or image's) root, where data/ lives by default: dist/.. when built. */
export const APP_ROOT = path.resolve(__dirname, '..', ...(RUNS_FROM_BUILD ? ['..'] : []));

/** Where the code of `relative` (a source path from the root, e.g. workers/gpu-worker.ts) runs from. */
export function codePath(relative: string): string {
  return RUNS_FROM_BUILD ? path.join(APP_ROOT, 'dist', relative.replace(/\.ts$/, '.js')) : path.join(APP_ROOT, relative);
}

/** node's arguments before the script: tsx's loader for the source, nothing for the build. */
export const NODE_LOADER_ARGS: string[] = RUNS_FROM_BUILD ? [] : ['--import', 'tsx'];

/** The workflow bundle `npm run build` writes and a built orchestration worker loads. */
export const BUILT_WORKFLOW_BUNDLE = path.join(APP_ROOT, 'dist', 'workflow-bundle.js');
