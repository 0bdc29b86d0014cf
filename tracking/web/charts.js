// Small SVG line charts for the tracking UI: no library, one <path> per series, so 20 runs x
// 1,000 points draw in a few milliseconds.
//
//   EonCharts.lineChart(element, {
//     title: "Reward", xLabel: "episode", yLabel: "reward", logY: false,
//     series: [{name: "ppo-1", color: "#1f77b4", points: [[0, 1.5], [1, 2.0]],
//               band: [[0, 1.0, 2.0], ...], dashed: false}],
//     markers: [{x: 120, label: "@champion → v3", color: "#d62728"}],   // vertical lines
//   });
"use strict";

const EonCharts = (() => {
  const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
                   "#e377c2", "#7f7f7f", "#bcbd22", "#393b79", "#ad494a", "#637939", "#7b4173",
                   "#e6550d", "#3182bd", "#31a354", "#756bb1", "#636363", "#843c39"];

  function color(i) { return PALETTE[i % PALETTE.length]; }

  function escapeXml(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;",
                                                  '"': "&quot;", "'": "&#39;"}[c]));
  }

  // Round tick positions covering [lo, hi] (Heckbert's nice numbers).
  function niceTicks(lo, hi, count) {
    if (!(hi > lo)) { hi = lo + 1; }
    const raw = (hi - lo) / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const norm = raw / mag;
    const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
    const ticks = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return ticks;
  }

  function formatTick(v) {
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(0);
    return String(Number(v.toPrecision(4)));
  }

  function lineChart(el, opts) {
    const W = opts.width || 640, H = opts.height || 300;
    const M = {left: 64, right: 16, top: 12, bottom: 44};
    const logY = !!opts.logY;
    const series = (opts.series || []).filter((s) => s.points && s.points.length);
    const ty = (y) => (logY ? Math.log10(y) : y);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    const usable = (p) => Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!logY || p[1] > 0);
    for (const s of series) {
      for (const p of s.points) {
        if (!usable(p)) continue;
        x0 = Math.min(x0, p[0]); x1 = Math.max(x1, p[0]);
        y0 = Math.min(y0, ty(p[1])); y1 = Math.max(y1, ty(p[1]));
      }
      for (const b of s.band || []) {
        if (Number.isFinite(b[1]) && (!logY || b[1] > 0)) y0 = Math.min(y0, ty(b[1]));
        if (Number.isFinite(b[2]) && (!logY || b[2] > 0)) y1 = Math.max(y1, ty(b[2]));
      }
    }
    let html = "";
    if (opts.title) html += `<div class="title">${escapeXml(opts.title)}</div>`;
    if (!Number.isFinite(x0)) {
      el.innerHTML = html + `<p class="muted">${escapeXml(opts.empty || "No data.")}</p>`;
      return;
    }
    if (x1 === x0) { x0 -= 1; x1 += 1; }
    if (y1 === y0) { y0 -= logY ? 1 : Math.abs(y0) * 0.1 || 1; y1 += logY ? 1 : Math.abs(y1) * 0.1 || 1; }
    const pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad;
    const sx = (x) => M.left + ((x - x0) / (x1 - x0)) * (W - M.left - M.right);
    const sy = (y) => H - M.bottom - ((ty(y) - y0) / (y1 - y0)) * (H - M.top - M.bottom);
    const parts = [];
    parts.push(`<svg viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg" role="img">`);
    // Grid and axes.
    for (const t of niceTicks(x0, x1, 6)) {
      const x = sx(t).toFixed(1);
      parts.push(`<line x1="${x}" x2="${x}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eef0f4"/>`);
      parts.push(`<text x="${x}" y="${H - M.bottom + 16}" font-size="11" text-anchor="middle" fill="#6b7385">${formatTick(t)}</text>`);
    }
    const yTicks = logY ? niceTicks(Math.floor(y0), Math.ceil(y1), Math.min(6, Math.ceil(y1) - Math.floor(y0)))
                               .filter((t) => Number.isInteger(t) && t >= y0 && t <= y1)
                        : niceTicks(y0, y1, 5);
    for (const t of yTicks) {
      const v = logY ? Math.pow(10, t) : t;
      const y = sy(v).toFixed(1);
      parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="#eef0f4"/>`);
      parts.push(`<text x="${M.left - 6}" y="${y}" dy="4" font-size="11" text-anchor="end" fill="#6b7385">${formatTick(v)}</text>`);
    }
    parts.push(`<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#c9ced8"/>`);
    if (opts.xLabel) parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 8}" font-size="12" text-anchor="middle" fill="#1d2433">${escapeXml(opts.xLabel)}</text>`);
    if (opts.yLabel) parts.push(`<text transform="translate(14 ${(M.top + H - M.bottom) / 2}) rotate(-90)" font-size="12" text-anchor="middle" fill="#1d2433">${escapeXml(opts.yLabel + (logY ? " (log)" : ""))}</text>`);
    // Min/max bands under the lines.
    for (const s of series) {
      const band = (s.band || []).filter((b) => Number.isFinite(b[0]) && Number.isFinite(b[1]) &&
                                                Number.isFinite(b[2]) && (!logY || b[1] > 0));
      if (band.length < 2) continue;
      let d = "M" + band.map((b) => `${sx(b[0]).toFixed(1)} ${sy(b[2]).toFixed(1)}`).join("L");
      d += "L" + band.slice().reverse().map((b) => `${sx(b[0]).toFixed(1)} ${sy(b[1]).toFixed(1)}`).join("L") + "Z";
      parts.push(`<path d="${d}" fill="${s.color}" fill-opacity="0.12" stroke="none"/>`);
    }
    // One path per series; a gap (NaN) starts a new sub-path.
    for (const s of series) {
      let d = "", pen = "M";
      for (const p of s.points) {
        if (!usable(p)) { pen = "M"; continue; }
        d += `${pen}${sx(p[0]).toFixed(1)} ${sy(p[1]).toFixed(1)}`;
        pen = "L";
      }
      const dash = s.dashed ? ' stroke-dasharray="6 4"' : "";
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"${dash} data-series="${escapeXml(s.name)}" data-points="${s.points.length}"><title>${escapeXml(s.name)}</title></path>`);
      if (s.markers) {
        for (const p of s.points) {
          if (!usable(p)) continue;
          parts.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="3" fill="${s.color}"><title>${escapeXml(s.name)}: ${p[1]} at ${p[0]}</title></circle>`);
        }
      }
    }
    // Vertical markers (e.g. version changes), inside the plotted x range only.
    // Labels of markers close together are stacked so they stay readable.
    let lastX = -Infinity, row = 0;
    const visible = (opts.markers || []).filter((m) => Number.isFinite(m.x) && m.x >= x0 && m.x <= x1)
                                        .sort((a, b) => a.x - b.x);
    for (const m of visible) {
      const px = sx(m.x);
      row = px - lastX < 90 ? row + 1 : 0;
      lastX = px;
      const x = px.toFixed(1);
      const c = m.color || "#6b7385";
      parts.push(`<line class="marker" x1="${x}" x2="${x}" y1="${M.top}" y2="${H - M.bottom}" stroke="${c}" stroke-dasharray="3 3" data-label="${escapeXml(m.label || "")}"><title>${escapeXml(m.label || "")}</title></line>`);
      if (m.label) parts.push(`<text x="${(px + 3).toFixed(1)}" y="${M.top + 11 + 12 * (row % 5)}" font-size="10" fill="${c}">${escapeXml(m.label)}</text>`);
    }
    parts.push("</svg>");
    const legend = series.map((s) => `<span style="color:${s.color}"><span class="swatch${s.dashed ? " dashed" : ""}" style="background:${s.color}"></span><span style="color:#1d2433">${escapeXml(s.name)}</span></span>`).join("");
    el.innerHTML = html + parts.join("") + `<div class="legend">${legend}</div>`;
  }

  return {lineChart, color, niceTicks};
})();
