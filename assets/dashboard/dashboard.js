// The scores dashboard: reads /api/v1/scores four times (by day, agent, queue, and the total)
// and draws them with plain DOM and SVG. No library and no CDN: the page must work on an
// intranet with no way out, and the strict CSP allows nothing but this file.
(() => {
  "use strict";

  // Every label the page shows, so that a language is added in one place.
  const I18N = {
    en: {
      title: "Survey scores",
      subtitle: "Post-call SMS surveys: satisfaction, loyalty, first-contact resolution",
      language: "Language",
      from: "From",
      to: "To",
      reload: "Reload",
      loading: "Loading…",
      totals: "Totals for the range",
      trend: "Daily trend",
      trendNote: "Line: the day's score. Band: its 95% interval. Gaps: days without answers.",
      byAgent: "By agent",
      byQueue: "By queue",
      tableNote:
        "Click a column header to sort. Ranked by default on the lower bound of the 95% interval, " +
        "so a high score resting on a few answers does not outrank a well-established one. " +
        "— means no answers.",
      colAgent: "Agent",
      colQueue: "Queue",
      colSent: "Sent",
      colDelivery: "Delivery rate",
      colResponse: "Response rate",
      colCsat: "CSAT",
      colCsatLow: "CSAT low",
      colNps: "NPS",
      colNpsLow: "NPS low",
      colFcr: "FCR",
      colFcrLow: "FCR low",
      colWait: "Avg wait",
      colSegments: "SMS segments",
      lowHint: "Lower bound of the 95% interval",
      cardSent: "Surveys sent",
      cardDelivery: "Delivery rate",
      cardResponse: "Response rate",
      cardSegments: "SMS segments",
      cardWait: "Average wait",
      delivered: "{n} delivered",
      responses: "{n} responses",
      perSurvey: "{x} per survey",
      ci: "95% CI {lo} – {hi}",
      n: "n={n}",
      csat: "CSAT",
      csatDesc: "share satisfied (4–5 of 5)",
      nps: "NPS",
      npsDesc: "promoters − detractors, −100 to 100",
      fcr: "FCR",
      fcrDesc: "resolved on first contact",
      noData: "No surveys in this range.",
      noAnswers: "No answers in this range",
      authTitle: "API token required",
      authText:
        "This server asks for a bearer token to read scores. It is kept in this browser tab " +
        "only and forgotten when the tab closes.",
      tokenLabel: "Token",
      useToken: "Show scores",
      tokenRejected: "That token was rejected. Check it and try again.",
      error: "Could not load the scores",
      networkError: "the server could not be reached",
      reversedRange: "the first day ({from}) is after the last ({to})",
      seconds: "{x} s",
      updated: "Loaded {t}",
      computed: "scores computed {t}",
    },
    "zh-CN": {
      title: "满意度调查评分",
      subtitle: "通话后短信调查：满意度、净推荐值、首次解决率",
      language: "语言",
      from: "开始日期",
      to: "结束日期",
      reload: "刷新",
      loading: "加载中…",
      totals: "所选期间合计",
      trend: "每日趋势",
      trendNote: "折线：当日得分；色带：95% 置信区间；空缺：当日无回复。",
      byAgent: "按坐席",
      byQueue: "按队列",
      tableNote:
        "点击列标题排序。默认按 95% 置信区间下限排序，回复很少的高分不会排在样本充足的得分之前。" +
        "“—”表示无回复。",
      colAgent: "坐席",
      colQueue: "队列",
      colSent: "已发送",
      colDelivery: "送达率",
      colResponse: "回复率",
      colCsat: "满意度",
      colCsatLow: "满意度下限",
      colNps: "NPS",
      colNpsLow: "NPS 下限",
      colFcr: "首次解决率",
      colFcrLow: "首次解决率下限",
      colWait: "平均等待",
      colSegments: "短信条数",
      lowHint: "95% 置信区间下限",
      cardSent: "已发送调查",
      cardDelivery: "送达率",
      cardResponse: "回复率",
      cardSegments: "短信计费条数",
      cardWait: "平均等待时长",
      delivered: "已送达 {n}",
      responses: "回复 {n}",
      perSurvey: "每份调查 {x} 条",
      ci: "95% 置信区间 {lo} – {hi}",
      n: "n={n}",
      csat: "满意度",
      csatDesc: "满意（4–5 分）占比",
      nps: "NPS",
      npsDesc: "推荐者 − 贬损者，−100 至 100",
      fcr: "首次解决率",
      fcrDesc: "首次联系即解决",
      noData: "所选期间没有调查。",
      noAnswers: "所选期间无回复",
      authTitle: "需要 API 令牌",
      authText: "此服务器读取评分需要 Bearer 令牌。令牌只保存在当前浏览器标签页，关闭即清除。",
      tokenLabel: "令牌",
      useToken: "查看评分",
      tokenRejected: "令牌无效，请检查后重试。",
      error: "无法加载评分",
      networkError: "无法连接服务器",
      reversedRange: "开始日期（{from}）晚于结束日期（{to}）",
      seconds: "{x} 秒",
      updated: "加载于 {t}",
      computed: "评分计算于 {t}",
    },
  };

  const LANG_KEY = "postcall.dashboard.lang";
  const TOKEN_KEY = "postcall.dashboard.token";
  const NONE = "—";

  // Okabe–Ito colours: distinguishable with every common form of colour blindness.
  const METRICS = [
    { id: "csat", block: "csat", value: "score", kind: "ratio", domain: [0, 1], color: "#0072B2" },
    { id: "nps", block: "nps", value: "score", kind: "nps", domain: [-100, 100], color: "#D55E00" },
    { id: "fcr", block: "fcr", value: "rate", kind: "ratio", domain: [0, 1], color: "#009E73" },
  ];

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

  const TABLES = {
    agent: { el: "agent-table", group: "agents", keyField: "agent_id", nameLabel: "colAgent" },
    queue: { el: "queue-table", group: "queues", keyField: "queue", nameLabel: "colQueue" },
  };

  const state = {
    lang: "en",
    data: null,
    loadSeq: 0,
    // Lower bounds by default: fair to agents with few answers, who would otherwise top or
    // trail the table on luck.
    sort: { agent: { key: "csat_low", dir: "desc" }, queue: { key: "csat_low", dir: "desc" } },
  };

  const $ = (id) => document.getElementById(id);

  function cap(s) {
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  function t(key, vars) {
    const text = (I18N[state.lang] && I18N[state.lang][key]) || I18N.en[key] || key;
    return vars ? text.replace(/\{(\w+)\}/g, (_, v) => vars[v]) : text;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined) node.setAttribute(k, v);
    }
    for (const c of children) node.append(c);
    return node;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) node.append(c);
    return node;
  }

  // ---- formatting: null (n = 0) is never shown as 0 ----

  function int(v) {
    return v === null || v === undefined ? NONE : Number(v).toLocaleString(state.lang);
  }

  function pct(v) {
    return v === null || v === undefined ? NONE : (v * 100).toFixed(1) + "%";
  }

  function num(v) {
    return v === null || v === undefined ? NONE : v.toFixed(1);
  }

  function seconds(v) {
    return v === null || v === undefined ? NONE : t("seconds", { x: v.toFixed(1) });
  }

  function fmt(m, v) {
    return m.kind === "ratio" ? pct(v) : num(v);
  }

  function ciText(m, ci) {
    return ci ? t("ci", { lo: fmt(m, ci[0]), hi: fmt(m, ci[1]) }) : "";
  }

  // ---- dates: plain YYYY-MM-DD strings, stepped in UTC so no DST shift moves a day ----

  function daysBetween(from, to) {
    const out = [];
    const end = Date.parse(to + "T00:00:00Z");
    for (let ms = Date.parse(from + "T00:00:00Z"); ms <= end && out.length < 4000; ms += 864e5) {
      out.push(new Date(ms).toISOString().slice(0, 10));
    }
    return out;
  }

  // ---- the API ----

  class AuthError extends Error {}

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function scores(params) {
    const headers = { Accept: "application/json" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token;
    let res;
    try {
      res = await fetch("api/v1/scores?" + new URLSearchParams(params), { headers, cache: "no-store" });
    } catch (e) {
      throw new ApiError(0, t("networkError"));
    }
    if (res.status === 401) throw new AuthError();
    if (!res.ok) throw new ApiError(res.status, await errorText(res));
    const body = await res.json();
    // When the aggregation last ran: scores lag the answers by up to one schedule interval.
    body.aggregatedAt = res.headers.get("x-postcall-aggregated-at");
    return body;
  }

  // The API answers errors in plain text; a JSON body with a message is read too.
  async function errorText(res) {
    const body = (await res.text()).trim();
    try {
      const json = JSON.parse(body);
      return String(json.error || json.message || body).slice(0, 500);
    } catch (e) {
      return (body || res.statusText).slice(0, 500);
    }
  }

  async function load() {
    const seq = ++state.loadSeq;
    // Empty inputs (the first load) leave the range to the server: the last 30 days ending
    // today in aggregation.timezone, which the browser's own date may not match.
    const range = Object.fromEntries(
      Object.entries({ from: $("from").value, to: $("to").value }).filter(([, v]) => v)
    );
    // The API answers a reversed range with nothing in it, as a script wants; a person here
    // more likely swapped the two dates, so say so instead of showing an empty report.
    const day = /^\d{4}-\d{2}-\d{2}$/;
    if (day.test(range.from) && day.test(range.to) && range.from > range.to) {
      showError(new Error(t("reversedRange", range)));
      return;
    }
    setStatus("loading", t("loading"));
    $("error").hidden = true;
    try {
      const [days, agents, queues, totals] = await Promise.all([
        scores({ ...range, group_by: "day" }),
        scores({ ...range, group_by: "agent" }),
        scores({ ...range, group_by: "queue" }),
        scores(range),
      ]);
      // A slower, older request must not overwrite the range asked for since.
      if (seq !== state.loadSeq) return;
      state.data = { days, agents, queues, totals, at: new Date() };
      $("from").value = totals.from;
      $("to").value = totals.to;
      $("auth").hidden = true;
      render();
      setStatus("ready", "");
    } catch (e) {
      if (seq !== state.loadSeq) return;
      if (e instanceof AuthError) {
        askForToken();
      } else {
        showError(e);
      }
    }
  }

  function setStatus(name, text) {
    document.body.dataset.state = name;
    $("status").textContent = text;
  }

  function showError(e) {
    const status = e instanceof ApiError && e.status ? ` (HTTP ${e.status})` : "";
    $("error").textContent = `${t("error")}${status}: ${e.message}`;
    $("error").hidden = false;
    setStatus("error", "");
  }

  function askForToken() {
    // A stored token that got a 401 is wrong or revoked: forget it and say so.
    const rejected = sessionStorage.getItem(TOKEN_KEY) !== null;
    sessionStorage.removeItem(TOKEN_KEY);
    $("auth-error").hidden = !rejected;
    $("auth").hidden = false;
    $("token").focus();
    setStatus("auth", "");
  }

  // ---- rendering ----

  function render() {
    if (!state.data) return;
    renderCards(state.data.totals.groups[0]);
    renderCharts(state.data.days);
    for (const name of Object.keys(TABLES)) renderTable(name);
    const computed = state.data.totals.aggregatedAt;
    $("updated").textContent = [
      t("updated", { t: state.data.at.toLocaleTimeString(state.lang) }),
      computed ? t("computed", { t: new Date(computed).toLocaleString(state.lang) }) : "",
    ].filter(Boolean).join(" · ");
  }

  function renderCards(g) {
    const cards = $("cards");
    cards.replaceChildren();
    if (!g) {
      cards.append(el("p", { class: "empty" }, t("noData")));
      return;
    }
    const perSurvey = g.sent > 0 ? (g.sms_segments / g.sent).toFixed(2) : null;
    const card = (id, label, value, detail) =>
      el("div", { class: "card", "data-card": id },
        el("div", { class: "card-label" }, label),
        el("div", { class: "card-value" }, value),
        el("div", { class: "card-detail" }, detail || "\u00a0"));
    cards.append(
      card("sent", t("cardSent"), int(g.sent), ""),
      card("delivery", t("cardDelivery"), pct(deliveryRate(g)), t("delivered", { n: int(g.delivered) })),
      card("response", t("cardResponse"), pct(g.response_rate), t("responses", { n: int(g.responses) })),
      card("segments", t("cardSegments"), int(g.sms_segments), perSurvey ? t("perSurvey", { x: perSurvey }) : ""),
      ...METRICS.map((m) => {
        const b = g[m.block];
        return card(m.id, t(m.id), fmt(m, b[m.value]), [ciText(m, b.ci95), t("n", { n: int(b.n) })].filter(Boolean).join(" · "));
      }),
      card("wait", t("cardWait"), seconds(g.avg_wait_seconds), ""),
    );
  }

  // The x axis spans the range the API answered for, so days without data stay visible gaps.
  function renderCharts(answer) {
    const days = daysBetween(answer.from, answer.to);
    const byDay = new Map(answer.groups.map((g) => [g.key.day, g]));
    for (const m of METRICS) drawChart($("chart-" + m.id), m, days, byDay);
  }

  // One small chart per metric, so each keeps its own honest scale (NPS runs −100..100).
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
        el("strong", {}, t(m.id)),
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

  function scoreCell(m, g) {
    const b = g[m.block];
    return [el("span", { class: "v" }, fmt(m, b[m.value])), el("span", { class: "n" }, t("n", { n: int(b.n) }))];
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
    const bar = el("span", { class: "ci", "aria-hidden": "true" }, range);
    return [v, bar];
  }

  function sortedGroups(name) {
    const spec = TABLES[name];
    const { key, dir } = state.sort[name];
    const sign = dir === "asc" ? 1 : -1;
    const col = COLUMNS.find((c) => c.id === key);
    const label = (g) => String(g.key[spec.keyField] ?? "");
    const byName = (a, b) => label(a).localeCompare(label(b), state.lang, { numeric: true });
    const missing = (v) => v === null || v === undefined;
    return [...state.data[spec.group].groups].sort((a, b) => {
      if (col.text) return sign * byName(a, b);
      const va = col.get(a), vb = col.get(b);
      // No answers is no score, not a bad one: such rows go last whichever way we sort.
      if (missing(va) || missing(vb)) return missing(va) - missing(vb) || byName(a, b);
      return sign * (va - vb) || byName(a, b);
    });
  }

  function renderTable(name) {
    const spec = TABLES[name];
    const table = $(spec.el);
    const { key, dir } = state.sort[name];
    const head = el("tr", {});
    for (const c of COLUMNS) {
      const sorted = c.id === key;
      const th = el("th", {
        scope: "col",
        "data-sort": c.id,
        "aria-sort": sorted ? (dir === "asc" ? "ascending" : "descending") : "none",
        class: c.text ? "text" : "num",
        title: c.hint ? t(c.hint) : null,
      });
      const button = el("button", { type: "button" }, t(c.label || spec.nameLabel));
      button.append(el("span", { class: "arrow", "aria-hidden": "true" }, sorted ? (dir === "asc" ? "▲" : "▼") : ""));
      button.addEventListener("click", () => {
        // Numbers first sort best-first (descending); names first sort A to Z.
        state.sort[name] = sorted
          ? { key, dir: dir === "asc" ? "desc" : "asc" }
          : { key: c.id, dir: c.text ? "asc" : "desc" };
        renderTable(name);
      });
      th.append(button);
      head.append(th);
    }
    const body = el("tbody", {});
    const groups = sortedGroups(name);
    for (const g of groups) {
      const tr = el("tr", { "data-key": g.key[spec.keyField] });
      for (const c of COLUMNS) {
        if (c.text) {
          tr.append(el("th", { scope: "row", class: "text" }, String(g.key[spec.keyField])));
        } else {
          const content = c.cell(g);
          tr.append(el("td", { class: "num", "data-col": c.id }, ...(Array.isArray(content) ? content : [content])));
        }
      }
      body.append(tr);
    }
    if (groups.length === 0) {
      body.append(el("tr", { class: "empty" }, el("td", { colspan: COLUMNS.length }, t("noData"))));
    }
    table.replaceChildren(el("thead", {}, head), body);
  }

  // ---- language ----

  function initialLang() {
    const saved = localStorage.getItem(LANG_KEY);
    if (saved && I18N[saved]) return saved;
    const nav = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
    return nav.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
  }

  function setLang(lang) {
    state.lang = lang;
    document.documentElement.lang = lang;
    document.title = `postcall · ${t("title")}`;
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-aria]")) node.setAttribute("aria-label", t(node.dataset.i18nAria));
    for (const b of document.querySelectorAll("[data-lang]")) b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
    if (document.body.dataset.state === "loading") $("status").textContent = t("loading");
    render();
  }

  // ---- start ----

  function start() {
    for (const b of document.querySelectorAll("[data-lang]")) {
      b.addEventListener("click", () => {
        localStorage.setItem(LANG_KEY, b.dataset.lang);
        setLang(b.dataset.lang);
      });
    }
    $("range").addEventListener("submit", (e) => {
      e.preventDefault();
      load();
    });
    $("auth").addEventListener("submit", (e) => {
      e.preventDefault();
      const token = $("token").value.trim();
      if (!token) return;
      sessionStorage.setItem(TOKEN_KEY, token);
      $("token").value = "";
      $("auth").hidden = true;
      load();
    });

    setLang(initialLang());
    load();
  }

  start();
})();
