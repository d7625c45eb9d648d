import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchResults, ScalingRow } from './results';
import type { Summary } from './stats';

/**
 * Writes docs/BENCHMARKS.md and its SVG charts from one run's results on the dev server, and
 * beside them, when there is one, a full run of the same profile on PostgreSQL-backed Temporal.
 */
export function writeReport(results: BenchResults, docsDir: string, onPostgres?: BenchResults): void {
  writeFileSync(path.join(docsDir, 'bench-dispatch-cdf.svg'), cdfChart(results.dispatch.scheduleToStartSamples));
  writeFileSync(path.join(docsDir, 'bench-scaling.svg'), scalingChart(results.scaling));
  writeFileSync(path.join(docsDir, 'bench-overhead.svg'), overheadChart(results.overhead));
  writeFileSync(path.join(docsDir, 'BENCHMARKS.md'), markdown(results) + (onPostgres ? postgresSection(results, onPostgres) : ''));
}

/** The PostgreSQL run's headline figures beside the dev server's, row for row. */
function postgresSection(dev: BenchResults, pg: BenchResults): string {
  const overhead = dev.overhead.map((d) => {
    const p = pg.overhead.find((o) => o.segmentMs === d.segmentMs && o.segments === d.segments);
    return row([
      d.segmentMs,
      d.segments,
      ms(d.floor.perSegment.p50),
      p ? ms(p.floor.perSegment.p50) : 'n/a',
      ms(d.prooflane.p50),
      p ? ms(p.prooflane.p50) : 'n/a',
      ms(d.prooflaneEndToEnd.p50),
      p ? ms(p.prooflaneEndToEnd.p50) : 'n/a',
      p ? ratio(p.prooflaneEndToEnd.p50, d.prooflaneEndToEnd.p50) : 'n/a',
    ]);
  });
  const scaling = dev.scaling
    .filter((s) => s.system === 'prooflane')
    .map((d) => {
      const p = pg.scaling.find((s) => s.system === 'prooflane' && s.segments === d.segments && s.slots === d.slots);
      return row([
        d.segments,
        d.slots,
        d.throughput.toFixed(2),
        p ? p.throughput.toFixed(2) : 'n/a',
        pct(d.efficiency),
        p ? pct(p.efficiency) : 'n/a',
      ]);
    });
  return `
## On Temporal with PostgreSQL

The same profile run by \`${pg.command}\` on ${pg.startedAt}, on this machine kind (${pg.machine.cpus} × ${pg.machine.cpuModel}):
${pg.machine.temporal}. The PostgreSQL server shares the machine's cores with everything else.
Beside each figure, the dev server's from the run above. Overhead P50 in ms.

${row(['segment ms', 'segments', 'floor, dev', 'floor, PostgreSQL', 'in workflow, dev', 'in workflow, PostgreSQL', 'end to end, dev', 'end to end, PostgreSQL', 'PostgreSQL ÷ dev'])}
${row(Array(9).fill('---'))}
${overhead.join('\n')}

${row(['', 'dev P50', 'dev P99', 'PostgreSQL P50', 'PostgreSQL P99'])}
${row(Array(5).fill('---'))}
${row(['schedule → start', ms(dev.dispatch.scheduleToStart.p50), ms(dev.dispatch.scheduleToStart.p99), ms(pg.dispatch.scheduleToStart.p50), ms(pg.dispatch.scheduleToStart.p99)])}
${row(['finish → seen', ms(dev.dispatch.finishToSeen.p50), ms(dev.dispatch.finishToSeen.p99), ms(pg.dispatch.finishToSeen.p50), ms(pg.dispatch.finishToSeen.p99)])}
${row(['head of chain (submission → finalized)', ms(dev.head.latency.p50), ms(dev.head.latency.p99), ms(pg.head.latency.p50), ms(pg.head.latency.p99)])}

${row(['segments', 'slots', 'proofs/s, dev', 'proofs/s, PostgreSQL', 'efficiency, dev', 'efficiency, PostgreSQL'])}
${row(Array(6).fill('---'))}
${scaling.join('\n')}
`;
}

const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : 'n/a');
const pct = (value: number): string => (Number.isFinite(value) ? `${(value * 100).toFixed(2)}%` : 'n/a');
const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;
const ratio = (value: number, base: number): string =>
  Number.isFinite(value) && Number.isFinite(base) && base > 0 ? `${(value / base).toFixed(2)}×` : 'n/a';
const summaryCells = (s: Summary): string[] => [String(s.n), ms(s.p50), ms(s.p95), ms(s.p99), ms(s.max)];

