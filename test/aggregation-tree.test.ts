import { aggregationNodes, buildAggregationTree, treeDepth } from '../domain/aggregation-tree';

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
});
