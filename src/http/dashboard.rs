//! `GET /dashboard`: the QA lead's dashboard, a static page that reads the scores, the
//! feedback and the follow-up cases from the API in the browser. Its files are compiled in, so
//! a deployment is still one binary with no asset paths.

use axum::{
    extract::Path,
    http::{
        StatusCode,
        header::{self, HeaderName},
    },
    response::{IntoResponse, Response},
};

use super::Routes;

const INDEX: &str = include_str!("../../assets/dashboard/index.html");
const SCRIPT: &str = include_str!("../../assets/dashboard/dashboard.js");
const STYLE: &str = include_str!("../../assets/dashboard/dashboard.css");

/// The ES modules `dashboard.js` imports, by file name: one job each (strings, the API,
/// the totals, the charts, the tables, the feedback and follow-up views).
const MODULES: [(&str, &str); 9] = [
    (
        "api.js",
        include_str!("../../assets/dashboard/modules/api.js"),
    ),
    (
        "cards.js",
        include_str!("../../assets/dashboard/modules/cards.js"),
    ),
    (
        "cases.js",
        include_str!("../../assets/dashboard/modules/cases.js"),
    ),
    (
        "charts.js",
        include_str!("../../assets/dashboard/modules/charts.js"),
    ),
    (
        "feedback.js",
        include_str!("../../assets/dashboard/modules/feedback.js"),
    ),
    (
        "format.js",
        include_str!("../../assets/dashboard/modules/format.js"),
    ),
    (
        "i18n.js",
        include_str!("../../assets/dashboard/modules/i18n.js"),
    ),
    (
        "metrics.js",
        include_str!("../../assets/dashboard/modules/metrics.js"),
    ),
    (
        "tables.js",
        include_str!("../../assets/dashboard/modules/tables.js"),
    ),
];

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// Everything the page runs or loads comes from this server: no inline script or style to
/// inject into, no other origin to leak scores to, no framing to click-jack the token field.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page holds no data (it comes from the API behind its token), so it needs none.
pub fn routes() -> Routes {
    Routes::new()
        .get("/dashboard", || serve("text/html; charset=utf-8", INDEX))
        .get("/dashboard/dashboard.js", || serve(JAVASCRIPT, SCRIPT))
        .get("/dashboard/dashboard.css", || {
            serve("text/css; charset=utf-8", STYLE)
        })
        .get("/dashboard/modules/{name}", module)
}

async fn module(Path(name): Path<String>) -> Response {
    match MODULES.iter().find(|(n, _)| *n == name) {
        Some((_, body)) => serve(JAVASCRIPT, body).await.into_response(),
        None => (StatusCode::NOT_FOUND, "no such dashboard module").into_response(),
    }
}

async fn serve(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    let headers: [(HeaderName, &str); 5] = [
        (header::CONTENT_TYPE, content_type),
        // The files change with the binary, not by URL: revalidate rather than run an old
        // script against a newer API after an upgrade.
        (header::CACHE_CONTROL, "no-cache"),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    (headers, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Behind a proxy that mounts postcall under a prefix, only relative URLs still reach
    /// it: no file may name a path from the root.
    #[test]
    fn every_url_the_page_uses_is_relative() {
        let files = [INDEX, SCRIPT]
            .into_iter()
            .chain(MODULES.iter().map(|(_, body)| *body));
        for file in files {
            for root in ["\"/", "'/", "`/"] {
                assert!(
                    !file.contains(root),
                    "a root-relative URL ({root}) in a dashboard file"
                );
            }
        }
        assert!(INDEX.contains(r#"src="dashboard/dashboard.js""#));
    }

    /// Every module a served file imports is served: a missing one would leave the page blank.
    #[test]
    fn every_imported_module_is_served() {
        let sources = std::iter::once(SCRIPT).chain(MODULES.iter().map(|(_, body)| *body));
        for source in sources {
            for line in source.lines().filter(|l| l.starts_with("import ")) {
                let from = line
                    .rsplit("from ")
                    .next()
                    .unwrap()
                    .trim_matches(['"', ';', ' ']);
                let name = from
                    .strip_prefix("./modules/")
                    .or_else(|| from.strip_prefix("./"))
                    .unwrap_or_else(|| panic!("a relative import: {line}"));
                assert!(
                    MODULES.iter().any(|(n, _)| *n == name),
                    "{name} is imported but not served"
                );
            }
        }
    }
}
