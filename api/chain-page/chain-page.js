// The live chain page: reads the public HTTP API (docs/DESIGN.md) once a second and draws the
// chain's state and its last blocks. With API keys set, open it as /chains/<id>#key=<api key>.
// Everything from the API is written as text, never as HTML.

const REFRESH_MS = 1000;
const BLOCKS_SHOWN = 100;
/** Blocks whose segments are drawn (each costs a query of its workflow until it is final). */
const BLOCKS_WITH_WORK = 30;
const FINAL = new Set(['finalized', 'failed', 'cancelled']);

const chainId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() ?? '');
// The key comes in the URL's fragment once; it is kept for this tab only and taken out of the URL (and its history).
const keyStorage = `prooflane-key:${location.origin}`;
const fragmentKey = new URLSearchParams(location.hash.slice(1)).get('key');
if (fragmentKey) {
  sessionStorage.setItem(keyStorage, fragmentKey);
  history.replaceState(null, '', location.pathname + location.search);
}
const key = sessionStorage.getItem(keyStorage);
/** Work of blocks that will not change any more, by workflow id. */
const finalWork = new Map();
const workerColours = new Map();

function api(path) {
  const headers = key ? { authorization: `Bearer ${key}` } : {};
  return fetch(`/v1/chains/${encodeURIComponent(chainId)}${path}`, { headers }).then(async (response) => {
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`);
    return body;
  });
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'style') Object.assign(node.style, value);
    else if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function colourOf(worker) {
  if (!workerColours.has(worker)) {
    const hue = (workerColours.size * 137.5 + 20) % 360;
    workerColours.set(worker, `hsl(${hue} 70% 58%)`);
  }
  return workerColours.get(worker);
}

function ms(value) {
  if (value === undefined || value === null) return '–';
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

function time(iso) {
  return iso === undefined ? undefined : Date.parse(iso);
}

async function workOf(block) {
  // A final block's work never changes: it is asked for once (also when it has none to show).
  if (finalWork.has(block.workflowId)) return finalWork.get(block.workflowId);
  if (block.status === 'queued') return undefined;
  const view = await api(`/blocks/${block.number}?work=true`).catch(() => undefined);
  if (view && FINAL.has(view.status)) finalWork.set(block.workflowId, view.work);
  return view?.work;
}

function stat(label, value) {
  return element(
    'div',
    { class: 'stat' },
    element('div', { class: 'value', text: String(value) }),
    element('div', { class: 'label', text: label }),
  );
}

function renderChain(chain, now) {
  document.getElementById('chain-id').textContent = chain.chainId;
  const state = document.getElementById('chain-state');
  const condition = chain.halted ? 'halted' : chain.paused ? 'paused' : 'running';
  state.textContent = condition;
  state.className = `badge ${condition}`;
  const halt = document.getElementById('halt');
  halt.hidden = !chain.halted;
  halt.textContent = chain.halted ? `Finalization stopped at block ${chain.halted.number}: ${chain.halted.reason}` : '';
  const lagSeconds = chain.waitingSince === null ? 0 : Math.max(0, (now - chain.waitingSince) / 1000);
  const stats = document.getElementById('stats');
  stats.replaceChildren(
    stat('finalized head', chain.finalizedHead ?? '–'),
    stat('highest block', chain.highestNumber ?? '–'),
    stat('head lag (blocks)', chain.waiting),
    stat('head lag', `${lagSeconds.toFixed(1)} s`),
    stat('in flight', chain.inFlight.length),
    stat('queued', chain.queued.length),
    stat('finalized', chain.counters.finalized),
    stat('failed', chain.counters.failed),
    stat('deadlines missed', chain.counters.deadlineMissed),
    stat('mode', `${chain.mode} × ${chain.maxInFlight}`),
  );
  const failures = document.getElementById('failures');
  failures.replaceChildren(
    ...(chain.failures.length
      ? chain.failures.map((failure) =>
          element(
            'li',
            { 'data-block': String(failure.number) },
            element('strong', { text: `block ${failure.number}: ` }),
            element('span', { class: 'reason', text: failure.error }),
          ),
        )
      : [element('li', { class: 'muted', text: 'none' })]),
  );
}

function renderBlocks(blocks, works, now) {
  // One time scale for every row: the slowest block shown (or its time so far) fills the bar.
  const ends = blocks.map(
    (block) => time(block.timings?.finalizedAt) ?? (FINAL.has(block.status) ? (time(block.timings?.provedAt) ?? now) : now),
  );
  const spans = blocks.map((block, index) => {
    const submitted = time(block.timings?.submittedAt) ?? now;
    const deadline = time(block.deadline?.at);
    // A prover stopped at the quorum (or kept proving) may end after the block did.
    const proverEnds = (block.proofs?.provers ?? []).map((prover) =>
      prover.startedAt === undefined || block.status === 'queued' ? 0 : proverEnd(prover, block, ends[index], now) - submitted,
    );
    return Math.max(ends[index] - submitted, deadline !== undefined ? deadline - submitted : 0, ...proverEnds, 1);
  });
  const scale = Math.max(...spans, 1000);
  const at = (ms) => `${Math.max(0, Math.min(100, (ms / scale) * 100))}%`;
  const width = (from, to) => `${Math.max(0.3, ((to - from) / scale) * 100)}%`;

  const rows = blocks.map((block, index) => {
    const t = block.timings ?? {};
    const submitted = time(t.submittedAt) ?? now;
    const started = time(t.startedAt);
    const proved = time(t.provedAt);
    const finalized = time(t.finalizedAt);
    const bar = element('div', { class: 'bar' });
    const phase = (kind, from, to) =>
      bar.append(element('div', { class: `phase ${kind}`, style: { left: at(from - submitted), width: width(from, to) } }));
    const ended = block.status === 'failed' || block.status === 'cancelled';
    phase('queued', submitted, started ?? (block.status === 'queued' ? now : submitted));
    if (started !== undefined) phase(ended ? 'failed' : 'proving', started, proved ?? now);
    if (proved !== undefined) phase('finalizing', proved, finalized ?? now);
    const work = works[index];
    for (const segment of work?.segments ?? []) {
      bar.append(
        element('div', {
          class: 'segment',
          title: `segment ${segment.index} on ${segment.worker} (GPU ${segment.device}), ${ms(segment.finishedAt - segment.startedAt)}${segment.hedged ? ', hedged' : ''}${segment.attempt > 1 ? `, attempt ${segment.attempt}` : ''}`,
          'data-worker': segment.worker,
          style: {
            left: at(segment.startedAt - submitted),
            width: width(segment.startedAt, segment.finishedAt),
            background: colourOf(segment.worker),
          },
        }),
      );
    }
    for (const node of work?.aggregations ?? []) {
      bar.append(
        element('div', {
          class: 'aggregation',
          title: `aggregation level ${node.level} (segments ${node.from}–${node.to - 1}) on ${node.worker}, ${ms(node.finishedAt - node.startedAt)}`,
          style: { left: at(node.startedAt - submitted), width: width(node.startedAt, node.finishedAt), background: colourOf(node.worker) },
        }),
      );
    }
    const deadline = time(block.deadline?.at);
    if (deadline !== undefined)
      bar.append(element('div', { class: 'deadline', title: `deadline ${block.deadline.at}`, style: { left: at(deadline - submitted) } }));

    const latency = (finalized ?? (ended ? proved : undefined) ?? now) - submitted;
    const figures = element(
      'div',
      { class: 'figures' },
      document.createTextNode(
        t.provingMs === undefined ? `${ms(latency)} so far` : `${ms(latency)} · proving ${ms(t.provingMs)} · +${ms(t.overheadMs)}`,
      ),
      element('br'),
      document.createTextNode(
        [t.gpuMs !== undefined ? `${(t.gpuMs / 1000).toFixed(1)} GPU·s` : '', block.deadline?.met === false ? 'deadline missed' : '']
          .filter(Boolean)
          .join(' · '),
      ),
    );
    const status =
      block.segments && block.status === 'proving' ? `${block.status} ${block.segments.done}/${block.segments.total}` : block.status;
    return element(
      'div',
      { class: 'row', role: 'row', 'data-block': String(block.number), 'data-status': block.status },
      element('a', { class: 'number', href: block.uiUrl, target: '_blank', rel: 'noopener', text: `#${block.number}` }),
      element('span', { class: `status ${block.status}`, text: status }),
      bar,
      figures,
      ...proverLanes(block, submitted, ends[index], now, at, width),
    );
  });
  const timeline = document.getElementById('timeline');
  timeline.replaceChildren(...(rows.length ? rows : [element('div', { class: 'row muted', text: 'no blocks yet' })]));
  const legend = document.getElementById('legend');
  legend.replaceChildren(
    ...[...workerColours].map(([worker, colour]) =>
      element('span', {}, element('span', { class: 'swatch', style: { background: colour } }), document.createTextNode(worker)),
    ),
  );
}

