// 用户反馈 / Customer feedback: `GET /api/v1/feedback` for the page's dates, newest call first,
// filtered by agent, queue and kind, a page at a time ("More" follows the cursor). What
// customers wrote is put in as text, never as HTML.

import { t } from "./i18n.js";
import { dateTime, el } from "./format.js";
import { get } from "./api.js";

const PAGE = 20;

const view = {
  range: {},
  items: [],
  next: null,
  // The request whose answer may still be shown: a newer one makes older answers stale.
  seq: 0,
};

const $ = (id) => document.getElementById(id);

function filters() {
  return {
    ...view.range,
    agent: $("fb-agent").value.trim(),
    queue: $("fb-queue").value.trim(),
    kind: $("fb-kind").value,
  };
}

function setState(name) {
  $("feedback").dataset.state = name;
}

// The first page for `range` (the page's dates) and the filters on screen.
export async function loadFeedback(range, onError) {
  if (range) view.range = range;
  const seq = ++view.seq;
  setState("loading");
  try {
    const { body } = await get("api/v1/feedback", { ...filters(), limit: PAGE });
    if (seq !== view.seq) return;
    view.items = body.items;
    view.next = body.next_cursor;
    renderFeedback();
    setState("ready");
  } catch (e) {
    if (seq !== view.seq) return;
    setState("error");
    onError(e);
  }
}

async function more(onError) {
  const seq = ++view.seq;
  setState("loading");
  try {
    const { body } = await get("api/v1/feedback", { ...filters(), limit: PAGE, cursor: view.next });
    if (seq !== view.seq) return;
    view.items = view.items.concat(body.items);
    view.next = body.next_cursor;
    renderFeedback();
    setState("ready");
  } catch (e) {
    if (seq !== view.seq) return;
    setState("error");
    onError(e);
  }
}

// Up to 200 items of the range, unfiltered, for the totals card: how much was said.
export async function feedbackSummary(range) {
  const { body } = await get("api/v1/feedback", { ...range, limit: 200 });
  return {
    count: body.items.length,
    capped: body.next_cursor !== null,
    comments: body.items.filter((i) => i.comment !== null).length,
    detractors: body.items.filter((i) => i.detractor_reasons.length > 0).length,
    remarks: body.items.filter((i) => i.answers.some((a) => a.remark)).length,
  };
}

export function showFeedbackOf(field, value, onError) {
  $("fb-agent").value = field === "agent" ? value : "";
  $("fb-queue").value = field === "queue" ? value : "";
  $("fb-kind").value = "";
  $("feedback").scrollIntoView();
  loadFeedback(null, onError);
}

function answerText(a) {
  if (a.value === true) return t("yes");
  if (a.value === false) return t("no");
  return String(a.value);
}

function remark(a) {
  return el("p", { class: "fb-remark", "data-question": a.question_id },
    el("span", { class: "fb-remark-answer" }, `${a.question_id}: ${answerText(a)}`),
    " ",
    el("span", { class: "fb-remark-text" }, a.raw));
}

function item(i) {
  const reasons = i.detractor_reasons.map((r) => el("span", { class: "chip reason", "data-reason": r }, t("reason_" + r)));
  const state = i.follow_up
    ? el("span", { class: "chip state", "data-state": i.follow_up.state }, t("state_" + i.follow_up.state))
    : el("span", { class: "chip state none" }, t("noCase"));
  return el("article", { class: "fb-item", "data-call": i.call_id },
    el("header", {},
      el("strong", { class: "fb-day" }, i.day),
      el("span", { class: "fb-agent" }, i.agent_id),
      el("span", { class: "fb-queue" }, i.queue),
      el("span", { class: "fb-call" }, t("call", { id: i.call_id })),
      el("span", { class: "fb-phone" }, i.customer_phone),
      el("time", { datetime: i.ended_at }, dateTime(i.ended_at))),
    el("p", { class: i.comment === null ? "fb-comment empty" : "fb-comment" }, i.comment === null ? t("noComment") : i.comment),
    // Words written with an answer (`4分 等了很久`): only the raw reply holds them.
    ...i.answers.filter((a) => a.remark).map(remark),
    el("div", { class: "fb-answers" },
      ...i.answers
        .filter((a) => typeof a.value !== "string")
        .map((a) => el("span", { class: "chip answer", title: a.raw }, `${a.question_id}: ${answerText(a)}`)),
      ...reasons,
      state));
}

export function renderFeedback() {
  const list = $("fb-list");
  list.replaceChildren(...view.items.map(item));
  if (view.items.length === 0) list.append(el("p", { class: "empty" }, t("noFeedback")));
  $("fb-more").hidden = view.next === null;
}

export function initFeedback(onError) {
  $("fb-filters").addEventListener("submit", (e) => {
    e.preventDefault();
    loadFeedback(null, onError);
  });
  $("fb-more").addEventListener("click", () => more(onError));
}

// Suggestions for the filters, from the agents and queues the scores know of.
export function suggest(agents, queues) {
  const options = (id, values) =>
    $(id).replaceChildren(...values.map((v) => el("option", { value: v })));
  options("fb-agents", agents);
  options("fb-queues", queues);
}
