// The PCE live view: polls /ui/api/snapshot (ETag, 304 when nothing changed) and updates the map,
// the spectrum grids, the decisions and the figures in place. Elements are keyed by service
// uuid and by fibre, so an update touches only what changed. Every render stamps its duration
// on <body data-render-ms>; ?bench=N renders N synthetic updates and stamps their statistics
// (bench/tapi reads them in headless Chromium). Under --virtual-time-budget the clock stands
// still within a task, so data-render-ms reads 0 there; the benchmark runs without one.
'use strict';

const SVGNS = 'http://www.w3.org/2000/svg';
const params = new URLSearchParams(location.search);
const POLL_MS = Math.max(200, Number(params.get('poll')) || 1000);
const BAND_COLOURS = { C: '#4cc2ff', L: '#ff8a4c', S: '#b18cff' };

const state = {
  snap: null, etag: null, selected: null, selectedFibre: null,
  proj: null, routeEls: new Map(), rowEls: new Map(), cards: [], nodeNames: [],
  cardSig: [], cardSelKey: [], lastOrder: '', failures: 0,
};

const $ = (id) => document.getElementById(id);
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  if (attrs) for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
function svg(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  return e;
}
// A stable colour per service (hue from its uuid) shared by the map, the grids and the tables.
const colourCache = new Map();
function colour(uuid) {
  let c = colourCache.get(uuid);
  if (c) return c;
  let h = 2166136261;
  for (let i = 0; i < uuid.length; i++) h = Math.imul(h ^ uuid.charCodeAt(i), 16777619);
  h >>>= 0;
  c = `hsl(${h % 360},${62 + (h >> 9) % 25}%,${52 + (h >> 17) % 14}%)`;
  colourCache.set(uuid, c);
  return c;
}
const fmt = (v, d = 1, unit = '') => (v === null || v === undefined || Number.isNaN(v)) ? '–' : Number(v).toFixed(d) + unit;
// "Seattle, WA (NorthWestNet)" -> "Seattle": readable from across the room.
const shortName = (n) => (n.split(/[,(]/)[0].trim() || n);
const label = (s) => s.name || s.uuid.slice(0, 8);
function clock(ms) {
  const d = new Date(ms);
  return d.toTimeString().slice(0, 8);
}

// --- map ----------------------------------------------------------------------------------------
function project(nodes) {
  const W = 1000, H = 600, pad = 45;
  const have = nodes.filter((n) => n.lat !== null && n.lon !== null);
  let pts;
  if (have.length === nodes.length && nodes.length > 0) {
    const lat0 = have.reduce((a, n) => a + n.lat, 0) / have.length;
    const k = Math.cos(lat0 * Math.PI / 180);
    pts = nodes.map((n) => [n.lon * k, -n.lat]);
  } else {  // no coordinates: a circle
    pts = nodes.map((n, i) => [Math.cos(2 * Math.PI * i / nodes.length), Math.sin(2 * Math.PI * i / nodes.length)]);
  }
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const s = Math.min((W - 2 * pad) / Math.max(x1 - x0, 1e-9), (H - 2 * pad) / Math.max(y1 - y0, 1e-9));
  const ox = (W - s * (x1 - x0)) / 2, oy = (H - s * (y1 - y0)) / 2;
  return pts.map((p) => [ox + s * (p[0] - x0), oy + s * (p[1] - y0)]);
}

function drawTopology(snap) {
  const topo = snap.topology;
  state.proj = project(topo.nodes);
  state.nodeNames = topo.nodes.map((n) => shortName(n.name));
  const links = $('links'), nodes = $('nodes');
  links.textContent = '';
  nodes.textContent = '';
  state.linkEls = new Map();
  for (const f of topo.fibres) {
    if (f.reverse >= 0 && f.reverse < f.id) continue;  // one line per fibre pair
    const [x1, y1] = state.proj[f.src], [x2, y2] = state.proj[f.dst];
    const line = svg('line', { x1, y1, x2, y2, 'stroke-width': 4, 'data-fibre': f.id });
    const t = svg('title', {});
    t.textContent = f.name + ' · ' + fmt(f.length_km, 0, ' km');
    line.appendChild(t);
    line.addEventListener('click', () => selectFibre(f.id));
    links.appendChild(line);
    state.linkEls.set(f.id, line);
    if (f.reverse >= 0) state.linkEls.set(f.reverse, line);
  }
  topo.nodes.forEach((n, i) => {
    const [x, y] = state.proj[i];
    const c = svg('circle', { cx: x, cy: y, r: 7, 'data-node': n.id });
    const t = svg('title', {});
    t.textContent = n.name;
    c.appendChild(t);
    nodes.appendChild(c);
    const lbl = svg('text', { x: x + 9, y: y - 8 });
    lbl.textContent = state.nodeNames[i];
    nodes.appendChild(lbl);
  });
}

// The route of a service as an SVG path, shifted sideways by band so C/L/S lanes separate.
function routePath(s, lane) {
  const p = state.proj;
  if (!s.nodes || s.nodes.length < 2) return '';
  let d = '';
  for (let i = 0; i < s.nodes.length; i++) {
    const a = p[s.nodes[Math.max(0, i - 1)]], b = p[s.nodes[Math.min(s.nodes.length - 1, i + 1)]];
    let dx = b[0] - a[0], dy = b[1] - a[1];
    const len = Math.hypot(dx, dy) || 1;
    const off = lane;
    const [x, y] = p[s.nodes[i]];
    d += (i ? 'L' : 'M') + (x - dy / len * off).toFixed(1) + ' ' + (y + dx / len * off).toFixed(1);
  }
  return d;
}

function laneOf(s) {
  return ((s.band >= 0 ? s.band : 0) - 1) * 3.2 + ((hashInt(s.uuid) % 5) - 2) * 0.7;
}
function hashInt(str) {
  let h = 0;
  for (let i = 0; i < str.length; i++) h = (h * 31 + str.charCodeAt(i)) | 0;
  return Math.abs(h);
}

function updateRoutes(snap) {
  const g = $('routes');
  const seen = new Set();
  for (const s of snap.services) {
    seen.add(s.uuid);
    if (state.routeEls.has(s.uuid)) continue;
    const path = svg('path', { d: routePath(s, laneOf(s)), stroke: colour(s.uuid), 'data-uuid': s.uuid,
                               'data-band': s.band_name, class: 'route' });
    const t = svg('title', {});
    t.textContent = `${label(s)} · ${state.nodeNames[s.src]} → ${state.nodeNames[s.dst]} · ${s.band_name} · ${s.modulation}`;
    path.appendChild(t);
    path.addEventListener('mouseenter', () => highlight(s.uuid));
    path.addEventListener('mouseleave', () => highlight(state.selected));
    path.addEventListener('click', (e) => { e.stopPropagation(); select(s.uuid); });
    g.appendChild(path);
    state.routeEls.set(s.uuid, path);
  }
  for (const [uuid, e] of state.routeEls) {
    if (!seen.has(uuid)) { e.remove(); state.routeEls.delete(uuid); }
  }
  // Link load as line width and colour: the busiest band decides.
  const load = new Map();
  snap.occupancy.forEach((bands, f) => {
    let u = 0;
    bands.forEach((runs, b) => {
      let used = 0;
      for (const r of runs) used += r[1];
      u = Math.max(u, used / snap.bands[b].slots);
    });
    const pair = state.linkEls.get(f);
    if (pair) load.set(pair, Math.max(load.get(pair) || 0, u));
  });
  for (const [line, u] of load) {
    line.setAttribute('stroke-width', (3 + 9 * u).toFixed(1));
    line.style.stroke = u > 0.8 ? '#a8404c' : u > 0.5 ? '#8a6a2a' : '';
  }
}

function highlight(uuid) {
  const hl = $('hl');
  hl.textContent = '';
  const nodes = $('nodes');
  for (const c of nodes.querySelectorAll('circle.end')) c.classList.remove('end');
  $('routes').classList.toggle('dim', !!uuid);
  const s = uuid && state.byUuid && state.byUuid.get(uuid);
  if (!s) return;
  hl.appendChild(svg('path', { d: routePath(s, 0), stroke: colour(s.uuid) }));
  for (const n of [s.src, s.dst]) {
    const c = nodes.querySelector(`circle[data-node="${n}"]`);
    if (c) c.classList.add('end');
  }
}

// --- selection and details ------------------------------------------------------------------------
function select(uuid) {
  state.selected = state.selected === uuid ? null : uuid;
  state.selectedFibre = null;
  refreshSelection();
}
function selectFibre(f) {
  state.selectedFibre = state.selectedFibre === f ? null : f;
  state.selected = null;
  refreshSelection();
  const card = state.cards[f];
  if (card && state.selectedFibre !== null) card.scrollIntoView({ block: 'nearest' });
}
function refreshSelection() {
  highlight(state.selected);
  for (const [uuid, row] of state.rowEls) row.classList.toggle('sel', uuid === state.selected);
  for (const [f, line] of state.linkEls) line.classList.toggle('sel', f === state.selectedFibre);
  drawDetails();
  if (state.snap) drawSpectrum(state.snap, true);
  const row = state.selected && state.rowEls.get(state.selected);
  if (row) row.scrollIntoView({ block: 'nearest' });
}

function drawDetails() {
  const box = $('details');
  const s = state.selected && state.byUuid.get(state.selected);
  if (!s) {
    box.className = 'details empty';
    box.textContent = state.selectedFibre !== null && state.snap
      ? 'Link ' + state.snap.topology.fibres[state.selectedFibre].name + ' selected: its spectrum is outlined below.'
      : 'Select a service to see its lightpath.';
    return;
  }
  box.className = 'details';
  box.textContent = '';
  const h = el('h3');
  h.appendChild(el('span', { class: 'swatch', style: 'background:' + colour(s.uuid) }));
  h.appendChild(el('span', null, label(s)));
  if (s.fell_back) h.appendChild(el('span', { class: 'badge fb', title: s.fallback_reason }, 'FALLBACK'));
  box.appendChild(h);
  const kv = el('div', { class: 'kv' });
  const route = s.nodes.map((n) => state.nodeNames[n]).join(' → ');
  const rows = [
    ['route', route], ['band', `${s.band_name} · slots ${s.slot}–${s.slot + s.width - 1} (${s.width})`],
    ['format', `${s.modulation} · ${fmt(s.bit_rate_gbps, 0, ' Gb/s')}`], ['GSNR', `${fmt(s.gsnr_db, 2, ' dB')} (margin ${fmt(s.margin_db, 2, ' dB')})`],
    ['latency', fmt(s.latency_us / 1000, 2, ' ms') + ' · ' + fmt(s.length_km, 0, ' km')],
    ['decided by', (s.policy ? s.policy + ' · ' : '') + s.decided_by],
    ['uuid', s.uuid],
  ];
  if (s.fell_back) rows.push(['fallback', s.fallback_reason || 'yes']);
  for (const [k, v] of rows) {
    kv.appendChild(el('span', null, k));
    const val = el('span', null, v);
    if (k === 'route' || k === 'uuid' || k === 'fallback') val.style.gridColumn = 'span 3';
    kv.appendChild(val);
  }
  box.appendChild(kv);
}

// --- services table ---------------------------------------------------------------------------------
function updateServices(snap) {
  const body = document.querySelector('#services tbody');
  const seen = new Set();
  let next = body.firstChild;
  // Newest first; rows are reused by uuid and only moved when the order changed.
  for (let i = snap.services.length - 1; i >= 0; i--) {
    const s = snap.services[i];
    seen.add(s.uuid);
    let row = state.rowEls.get(s.uuid);
    if (!row) {
      row = el('tr', { 'data-uuid': s.uuid, 'data-name': s.name, 'data-band': s.band_name, 'data-modulation': s.modulation,
                       'data-slot': s.slot, 'data-width': s.width, 'data-fibres': s.fibres.join(','),
                       'data-fallback': s.fell_back ? '1' : '0', class: 'svc' + (s.fell_back ? ' fallback' : '') });
      const name = el('td');
      name.appendChild(el('span', { class: 'swatch', style: 'background:' + colour(s.uuid) }));
      name.appendChild(document.createTextNode(' ' + label(s)));
      row.appendChild(name);
      row.appendChild(el('td', null, `${state.nodeNames[s.src]} → ${state.nodeNames[s.dst]}`));
      const band = el('td', null, s.band_name);
      band.style.color = BAND_COLOURS[s.band_name] || '';
      row.appendChild(band);
      row.appendChild(el('td', null, `${s.slot}+${s.width}`));
      row.appendChild(el('td', null, s.modulation));
      row.appendChild(el('td', s.margin_db !== null && s.margin_db < 1 ? { class: 'low' } : null, fmt(s.margin_db, 1, ' dB')));
      row.appendChild(el('td', null, fmt(s.latency_us / 1000, 2, ' ms')));
      row.appendChild(el('td', null, s.policy || s.decided_by));
      row.addEventListener('mouseenter', () => highlight(s.uuid));
      row.addEventListener('mouseleave', () => highlight(state.selected));
      row.addEventListener('click', () => select(s.uuid));
      state.rowEls.set(s.uuid, row);
    }
    if (row !== next) body.insertBefore(row, next); else next = next.nextSibling;
  }
  for (const [uuid, row] of state.rowEls) {
    if (!seen.has(uuid)) { row.remove(); state.rowEls.delete(uuid); }
  }
  $('svc-count').textContent = snap.services.length + ' active';
}

// --- decisions and figures ------------------------------------------------------------------------
function updateDecisions(snap) {
  const list = $('decisions');
  const frag = document.createDocumentFragment();
  for (const d of snap.decisions) {
    const li = el('li', { 'data-uuid': d.uuid, 'data-fallback': d.fell_back ? '1' : '0', class: d.fell_back ? 'fallback' : '' });
    li.appendChild(el('span', { class: 't' }, clock(d.time_ms)));
    const what = el('span');
    what.appendChild(el('span', { class: 'swatch', style: 'background:' + colour(d.uuid) }));
    const a = d.src !== null ? state.nodeNames[d.src] : '?', z = d.dst !== null ? state.nodeNames[d.dst] : '?';
    what.appendChild(document.createTextNode(` ${d.operation === 'compute' ? 'computed' : 'provisioned'} ${a} → ${z} · ${d.band_name} ${d.modulation}`));
    li.appendChild(what);
    const who = el('span');
    if (d.fell_back) who.appendChild(el('span', { class: 'badge fb', title: d.fallback_reason }, 'FALLBACK'));
    who.appendChild(document.createTextNode(' '));
    who.appendChild(el('span', { class: 'badge ' + (d.policy && !d.fell_back ? 'pol' : 'heur') }, d.fell_back || !d.policy ? d.decided_by : d.policy));
    li.appendChild(who);
    if (d.operation === 'create') li.addEventListener('click', () => select(d.uuid));
    frag.appendChild(li);
  }
  list.textContent = '';
  list.appendChild(frag);
  const f = snap.figures;
  const causes = Object.entries(f.blocked_by_cause || {}).map(([k, v]) => `${k} ${v}`).join(', ');
  $('blocked-line').textContent = `${f.decisions} decisions · ${f.blocked} blocked${causes ? ' (' + causes + ')' : ''} · ${f.fallbacks} fallbacks`;
}

function updateFigures(snap) {
  const f = snap.figures;
  const box = $('figures');
  box.textContent = '';
  const fig = (value, name, cls) => {
    const d = el('div', { class: 'fig' + (cls ? ' ' + cls : ''), 'data-figure': name });
    d.appendChild(el('b', null, value));
    d.appendChild(el('small', null, name));
    box.appendChild(d);
    return d;
  };
  fig(String(f.services), 'services');
  fig(fmt(100 * f.blocking, 2, ' %'), 'blocking', f.blocking > 0.01 ? 'bad' : '');
  for (const b of snap.bands) {
    const u = f.utilisation[b.name] || 0;
    const d = fig(fmt(100 * u, 1, ' %'), b.name + '-band');
    const bar = el('div', { class: 'util' });
    const i = el('i');
    i.style.width = Math.min(100, 100 * u).toFixed(1) + '%';
    i.style.background = BAND_COLOURS[b.name] || '';
    bar.appendChild(i);
    d.appendChild(bar);
  }
  fig(f.power_w >= 1000 ? fmt(f.power_w / 1000, 1, ' kW') : fmt(f.power_w, 0, ' W'), 'power');
  fig(String(f.fallbacks), 'fallbacks', f.fallbacks > 0 ? 'warn' : '');
  const pol = (snap.policies || []).map((p) => `${p.use_case}: ${p.served || 'no policy (heuristic)'}`).join(' · ');
  $('topo-name').textContent = snap.topology.name + (pol ? ' · ' + pol : '');
}

// --- spectrum grids ---------------------------------------------------------------------------------
function ensureCards(snap) {
  if (state.cards.length === snap.topology.fibres.length) return;
  const box = $('spectrum');
  box.textContent = '';
  state.cards = [];
  state.cardSig = [];
  for (const f of snap.topology.fibres) {
    const card = el('div', { class: 'card', 'data-fibre': f.id, 'data-link': f.name });
    const hd = el('div', { class: 'hd' });
    hd.appendChild(el('b', null, f.name));
    hd.appendChild(el('span', { class: 'muted' }));
    card.appendChild(hd);
    const canvas = el('canvas', { width: 600, height: 33 * 2 });
    card.appendChild(canvas);
    card.addEventListener('click', () => selectFibre(f.id));
    canvas.addEventListener('mousemove', (e) => hoverSlot(e, f.id, canvas));
    canvas.addEventListener('click', (e) => {
      const s = slotOwner(e, f.id, canvas);
      if (s) { e.stopPropagation(); select(s.uuid); }
    });
    box.appendChild(card);
    state.cards.push(card);
    state.cardSig.push(null);
  }
  $('legend').textContent = snap.bands.map((b) => `${b.name}: ${b.slots} slots`).join(' · ') + ' · rows top to bottom';
}

function slotOwner(e, f, canvas) {
  const snap = state.snap;
  const r = canvas.getBoundingClientRect();
  const nb = snap.bands.length;
  const b = Math.min(nb - 1, Math.floor((e.clientY - r.top) / r.height * nb));
  const slot = Math.floor((e.clientX - r.left) / r.width * snap.bands[b].slots);
  for (const run of snap.occupancy[f][b]) {
    if (slot >= run[0] && slot < run[0] + run[1]) return snap.services[run[2]];
  }
  return null;
}
function hoverSlot(e, f, canvas) {
  const s = slotOwner(e, f, canvas);
  canvas.title = s ? `${label(s)} · ${s.band_name} ${s.slot}+${s.width} · ${s.modulation}` : '';
}

function drawSpectrum(snap, force) {
  ensureCards(snap);
  const sel = state.selected;
  const nb = snap.bands.length;
  const fibres = snap.topology.fibres;
  const util = new Array(fibres.length).fill(0);
  for (let f = 0; f < fibres.length; f++) {
    const bands = snap.occupancy[f];
    // The card's content as text: what the DOM test reads, and what tells whether to redraw.
    const parts = [];
    let used = 0, total = 0;
    for (let b = 0; b < nb; b++) {
      total += snap.bands[b].slots;
      for (const r of bands[b]) {
        used += r[1];
        parts.push(snap.bands[b].name + ':' + r[0] + '+' + r[1] + ':' + snap.services[r[2]].uuid);
      }
    }
    util[f] = used / total;
    const sig = parts.join(' ');
    const card = state.cards[f];
    const selKey = (sel && sig.indexOf(sel) >= 0 ? sel : '') + '|' + (state.selectedFibre === f) + '|' + (sel ? 'dim' : '');
    if (!force && sig === state.cardSig[f] && selKey === state.cardSelKey[f]) continue;
    if (sig !== state.cardSig[f]) {
      card.setAttribute('data-occ', sig);
      card.lastChild.previousSibling.lastChild.textContent = used + ' / ' + total + ' slots';
    }
    state.cardSig[f] = sig;
    state.cardSelKey[f] = selKey;
    card.classList.toggle('sel', state.selectedFibre === f || (!!sel && sig.indexOf(sel) >= 0));
    const canvas = card.lastChild;
    const ctx = canvas.getContext('2d');
    const W = canvas.width, rowH = canvas.height / nb;
    ctx.fillStyle = '#121925';
    ctx.fillRect(0, 0, W, canvas.height);
    for (let b = 0; b < nb; b++) {
      const k = W / snap.bands[b].slots, y = b * rowH;
      ctx.fillStyle = '#1a2231';
      ctx.fillRect(0, y + 1, W, rowH - 2);
      for (const r of bands[b]) {
        const s = snap.services[r[2]];
        ctx.globalAlpha = sel && s.uuid !== sel ? 0.25 : 1;
        ctx.fillStyle = colour(s.uuid);
        ctx.fillRect(r[0] * k, y + 1, Math.max(1, r[1] * k - 0.5), rowH - 2);
      }
      ctx.globalAlpha = 1;
      ctx.fillStyle = BAND_COLOURS[snap.bands[b].name] || '#888';
      ctx.fillRect(0, y + 1, 3, rowH - 2);
    }
  }
  // Busiest links first (by the fullest band), so a wall shows the hot spots without scrolling.
  const order = fibres.map((f) => f.id);
  if ($('sort').value === 'busy') order.sort((a, b) => util[b] - util[a] || a - b);
  const key = order.join(',');
  if (key !== state.lastOrder) {
    const box = $('spectrum');
    for (const f of order) box.appendChild(state.cards[f]);
    state.lastOrder = key;
  }
}

// --- render -----------------------------------------------------------------------------------------
function render(snap) {
  const t0 = performance.now();
  const first = !state.snap || state.snap.topology.name !== snap.topology.name ||
                state.snap.topology.fibres.length !== snap.topology.fibres.length;
  state.snap = snap;
  state.byUuid = new Map(snap.services.map((s) => [s.uuid, s]));
  if (state.selected && !state.byUuid.has(state.selected)) state.selected = null;
  if (first) drawTopology(snap);
  updateRoutes(snap);
  updateServices(snap);
  drawSpectrum(snap, first);
  updateDecisions(snap);
  updateFigures(snap);
  highlight(state.selected);
  drawDetails();
  void document.body.offsetHeight;  // include layout in the measured time
  const ms = performance.now() - t0;
  document.body.setAttribute('data-version', snap.version);
  document.body.setAttribute('data-services', snap.services.length);
  document.body.setAttribute('data-render-ms', ms.toFixed(2));
  document.body.setAttribute('data-rendered', '1');
  $('foot').textContent = `snapshot v${snap.version} · ${snap.services.length} services · rendered in ${ms.toFixed(1)} ms · ` +
                          `updated ${clock(snap.time_ms)} · polling every ${POLL_MS} ms`;
  return ms;
}

function setStatus(cls, text) {
  $('status').className = 'status ' + cls;
  $('status-text').textContent = text;
}

async function poll() {
  try {
    const headers = state.etag ? { 'If-None-Match': state.etag } : {};
    const r = await fetch('/ui/api/snapshot', { headers, cache: 'no-store' });
    if (r.status === 200) {
      const t0 = performance.now();
      const snap = JSON.parse(await r.text());
      state.etag = r.headers.get('ETag');
      render(snap);
      document.body.setAttribute('data-update-ms', (performance.now() - t0).toFixed(2));
    } else if (r.status !== 304) {
      throw new Error('HTTP ' + r.status);
    }
    state.failures = 0;
    setStatus('live', 'live · v' + (state.snap ? state.snap.version : '?'));
  } catch (e) {
    state.failures++;
    setStatus('down', 'PCE unreachable (' + e.message + ')');
  }
  setTimeout(poll, POLL_MS * Math.min(5, 1 + state.failures));
}

// Synthetic updates for the benchmark: alternately drop the newest service and put it back,
// each from JSON text as a poll would receive it (parse + render timed).
function without(snap, index) {
  const s = JSON.parse(JSON.stringify(snap));
  s.services.splice(index, 1);
  s.version += 1;
  s.occupancy = s.occupancy.map((bands) => bands.map((runs) =>
    runs.filter((r) => r[2] !== index).map((r) => [r[0], r[1], r[2] > index ? r[2] - 1 : r[2]])));
  s.figures.services = s.services.length;
  return s;
}
// Runs synchronously (synchronous XHR) before the load event, so that headless Chromium without
// a virtual-time budget dumps the DOM after it and performance.now() is the real clock (under
// --virtual-time-budget it stands still within a task).
function bench(n) {
  const xhr = new XMLHttpRequest();
  xhr.open('GET', '/ui/api/snapshot', false);
  xhr.send();
  const full = xhr.responseText;
  const snap = JSON.parse(full);
  render(snap);
  const texts = [JSON.stringify(without(snap, snap.services.length - 1)), full];
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    render(JSON.parse(texts[i % 2]));
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const b = document.body;
  b.setAttribute('data-bench-n', n);
  b.setAttribute('data-bench-mean-ms', mean.toFixed(2));
  b.setAttribute('data-bench-p50-ms', times[Math.floor(times.length / 2)].toFixed(2));
  b.setAttribute('data-bench-max-ms', times[times.length - 1].toFixed(2));
  b.setAttribute('data-bench-bytes', full.length);
}

$('sort').addEventListener('change', () => { state.lastOrder = ''; if (state.snap) drawSpectrum(state.snap, false); });
$('map').addEventListener('click', () => { if (state.selected || state.selectedFibre !== null) { state.selected = null; state.selectedFibre = null; refreshSelection(); } });
if (params.get('bench')) bench(Math.max(2, Number(params.get('bench')) || 20)); else poll();
