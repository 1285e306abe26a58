// The CSAT, NPS and FCR trend by day: one small SVG chart per metric, so each keeps its own
// honest scale (NPS runs −100..100), with the 95 % band and gaps on days without answers.

import { t } from "./i18n.js";
import { daysBetween, el, svg } from "./format.js";
import { METRICS, ciText, fmt } from "./metrics.js";

// The x axis spans the range the API answered for, so days without data stay visible gaps.
export function renderCharts(answer) {
  const days = daysBetween(answer.from, answer.to);
  const byDay = new Map(answer.groups.map((g) => [g.key.day, g]));
  for (const m of METRICS) drawChart(document.getElementById("chart-" + m.id), m, days, byDay);
}

function drawChart(figure, m, days, byDay) {
  const frame = chartFrame(m, days);
  const root = svg("svg", {
    viewBox: `0 0 ${frame.W} ${frame.H}`,
    role: "img",
    "aria-label": `${t(m.id)} — ${t("trend")}`,
    class: "chart-svg",
  });
  const runs = runsOf(m, days, byDay);
  root.append(grid(m, days, frame), ...series(m, runs, frame));
  if (runs.length === 0) {
    const { W, H, L, R } = frame;
    root.append(svg("text", { x: (L + W - R) / 2, y: H / 2, "text-anchor": "middle", class: "chart-empty" }, t("noAnswers")));
  }
  figure.replaceChildren(
    el("figcaption", {},
      el("span", { class: "swatch", "data-metric": m.id }),
      el("strong", {}, t(m.measure)),
      el("span", { class: "desc" }, t(m.id + "Desc"))),
    root,
  );
}

// Size, margins and the day-index / value to pixel scales of one chart.
function chartFrame(m, days) {
  const W = 420, H = 210, L = 40, R = 12, T = 12, B = 28;
  const [d0, d1] = m.domain;
  return {
    W, H, L, R,
    x: (i) => (days.length > 1 ? L + (i * (W - L - R)) / (days.length - 1) : (L + W - R) / 2),
    y: (v) => T + (1 - (v - d0) / (d1 - d0)) * (H - T - B),
  };
}

function grid(m, days, { W, H, L, R, x, y }) {
  const g = svg("g", { class: "grid" });
  const ticks = m.kind === "ratio" ? [0, 0.25, 0.5, 0.75, 1] : [-100, -50, 0, 50, 100];
  for (const v of ticks) {
    g.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: v === 0 && m.kind === "nps" ? "zero" : "" }));
    g.append(svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, m.kind === "ratio" ? `${v * 100}%` : String(v)));
  }
  const step = Math.max(1, Math.ceil(days.length / 6));
  const last = days.length - 1;
  days.forEach((day, i) => {
    // Every step-th day, and the last one when it does not crowd the one before it.
    if (i % step === 0 || (i === last && i % step >= step / 2)) {
      g.append(svg("text", { x: x(i), y: H - 10, "text-anchor": "middle" }, day.slice(5)));
    }
  });
  return g;
}

// Consecutive days with answers form a run; a day without any ends it, since a line drawn
// across the gap would invent scores nobody gave.
function runsOf(m, days, byDay) {
  const runs = [];
  let run = null;
  days.forEach((day, i) => {
    const g = byDay.get(day);
    const v = g ? g[m.block][m.value] : null;
    if (v === null || v === undefined) {
      run = null;
      return;
    }
    const p = { i, day, v, block: g[m.block], ci: g[m.block].ci95 || [v, v] };
    if (run) run.push(p);
    else runs.push((run = [p]));
  });
  return runs;
}

// Per run: the 95 % band, the line, and a point per day with its figures as a tooltip.
function series(m, runs, { x, y }) {
  const xy = (p, v) => `${x(p.i).toFixed(1)},${y(v).toFixed(1)}`;
  const bands = svg("g", { class: "bands", fill: m.color });
  const lines = svg("g", { class: "lines", stroke: m.color });
  const dots = svg("g", { class: "points", fill: m.color });
  for (const r of runs) {
    if (r.length > 1) {
      const upper = r.map((p) => xy(p, p.ci[1]));
      const lower = r.map((p) => xy(p, p.ci[0])).reverse();
      bands.append(svg("path", { class: "band", d: `M${upper.join("L")}L${lower.join("L")}Z` }));
    } else {
      const [p] = r;
      const height = Math.max(1, y(p.ci[0]) - y(p.ci[1]));
      bands.append(svg("rect", { class: "band", x: x(p.i) - 3, width: 6, y: y(p.ci[1]), height }));
    }
    lines.append(svg("path", { class: "line", d: "M" + r.map((p) => xy(p, p.v)).join("L") }));
    for (const p of r) {
      const tip = `${p.day} · ${t(m.id)} ${fmt(m, p.v)} · ${ciText(m, p.block.ci95)} · ${t("n", { n: p.block.n })}`;
      dots.append(svg("circle", { class: "pt", cx: x(p.i), cy: y(p.v), r: 3.2, "data-day": p.day }, svg("title", {}, tip)));
    }
  }
  return [bands, lines, dots];
}