function markdown(r: BenchResults): string {
  const overheadRows = r.overhead.map((o) =>
    row([
      o.segmentMs,
      o.segments,
      ms(o.criticalPathMs),
      ms(o.ideal.p50),
      ms(o.push0.p50),
      ms(o.floor.perSegment.p50),
      ms(o.prooflane.p50),
      ratio(o.prooflane.p50, o.push0.p50),
      ms(o.prooflaneEndToEnd.p50),
      ratio(o.prooflaneEndToEnd.p50, o.floor.perSegment.p50),
      ratio(o.prooflaneEndToEnd.p50, o.push0.p50),
    ]),
  );
  const shapeRows = r.overhead.map((o) =>
    row([o.segmentMs, o.segments, ms(o.floor.perSegment.p50), ms(o.floor.lease.p50), ms(o.floor.eager.p50), ms(o.prooflaneEndToEnd.p50)]),
  );
  const cpuRoles = ['temporal server', 'orchestration worker', 'GPU workers', 'API', 'benchmark client'];
  // CPU as a share of the whole machine (all cores) over the scaling step's wall time.
  const cpuShare = (s: ScalingRow, role?: string): string => {
    if (!s.cpu) return 'n/a';
    const seconds = role ? (s.cpu.cpuSeconds[role] ?? 0) : Object.values(s.cpu.cpuSeconds).reduce((a, b) => a + b, 0);
    return `${((seconds / (s.cpu.wallSeconds * r.machine.cpus)) * 100).toFixed(0)}%`;
  };
  const shapes = [...new Set(r.scaling.map((s) => s.segments))];
  const scalingTables = shapes.map((segments) => {
    const ours = r.scaling.filter((s) => s.system === 'prooflane' && s.segments === segments);
    const theirs = (slots: number) => r.scaling.find((s) => s.system === 'push0' && s.segments === segments && s.slots === slots);
    const rows = ours.map((s) => {
      const baseline = theirs(s.slots);
      return row([
        s.slots,
        s.blocks,
        s.seconds.toFixed(2),
        s.throughput.toFixed(2),
        pct(s.efficiency),
        baseline ? baseline.throughput.toFixed(2) : 'n/a',
        baseline ? pct(baseline.efficiency) : 'n/a',
        cpuShare(s),
        ...cpuRoles.map((role) => cpuShare(s, role)),
      ]);
    });
    return `### ${segments === 1 ? 'One-segment blocks (every proof is a whole block)' : `${segments}-segment blocks`}

${row(['slots', 'blocks', 'seconds', 'prooflane proofs/s', 'prooflane efficiency', 'push0 proofs/s', 'push0 efficiency', 'CPU busy', ...cpuRoles])}
${row(Array(8 + cpuRoles.length).fill('---'))}
${rows.join('\n')}`;
  });
  const head = r.head;
  return `# Benchmarks

Generated by \`${r.command}\` (profile \`${r.profile}\`) on ${r.startedAt}. Every figure below is from that run;
re-running the command regenerates this file, the charts beside it and \`bench/results/*.json\`.

## Machine and settings

- ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, ${r.machine.platform}, Node ${r.machine.node}
- Temporal: ${r.machine.temporal}
- Everything on this one machine: the Temporal server, the orchestration worker, GPU workers
  (simulated prover, one process with one slot per "GPU"), the API and the benchmark client
  share the 2 cores. Blocks go through the real HTTP API; timings come from the block workflows.
- Aggregation: fan-in ${r.aggregation.fanIn}, ${r.aggregation.aggregateMs} ms per aggregation node; verification 0 ms.

## Per-block orchestration overhead

Overhead = block wall time − its critical path (longest segment + aggregation levels +
verification), DESIGN.md's definition. One block at a time (sequential chain), a warm-up block
per row discarded. *ideal*: the same simulated work in-process with no orchestration (the
physical limit). *push0*: a push0-style dispatcher–collector over NATS JetStream with the same
workload, in the same run. *prooflane*: inside the block workflow (start to verified proof);
*end to end*: HTTP submission to finalization as the client sees it (API, sequencer, block
workflow, publication). *Temporal floor*: the minimal Temporal workflow of the block's shape (one
activity per segment, all at once, then one aggregation activity; TypeScript SDK workers, client
start to result) on the same server, in the same run (\`bench/floor/\`). All in ms, P50 over the
blocks of the row.

${row(['segment ms', 'segments', 'critical path', 'ideal', 'push0', 'Temporal floor', 'prooflane in workflow', '÷ push0', 'prooflane end to end', '÷ floor', '÷ push0'])}
${row(Array(11).fill('---'))}
${overheadRows.join('\n')}

### Shapes of a block's hot path on Temporal

The same rows, as minimal Temporal workflows of three shapes (\`bench/floor/workflows.ts\`), overhead
from client start to result: *per segment* (the floor above); *lease*: one activity runs the
block's segments at once on one node and aggregates there, reporting each segment by heartbeat;
*eager*: the per-segment shape with the workflow hosted on the activities' task queue, so the
server hands the activities out in the workflow task's response. Beside them, prooflane end to end.

${row(['segment ms', 'segments', 'per segment (floor)', 'lease', 'eager', 'prooflane end to end'])}
${row(Array(6).fill('---'))}
${shapeRows.join('\n')}

![overhead vs segment time](bench-overhead.svg)

## Per-task dispatch overhead (prooflane)

For every segment of the rows above: *schedule → start* is the time from Temporal scheduling the
activity that carries it (its lease) to a GPU of the worker starting the segment; *finish → seen*
from the lease's last unit finishing (the top aggregation inside it) to the workflow processing
the lease's result (ms).

${row(['', 'samples', 'P50', 'P95', 'P99', 'max'])}
${row(Array(6).fill('---'))}
${row(['schedule → start', ...summaryCells(r.dispatch.scheduleToStart)])}
${row(['finish → seen', ...summaryCells(r.dispatch.finishToSeen)])}

![schedule-to-start CDF](bench-dispatch-cdf.svg)

## Scaling efficiency

A saturating stream of blocks (pipelined chain, \`maxInFlight\` = 2 × slots ÷ segments per block, at least 2,
all blocks submitted at once) over one GPU worker process with n slots, ${r.scalingSegmentMs} ms per segment;
the push0-style baseline proves the same stream with n dispatchers. Throughput = segment proofs
per second between the first segment start and the last segment finish; efficiency =
throughput(n) / (n × throughput(1)) of the same system and block shape.

CPU (prooflane): user + system time of each process (from /proc) from the first submission to
the last finalization of the step, as a share of the machine's ${r.machine.cpus} cores; the first CPU
column is all of them together.

${scalingTables.join('\n\n')}

![scaling efficiency](bench-scaling.svg)

## Head-of-chain latency

A pipelined chain (\`maxInFlight\` 8, 32 slots) receiving one block every ${head.intervalMs} ms, each
${head.segments} segments × ${head.segmentMs} ms, stamped with its submission second; latency is submission
to finalization (ms).

${row(['blocks', 'critical path', 'P50', 'P95', 'P99', 'max', `met the ${head.slotSeconds} s slot deadline`])}
${row(Array(7).fill('---'))}
${row([head.blocks, ms(head.criticalPathMs), ms(head.latency.p50), ms(head.latency.p95), ms(head.latency.p99), ms(head.latency.max), `${head.deadlineMet} / ${head.blocks}`])}

${quorumSection(r)}## Targets against this run

${row(['target', 'measured', 'met', 'by how much'])}
${row(Array(4).fill('---'))}
${targets(r)
  .map((t) => row([t.target, t.measured, t.met ? 'yes' : 'no', t.met ? '' : t.gap]))
  .join('\n')}

For each target not met, the evidence (the hot path's trace from history timings, CPU per process)
and the design change that would close it: [BENCHMARKS-NOTES.md](BENCHMARKS-NOTES.md), "The
targets, and what stands between them and this design".
`;
}

