import type { SourceBlock } from './chain-source';

/**
 * How many segments a followed block is split into: one per `gasPerSegment` of gas used (a
 * zkVM's cycles grow with the gas a block burns), at least `minSegments`, at most `maxSegments`.
 * An empty block is `minSegments`.
 */
export interface SegmentRule {
  gasPerSegment: number;
  minSegments: number;
  maxSegments: number;
}

export function segmentsFor(block: Pick<SourceBlock, 'gasUsed'>, rule: SegmentRule): number {
  const perSegment = BigInt(rule.gasPerSegment);
  const needed = Number((block.gasUsed + perSegment - 1n) / perSegment);
  return Math.min(rule.maxSegments, Math.max(rule.minSegments, needed));
}
