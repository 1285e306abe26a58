// The three answer metrics the scores carry, and how each is written.

import { t } from "./i18n.js";
import { num, pct } from "./format.js";

// Okabe–Ito colours: distinguishable with every common form of colour blindness.
export const METRICS = [
  { id: "csat", measure: "measureCsat", block: "csat", value: "score", kind: "ratio", domain: [0, 1], color: "#0072B2" },
  { id: "nps", measure: "measureSurvey", block: "nps", value: "score", kind: "nps", domain: [-100, 100], color: "#D55E00" },
  { id: "fcr", measure: "measureFcr", block: "fcr", value: "rate", kind: "ratio", domain: [0, 1], color: "#009E73" },
];

export const metric = (id) => METRICS.find((m) => m.id === id);

export function fmt(m, v) {
  return m.kind === "ratio" ? pct(v) : num(v);
}

export function ciText(m, ci) {
  return ci ? t("ci", { lo: fmt(m, ci[0]), hi: fmt(m, ci[1]) }) : "";
}
