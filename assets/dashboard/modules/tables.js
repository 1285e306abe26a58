// The per-agent and per-queue tables. Ranked by default on an interval's lower bound, and
// only the groups with answers enough (the scores' `ranking.min_answers`): the others are
// listed apart, as too few answers to rank, so a newcomer with two 5s is neither top nor
// bottom.

import { currentLang, t } from "./i18n.js";
import { el, int, pct, seconds, share } from "./format.js";
import { METRICS, fmt } from "./metrics.js";

const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);

// Sort keys read a number (or null, which always sorts last) from a group.
const score = (m) => (g) => g[m.block][m.value];
const low = (m) => (g) => (g[m.block].ci95 ? g[m.block].ci95[0] : null);
const deliveryRate = (g) => (g.sent > 0 ? g.delivered / g.sent : null);

const COLUMNS = [
  { id: "name", label: null, get: null, text: true },
  { id: "sent", label: "colSent", get: (g) => g.sent, cell: (g) => int(g.sent) },
  { id: "delivery", label: "colDelivery", get: deliveryRate, cell: (g) => pct(deliveryRate(g)) },
  { id: "response", label: "colResponse", get: (g) => g.response_rate, cell: (g) => pct(g.response_rate) },
  ...METRICS.flatMap((m) => [
    { id: m.id, label: "col" + cap(m.id), get: score(m), cell: (g) => scoreCell(m, g) },
    { id: m.id + "_low", label: "col" + cap(m.id) + "Low", hint: "lowHint", get: low(m), cell: (g) => lowCell(m, g) },
  ]),
  { id: "wait", label: "colWait", get: (g) => g.avg_wait_seconds, cell: (g) => seconds(g.avg_wait_seconds) },
  { id: "segments", label: "colSegments", get: (g) => g.sms_segments, cell: (g) => int(g.sms_segments) },
];

export const TABLES = {
  agent: { el: "agent-table", few: "agent-few", fewTitle: "agent-few-title", group: "agents", keyField: "agent_id", nameLabel: "colAgent", filter: "agent" },
  queue: { el: "queue-table", few: "queue-few", fewTitle: "queue-few-title", group: "queues", keyField: "queue", nameLabel: "colQueue", filter: "queue" },
};

// Lower bounds by default: fair to groups with few answers, who would otherwise top or
// trail the table on luck.
export const sort = { agent: { key: "csat_low", dir: "desc" }, queue: { key: "csat_low", dir: "desc" } };

// The score, and under it the share of the surveyed customers it speaks for.
function scoreCell(m, g) {
  const b = g[m.block];
  return [
    el("span", { class: "v" }, fmt(m, b[m.value])),
    el("span", { class: "n", title: share(b.n, g.sent) || null }, share(b.n, g.sent, "shareShort") || t("n", { n: int(b.n) })),
  ];
}

// The lower bound, with the whole interval drawn as a bar across the metric's range.
function lowCell(m, g) {
  const ci = g[m.block].ci95;
  const v = el("span", { class: "v" }, fmt(m, ci ? ci[0] : null));
  if (!ci) return [v];
  const [d0, d1] = m.domain;
  const at = (x) => ((x - d0) / (d1 - d0)) * 100;
  const range = el("span", { class: "ci-range" });
  range.style.left = at(ci[0]) + "%";
  range.style.width = Math.max(0.5, at(ci[1]) - at(ci[0])) + "%";
  range.style.backgroundColor = m.color;
  return [v, el("span", { class: "ci", "aria-hidden": "true" }, range)];
}

function sorted(name, groups) {
  const spec = TABLES[name];
  const { key, dir } = sort[name];
  const sign = dir === "asc" ? 1 : -1;
  const col = COLUMNS.find((c) => c.id === key);
  const label = (g) => String(g.key[spec.keyField] ?? "");
  const byName = (a, b) => label(a).localeCompare(label(b), currentLang(), { numeric: true });
  const missing = (v) => v === null || v === undefined;
  return [...groups].sort((a, b) => {
    if (col.text) return sign * byName(a, b);
    const va = col.get(a), vb = col.get(b);
    // No answers is no score, not a bad one: such rows go last whichever way we sort.
    if (missing(va) || missing(vb)) return missing(va) - missing(vb) || byName(a, b);
    return sign * (va - vb) || byName(a, b);
  });
}

// `answer` is the scores answer grouped by this table's key; `onFeedback(value)` shows the
// feedback on one agent or queue.
export function renderTable(name, answer, onFeedback) {
  const spec = TABLES[name];
  const min = answer.ranking ? answer.ranking.min_answers : 1;
  const ranked = answer.groups.filter((g) => g.responses >= min);
  const few = answer.groups.filter((g) => g.responses < min);
  const rerender = () => renderTable(name, answer, onFeedback);
  fill(document.getElementById(spec.el), name, sorted(name, ranked), true, rerender, onFeedback);
  const fewTable = document.getElementById(spec.few);
  const fewTitle = document.getElementById(spec.fewTitle);
  fewTitle.textContent = t("tooFew", { n: int(min) });
  fewTitle.title = t("tooFewNote", { n: int(min) });
  fewTitle.parentElement.hidden = few.length === 0;
  // Apart and unranked: in name order, whatever the ranked table is sorted by.
  const byName = [...few].sort((a, b) =>
    String(a.key[spec.keyField]).localeCompare(String(b.key[spec.keyField]), currentLang(), { numeric: true }));
  fill(fewTable, name, byName, false, rerender, onFeedback);
}

function fill(table, name, groups, sortable, rerender, onFeedback) {
  const spec = TABLES[name];
  const { key, dir } = sort[name];
  const head = el("tr", {});
  for (const c of COLUMNS) {
    const active = sortable && c.id === key;
    const th = el("th", {
      scope: "col",
      "data-sort": c.id,
      "aria-sort": sortable ? (active ? (dir === "asc" ? "ascending" : "descending") : "none") : null,
      class: c.text ? "text" : "num",
      title: c.hint ? t(c.hint) : null,
    });
    const label = t(c.label || spec.nameLabel);
    if (sortable) {
      const button = el("button", { type: "button" }, label,
        el("span", { class: "arrow", "aria-hidden": "true" }, active ? (dir === "asc" ? "▲" : "▼") : ""));
      button.addEventListener("click", () => {
        // Numbers first sort best-first (descending); names first sort A to Z.
        sort[name] = active
          ? { key, dir: dir === "asc" ? "desc" : "asc" }
          : { key: c.id, dir: c.text ? "asc" : "desc" };
        rerender();
      });
      th.append(button);
    } else {
      th.append(label);
    }
    head.append(th);
  }
  const body = el("tbody", {});
  for (const g of groups) {
    const value = String(g.key[spec.keyField]);
    const tr = el("tr", { "data-key": value });
    for (const c of COLUMNS) {
      if (c.text) {
        const link = el("button", { type: "button", class: "to-feedback", title: t("feedbackOf", { name: value }) }, value);
        link.addEventListener("click", () => onFeedback(spec.filter, value));
        tr.append(el("th", { scope: "row", class: "text" }, link));
      } else {
        const content = c.cell(g);
        tr.append(el("td", { class: "num", "data-col": c.id }, ...(Array.isArray(content) ? content : [content])));
      }
    }
    body.append(tr);
  }
  if (groups.length === 0 && sortable) {
    body.append(el("tr", { class: "empty" }, el("td", { colspan: COLUMNS.length }, t("noData"))));
  }
  table.replaceChildren(el("thead", {}, head), body);
}

