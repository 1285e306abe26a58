//! The scores as a CSV file for spreadsheets. The agent ids and queue names in it come from
//! the call platform, so each is written inert (OWASP's CSV-injection rule, `text_cell`);
//! every other cell is a number or a date the server formats itself.

use axum::{
    http::header,
    response::{IntoResponse, Response},
};

use super::{Body, internal};
use crate::{
    domain::{follow_up::Figures, scores::Scores},
    http::error::HttpError,
    store::scores::Dimension,
};

/// The same groups as CSV: the key's columns, then every figure, intervals as two columns;
/// a null is an empty field.
pub(super) fn response(body: &Body, by: &[Dimension]) -> Result<Response, HttpError> {
    // `text_cell` quotes the cells that need it; the writer must not quote them again.
    let mut out = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Never)
        .from_writer(Vec::new());
    let header: Vec<&str> = by
        .iter()
        .map(|d| d.column())
        .chain(FIGURE_COLUMNS)
        .collect();
    out.write_record(&header).map_err(internal)?;
    for g in &body.groups {
        let mut record: Vec<String> = by
            .iter()
            .map(|d| match d {
                Dimension::Agent => text_cell(g.key.agent_id.as_deref().unwrap_or_default()),
                Dimension::Queue => text_cell(g.key.queue.as_deref().unwrap_or_default()),
                Dimension::Day => g.key.day.map(|d| d.to_string()).unwrap_or_default(),
            })
            .collect();
        record.extend(figures(&g.scores, &g.follow_up));
        out.write_record(&record).map_err(internal)?;
    }
    let bytes = out.into_inner().map_err(|e| internal(e.into_error()))?;
    let filename = format!(
        "attachment; filename=\"scores_{}_{}.csv\"",
        body.from, body.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, filename),
        ],
        bytes,
    )
        .into_response())
}

/// What makes a spreadsheet read a cell as a formula when it comes first.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// One untrusted text value as a CSV cell a spreadsheet shows as text (OWASP, CSV
/// Injection): a leading `=`, `+`, `-`, `@`, TAB or CR gets a `'` before it, which
/// spreadsheets take as "text, not a formula"; and the cell is always quoted, inner quotes
/// doubled (RFC 4180), so neither a `,` nor the `;` some locales separate with can end it
/// early and start a cell the rule never saw.
fn text_cell(value: &str) -> String {
    let inert = if value.starts_with(FORMULA_STARTS) {
        "'"
    } else {
        ""
    };
    format!("\"{inert}{}\"", value.replace('"', "\"\""))
}

const FIGURE_COLUMNS: [&str; 29] = [
    "sent",
    "delivered",
    "responses",
    "response_rate",
    "csat_n",
    "csat_satisfied",
    "csat_score",
    "csat_mean",
    "csat_ci95_low",
    "csat_ci95_high",
    "nps_n",
    "nps_promoters",
    "nps_passives",
    "nps_detractors",
    "nps_score",
    "nps_ci95_low",
    "nps_ci95_high",
    "fcr_n",
    "fcr_yes",
    "fcr_rate",
    "fcr_ci95_low",
    "fcr_ci95_high",
    "avg_wait_seconds",
    "sms_segments",
    "segments_per_response",
    "follow_up_detractors",
    "follow_up_contacted",
    "follow_up_resolved",
    "follow_up_median_hours_to_contact",
];

/// The figures as bare numbers (a negative NPS stays `-12.5`, a number to a spreadsheet);
/// a null is an empty field.
fn figures(s: &Scores, follow_up: &Figures) -> [String; 29] {
    let n = |v: u64| v.to_string();
    let f = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let low = |ci: Option<[f64; 2]>| f(ci.map(|c| c[0]));
    let high = |ci: Option<[f64; 2]>| f(ci.map(|c| c[1]));
    [
        n(s.sent),
        n(s.delivered),
        n(s.responses),
        f(s.response_rate),
        n(s.csat.n),
        n(s.csat.satisfied),
        f(s.csat.score),
        f(s.csat.mean),
        low(s.csat.ci95),
        high(s.csat.ci95),
        n(s.nps.n),
        n(s.nps.promoters),
        n(s.nps.passives),
        n(s.nps.detractors),
        f(s.nps.score),
        low(s.nps.ci95),
        high(s.nps.ci95),
        n(s.fcr.n),
        n(s.fcr.yes),
        f(s.fcr.rate),
        low(s.fcr.ci95),
        high(s.fcr.ci95),
        f(s.avg_wait_seconds),
        n(s.sms_segments),
        f(s.segments_per_response),
        n(follow_up.detractors),
        n(follow_up.contacted),
        n(follow_up.resolved),
        f(follow_up.median_hours_to_contact),
    ]
}

#[cfg(test)]
mod tests;
