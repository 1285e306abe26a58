// 售后跟踪 / Follow-up: the unhappy callers, the one who has waited longest first
// (`GET /api/v1/cases`), and moving a case from the page (`POST …/moves`). Who moves it is a
// name kept in this browser; a move the case does not allow shows the server's reason.

import { t } from "./i18n.js";
import { dateTime, el, hours } from "./format.js";
import { ApiError, get, post } from "./api.js";

const PAGE = 50;
const NAME_KEY = "postcall.dashboard.by";

const view = { items: [], next: null, seq: 0, notes: new Map() };

const $ = (id) => document.getElementById(id);

function setState(name) {
  $("follow-up").dataset.state = name;
}

function filters() {
  return { state: $("fu-state").value, agent: $("fu-agent").value.trim() };
}

export async function loadCases(onError) {
  const seq = ++view.seq;
  setState("loading");
  try {
    const { body } = await get("api/v1/cases", { ...filters(), limit: PAGE });
    if (seq !== view.seq) return;
    view.items = body.items;
    view.next = body.next_cursor;
    renderCases();
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
    const { body } = await get("api/v1/cases", { ...filters(), limit: PAGE, cursor: view.next });
    if (seq !== view.seq) return;
    view.items = view.items.concat(body.items);
    view.next = body.next_cursor;
    renderCases();
    setState("ready");
  } catch (e) {
    if (seq !== view.seq) return;
    setState("error");
    onError(e);
  }
}

// The API's refusal reads "conflict: <why>"; the why is what a person needs.
const reason = (e) => e.message.replace(/^conflict:\s*/, "");

async function move(c, to, row, onError) {
  const by = $("fu-by").value.trim();
  const message = row.querySelector(".fu-message");
  if (!by) {
    message.textContent = t("needName");
    message.dataset.kind = "error";
    $("fu-by").focus();
    return;
  }
  localStorage.setItem(NAME_KEY, by);
  const note = row.querySelector(".fu-note").value.trim();
  for (const b of row.querySelectorAll("button")) b.disabled = true;
  try {
    const moved = await post(`api/v1/cases/${encodeURIComponent(c.call_id)}/moves`, { to, by, note });
    Object.assign(c, { state: moved.state, next: moved.next, contacted_at: moved.contacted_at });
    c.last_move = moved.moves[moved.moves.length - 1] || null;
    if (c.contacted_at) c.hours_waiting = null;
    view.notes.delete(c.call_id);
    row.replaceWith(caseRow(c, onError));
    const fresh = document.querySelector(`#fu-table tr[data-call="${CSS.escape(c.call_id)}"] .fu-message`);
    fresh.textContent = t("moved", { state: t("state_" + moved.state) });
    fresh.dataset.kind = "ok";
  } catch (e) {
    for (const b of row.querySelectorAll("button")) b.disabled = false;
    if (e instanceof ApiError && e.status === 409) {
      message.textContent = t("moveRefused", { why: reason(e) });
      message.dataset.kind = "error";
    } else {
      onError(e);
    }
  }
}

function lastMove(m) {
  if (!m) return "";
  return t("lastMove", { to: t("state_" + m.to), by: m.by, at: dateTime(m.at) }) + (m.note ? ` — ${m.note}` : "");
}

function caseRow(c, onError) {
  const row = el("tr", { "data-call": c.call_id, "data-state": c.state });
  const note = el("input", {
    type: "text", class: "fu-note", maxlength: "2000",
    placeholder: t("notePlaceholder"), "aria-label": t("notePlaceholder"),
  });
  note.value = view.notes.get(c.call_id) || "";
  note.addEventListener("input", () => view.notes.set(c.call_id, note.value));
  const buttons = c.next.map((to) => {
    const b = el("button", { type: "button", class: "move", "data-to": to }, t("moveTo_" + to));
    b.addEventListener("click", () => move(c, to, row, onError));
    return b;
  });
  row.append(
    el("td", { class: "num fu-waited" }, hours(c.hours_waiting)),
    el("td", { class: "text" }, el("span", { class: "fu-call" }, c.call_id), el("br"), el("small", {}, c.day)),
    el("td", { class: "text" }, c.agent_id, el("br"), el("small", {}, c.queue)),
    el("td", { class: "text fu-phone" }, c.customer_phone),
    el("td", { class: "text" }, ...c.reasons.map((r) => el("span", { class: "chip reason", "data-reason": r }, t("reason_" + r)))),
    el("td", { class: "text fu-comment" }, c.comment === null ? "" : c.comment),
    el("td", { class: "text" }, el("span", { class: "chip state", "data-state": c.state }, t("state_" + c.state)),
      el("div", { class: "fu-last" }, lastMove(c.last_move))),
    el("td", { class: "text fu-actions" },
      buttons.length ? note : null,
      el("div", { class: "fu-buttons" }, ...buttons),
      el("div", { class: "fu-message", role: "status" })),
  );
  return row;
}

export function renderCases(onError) {
  const head = el("tr", {}, ...["colWaited", "colCall", "colAgent", "colPhone", "colReasons", "colComment", "colState", "colAction"]
    .map((k) => el("th", { scope: "col", class: k === "colWaited" ? "num" : "text" }, t(k))));
  const body = el("tbody", {}, ...view.items.map((c) => caseRow(c, onError || view.onError)));
  if (view.items.length === 0) body.append(el("tr", { class: "empty" }, el("td", { colspan: 8 }, t("noCases"))));
  $("fu-table").replaceChildren(el("thead", {}, head), body);
  $("fu-more").hidden = view.next === null;
}

export function initCases(onError) {
  view.onError = onError;
  $("fu-by").value = localStorage.getItem(NAME_KEY) || "";
  $("fu-filters").addEventListener("submit", (e) => {
    e.preventDefault();
    loadCases(onError);
  });
  $("fu-more").addEventListener("click", () => more(onError));
}
