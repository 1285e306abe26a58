//! `GET /dashboard` in headless Chromium: the page draws what `/api/v1/scores` sums from seeded
//! score cells, ranks agents by lower bound and lists those with too few answers apart, names
//! the six service-quality measures, speaks two languages and asks for the API token.

pub mod browser;
mod seed;

use std::path::Path;

use postcall::domain::scores::{Scores, scores};
use serde_json::json;

use crate::helpers::TestApp;
use browser::{Driver, Page, Row};
use seed::{Cell, seed, total};

/// Seeded cells must stay as seeded: no scheduled run may rebuild them from the (empty) answers.
const NO_AGGREGATION: (&str, &str) = ("POSTCALL__AGGREGATION__ENABLED", "false");
const TOKEN: (&str, &str) = ("POSTCALL__API__TOKEN", "dash-s3cret-pesWeb9myyp23ERXLtSb");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_draws_the_seeded_days_agents_queues_and_totals() {
    let driver = Driver::start().await;
    let (_app, cells, page) = open_seeded_in_english(&driver).await;

    // A point per seeded day; the empty day breaks the line in two rather than bridging it.
    let mut days: Vec<String> = cells.iter().map(|c| c.day.to_string()).collect();
    days.dedup();
    assert_eq!(days.len(), 14);
    for metric in ["csat", "nps", "fcr"] {
        let chart = format!("#chart-{metric}");
        let points = page.js(POINT_DAYS, json!(chart)).await;
        assert_eq!(points, json!(days), "{metric} points");
        let runs = page.count(&format!("{chart} path.line")).await;
        assert_eq!(runs, 2, "{metric} lines");
    }

    // The first load's range is the server's: 30 days ending today in aggregation.timezone.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let value = "return document.querySelector(arguments[0]).value";
    assert_eq!(page.js(value, json!("#to")).await, json!(today.to_string()));
    let from = today - chrono::Days::new(29);
    assert_eq!(
        page.js(value, json!("#from")).await,
        json!(from.to_string())
    );

    // chen's 4 responses are fewer than scores.min_answers_to_rank (10): listed apart.
    let agents = page.rows("agent-table").await;
    assert_eq!(keys(&agents), ["agent-anna", "agent-bo"]);
    let few = page.rows("agent-few").await;
    assert_eq!(keys(&few), ["agent-chen"]);
    for row in agents.iter().chain(&few) {
        assert_row(row, &scores(&total(&cells, |c| c.agent == row.key)));
    }
    assert!(page.displayed("#agent-few-title").await);
    assert_eq!(
        page.text("#agent-few-title").await,
        "Too few answers to rank (fewer than 10 responses)"
    );
    assert!(
        !page.displayed("#queue-few-title").await,
        "both queues rank"
    );
    let queues = page.rows("queue-table").await;
    assert_eq!(keys(&queues), ["payment", "account"]);
    for row in &queues {
        assert_row(row, &scores(&total(&cells, |c| c.queue == row.key)));
    }
    let all = scores(&total(&cells, |_| true));
    let card = |id: &str| format!("[data-card='{id}'] .card-value");
    assert_eq!(page.text(&card("sent")).await, "622");
    assert_eq!(page.text(&card("segments")).await, "1,586");
    assert_eq!(page.text(&card("delivery")).await, pct(delivery(&all)));
    assert_eq!(page.text(&card("response")).await, pct(all.response_rate));
    assert_eq!(page.text(&card("csat")).await, pct(all.csat.score));
    assert_eq!(page.text(&card("nps")).await, one(all.nps.score));
    assert_eq!(page.text(&card("fcr")).await, pct(all.fcr.rate));
    assert_eq!(
        page.text(&card("wait")).await,
        format!("{:.1} s", all.avg_wait_seconds.unwrap())
    );
    // Each score says how many of the surveyed customers it speaks for.
    for (id, n) in [("csat", all.csat.n), ("nps", all.nps.n), ("fcr", all.fcr.n)] {
        let want = format!(
            "{} of {} surveyed · {}",
            grouped(n),
            grouped(all.sent),
            share(n, all.sent)
        );
        assert_eq!(
            page.text(&format!("[data-share='{id}']")).await,
            want,
            "{id}"
        );
    }
    // The six measures under the names the hotline reports them by, in both languages.
    let label = |id: &str| format!("[data-card='{id}'] .card-label");
    let measures = ["fcr", "csat", "wait", "follow_up", "feedback", "nps"];
    let mut names = Vec::new();
    for id in measures {
        names.push(page.text(&label(id)).await);
    }
    assert_eq!(
        names,
        [
            "Problem resolution",
            "Service attitude",
            "Response time",
            "Follow-up after the call",
            "Customer feedback",
            "Experience survey"
        ]
    );
    page.click("#lang-zh").await;
    let mut names = Vec::new();
    for id in measures {
        names.push(page.text(&label(id)).await);
    }
    assert_eq!(
        names,
        [
            "问题解决率",
            "服务态度",
            "响应时间",
            "售后跟踪",
            "用户反馈",
            "体验调查"
        ]
    );
    assert_eq!(
        page.text("#agent-few-title").await,
        "回答太少，暂不排名（少于 10 份回复）"
    );
    page.click("#lang-en").await;

    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dashboard-screenshot.png");
    page.screenshot(&shot).await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_sorts_by_lower_bound_switches_language_and_shows_api_errors() {
    let driver = Driver::start().await;
    let (_app, _, page) = open_seeded_in_english(&driver).await;

    // chen's perfect CSAT rests on 4 answers: with too few to rank, it stays apart however
    // the table is sorted, neither first by score nor last by lower bound.
    let sort_by = async |column: &str| {
        let header = format!("#agent-table th[data-sort='{column}'] button");
        page.click(&header).await;
        page.row_keys("agent-table").await
    };
    let (anna, bo, chen) = ("agent-anna", "agent-bo", "agent-chen");
    assert_eq!(page.row_keys("agent-table").await, [anna, bo]);
    assert_eq!(sort_by("csat").await, [anna, bo]);
    assert_eq!(sort_by("csat").await, [bo, anna]);
    assert_eq!(sort_by("csat_low").await, [anna, bo]);
    assert_eq!(sort_by("nps_low").await, [anna, bo]);
    assert_eq!(sort_by("nps_low").await, [bo, anna]);
    assert_eq!(page.row_keys("agent-few").await, [chen]);

    page.click("#lang-zh").await;
    assert_eq!(page.text("#agents-title").await, "按坐席");
    let header = page.text("#agent-table th[data-sort='csat_low']").await;
    assert_eq!(header, "满意度下限");
    page.click("#lang-en").await;
    assert_eq!(page.text("#agents-title").await, "By agent");

    // A reversed range is empty to the API; the page says the dates look swapped.
    page.js(SET_RANGE, json!(["2026-11-30", "2026-11-01"]))
        .await;
    page.click("#reload").await;
    page.wait_for_state("error").await;
    let error = page.text("#error").await;
    assert!(
        error.contains("2026-11-30") && error.contains("after") && !error.contains("HTTP"),
        "{error}"
    );
    // A date the API refuses: its 400 and its reason are shown, not swallowed.
    page.js(SET_RANGE, json!(["10000-01-01", "2026-11-01"]))
        .await;
    page.click("#reload").await;
    page.wait_for_state("error").await;
    let error = page.text("#error").await;
    assert!(
        error.contains("HTTP 400") && error.contains("0001-01-01 to 9999-12-31"),
        "{error}"
    );
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_asks_for_the_api_token_and_keeps_it_for_the_tab() {
    let driver = Driver::start().await;
    let app = TestApp::spawn_with(&[NO_AGGREGATION, TOKEN]).await;
    seed(&app.pool).await;
    // A browser that prefers Chinese gets the page in Chinese without asking.
    let url = format!("{}/dashboard", app.http);
    let page = driver.open(&url, &["--accept-lang=zh-CN,zh"]).await;
    page.wait_for_state("auth").await;
    assert_eq!(page.text("#auth h2").await, "需要 API 令牌");
    assert_eq!(page.count("#agent-table tbody tr").await, 0);

    page.type_into("#token", "wrong").await;
    page.click("#token-submit").await;
    page.wait_for_state("auth").await;
    assert!(
        page.displayed("#auth-error").await,
        "a rejected token is said so"
    );

    page.type_into("#token", TOKEN.1).await;
    page.click("#token-submit").await;
    page.wait_for_state("ready").await;
    assert_eq!(page.count("#agent-table tbody tr").await, 2);
    assert_eq!(page.count("#agent-few tbody tr").await, 1);
    assert_eq!(page.count("#chart-csat circle.pt").await, 14);

    // A reload in the same tab asks no second time.
    page.0.refresh().await.unwrap();
    page.wait_for_state("ready").await;
    assert_eq!(page.count("#queue-table tbody tr").await, 2);
    page.close().await;
}

#[tokio::test]
async fn the_dashboard_files_carry_their_types_and_a_strict_csp_and_need_no_token() {
    let app = TestApp::spawn_with(&[NO_AGGREGATION, TOKEN]).await;
    for (path, kind) in [
        ("/dashboard", "text/html; charset=utf-8"),
        ("/dashboard/dashboard.js", "text/javascript; charset=utf-8"),
        ("/dashboard/dashboard.css", "text/css; charset=utf-8"),
        (
            "/dashboard/modules/i18n.js",
            "text/javascript; charset=utf-8",
        ),
        (
            "/dashboard/modules/cases.js",
            "text/javascript; charset=utf-8",
        ),
    ] {
        let r = reqwest::get(format!("{}{path}", app.http)).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let header = |name: &str| r.headers()[name].to_str().unwrap().to_owned();
        assert_eq!(header("content-type"), kind, "{path}");
        assert_eq!(header("cache-control"), "no-cache", "{path}");
        let csp = header("content-security-policy");
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe") && !csp.contains('*'), "{csp}");
    }
    let unknown = reqwest::get(format!("{}/dashboard/modules/nope.js", app.http))
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let page = reqwest::get(format!("{}/dashboard", app.http))
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    // That CSP would block an inline script: all of it must be in dashboard.js.
    assert!(!html.contains("<script>") && html.contains(r#"src="dashboard/dashboard.js""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_with_as_many_answers_as_the_setting_asks_is_ranked() {
    let driver = Driver::start().await;
    let few = ("POSTCALL__SCORES__MIN_ANSWERS_TO_RANK", "4");
    let (_app, _, page) = open_seeded_with(&driver, &[NO_AGGREGATION, few]).await;
    // chen has exactly 4 responses: ranked now, last by the CSAT lower bound.
    assert_eq!(
        page.row_keys("agent-table").await,
        ["agent-anna", "agent-bo", "agent-chen"]
    );
    assert_eq!(page.count("#agent-few tbody tr").await, 0);
    assert!(!page.displayed("#agent-few-title").await);
    page.close().await;
}

/// A worker on freshly seeded cells, and the dashboard open on it, in English, rendered.
async fn open_seeded_in_english(driver: &Driver) -> (TestApp, Vec<Cell>, Page) {
    open_seeded_with(driver, &[NO_AGGREGATION]).await
}

async fn open_seeded_with(
    driver: &Driver,
    overrides: &[(&str, &str)],
) -> (TestApp, Vec<Cell>, Page) {
    let app = TestApp::spawn_with(overrides).await;
    let cells = seed(&app.pool).await;
    let page = driver.open(&format!("{}/dashboard", app.http), &[]).await;
    page.click("#lang-en").await;
    page.wait_for_state("ready").await;
    (app, cells, page)
}

const POINT_DAYS: &str =
    "return [...document.querySelectorAll(arguments[0] + ' circle.pt')].map(c => c.dataset.day)";

const SET_RANGE: &str = "document.getElementById('from').value = arguments[0][0];
                         document.getElementById('to').value = arguments[0][1];";

/// Checks a table row against the scores of its seeded cells, formatted as the page does.
fn assert_row(row: &Row, s: &Scores) {
    let low = |ci: Option<[f64; 2]>| ci.map(|c| c[0]);
    let expected = [
        ("sent", s.sent.to_string()),
        ("delivery", pct(delivery(s))),
        ("response", pct(s.response_rate)),
        ("csat", pct(s.csat.score)),
        ("csat_low", pct(low(s.csat.ci95))),
        ("nps", one(s.nps.score)),
        ("nps_low", one(low(s.nps.ci95))),
        ("fcr", pct(s.fcr.rate)),
        ("fcr_low", pct(low(s.fcr.ci95))),
        (
            "wait",
            s.avg_wait_seconds
                .map_or(NONE.into(), |w| format!("{w:.1} s")),
        ),
        ("segments", s.sms_segments.to_string()),
    ];
    for (column, want) in expected {
        assert_eq!(row.cells[column], want, "{} {column}", row.key);
    }
    for (column, n) in [("csat", s.csat.n), ("nps", s.nps.n), ("fcr", s.fcr.n)] {
        let want = format!("{}/{} · {}", grouped(n), grouped(s.sent), share(n, s.sent));
        assert_eq!(row.n[column], want, "{} {column} share", row.key);
    }
}

/// A share as the page writes it: whole percent, one decimal below 10 %.
fn share(n: u64, sent: u64) -> String {
    let p = n as f64 / sent as f64 * 100.0;
    if p < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{}%", p.round())
    }
}

/// A count as the page writes it in English: thousands separated by commas.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// What the page shows for a score of no answers.
const NONE: &str = "—";

fn delivery(s: &Scores) -> Option<f64> {
    (s.sent > 0).then(|| s.delivered as f64 / s.sent as f64)
}

fn pct(v: Option<f64>) -> String {
    v.map_or(NONE.into(), |v| format!("{:.1}%", v * 100.0))
}

fn one(v: Option<f64>) -> String {
    v.map_or(NONE.into(), |v| format!("{v:.1}"))
}

fn keys(rows: &[Row]) -> Vec<&str> {
    rows.iter().map(|r| r.key.as_str()).collect()
}
