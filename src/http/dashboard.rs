//! `GET /dashboard`: the scores dashboard, a static page that reads `/api/v1/scores` from the
//! browser. Its files are compiled in, so a deployment is still one binary with no asset paths.

use axum::{
    http::header::{self, HeaderName},
    response::IntoResponse,
};

use super::Routes;

const INDEX: &str = include_str!("../../assets/dashboard/index.html");
const SCRIPT: &str = include_str!("../../assets/dashboard/dashboard.js");
const STYLE: &str = include_str!("../../assets/dashboard/dashboard.css");

/// Everything the page runs or loads comes from this server: no inline script or style to
/// inject into, no other origin to leak scores to, no framing to click-jack the token field.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page holds no data (the scores come from the API behind its token), so it needs none.
pub fn routes() -> Routes {
    Routes::new()
        .get("/dashboard", || serve("text/html; charset=utf-8", INDEX))
        .get("/dashboard/dashboard.js", || {
            serve("text/javascript; charset=utf-8", SCRIPT)
        })
        .get("/dashboard/dashboard.css", || {
            serve("text/css; charset=utf-8", STYLE)
        })
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
