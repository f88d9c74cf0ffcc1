// The Sluice console: polls GET /console/state once a second and draws it. Plain DOM, no framework, nothing fetched
// from elsewhere. Polling rather than EventSource: EventSource cannot send the Authorization header a keyed gateway
// needs. Every text from the gateway goes in as textContent, never as markup.

const STATE_URL = '/console/state';
const POLL_MS = 1000;
const TIMEOUT_MS = 5000;
const KEY_STORAGE = 'sluice.console.key';
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f'];

const $ = (id) => document.getElementById(id);

/** An element with attributes (data-*, class, ...) and children (nodes or text). */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function svg(tag, attributes = {}) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

const formatMs = (ms) => {
  if (ms === null || ms === undefined) return '—';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
};
const formatRate = (perS) => (perS >= 10 ? perS.toFixed(1) : perS.toFixed(2));
const formatCount = (n) => (n === null || n === undefined ? '—' : String(n));
const formatMb = (bytes) => `${Math.round(bytes / 1048576)} MB`;
const formatTime = (iso) => new Date(iso).toLocaleTimeString();

function formatDuration(seconds) {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

function secondsSince(iso) {
  return Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
}

/** A number cell: the text shows the figure; data-value keeps it raw for scripts. */
function numberCell(field, value, text) {
  return el('td', { class: 'num', 'data-field': field, 'data-value': value ?? '' }, text);
}

/** The last minute's answers per second as a small line. */
function sparkline(perSecond, color) {
  const width = 90;
  const height = 22;
  const max = Math.max(1, ...perSecond);
  const step = width / (perSecond.length - 1);
  const points = perSecond.map(
    (n, i) => `${(i * step).toFixed(1)},${(height - 1 - (n / max) * (height - 2)).toFixed(1)}`,
  );
  const chart = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'sparkline' });
  chart.append(svg('polyline', { points: points.join(' '), fill: 'none', stroke: color, 'stroke-width': 1.5 }));
  return chart;
}

function errorsText(errors) {
  const entries = Object.entries(errors);
  if (entries.length === 0) return '—';
  return entries.map(([type, n]) => `${type} ${n}`).join(' · ');
}

function replicasCell(model) {
  const cell = el('td', { 'data-field': 'replicas' });
  if (!Array.isArray(model.replicas) || model.replicas.length === 0) {
    cell.append('—');
    return cell;
  }
  for (const [index, replica] of model.replicas.entries()) {
    const name = replica.id ?? replica.address ?? replica.url ?? `#${index + 1}`;
    const state = replica.state ?? 'unknown';
    const inFlight = replica.in_flight === undefined ? '' : ` · ${replica.in_flight}`;
    cell.append(el('span', { class: `chip state-${state}`, title: `${name}: ${state}` }, `${name}${inFlight}`));
  }
  return cell;
}

function stateCell(model) {
  const cell = el(
    'td',
    { 'data-field': 'state', 'data-value': model.state },
    el('span', { class: `pill state-${model.state}` }, model.state),
    el('span', { class: 'muted small' }, ` for ${formatDuration(secondsSince(model.state_since))}`),
  );
  if (model.state !== 'ready' && model.last_error) {
    cell.append(el('div', { class: 'reason', 'data-field': 'reason' }, model.last_error.message));
  }
  if (model.restarts > 0) cell.append(el('div', { class: 'muted small' }, `restarts: ${model.restarts}`));
  const residency = model.residency;
  if (residency?.load === 'on_demand') {
    const loaded = residency.resident ? 'loaded' : 'not loaded: its next request loads it';
    cell.append(el('div', { class: 'muted small', 'data-field': 'residency' }, `on demand · ${loaded}`));
  }
  return cell;
}

