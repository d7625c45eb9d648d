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
