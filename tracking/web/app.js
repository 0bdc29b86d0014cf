// The eonops tracking web UI: a small hash-routed single page over the server's MLflow API and
// its /api/eonops/ extras. Pages:
//   #/                       experiments
//   #/experiments/<id>?filter=&order=   runs table (server-side filter, sort and paging)
//   #/runs/<run_id>          one run: params, metrics, tags, artifacts, curves
//   #/compare?runs=a,b,...   reward and blocking curves overlaid, blocking vs load, param diff
//   #/models, #/models/<name>  registry: versions, stages, aliases and the alias-move history,
//                            and the decisions of the lifecycle service with their figures
//   #/models/<name>/trends   model performance trends: one chart per live KPI over time, one
//                            line per served version, version changes marked
// Loaded with ?mark=1 the page reports "rendered" to the server (used by the render benchmark).
"use strict";

(() => {
  const app = document.getElementById("app");
  const errorBox = document.getElementById("error");
  const MARK = new URLSearchParams(location.search).get("mark") === "1";
  const PAGE_SIZE = 100;
  const MAX_POINTS = 800;  // a chart is ~600 px wide: more points would not show
  if (MARK) fetch("/api/eonops/ui-mark?name=boot");

  // ---------------------------------------------------------------------------------------------
  // Helpers.
  // ---------------------------------------------------------------------------------------------
  function esc(s) {
    return String(s === undefined || s === null ? "" : s).replace(/[&<>"']/g, (c) => (
      {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  }

  // Numbers as the store holds them, compactly: integers whole, others to 6 significant digits.
  function fmt(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "string") return v;  // "NaN", "Infinity"
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-4 || a >= 1e9)) return v.toExponential(4);
    return String(Number(v.toPrecision(6)));
  }

  function fmtTime(ms) {
    if (!ms) return "";
    return new Date(Number(ms)).toISOString().slice(0, 19).replace("T", " ");
  }

  function num(v) {
    if (typeof v === "number") return v;
    if (v === "NaN") return NaN;
    if (v === "Infinity") return Infinity;
    if (v === "-Infinity") return -Infinity;
    return Number(v);
  }

  async function api(method, path, body) {
    const init = {method, headers: {}};
    if (body !== undefined && method === "GET") {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(body)) {
        if (v === undefined || v === null || v === "") continue;
        if (Array.isArray(v)) v.forEach((x) => q.append(k, x)); else q.append(k, v);
      }
      path += "?" + q.toString();
    } else if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch (e) { json = null; }
    if (!res.ok) {
      const msg = json && json.error_code ? `${json.error_code}: ${json.message}` : `HTTP ${res.status}`;
      throw new Error(msg);
    }
    return json;
  }
  const mlflow = (method, endpoint, body) => api(method, "/api/2.0/mlflow/" + endpoint, body);

  function showError(e) {
    errorBox.hidden = false;
    errorBox.textContent = String(e.message || e);
  }

  function route() {
    const hash = location.hash.replace(/^#/, "") || "/";
    const q = hash.indexOf("?");
    const path = q < 0 ? hash : hash.slice(0, q);
    const params = new URLSearchParams(q < 0 ? "" : hash.slice(q + 1));
    return {parts: path.split("/").filter(Boolean).map(decodeURIComponent), params};
  }

  function setHash(path, params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v) q.set(k, v);
    const s = q.toString();
    location.hash = path + (s ? "?" + s : "");
  }

  // A server-side timestamp for the benchmark (no-op unless loaded with ?mark=1).
  function mark(name) {
    if (MARK) fetch("/api/eonops/ui-mark?name=" + encodeURIComponent(name));
  }

  function rendered(page) {
    document.body.dataset.page = page;
    document.body.dataset.rendered = "1";
    if (!MARK) return;
    // Force layout so the mark comes after the browser has laid the page out.
    void app.getBoundingClientRect().height;
    fetch("/api/eonops/ui-mark?name=" + encodeURIComponent(page + "-rendered"));
  }

  function tagValue(run, key) {
    const t = (run.data.tags || []).find((x) => x.key === key);
    return t ? t.value : "";
  }

  // ---------------------------------------------------------------------------------------------
  // Experiments.
  // ---------------------------------------------------------------------------------------------
  async function experimentsPage() {
    const [search, counts] = await Promise.all([
      mlflow("POST", "experiments/search", {max_results: 1000, order_by: ["last_update_time DESC"]}),
      api("GET", "/api/eonops/experiments/run-counts"),
    ]);
    const exps = search.experiments || [];
    const rows = exps.map((e) => `<tr data-experiment-id="${esc(e.experiment_id)}">
        <td><a href="#/experiments/${encodeURIComponent(e.experiment_id)}">${esc(e.name)}</a></td>
        <td class="num">${esc(e.experiment_id)}</td>
        <td class="num" data-key="run_count">${counts.run_counts[e.experiment_id] || 0}</td>
        <td>${fmtTime(e.creation_time)}</td><td>${fmtTime(e.last_update_time)}</td>
        <td>${(e.tags || []).map((t) => `<span class="badge">${esc(t.key)}=${esc(t.value)}</span>`).join("")}</td>
      </tr>`).join("");
    app.innerHTML = `<h1>Experiments</h1>
      <div class="toolbar"><input type="text" id="exp-filter" placeholder="filter by name"></div>
      <div class="table-wrap"><table id="experiments">
        <thead><tr><th>Name</th><th>ID</th><th>Runs</th><th>Created</th><th>Last update</th><th>Tags</th></tr></thead>
        <tbody>${rows || '<tr><td colspan="6" class="muted">No experiments.</td></tr>'}</tbody>
      </table></div>`;
    document.getElementById("exp-filter").addEventListener("input", (ev) => {
      const needle = ev.target.value.toLowerCase();
      for (const tr of app.querySelectorAll("#experiments tbody tr")) {
        tr.hidden = needle && !tr.textContent.toLowerCase().includes(needle);
      }
    });
    rendered("experiments");
  }

  // ---------------------------------------------------------------------------------------------
  // Runs of an experiment: filter, sort and page on the server (runs/search), so an experiment
  // with 100,000 runs loads as fast as one with ten.
  // ---------------------------------------------------------------------------------------------
  async function runsPage(experimentId, params) {
    const filter = params.get("filter") || "";
    const order = params.get("order") || "";
    const tokens = (params.get("pages") || "").split(",").filter(Boolean);  // tokens of pages so far
    const [exp, search] = await Promise.all([
      mlflow("GET", "experiments/get", {experiment_id: experimentId}),
      mlflow("POST", "runs/search", {
        experiment_ids: [experimentId], filter, max_results: PAGE_SIZE,
        order_by: order ? [order] : [], page_token: tokens[tokens.length - 1] || undefined,
      }),
    ]);
    const runs = search.runs || [];
    const paramKeys = [...new Set(runs.flatMap((r) => (r.data.params || []).map((p) => p.key)))].sort();
    const metricKeys = [...new Set(runs.flatMap((r) => (r.data.metrics || []).map((m) => m.key)))].sort();
    const cut = order.lastIndexOf(" ");
    const orderKey = cut > 0 ? order.slice(0, cut) : order;
    const orderDir = cut > 0 ? order.slice(cut + 1) : "";
    const th = (key, label, cls) => {
      const sorted = key === orderKey ? (orderDir === "ASC" ? " sorted-asc" : " sorted-desc") : "";
      return `<th class="sortable ${cls || ""}${sorted}" data-sort="${esc(key)}" title="sort by ${esc(key)}">${esc(label)}</th>`;
    };
    const head = `<tr><th><input type="checkbox" id="select-all"></th>
        ${th("attributes.run_name", "Run")}${th("attributes.status", "Status")}
        ${th("attributes.start_time", "Started")}${th("attributes.user_id", "User")}
        ${paramKeys.map((k) => th("params.`" + k + "`", k, "group-params")).join("")}
        ${metricKeys.map((k) => th("metrics.`" + k + "`", k, "group-metrics")).join("")}</tr>`;
    const body = runs.map((r) => {
      const p = Object.fromEntries((r.data.params || []).map((x) => [x.key, x.value]));
      const m = Object.fromEntries((r.data.metrics || []).map((x) => [x.key, x.value]));
      const i = r.info;
      return `<tr data-run-id="${esc(i.run_id)}">
        <td><input type="checkbox" class="pick" value="${esc(i.run_id)}"></td>
        <td data-key="run_name"><a href="#/runs/${esc(i.run_id)}">${esc(i.run_name)}</a></td>
        <td class="status-${esc(i.status)}" data-key="status">${esc(i.status)}</td>
        <td>${fmtTime(i.start_time)}</td><td>${esc(i.user_id)}</td>
        ${paramKeys.map((k) => `<td data-key="params.${esc(k)}">${esc(p[k] === undefined ? "" : p[k])}</td>`).join("")}
        ${metricKeys.map((k) => `<td class="num" data-key="metrics.${esc(k)}">${esc(fmt(m[k]))}</td>`).join("")}
      </tr>`;
    }).join("");
    app.innerHTML = `<h1>${esc(exp.experiment.name)} <span class="muted">· experiment ${esc(experimentId)}</span></h1>
      <form class="toolbar" id="filter-form">
        <input type="text" id="filter" value="${esc(filter)}"
               placeholder="metrics.reward > 0 AND params.algo = 'ppo' AND attributes.status = 'FINISHED'">
        <button type="submit" class="primary">Filter</button>
        <button type="button" id="clear">Clear</button>
        <button type="button" id="compare" disabled>Compare selected</button>
      </form>
      <div class="table-wrap"><table id="runs"><thead>${head}</thead>
        <tbody>${body || `<tr><td colspan="${5 + paramKeys.length + metricKeys.length}" class="muted">No runs match.</td></tr>`}</tbody>
      </table></div>
      <div class="toolbar" style="margin-top:8px">
        <button id="prev" ${tokens.length ? "" : "disabled"}>Previous</button>
        <span class="muted" id="page-info">page ${tokens.length + 1} · ${runs.length} runs</span>
        <button id="next" ${search.next_page_token ? "" : "disabled"}>Next</button>
      </div>`;
    const go = (extra) => setHash(`/experiments/${encodeURIComponent(experimentId)}`,
                                  Object.assign({filter, order}, extra));
    document.getElementById("filter-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      go({filter: document.getElementById("filter").value.trim(), pages: ""});
    });
    document.getElementById("clear").addEventListener("click", () => go({filter: "", pages: ""}));
    document.getElementById("next").addEventListener("click", () =>
      go({pages: tokens.concat([search.next_page_token]).join(",")}));
    document.getElementById("prev").addEventListener("click", () => go({pages: tokens.slice(0, -1).join(",")}));
    for (const h of app.querySelectorAll("th.sortable")) {
      h.addEventListener("click", () => {
        const key = h.dataset.sort;
        // Metrics sort best-first (descending) on the first click; others ascending.
        const first = key.startsWith("metrics.") || key === "attributes.start_time" ? "DESC" : "ASC";
        const dir = key === orderKey ? (orderDir === "ASC" ? "DESC" : "ASC") : first;
        go({order: `${key} ${dir}`, pages: ""});
      });
    }
    const compareButton = document.getElementById("compare");
    const picked = () => [...app.querySelectorAll("input.pick:checked")].map((c) => c.value);
    const update = () => {
      const n = picked().length;
      compareButton.disabled = n === 0;
      compareButton.textContent = n ? `Compare selected (${n})` : "Compare selected";
    };
    app.querySelectorAll("input.pick").forEach((c) => c.addEventListener("change", update));
    document.getElementById("select-all").addEventListener("change", (ev) => {
      app.querySelectorAll("input.pick").forEach((c) => { c.checked = ev.target.checked; });
      update();
    });
    compareButton.addEventListener("click", () => setHash("/compare", {runs: picked().join(",")}));
    rendered("runs");
  }

  // ---------------------------------------------------------------------------------------------
  // Charts shared by the run and compare pages.
  // ---------------------------------------------------------------------------------------------
  // Episode curve of one field (mean per bucket; the reward also gets its min/max band), or the
  // metric history of the same name when the run logged no episodes.
  function episodeSeries(runs, field, metricKey, withBand) {
    return runs.map((r, i) => {
      const ep = r.episodes;
      let points = [];
      let band = [];
      if (ep.total > 0) {
        points = ep.episode.map((x, k) => [x, num(ep[field][k])]);
        if (withBand && runs.length <= 6)
          band = ep.episode.map((x, k) => [x, num(ep.reward_min[k]), num(ep.reward_max[k])]);
      } else if (r.series[metricKey]) {
        points = r.series[metricKey].map((p) => [p[0], num(p[1])]);
      }
      return {name: r.run_name, color: EonCharts.color(i), points, band};
    });
  }

  function blockingVsLoadSeries(runs) {
    const out = [];
    runs.forEach((r, i) => {
      const pts = r.blocking_vs_load.policy;
      if (pts.length) out.push({name: r.run_name, color: EonCharts.color(i), points: pts, markers: true});
    });
    // Heuristics are drawn dashed, once each (the first run that evaluated them).
    const seen = new Set();
    let h = 0;
    for (const r of runs) {
      for (const [name, pts] of Object.entries(r.blocking_vs_load.heuristics)) {
        if (seen.has(name)) continue;
        seen.add(name);
        out.push({name: name + " (heuristic)", color: ["#555", "#999", "#b5651d", "#4b8b3b"][h++ % 4],
                  points: pts, dashed: true, markers: true});
      }
    }
    return out;
  }

  function drawCharts(container, runs) {
    container.innerHTML = `<div class="charts">
        <div class="card chart" id="chart-reward"></div>
        <div class="card chart" id="chart-blocking"></div>
        <div class="card chart" id="chart-load"></div>
      </div>`;
    EonCharts.lineChart(document.getElementById("chart-reward"), {
      title: "Reward per episode", xLabel: "episode", yLabel: "reward",
      series: episodeSeries(runs, "reward", "reward", true),
      empty: "No episodes or 'reward' metric logged.",
    });
    const blocking = episodeSeries(runs, "blocking", "blocking", false);
    EonCharts.lineChart(document.getElementById("chart-blocking"), {
      title: "Blocking probability per episode", xLabel: "episode", yLabel: "blocking probability",
      series: blocking, empty: "No episodes or 'blocking' metric logged.",
    });
    const load = blockingVsLoadSeries(runs);
    const allPositive = load.every((s) => s.points.every((p) => p[1] > 0));
    EonCharts.lineChart(document.getElementById("chart-load"), {
      title: "Blocking vs load: policies and heuristics", xLabel: "offered load (Erlang)",
      yLabel: "blocking probability", series: load, logY: allPositive && load.length > 0,
      empty: "No metrics named blocking@load=<L> (policy) or blocking@load=<L>/<heuristic>.",
    });
  }

  async function fetchCompare(ids) {
    // Reward/blocking histories are only needed for runs without per-episode records.
    return api("GET", "/api/eonops/compare",
               {run_ids: ids.join(","), fallback_metrics: "reward,blocking", max_points: MAX_POINTS});
  }

  // ---------------------------------------------------------------------------------------------
  // One run.
  // ---------------------------------------------------------------------------------------------
  async function runPage(runId) {
    const [got, files, cmp] = await Promise.all([
      mlflow("GET", "runs/get", {run_id: runId}),
      api("GET", "/api/eonops/runs/artifacts", {run_id: runId}),
      fetchCompare([runId]),
    ]);
    const run = got.run, i = run.info;
    const kv = (rows) => `<table class="kv">${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v}</td></tr>`).join("")}</table>`;
    const list = (items, cols) => items.length
      ? `<table><thead><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead><tbody>${items.join("")}</tbody></table>`
      : '<p class="muted">None.</p>';
    app.innerHTML = `<h1>${esc(i.run_name)} <span class="muted">· run ${esc(i.run_id)}</span></h1>
      <div class="card">${kv([
        ["Experiment", `<a href="#/experiments/${esc(i.experiment_id)}">${esc(i.experiment_id)}</a>`],
        ["Status", `<span class="status-${esc(i.status)}">${esc(i.status)}</span>`],
        ["Started", fmtTime(i.start_time)], ["Ended", fmtTime(i.end_time)],
        ["User", esc(i.user_id)], ["Artifact URI", `<code>${esc(i.artifact_uri)}</code>`],
        ["Episodes", esc(cmp.runs[0].episodes.total)],
      ])}</div>
      <div id="run-charts"></div>
      <h2>Parameters</h2>${list((run.data.params || []).map((p) =>
        `<tr><td>${esc(p.key)}</td><td data-key="params.${esc(p.key)}">${esc(p.value)}</td></tr>`), ["Key", "Value"])}
      <h2>Metrics (latest)</h2>${list((run.data.metrics || []).map((m) =>
        `<tr><td>${esc(m.key)}</td><td class="num" data-key="metrics.${esc(m.key)}">${esc(fmt(m.value))}</td><td class="num">${esc(m.step)}</td><td>${fmtTime(m.timestamp)}</td></tr>`),
        ["Key", "Value", "Step", "Time"])}
      <h2>Tags</h2>${list((run.data.tags || []).map((t) => `<tr><td>${esc(t.key)}</td><td>${esc(t.value)}</td></tr>`), ["Key", "Value"])}
      <h2>Artifacts</h2>${list((files.files || []).map((f) =>
        `<tr><td><a href="/get-artifact?run_id=${encodeURIComponent(i.run_id)}&path=${encodeURIComponent(f.path)}">${esc(f.path)}</a></td><td class="num">${esc(f.file_size)}</td><td><code>${esc(f.sha256)}</code></td></tr>`),
        ["Path", "Bytes", "SHA-256"])}`;
    drawCharts(document.getElementById("run-charts"), cmp.runs);
    rendered("run");
  }

  // ---------------------------------------------------------------------------------------------
  // Compare runs.
  // ---------------------------------------------------------------------------------------------
  async function comparePage(params) {
    const ids = (params.get("runs") || "").split(",").filter(Boolean);
    if (!ids.length) {
      app.innerHTML = '<h1>Compare</h1><p class="muted">Select runs in an experiment and press “Compare selected”.</p>';
      rendered("compare");
      return;
    }
    const cmp = await fetchCompare(ids);
    mark("compare-fetched");
    const runs = cmp.runs;
    const legend = runs.map((r, i) => `<th style="color:${EonCharts.color(i)}" data-run-id="${esc(r.run_id)}"><a href="#/runs/${esc(r.run_id)}" style="color:inherit">${esc(r.run_name)}</a></th>`).join("");
    const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
    const paramRows = paramKeys.map((k) => {
      const values = runs.map((r) => (k in r.params ? r.params[k] : null));
      const differs = new Set(values.map((v) => (v === null ? "\u0000" : v))).size > 1;
      return `<tr class="${differs ? "differs" : "same"}" data-param="${esc(k)}"><td>${esc(k)}</td>${values.map((v) => `<td>${v === null ? '<span class="muted">—</span>' : esc(v)}</td>`).join("")}</tr>`;
    }).join("");
    const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
    const metricRows = metricKeys.map((k) => `<tr data-metric="${esc(k)}"><td>${esc(k)}</td>${runs.map((r) => `<td class="num">${esc(fmt(r.metrics[k]))}</td>`).join("")}</tr>`).join("");
    app.innerHTML = `<h1>Compare ${runs.length} runs</h1>
      <div id="compare-charts"></div>
      <h2>Parameters <label class="muted" style="font-weight:normal"><input type="checkbox" id="only-diff" checked> only those that differ</label></h2>
      <div class="table-wrap"><table id="param-diff"><thead><tr><th>Parameter</th>${legend}</tr></thead><tbody>${paramRows}</tbody></table></div>
      <h2>Final metrics</h2>
      <div class="table-wrap"><table id="metric-table"><thead><tr><th>Metric</th>${legend}</tr></thead><tbody>${metricRows}</tbody></table></div>`;
    mark("compare-tables");
    drawCharts(document.getElementById("compare-charts"), runs);
    void app.getBoundingClientRect().height;
    mark("compare-charts");
    const onlyDiff = document.getElementById("only-diff");
    const applyDiff = () => app.querySelectorAll("#param-diff tr.same").forEach((tr) => { tr.hidden = onlyDiff.checked; });
    onlyDiff.addEventListener("change", applyDiff);
    applyDiff();
    rendered("compare");
  }

  // ---------------------------------------------------------------------------------------------
  // Model registry.
  // ---------------------------------------------------------------------------------------------
  const aliasBadges = (aliases) => (aliases || []).map((a) => `<span class="badge alias">@${esc(a)}</span>`).join("");

  async function modelsPage() {
    const res = await mlflow("GET", "registered-models/search", {max_results: 1000});
    const rows = (res.registered_models || []).map((m) => `<tr data-model="${esc(m.name)}">
        <td><a href="#/models/${encodeURIComponent(m.name)}">${esc(m.name)}</a></td>
        <td>${(m.latest_versions || []).map((v) => `<span class="badge">v${esc(v.version)} ${esc(v.current_stage)}</span>`).join("")}</td>
        <td>${(m.aliases || []).map((a) => `<span class="badge alias">@${esc(a.alias)} → v${esc(a.version)}</span>`).join("")}</td>
        <td>${esc(m.description)}</td><td>${fmtTime(m.last_updated_timestamp)}</td></tr>`).join("");
    app.innerHTML = `<h1>Registered models</h1>
      <div class="table-wrap"><table id="models"><thead><tr><th>Name</th><th>Latest versions</th><th>Aliases</th><th>Description</th><th>Last update</th></tr></thead>
      <tbody>${rows || '<tr><td colspan="5" class="muted">No registered models.</td></tr>'}</tbody></table></div>`;
    rendered("models");
  }

  // A decision's figures, compactly: the numbers that decided it.
  function figureSummary(f) {
    const parts = [];
    const add = (label, v) => { if (v !== undefined && v !== null) parts.push(`${label} ${fmt(v)}`); };
    if (f.replay) {
      add("replay Δblocking", f.replay.difference);
      if (f.replay.ci95_high !== undefined) parts.push(`CI [${fmt(f.replay.ci95_low)}, ${fmt(f.replay.ci95_high)}]`);
    }
    if (f.twin) add("twin Δblocking", f.twin.difference);
    if (f.baseline) add("baseline blocking", f.baseline.blocking);
    if (f.live) add("live blocking", f.live.blocking);
    if (f.js_pairs !== undefined) add("JS pairs", f.js_pairs);
    if (f.js_bit_rate !== undefined) add("JS bit rate", f.js_bit_rate);
    if (f.load_ratio !== undefined) add("load ratio", f.load_ratio);
    if (f.promotion_to_rollback_ms !== undefined) add("promotion→rollback ms", f.promotion_to_rollback_ms);
    return parts.join(" · ");
  }

  async function modelPage(name) {
    const quoted = "'" + name.replace(/'/g, "''") + "'";
    const [model, versions, aliases, stages, decisions] = await Promise.all([
      mlflow("GET", "registered-models/get", {name}),
      mlflow("GET", "model-versions/search", {filter: `name = ${quoted}`, max_results: 1000}),
      api("GET", "/api/eonops/registered-models/alias-history", {name}),
      api("GET", "/api/eonops/registered-models/stage-history", {name}),
      api("GET", "/api/eonops/registered-models/decisions", {name, max_results: 200}),
    ]);
    const m = model.registered_model;
    const vrows = (versions.model_versions || []).map((v) => `<tr data-version="${esc(v.version)}">
        <td class="num">v${esc(v.version)}</td><td>${esc(v.current_stage)}</td><td>${aliasBadges(v.aliases)}</td>
        <td>${v.run_id ? `<a href="#/runs/${esc(v.run_id)}">${esc(v.run_id.slice(0, 8))}</a>` : ""}</td>
        <td><code>${esc(v.source)}</code></td><td>${esc(v.status)}</td><td>${fmtTime(v.creation_timestamp)}</td><td>${esc(v.user_id)}</td></tr>`).join("");
    const arows = (m.aliases || []).map((a) => `<tr data-alias="${esc(a.alias)}"><td>@${esc(a.alias)}</td><td class="num">v${esc(a.version)}</td></tr>`).join("");
    const hrows = (aliases.events || []).slice().reverse().map((e) => `<tr class="alias-move" data-alias="${esc(e.alias)}">
        <td>${fmtTime(e.changed_at)}</td><td>@${esc(e.alias)}</td>
        <td>${e.from_version ? "v" + esc(e.from_version) : '<span class="muted">(new)</span>'}</td>
        <td>${e.to_version ? "v" + esc(e.to_version) : '<span class="muted">(deleted)</span>'}</td>
        <td>${esc(e.changed_by)}</td></tr>`).join("");
    const srows = (stages.events || []).slice().reverse().map((e) => `<tr class="stage-move">
        <td>${fmtTime(e.changed_at)}</td><td class="num">v${esc(e.version)}</td><td>${esc(e.from_stage)}</td><td>${esc(e.to_stage)}</td><td>${esc(e.changed_by)}</td></tr>`).join("");
    const table = (id, cols, rows, empty) => `<div class="table-wrap"><table id="${id}"><thead><tr>${cols.map((c) => `<th>${c}</th>`).join("")}</tr></thead>
        <tbody>${rows || `<tr><td colspan="${cols.length}" class="muted">${empty}</td></tr>`}</tbody></table></div>`;
    const drows = (decisions.decisions || []).slice().reverse().map((d) => `<tr class="decision decision-${esc(d.kind)}" data-kind="${esc(d.kind)}">
        <td>${fmtTime(d.decided_at)}</td><td>${esc(d.kind)}</td><td class="num">${d.version !== "0" ? "v" + esc(d.version) : ""}</td>
        <td>${d.alias ? `@${esc(d.alias)} ${d.from_version ? "v" + esc(d.from_version) : "(new)"} → v${esc(d.to_version)}` : ""}</td>
        <td>${esc(d.reason)}</td><td class="muted">${esc(figureSummary(d.figures || {}))}</td><td>${esc(d.decided_by)}</td></tr>`).join("");
    app.innerHTML = `<h1>${esc(m.name)} <a class="muted" style="font-size:14px;font-weight:normal" href="#/models/${encodeURIComponent(m.name)}/trends">performance trends →</a></h1>
      ${m.description ? `<p>${esc(m.description)}</p>` : ""}
      <h2>Aliases</h2>${table("aliases", ["Alias", "Version"], arows, "No aliases.")}
      <h2>Versions</h2>${table("versions", ["Version", "Stage", "Aliases", "Run", "Source", "Status", "Created", "User"], vrows, "No versions.")}
      <h2>Alias history <span class="muted" style="font-weight:normal">(which version served when, newest first)</span></h2>
      ${table("alias-history", ["When (UTC)", "Alias", "From", "To", "By"], hrows, "No alias moves yet.")}
      <h2>Stage transitions</h2>${table("stage-history", ["When (UTC)", "Version", "From", "To", "By"], srows, "No stage transitions.")}
      <h2>Decisions <span class="muted" style="font-weight:normal">(lifecycle service: challengers, promotions, refusals, rollbacks, drift; newest first)</span></h2>
      ${table("decisions", ["When (UTC)", "Decision", "Version", "Alias move", "Why", "Figures", "By"], drows, "No decisions recorded.")}`;
    rendered("model");
  }

  // Model performance trends: one chart per KPI the lifecycle service logged, x = seconds since
  // the first point, one line per served version, alias moves and decisions as vertical markers.
  const KPI_ORDER = ["kpi/blocking", "kpi/bit_rate_blocking", "kpi/request_rate_per_s", "kpi/offered_load_erlang",
                     "kpi/fallback_rate", "kpi/latency_violations", "kpi/gsnr_margin_db", "kpi/network_power_w",
                     "kpi/blocking_no_spectrum", "kpi/blocking_qot", "kpi/blocking_latency", "kpi/blocking_no_path",
                     "drift/js_pairs", "drift/js_bit_rate", "drift/js_holding", "drift/load_ratio"];

  async function trendsPage(name) {
    const t = await api("GET", "/api/eonops/registered-models/trends", {name, max_points: MAX_POINTS});
    t.runs.sort((a, b) => (Number(a.version) || 0) - (Number(b.version) || 0));
    const keys = [...new Set(t.runs.flatMap((r) => Object.keys(r.series)))];
    keys.sort((a, b) => {
      const ia = KPI_ORDER.indexOf(a), ib = KPI_ORDER.indexOf(b);
      return (ia < 0 ? 999 : ia) - (ib < 0 ? 999 : ib) || a.localeCompare(b);
    });
    let t0 = Infinity;
    for (const r of t.runs) for (const pts of Object.values(r.series)) for (const p of pts) t0 = Math.min(t0, p[0]);
    for (const e of t.alias_events) t0 = Math.min(t0, e.changed_at);
    const xs = (ms) => (ms - t0) / 1000;
    const markers = [];
    for (const e of t.alias_events) {
      if (e.alias !== "champion") continue;
      markers.push({x: xs(e.changed_at), color: "#1d2433",
                    label: `@champion ${e.from_version ? "v" + e.from_version : ""}→${e.to_version ? "v" + e.to_version : "∅"}`});
    }
    for (const d of t.decisions) {
      if (d.kind === "drift") markers.push({x: xs(d.decided_at), color: "#ff7f0e", label: "drift"});
      if (d.kind === "rollback") markers.push({x: xs(d.decided_at), color: "#d62728", label: "rollback"});
    }
    const versionColor = {};
    t.runs.forEach((r) => { if (!(r.version in versionColor)) versionColor[r.version] = EonCharts.color(Object.keys(versionColor).length); });
    const when = Number.isFinite(t0) ? fmtTime(t0) + " UTC" : "";
    app.innerHTML = `<h1>${esc(name)} <span class="muted">· performance trends</span></h1>
      <p class="muted">Live KPIs of each served version over sliding windows of requests, as the lifecycle service logged them; vertical lines mark champion moves, drift events and rollbacks. <a href="#/models/${encodeURIComponent(name)}">registry and decisions →</a></p>
      <div class="charts" id="trend-charts">${keys.map((k, i) => `<div class="card chart" id="trend-${i}" data-kpi="${esc(k)}"></div>`).join("")}</div>
      ${keys.length ? "" : '<p class="muted">No KPIs logged yet: run <code>eonops lifecycle serve</code> against the PCE serving this model.</p>'}`;
    // A version that was not served for a while has no points then: break its line there
    // instead of drawing across (gaps of more than 4x its usual spacing, at least 5 s).
    const withGaps = (pts) => {
      const dx = pts.slice(1).map((p, i) => p[0] - pts[i][0]).sort((a, b) => a - b);
      const gap = Math.max(5, 4 * (dx.length ? dx[Math.floor(dx.length / 2)] : 0));
      const out = [];
      pts.forEach((p, i) => {
        if (i > 0 && p[0] - pts[i - 1][0] > gap) out.push([p[0], NaN]);
        out.push(p);
      });
      return out;
    };
    keys.forEach((k, i) => {
      const series = t.runs.filter((r) => r.series[k] && r.series[k].length).map((r) => ({
        name: `v${r.version}${r.use_case ? " (" + r.use_case + ")" : ""}`, color: versionColor[r.version],
        points: withGaps(r.series[k].map((p) => [xs(p[0]), num(p[1])])),
      }));
      EonCharts.lineChart(document.getElementById("trend-" + i), {
        title: k, xLabel: `seconds since ${when}`, yLabel: k.replace(/^(kpi|drift)\//, ""), series, markers,
        empty: "No points.",
      });
    });
    rendered("trends");
  }

  // ---------------------------------------------------------------------------------------------
  async function render() {
    errorBox.hidden = true;
    const {parts, params} = route();
    for (const a of document.querySelectorAll("header nav a")) {
      a.classList.toggle("active", a.dataset.nav === (parts[0] === "models" ? "models" : "experiments"));
    }
    try {
      if (parts.length === 0) return await experimentsPage();
      if (parts[0] === "experiments" && parts[1] !== undefined) return await runsPage(parts[1], params);
      if (parts[0] === "runs" && parts[1]) return await runPage(parts[1]);
      if (parts[0] === "compare") return await comparePage(params);
      if (parts[0] === "models" && parts[1] && parts[2] === "trends") return await trendsPage(parts[1]);
      if (parts[0] === "models" && parts[1]) return await modelPage(parts[1]);
      if (parts[0] === "models") return await modelsPage();
      app.innerHTML = '<p class="muted">Page not found.</p>';
    } catch (e) {
      showError(e);
      document.body.dataset.rendered = "error";
    }
  }

  window.addEventListener("hashchange", render);
  render();
})();