// ---- charts: small hand-made SVGs, no dependencies ----------------------------------------------

interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

function lineChart(
  title: string,
  xLabel: string,
  yLabel: string,
  series: Series[],
  options: { logX?: boolean; yMax?: number } = {},
): string {
  const width = 640;
  const height = 360;
  const left = 60;
  const bottom = 40;
  const top = 30;
  const right = 140;
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (all.length === 0)
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><text x="20" y="30">${title}: no data</text></svg>`;
  const fx = (x: number): number => (options.logX ? Math.log10(x) : x);
  const xs = all.map(([x]) => fx(x));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs) === xMin ? xMin + 1 : Math.max(...xs);
  const yMax = options.yMax ?? (Math.max(...all.map(([, y]) => y)) * 1.1 || 1);
  const px = (x: number): number => left + ((fx(x) - xMin) / (xMax - xMin)) * (width - left - right);
  const py = (y: number): number => height - bottom - (Math.min(y, yMax) / yMax) * (height - top - bottom);
  const ticks = Array.from({ length: 5 }, (_, i) => (yMax * i) / 4);
  const xTicks = [...new Set(all.map(([x]) => x))].sort((a, b) => a - b);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="${left}" y="18" font-size="13" font-weight="bold">${title}</text>
${ticks.map((t) => `<line x1="${left}" x2="${width - right}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd"/><text x="${left - 6}" y="${py(t) + 4}" text-anchor="end">${t >= 10 ? t.toFixed(0) : t.toFixed(2)}</text>`).join('\n')}
${xTicks.length <= 12 ? xTicks.map((x) => `<text x="${px(x)}" y="${height - bottom + 14}" text-anchor="middle">${x}</text>`).join('\n') : ''}
<text x="${(left + width - right) / 2}" y="${height - 8}" text-anchor="middle">${xLabel}</text>
<text x="14" y="${(top + height - bottom) / 2}" transform="rotate(-90 14 ${(top + height - bottom) / 2})" text-anchor="middle">${yLabel}</text>
${series
  .map(
    (s, i) => `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.points
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`)
      .join(' ')}"/>
<rect x="${width - right + 10}" y="${top + i * 18}" width="12" height="3" fill="${s.color}"/><text x="${width - right + 28}" y="${top + i * 18 + 5}">${s.name}</text>`,
  )
  .join('\n')}
