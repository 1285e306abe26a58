// Building DOM nodes and writing numbers. Text goes in as text nodes, never as HTML: agent
// ids and customers' comments come from outside and must not become markup.

import { currentLang, t } from "./i18n.js";

export const NONE = "—";

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) {
    if (c !== null && c !== undefined) node.append(c);
  }
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

const missing = (v) => v === null || v === undefined;

// ---- null (n = 0) is never shown as 0 ----

export function int(v) {
  return missing(v) ? NONE : Number(v).toLocaleString(currentLang());
}

export function pct(v) {
  return missing(v) ? NONE : (v * 100).toFixed(1) + "%";
}

export function num(v) {
  return missing(v) ? NONE : v.toFixed(1);
}

export function seconds(v) {
  return missing(v) ? NONE : t("seconds", { x: v.toFixed(1) });
}

export function hours(v) {
  return missing(v) ? NONE : t("hours", { x: v.toFixed(1) });
}

// A share as people say it: whole percent, one decimal below 10 % so 0.4 % is not "0 %".
export function sharePct(part, whole) {
  const p = (part / whole) * 100;
  return (p < 10 ? p.toFixed(1) : Math.round(p)) + "%";
}

// What share of the surveyed customers (sent) a figure resting on `n` answers speaks for.
export function share(n, sent, key = "share") {
  if (!sent) return "";
  return t(key, { n: int(n), sent: int(sent), p: sharePct(n, sent) });
}

export function dateTime(iso) {
  return missing(iso) ? NONE : new Date(iso).toLocaleString(currentLang());
}

// ---- dates: plain YYYY-MM-DD strings, stepped in UTC so no DST shift moves a day ----

export function daysBetween(from, to) {
  const out = [];
  const end = Date.parse(to + "T00:00:00Z");
  for (let ms = Date.parse(from + "T00:00:00Z"); ms <= end && out.length < 4000; ms += 864e5) {
    out.push(new Date(ms).toISOString().slice(0, 10));
  }
  return out;
}
