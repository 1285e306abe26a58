// The QA lead's dashboard: the scores of a date range (four reads of /api/v1/scores: by day,
// agent, queue, and the total), what customers said (/api/v1/feedback) and the follow-up
// worklist (/api/v1/cases). Plain DOM and SVG in a few ES modules, no library and no CDN: the
// page must work on an intranet with no way out, and the strict CSP allows only these files.

import { LANGS, currentLang, known, setCurrent, t } from "./modules/i18n.js";
import { ApiError, AuthError, get, token } from "./modules/api.js";
import { renderCards } from "./modules/cards.js";
import { renderCharts } from "./modules/charts.js";
import { renderTable } from "./modules/tables.js";
import { feedbackSummary, initFeedback, loadFeedback, renderFeedback, showFeedbackOf, suggest } from "./modules/feedback.js";
import { initCases, loadCases, renderCases } from "./modules/cases.js";

const LANG_KEY = "postcall.dashboard.lang";

const state = { data: null, loadSeq: 0 };

const $ = (id) => document.getElementById(id);

async function scores(params) {
  const { body, res } = await get("api/v1/scores", params);
  // When the aggregation last ran: scores lag the answers by up to one schedule interval.
  body.aggregatedAt = res.headers.get("x-postcall-aggregated-at");
  return body;
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
    const resolved = { from: totals.from, to: totals.to };
    state.data = { days, agents, queues, totals, summary: null, at: new Date() };
    $("from").value = totals.from;
    $("to").value = totals.to;
    $("auth").hidden = true;
    suggest(agents.groups.map((g) => g.key.agent_id), queues.groups.map((g) => g.key.queue));
    render();
    const [summary] = await Promise.all([
      feedbackSummary(resolved),
      loadFeedback(resolved, handleError),
      loadCases(handleError),
    ]);
    if (seq !== state.loadSeq) return;
    state.data.summary = summary;
    render();
    if (document.body.dataset.state === "loading") setStatus("ready", "");
  } catch (e) {
    if (seq !== state.loadSeq) return;
    handleError(e);
  }
}

function handleError(e) {
  if (e instanceof AuthError) askForToken();
  else showError(e);
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
  const rejected = token.get() !== null;
  token.forget();
  $("auth-error").hidden = !rejected;
  $("auth").hidden = false;
  $("token").focus();
  setStatus("auth", "");
}

function render() {
  if (!state.data) return;
  const { days, agents, queues, totals, summary } = state.data;
  renderCards(totals.groups[0], summary);
  renderCharts(days);
  const onFeedback = (field, value) => showFeedbackOf(field, value, handleError);
  renderTable("agent", agents, onFeedback);
  renderTable("queue", queues, onFeedback);
  const computed = totals.aggregatedAt;
  $("updated").textContent = [
    t("updated", { t: state.data.at.toLocaleTimeString(currentLang()) }),
    computed ? t("computed", { t: new Date(computed).toLocaleString(currentLang()) }) : "",
  ].filter(Boolean).join(" · ");
}

// ---- language ----

function initialLang() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved && known(saved)) return saved;
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  return nav.toLowerCase().startsWith("zh") ? "zh-CN" : LANGS[0];
}

function setLang(lang) {
  setCurrent(lang);
  document.documentElement.lang = lang;
  document.title = `postcall · ${t("title")}`;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-aria]")) node.setAttribute("aria-label", t(node.dataset.i18nAria));
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const b of document.querySelectorAll("[data-lang]")) b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
  if (document.body.dataset.state === "loading") $("status").textContent = t("loading");
  render();
  renderFeedback();
  renderCases();
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
    const value = $("token").value.trim();
    if (!value) return;
    token.set(value);
    $("token").value = "";
    $("auth").hidden = true;
    load();
  });
  initFeedback(handleError);
  initCases(handleError);
  setLang(initialLang());
  load();
}

start();