function modelRow(model, color) {
  const minute = model.last_minute;
  const backend = model.backend;
  const where = backend.pid ? `${backend.type} · pid ${backend.pid}` : `${backend.type} · ${backend.address ?? '—'}`;
  const queued =
    model.queued === null
      ? '—'
      : model.predicted_wait_ms > 0
        ? `${model.queued} (wait ≈ ${formatMs(model.predicted_wait_ms)})`
        : String(model.queued);
  const memory = [
    model.memory.process_rss_bytes === null ? null : `RSS ${formatMb(model.memory.process_rss_bytes)}`,
    model.memory.gpu_used_mb === null ? null : `GPU ${model.memory.gpu_used_mb} MB`,
  ].filter(Boolean);
  return el(
    'tr',
    { 'data-model': model.id },
    el(
      'td',
      { class: 'model' },
      el('span', { class: 'swatch' }),
      el('strong', {}, model.id),
      el('div', { class: 'muted small' }, `${model.quantization} · ${where}`),
    ),
    stateCell(model),
    numberCell('cold_start_ms', model.cold_start_ms, formatMs(model.cold_start_ms)),
    replicasCell(model),
    numberCell('in_flight', model.in_flight, formatCount(model.in_flight)),
    numberCell('queued', model.queued, queued),
    numberCell('requests_per_s', minute.requests_per_s, formatRate(minute.requests_per_s)),
    el('td', { class: 'spark' }, sparkline(minute.per_second, color)),
    numberCell('latency_p50', minute.latency_ms.p50, formatMs(minute.latency_ms.p50)),
    numberCell('latency_p99', minute.latency_ms.p99, formatMs(minute.latency_ms.p99)),
    numberCell('ttft_p50', minute.time_to_first_token_ms.p50, formatMs(minute.time_to_first_token_ms.p50)),
    numberCell('ttft_p99', minute.time_to_first_token_ms.p99, formatMs(minute.time_to_first_token_ms.p99)),
    el(
      'td',
      { 'data-field': 'errors', class: Object.keys(minute.errors).length > 0 ? 'has-errors' : '' },
      errorsText(minute.errors),
    ),
    numberCell('memory', model.memory.process_rss_bytes, memory.length > 0 ? memory.join(' · ') : '—'),
  );
}

function drawModels(state, colors) {
  const rows = state.models.map((model) => {
    const row = modelRow(model, colors.get(model.id));
    row.querySelector('.swatch').style.background = colors.get(model.id);
    return row;
  });
  $('models').tBodies[0].replaceChildren(...rows);
  const total = state.gateway.last_minute;
  const attributed = state.models.reduce((sum, model) => sum + model.last_minute.requests, 0);
  const others = total.requests - attributed;
  $('unattributed').textContent =
    others > 0 ? `Requests naming no model this gateway serves: ${others} (${errorsText(total.errors)} overall)` : '';
}

function gpuBar(gpu, colors) {
  const totalMb = gpu.memory_gb * 1024;
  const bar = el('div', { class: 'bar', 'data-gpu': gpu.id });
  for (const model of gpu.models) {
    const budgetMb = model.vram_budget_gb * 1024;
    const segment = el(
      'div',
      { class: 'segment', title: `${model.id}: budget ${model.vram_budget_gb} GB` },
      el('span', { class: 'label' }, `${model.id} ${model.vram_budget_gb} GB`),
    );
    segment.style.width = `${Math.min(100, (budgetMb / totalMb) * 100)}%`;
    segment.style.background = `${colors.get(model.id)}8c`; // the model's colour, translucent: its label stays legible
    if (model.gpu_used_mb !== null && budgetMb > 0) {
      const used = el('div', { class: 'used', title: `${model.id}: ${model.gpu_used_mb} MB measured` });
      used.style.width = `${Math.min(100, (model.gpu_used_mb / budgetMb) * 100)}%`;
      if (model.gpu_used_mb > budgetMb) segment.classList.add('over');
      segment.append(used);
    }
    bar.append(segment);
  }
  const measured = el('div', { class: 'bar measured' });
  if (gpu.measured) {
    const fill = el('div', { class: 'segment measured-fill' });
    fill.style.width = `${Math.min(100, (gpu.measured.used_mb / gpu.measured.total_mb) * 100)}%`;
    measured.append(fill);
  }
  const overCommitted = gpu.vram_budget_gb > gpu.memory_gb;
  const caption = [
    `GPU ${gpu.id}${gpu.measured ? ` (${gpu.measured.name})` : ''}: ${gpu.memory_gb} GB`,
    `budgets ${gpu.vram_budget_gb.toFixed(1)} GB${overCommitted ? ' — more than the card has' : ''}`,
    gpu.measured
      ? `measured ${(gpu.measured.used_mb / 1024).toFixed(1)} of ${(gpu.measured.total_mb / 1024).toFixed(1)} GB`
      : 'not measured (no nvidia-smi beside the gateway)',
  ].join(' · ');
  return el(
    'div',
    { class: `gpu${overCommitted ? ' over' : ''}` },
    el('div', { class: 'caption' }, caption),
    bar,
    gpu.measured ? measured : null,
  );
}

