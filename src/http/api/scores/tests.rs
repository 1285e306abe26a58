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
fn a_reversed_range_is_empty_and_a_long_one_is_no_error() {
    let r = parse(params(Some("2026-11-30"), Some("2026-11-01"), None, None)).unwrap();
    assert_eq!((r.from, r.to), (day("2026-11-30"), day("2026-11-01")));
    let r = parse(params(Some("0001-01-01"), Some("9999-12-31"), None, None)).unwrap();
    assert_eq!((r.from, r.to), (day("0001-01-01"), day("9999-12-31")));
}

#[test]
fn only_rfc_3339_dates_from_year_1_to_9999() {
    for bad in [
        "-0001-01-01",
        "-001-01-01",
        "+001-01-01",
        "+2026-11-01",
        "10000-01-01",
        "0000-01-01",
        "２０２６-11-01",
        "2026-11-01 ",
        "2026/11/01",
        "20261101",
        "2026-11-1x",
    ] {
        let e = parse(params(Some(bad), Some("2026-11-30"), None, None)).unwrap_err();
        assert!(e.starts_with("from:"), "{bad:?}: {e}");
        let e = parse(params(None, Some(bad), None, None)).unwrap_err();
        assert!(e.starts_with("to:"), "{bad:?}: {e}");
    }
}

#[test]
fn the_default_range_stops_at_the_first_day() {
    let r = parse(params(None, Some("0001-01-10"), None, None)).unwrap();
    assert_eq!((r.from, r.to), (day("0001-01-01"), day("0001-01-10")));
}

#[test]
fn too_many_groups_names_the_count_the_cap_and_the_way_out() {
    let r = parse(params(
        Some("2026-01-01"),
        Some("2026-12-31"),
        Some("agent,queue,day"),
        None,
    ))
    .unwrap();
    let e = r.too_many(612_345, 10_000);
    for part in [
        "group_by=agent,queue,day",
        "2026-01-01",
        "2026-12-31",
        "612345 groups",
        "10000",
        "api.max_groups",
        "shorter range",
        "fewer group_by",
    ] {
        assert!(e.contains(part), "{part:?} missing: {e}");
    }
}

#[test]
fn unknown_or_repeated_groups_and_formats_are_refused() {
    let e = parse(params(None, None, Some("agnet"), None)).unwrap_err();
    assert!(e.contains("group_by") && e.contains("agnet"), "{e}");
    let e = parse(params(None, None, Some("day,day"), None)).unwrap_err();
    assert!(e.contains("twice"), "{e}");
    for loose in ["agent, day", "agent,", ",day", "agent,,day", " agent"] {
        let e = parse(params(None, None, Some(loose), None)).unwrap_err();
        assert!(e.starts_with("group_by: unknown group"), "{loose:?}: {e}");
    }
    assert!(
        parse(params(None, None, Some(""), None))
            .unwrap()
            .by
            .is_empty()
    );
    let e = parse(params(None, None, None, Some("xml"))).unwrap_err();
    assert!(e.starts_with("format:"), "{e}");
}
