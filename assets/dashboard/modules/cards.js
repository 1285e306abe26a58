// The totals: the six service-quality measures as the hotline reports them, then how the
// surveys themselves went out. Each score says what share of the surveyed customers it
// speaks for, so a 100 % CSAT from 3 of 60 reads as such.

import { t } from "./i18n.js";
import { el, hours, int, pct, seconds, share } from "./format.js";
import { ciText, fmt, metric } from "./metrics.js";

const deliveryRate = (g) => (g.sent > 0 ? g.delivered / g.sent : null);

function card(id, label, value, ...details) {
  return el("div", { class: "card", "data-card": id },
    el("div", { class: "card-label" }, label),
    el("div", { class: "card-value" }, value),
    ...details.filter(Boolean).map((d) => (typeof d === "string" ? el("div", { class: "card-detail" }, d) : d)));
}

function scoreCard(id, g) {
  const m = metric(id);
  const b = g[m.block];
  return card(id, t(m.measure), fmt(m, b[m.value]),
    t(m.id + "Desc"),
    ciText(m, b.ci95),
    el("div", { class: "card-detail share", "data-share": id }, share(b.n, g.sent) || t("n", { n: int(b.n) })));
}

function followUpCard(f) {
  const waiting = f.detractors - f.contacted;
  const value = f.detractors > 0 ? t("followUpValue", { c: int(f.contacted), d: int(f.detractors) }) : int(0);
  return card("follow_up", t("measureFollowUp"), value,
    f.detractors > 0 ? t("followUpDesc") : t("noDetractors"),
    f.detractors > 0 ? t("followUpDetail", { r: int(f.resolved), w: int(waiting) }) : "",
    f.median_hours_to_contact !== null ? t("medianContact", { h: hours(f.median_hours_to_contact) }) : "",
    el("a", { class: "card-link", href: "#follow-up" }, t("navFollowUp")));
}

function feedbackCard(summary) {
  if (!summary) return card("feedback", t("measureFeedback"), "…");
  const count = summary.capped ? `${int(summary.count)}+` : int(summary.count);
  return card("feedback", t("measureFeedback"), count,
    t("feedbackDesc"),
    (summary.capped ? t("feedbackCapped", { n: int(summary.count) }) + " · " : "") +
      t("feedbackDetail", { c: int(summary.comments), d: int(summary.detractors), r: int(summary.remarks) }),
    el("a", { class: "card-link", href: "#feedback" }, t("read")));
}

export function renderCards(g, feedbackSummary) {
  const measures = document.getElementById("cards");
  const delivery = document.getElementById("delivery-cards");
  measures.replaceChildren();
  delivery.replaceChildren();
  if (!g) {
    measures.append(el("p", { class: "empty" }, t("noData")));
    return;
  }
  const perSurvey = g.sent > 0 ? (g.sms_segments / g.sent).toFixed(2) : null;
  const survey = scoreCard("nps", g);
  survey.append(el("div", { class: "card-detail" }, t("surveyDetail", { p: pct(g.response_rate) })));
  measures.append(
    scoreCard("fcr", g),
    scoreCard("csat", g),
    card("wait", t("measureWait"), seconds(g.avg_wait_seconds), t("waitDesc")),
    followUpCard(g.follow_up),
    feedbackCard(feedbackSummary),
    survey,
  );
  delivery.append(
    card("sent", t("cardSent"), int(g.sent)),
    card("delivery", t("cardDelivery"), pct(deliveryRate(g)), t("delivered", { n: int(g.delivered) })),
    card("response", t("cardResponse"), pct(g.response_rate), t("responses", { n: int(g.responses) })),
    card("segments", t("cardSegments"), int(g.sms_segments), perSurvey ? t("perSurvey", { x: perSurvey }) : ""),
  );
}
