/**
 * The shape of a block's aggregation tree: segment proofs are leaves; each level
 * groups consecutive nodes by `fanIn`; a group of one is carried up unchanged.
 * Shared by the workflow (to schedule) and by backends (to verify), so it must be
 * deterministic and free of Node APIs.
 */
export type TreeNode =
  | { kind: 'segment'; index: number; from: number; to: number }
  | { kind: 'aggregate'; level: number; position: number; from: number; to: number; children: TreeNode[] };

export function buildAggregationTree(segmentCount: number, fanIn: number): TreeNode {
  if (!Number.isInteger(segmentCount) || segmentCount < 1) throw new RangeError(`segmentCount must be >= 1, got ${segmentCount}`);
  if (!Number.isInteger(fanIn) || fanIn < 2) throw new RangeError(`fanIn must be >= 2, got ${fanIn}`);
  let nodes: TreeNode[] = Array.from({ length: segmentCount }, (_, index) => ({ kind: 'segment', index, from: index, to: index + 1 }));
  let level = 0;
  while (nodes.length > 1) {
    level += 1;
    const next: TreeNode[] = [];
    for (let start = 0; start < nodes.length; start += fanIn) {
      const group = nodes.slice(start, start + fanIn);
      if (group.length === 1) {
        next.push(group[0]);
        continue;
      }
      next.push({
        kind: 'aggregate',
        level,
        position: next.length,
        from: group[0].from,
        to: group[group.length - 1].to,
        children: group,
      });
    }
    nodes = next;
  }
  return nodes[0];
}

/** Number of aggregation levels (0 when the block has a single segment). */
export function treeDepth(node: TreeNode): number {
  return node.kind === 'segment' ? 0 : Math.max(node.level, ...node.children.map(treeDepth));
}

export function aggregationNodes(node: TreeNode): Extract<TreeNode, { kind: 'aggregate' }>[] {
  if (node.kind === 'segment') return [];
  return [...node.children.flatMap(aggregationNodes), node];
}

/** Segments under a node: the leaves of its subtree. */
export function leafCount(node: TreeNode): number {
  return node.to - node.from;
}

/**
 * Splits a block's tree into leases: each lease is consecutive subtrees with at most
 * `maxSegments` segments in all, proved (segments and the aggregations inside them) by one
 * activity on one GPU node. The cut takes the largest subtrees that fit, so a block that fits
 * is one lease of its whole tree; the aggregation nodes above the cut stay tasks of their own.
 */
export function planLeases(tree: TreeNode, maxSegments: number): TreeNode[][] {
  if (!Number.isInteger(maxSegments) || maxSegments < 1) throw new RangeError(`maxSegments must be >= 1, got ${maxSegments}`);
  const cut = (node: TreeNode): TreeNode[] =>
    leafCount(node) <= maxSegments || node.kind === 'segment' ? [node] : node.children.flatMap(cut);
  const leases: TreeNode[][] = [];
  let current: TreeNode[] = [];
  let size = 0;
  for (const root of cut(tree)) {
    if (size + leafCount(root) > maxSegments && current.length > 0) {
      leases.push(current);
      current = [];
      size = 0;
    }
    current.push(root);
    size += leafCount(root);
  }
  if (current.length > 0) leases.push(current);
  return leases;
}

/** The node of `tree` that covers exactly segments [from, to), if there is one. */
export function findNode(tree: TreeNode, from: number, to: number): TreeNode | undefined {
  if (tree.from === from && tree.to === to) {
    // A group of one is carried up unchanged, so the same range can be a node at several levels: take the top.
    return tree;
  }
  if (tree.kind === 'segment' || from < tree.from || to > tree.to) return undefined;
  for (const child of tree.children) {
    const found = findNode(child, from, to);
    if (found) return found;
  }
  return undefined;
}