/** What a prover's lane says of it: counted, late or carried when verified, stopped when its block's quorum stopped it, else its status. */
function proverOutcome(prover, block) {
  if (prover.status === 'cancelled' && (block.status === 'proved' || block.status === 'finalized')) return 'stopped at quorum';
  if (prover.status !== 'verified') return prover.status;
  if (prover.counted) return prover.carried ? 'counted (carried)' : 'counted';
  return prover.late ? 'late' : 'verified';
}

/**
 * Where a prover's lane ends: when it finished; while it runs, now. A failed or cancelled block's
 * workflow may close before its provers report an end: their lanes end with the block.
 */
function proverEnd(prover, block, blockEnd, now) {
  if (prover.finishedAt !== undefined) return prover.finishedAt;
  return block.status === 'failed' || block.status === 'cancelled' ? Math.max(prover.startedAt, blockEnd) : now;
}

/** A multi-proof block's provers (once it started), one lane each under its bar, on the same time scale. */
function proverLanes(block, submitted, blockEnd, now, at, width) {
  if (block.status === 'queued') return [];
  return (block.proofs?.provers ?? []).map((prover) => {
    const outcome = proverOutcome(prover, block);
    const track = element('div', { class: 'track' });
    if (prover.startedAt !== undefined) {
      const end = proverEnd(prover, block, blockEnd, now);
      const figures = [
        prover.provingMs !== undefined ? `proving ${ms(prover.provingMs)}` : '',
        prover.gpuMs !== undefined ? `${(prover.gpuMs / 1000).toFixed(1)} GPU·s` : '',
        prover.error ?? '',
      ].filter(Boolean);
      track.append(
        element('div', {
          class: `span ${prover.status}${prover.counted ? ' counted' : ''}${prover.late ? ' late' : ''}`,
          title: [`${prover.key}: ${outcome}`, ...figures].join(' · '),
          style: { left: at(prover.startedAt - submitted), width: width(prover.startedAt, end) },
        }),
      );
    }
    return element(
      'div',
      { class: 'lane', 'data-prover': prover.key, 'data-status': prover.status, 'data-counted': String(prover.counted) },
      element('span', { class: 'prover', title: prover.key, text: `${prover.gpuClass} · ${outcome}` }),
      track,
      element('span', { class: 'reason', title: prover.error ?? '', text: prover.error ?? '' }),
    );
  });
}

async function refresh() {
  const problem = document.getElementById('problem');
  try {
    const [chain, recent] = await Promise.all([api(''), api(`/blocks?limit=${BLOCKS_SHOWN}`)]);
    const now = Date.now();
    const works = await Promise.all(recent.blocks.map((block, index) => (index < BLOCKS_WITH_WORK ? workOf(block) : undefined)));
    renderChain(chain, now);
    renderBlocks(recent.blocks, works, now);
    problem.hidden = true;
    document.getElementById('updated').textContent = `updated ${new Date(now).toLocaleTimeString()}`;
  } catch (error) {
    problem.hidden = false;
    problem.textContent = `Cannot read chain ${chainId}: ${error.message}`;
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

document.title = `prooflane · ${chainId}`;
refresh();