function drawGpus(state, colors) {
  const gpus = state.gpus.map((gpu) => gpuBar(gpu, colors));
  if (gpus.length === 0) {
    const cpu = state.models.filter((model) => model.gpu === null).map((model) => model.id);
    gpus.push(el('p', { class: 'muted' }, `No GPUs declared in the registry: ${cpu.join(', ') || 'no model'} on CPU.`));
  }
  $('gpus').replaceChildren(...gpus);
}

function drawChanges(state) {
  const changes = state.models
    .flatMap((model) => model.state_changes.map((change) => ({ model: model.id, ...change })))
    .sort((a, b) => b.at.localeCompare(a.at))
    .slice(0, 20);
  $('changes').replaceChildren(
    ...changes.map((change) =>
      el(
        'li',
        { 'data-model': change.model, 'data-to': change.to },
        el('span', { class: 'muted' }, formatTime(change.at)),
        ' ',
        el('strong', {}, change.model),
        ' ',
        el('span', { class: `pill state-${change.from}` }, change.from),
        ' → ',
        el('span', { class: `pill state-${change.to}` }, change.to),
        change.reason ? el('span', { class: 'reason' }, ` ${change.reason}`) : null,
      ),
    ),
  );
}

function draw(state) {
  const colors = new Map(state.models.map((model, i) => [model.id, PALETTE[i % PALETTE.length]]));
  drawModels(state, colors);
  drawGpus(state, colors);
  drawChanges(state);
  const total = state.gateway.last_minute;
  $('gateway-summary').textContent =
    `${formatRate(total.requests_per_s)} req/s · ${total.requests} answers in the last minute · ` +
    `queue: ${state.gateway.dispatch_queue} · up ${formatDuration(state.gateway.uptime_s)}`;
  $('updated').textContent = `updated ${formatTime(state.generated_at)}`;
  $('updated').dataset.generatedAt = state.generated_at;
}

function showConnection(text, kind) {
  const pill = $('connection');
  pill.textContent = text;
  pill.className = `pill pill-${kind}`;
}

function askForKey(message) {
  $('key-message').textContent = message;
  $('key-form').hidden = false;
  $('key-input').focus();
}

let lastSuccess = 0;
let timer;

async function poll() {
  clearTimeout(timer);
  const key = sessionStorage.getItem(KEY_STORAGE);
  $('forget-key').hidden = key === null;
  try {
    const response = await fetch(STATE_URL, {
      headers: key === null ? {} : { authorization: `Bearer ${key}` },
      cache: 'no-store',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (response.status === 401 || response.status === 403) {
      const body = await response.json().catch(() => ({}));
      showConnection(response.status === 401 ? 'key needed' : 'not an admin key', 'warn');
      askForKey(body.error ?? `HTTP ${response.status}`);
      return; // until a key is given
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    draw(await response.json());
    lastSuccess = Date.now();
    $('key-form').hidden = true;
    showConnection('live', 'ok');
  } catch (error) {
    const since = lastSuccess === 0 ? '' : ` (last data ${Math.round((Date.now() - lastSuccess) / 1000)} s ago)`;
    showConnection(`unreachable${since}`, 'bad');
    $('connection').title = String(error);
  }
  timer = setTimeout(poll, POLL_MS);
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY_STORAGE, $('key-input').value.trim());
  $('key-input').value = '';
  void poll();
});

$('forget-key').addEventListener('click', () => {
  sessionStorage.removeItem(KEY_STORAGE);
  void poll();
});

void poll();