</svg>
`;
}

function cdfChart(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const points: [number, number][] = sorted.map((value, i) => [value, (i + 1) / sorted.length]);
  return lineChart(
    'Segment schedule → start latency (CDF)',
    'ms',
    'fraction of segments',
    [{ name: 'prooflane', color: '#3b5bdb', points }],
    { yMax: 1 },
  );
}

function scalingChart(rows: BenchResults['scaling']): string {
  const colors = ['#3b5bdb', '#2f9e44', '#e8590c', '#c2255c'];
  const shapes = [...new Set(rows.map((r) => r.segments))];
  const series: Series[] = shapes.flatMap((segments, i) => [
    {
      name: `prooflane ${segments} seg`,
      color: colors[i % colors.length],
      points: rows.filter((r) => r.system === 'prooflane' && r.segments === segments).map((r): [number, number] => [r.slots, r.efficiency]),
    },
    {
      name: `push0 ${segments} seg`,
      color: `${colors[i % colors.length]}88`,
      points: rows.filter((r) => r.system === 'push0' && r.segments === segments).map((r): [number, number] => [r.slots, r.efficiency]),
    },
  ]);
  return lineChart(
    'Scaling efficiency',
    'GPU slots',
    'efficiency',
    [...series, { name: 'ideal (1.0)', color: '#aaa', points: rows.map((r) => [r.slots, 1]) }],
    { logX: true, yMax: 1.2 },
  );
}

function overheadChart(rows: BenchResults['overhead']): string {
  const counts = [...new Set(rows.map((r) => r.segments))];
  const colors = ['#3b5bdb', '#2f9e44', '#e8590c', '#c2255c'];
  const series: Series[] = [];
  counts.forEach((count, i) => {
    const mine = rows.filter((r) => r.segments === count);
    series.push({
      name: `prooflane e2e ${count} seg`,
      color: colors[i % colors.length],
      points: mine.map((r) => [r.segmentMs, r.prooflaneEndToEnd.p50]),
    });
    series.push({
      name: `Temporal floor ${count} seg`,
      color: `${colors[i % colors.length]}99`,
      points: mine.map((r) => [r.segmentMs, r.floor.perSegment.p50]),
    });
    series.push({
      name: `push0 ${count} seg`,
      color: `${colors[i % colors.length]}44`,
      points: mine.map((r) => [r.segmentMs, r.push0.p50]),
    });
  });
  return lineChart('End-to-end overhead (P50) vs segment time', 'segment ms', 'overhead ms', series, { logX: true });
}

interface TargetCheck {
  target: string;
  measured: string;
  met: boolean;
  /** How far from the target, when it is not met. */
  gap: string;
}

/** The hot path's targets (docs/BENCHMARKS-NOTES.md), each against this run's figure. */
function targets(r: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const endToEnd = r.overhead.filter((o) => [1, 8, 32].includes(o.segments));
  if (endToEnd.length) {
    const worst = endToEnd.map((o) => ({ o, ratio: o.prooflaneEndToEnd.p50 / o.floor.perSegment.p50 }));
    checks.push({
      target: 'end-to-end overhead ≤ 1.5 × the Temporal floor of the same shape',
      measured: worst.map(({ o, ratio }) => `${o.segments} × ${o.segmentMs} ms: ${ratio.toFixed(2)}×`).join('; '),
      met: worst.every(({ ratio }) => ratio <= 1.5),
      gap: `${worst.filter(({ ratio }) => ratio > 1.5).length} of ${worst.length} rows over; the worst ${Math.max(...worst.map(({ ratio }) => ratio)).toFixed(2)}×, ${ms(Math.max(...worst.map(({ o }) => o.prooflaneEndToEnd.p50 - 1.5 * o.floor.perSegment.p50)))} ms over 1.5 × its floor`,
    });
  }
  const long = r.overhead.filter((o) => o.segmentMs >= 1_000);
  if (long.length) {
    const ratios = long.map((o) => ({ o, ratio: o.prooflane.p50 / o.push0.p50 }));
    checks.push({
      target: 'overhead inside the block workflow ≤ 3 × the push0-style baseline (segments of 1 s or more)',
      measured: ratios.map(({ o, ratio }) => `${o.segments} × ${o.segmentMs} ms: ${ratio.toFixed(1)}×`).join('; '),
      met: ratios.every(({ ratio }) => ratio <= 3),
      gap: `${ratios.filter(({ ratio }) => ratio > 3).length} of ${ratios.length} rows over; the worst ${ms(Math.max(...ratios.map(({ o }) => o.prooflane.p50 - 3 * o.push0.p50)))} ms over 3 × the baseline`,
    });
  }
  const dispatch = r.dispatch.scheduleToStart;
  if (dispatch.n > 0)
    checks.push({
      target: 'dispatch (scheduled → started) P50 ≤ 5 ms and P99 ≤ 25 ms',
      measured: `P50 ${ms(dispatch.p50)} ms, P99 ${ms(dispatch.p99)} ms`,
      met: dispatch.p50 <= 5 && dispatch.p99 <= 25,
      gap: `P50 ${ms(Math.max(0, dispatch.p50 - 5))} ms over, P99 ${ms(Math.max(0, dispatch.p99 - 25))} ms over`,
    });
  for (const [segments, bar] of [
    [8, 0.99],
    [1, 0.95],
  ] as const) {
    const at = (slots: number) => r.scaling.find((s) => s.system === 'prooflane' && s.segments === segments && s.slots === slots);
    const at32 = at(32);
    if (at32)
      checks.push({
        target: `scaling efficiency at 32 slots ≥ ${bar * 100}% (${segments === 1 ? 'one-segment' : `${segments}-segment`} blocks)`,
        measured: `${pct(at32.efficiency)} at 32${at(64) ? `, ${pct((at(64) as ScalingRow).efficiency)} at 64` : ''}`,
        met: at32.efficiency >= bar,
        gap: `${((bar - at32.efficiency) * 100).toFixed(1)} points short at 32 slots`,
      });
  }
  if (r.head.blocks > 0)
    checks.push({
      target: 'head of chain: P99 submission → finalization ≤ critical path + 100 ms',
      measured: `P99 ${ms(r.head.latency.p99)} ms against ${ms(r.head.criticalPathMs)} + 100 ms`,
      met: r.head.latency.p99 <= r.head.criticalPathMs + 100,
      gap: `${ms(r.head.latency.p99 - r.head.criticalPathMs - 100)} ms over`,
    });
  return checks;
}

/** Multi-proof's cost: head-of-chain latency per quorum policy (the newest run that measured it). */
function quorumSection(r: BenchResults): string {
  const q = r.quorum;
  if (!q) return '';
  const provers = q.provers.map((p) => `\`${p.gpuClass}\` ${p.segmentMs} ms`).join(', ');
  return `## Multi-proof: head-of-chain latency per quorum

Simulated provers of spread speeds (segment time: ${provers}), each on a GPU node of its own class
(8 GPUs), one chain per policy, a pipelined stream of ${q.blocks} blocks of ${q.segments} segments, one every
${q.intervalMs} ms. Latency is submission → finalized as the chain recorded it; the deciding path is the
critical path of the proof that completed the quorum; GPU time counts every prover, those stopped at
the quorum too. Measured by \`${q.measuredBy.command}\` (${q.measuredBy.startedAt}), on the machine above.

${row(['policy', 'P50', 'P95', 'P99', 'max', 'deciding path P50', 'overhead P50 (P50 − deciding path)', 'GPU time per block P50'])}
${row(Array(8).fill('---'))}
${q.rows
  .map((x) =>
    row([
      x.policy,
      ms(x.latency.p50),
      ms(x.latency.p95),
      ms(x.latency.p99),
      ms(x.latency.max),
      ms(x.decidingPathMs),
      ms(x.latency.p50 - x.decidingPathMs),
      ms(x.gpuMs),
    ]),
  )
  .join('\n')}

`;
}
