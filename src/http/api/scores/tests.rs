use super::*;

fn params(
    from: Option<&str>,
    to: Option<&str>,
    group_by: Option<&str>,
    format: Option<&str>,
) -> Params {
    Params {
        from: from.map(Into::into),
        to: to.map(Into::into),
        group_by: group_by.map(Into::into),
        format: format.map(Into::into),
    }
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

const TODAY: &str = "2026-11-24";

fn parse(p: Params) -> Result<Request, String> {
    Request::parse(p, day(TODAY))
}

#[test]
fn both_dates_inclusive_and_groups_in_the_order_given() {
    let r = parse(params(
        Some("2026-11-01"),
        Some("2026-11-30"),
        Some("day,agent"),
        None,
    ))
    .unwrap();
    assert_eq!(r.from, day("2026-11-01"));
    assert_eq!(r.to, day("2026-11-30"));
    assert_eq!(r.by, vec![Dimension::Day, Dimension::Agent]);
    assert_eq!(r.format, Format::Json);
}

#[test]
fn without_dates_the_last_30_days_up_to_today() {
    let r = parse(params(None, None, None, Some("csv"))).unwrap();
    assert_eq!(r.to, day(TODAY));
    assert_eq!(r.from, day("2026-10-26"));
    assert!(r.by.is_empty());
    assert_eq!(r.format, Format::Csv);
}

#[test]
fn bad_dates_are_named() {
    for (from, to, name) in [
        ("2026-13-01", "2026-11-30", "from"),
        ("2026-11-01", "30/11/2026", "to"),
        ("2026-2-01", "2026-11-30", "from"),
        ("2026-02-30", "2026-11-30", "from"),
        ("", "2026-11-30", "from"),
    ] {
        let e = parse(params(Some(from), Some(to), None, None)).unwrap_err();
        assert!(e.starts_with(&format!("{name}:")), "{from}..{to}: {e}");
    }
}

#[test]
fn a_reversed_or_huge_range_is_refused() {
    let e = parse(params(Some("2026-11-30"), Some("2026-11-01"), None, None)).unwrap_err();
    assert!(e.contains("after"), "{e}");
    let e = parse(params(Some("2000-01-01"), Some("2026-11-01"), None, None)).unwrap_err();
    assert!(e.contains("spans"), "{e}");
    assert!(parse(params(Some("2025-11-25"), Some("2026-11-24"), None, None)).is_ok());
}

#[test]
fn unknown_or_repeated_groups_and_formats_are_refused() {
    let e = parse(params(None, None, Some("agnet"), None)).unwrap_err();
    assert!(e.contains("group_by") && e.contains("agnet"), "{e}");
    let e = parse(params(None, None, Some("day,day"), None)).unwrap_err();
    assert!(e.contains("twice"), "{e}");
    let e = parse(params(None, None, None, Some("xml"))).unwrap_err();
    assert!(e.starts_with("format:"), "{e}");
}

#[tokio::test]
async fn csv_has_a_header_and_empty_fields_for_nulls() {
    let body = Body {
        from: day("2026-11-01"),
        to: day("2026-11-02"),
        group_by: vec!["agent"],
        groups: vec![Group {
            key: Key {
                agent_id: Some("a,1".into()),
                queue: None,
                day: None,
            },
            scores: scores(&crate::domain::scores::Tally {
                sent: 2,
                responses: 1,
                ..Default::default()
            }),
        }],
    };
    let response = csv_response(&body, &[Dimension::Agent]).unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("agent_id,sent,delivered,responses,response_rate,csat_n"));
    assert_eq!(header.split(',').count(), 25);
    let row = lines.next().unwrap();
    // The comma in the agent id is quoted; csat has n = 0 so its score is empty, not 0.
    assert!(row.starts_with("\"a,1\",2,0,1,0.5,0,0,,,,,0,"), "{row}");
    assert_eq!(lines.next(), None);
}
