import fc from 'fast-check';
import {
  aggregationNodes,
  buildAggregationTree,
  findNode,
  leafCount,
  planLeases,
  treeDepth,
  type TreeNode,
} from '../domain/aggregation-tree';

describe('aggregation tree', () => {
  const k = 4;

  it.each([
    [1, 0, 0],
    [2, 1, 1],
    [k, 1, 1],
    [k * k, 2, k + 1],
    // k²+1: level 1 has k groups and one proof carried up; level 2 merges the k groups; level 3 joins the carried one.
    [k * k + 1, 3, k + 2],
  ])('%i segments with fan-in 4 give %i levels and %i aggregations', (segments, levels, aggregations) => {
    const tree = buildAggregationTree(segments, k);
    expect(treeDepth(tree)).toBe(levels);
    expect(aggregationNodes(tree)).toHaveLength(aggregations);
    expect([tree.from, tree.to]).toEqual([0, segments]);
  });

  it('groups consecutive segments, so every node covers a contiguous range', () => {
    for (const node of aggregationNodes(buildAggregationTree(37, 3))) {
      for (let i = 1; i < node.children.length; i += 1) expect(node.children[i].from).toBe(node.children[i - 1].to);
      expect(node.children.length).toBeLessThanOrEqual(3);
    }
  });

  it('rejects impossible shapes', () => {
    expect(() => buildAggregationTree(0, 4)).toThrow(RangeError);
    expect(() => buildAggregationTree(4, 1)).toThrow(RangeError);
  });

  describe('leases', () => {
    const shapes = fc.record({
      segments: fc.integer({ min: 1, max: 300 }),
      fanIn: fc.integer({ min: 2, max: 9 }),
      leaseSegments: fc.integer({ min: 1, max: 64 }),
    });

    it('give every segment to exactly one lease, in order, none over its size, each root a node of the tree', () => {
      fc.assert(
        fc.property(shapes, ({ segments, fanIn, leaseSegments }) => {
          const tree = buildAggregationTree(segments, fanIn);
          const leases = planLeases(tree, leaseSegments);
          const roots = leases.flat();
          expect(roots[0].from).toBe(0);
          expect(roots[roots.length - 1].to).toBe(segments);
          for (let i = 1; i < roots.length; i += 1) expect(roots[i].from).toBe(roots[i - 1].to);
          for (const lease of leases) expect(lease.reduce((sum, root) => sum + leafCount(root), 0)).toBeLessThanOrEqual(leaseSegments);
          for (const root of roots) expect(findNode(tree, root.from, root.to)).toBe(root);
        }),
        { seed: 41, numRuns: 500 },
      );
    });

    it('cut the tree at the largest subtrees that fit: the parent of a root never fits in a lease', () => {
      const parentOf = (tree: TreeNode, node: TreeNode): TreeNode | undefined =>
        tree.kind === 'segment'
          ? undefined
          : tree.children.includes(node)
            ? tree
            : tree.children.map((child) => parentOf(child, node)).find(Boolean);
      fc.assert(
        fc.property(shapes, ({ segments, fanIn, leaseSegments }) => {
          const tree = buildAggregationTree(segments, fanIn);
          for (const root of planLeases(tree, leaseSegments).flat()) {
            const parent = parentOf(tree, root);
            if (parent) expect(leafCount(parent)).toBeGreaterThan(leaseSegments);
          }
        }),
        { seed: 42, numRuns: 300 },
      );
    });

    it('make a block that fits one lease of its whole tree, and pack subtrees up to the size', () => {
      const tree = buildAggregationTree(32, 4);
      expect(planLeases(tree, 32)).toEqual([[tree]]);
      // Subtrees of 4 segments; leases of 8 take two of them each.
      expect(planLeases(tree, 8).map((lease) => lease.map((root) => [root.from, root.to]))).toEqual([
        [
          [0, 4],
          [4, 8],
        ],
        [
          [8, 12],
          [12, 16],
        ],
        [
          [16, 20],
          [20, 24],
        ],
        [
          [24, 28],
          [28, 32],
        ],
      ]);
      expect(planLeases(tree, 1)).toHaveLength(32);
    });
  });
});
