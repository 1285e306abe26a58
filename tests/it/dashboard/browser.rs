//! Headless Debian Chromium through chromedriver, and a page handle that reads the DOM the way
//! the dashboard tests ask about it.

use std::{
    collections::HashMap,
    os::unix::process::CommandExt,
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde::Deserialize;
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free port, killed with the browsers it started when dropped.
pub struct Driver {
    process: Child,
    url: String,
}

impl Driver {
    /// Fails, never skips, without Chromium: a dashboard nobody looked at is not tested.
    pub async fn start() -> Self {
        for binary in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(binary).exists(),
                "{binary} is missing: the dashboard tests need Debian's chromium and \
                 chromium-driver: run scripts/test, which installs them"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port for chromedriver")
            .port();
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // A group of its own, so that drop ends the browsers along with the driver even
            // when a failed assertion skipped the session's close.
            .process_group(0)
            .spawn()
            .expect("starting chromedriver");
        let driver = Self {
            process,
            url: format!("http://127.0.0.1:{port}"),
        };
        driver.wait_until_ready().await;
        driver
    }

    async fn wait_until_ready(&self) {
        for _ in 0..100 {
            if let Ok(r) = reqwest::get(format!("{}/status", self.url)).await
                && let Ok(status) = r.json::<Value>().await
                && status["value"]["ready"] == true
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("chromedriver not ready within 5 s at {}", self.url);
    }

    /// A fresh browser (empty storage) at `url`, with `extra_args` for Chromium.
    pub async fn open(&self, url: &str, extra_args: &[&str]) -> Page {
        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,1800",
        ];
        args.extend_from_slice(extra_args);
        let capabilities = json!({ "goog:chromeOptions": { "binary": CHROMIUM, "args": args } });
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.as_object().expect("an object").clone())
            .connect(&self.url)
            .await
            .expect("chromedriver starts a headless Chromium session");
        client.goto(url).await.expect("the page loads");
        Page(client)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.process.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.process.wait();
    }
}

/// One row of a scores table: its key and, by column id, the figure and the "n=…" shown.
#[derive(Debug, Deserialize)]
pub struct Row {
    pub key: String,
    pub cells: HashMap<String, String>,
    pub n: HashMap<String, String>,
}

const READ_ROWS: &str = r#"
    return [...document.querySelectorAll('#' + arguments[0] + ' tbody tr[data-key]')].map(tr => {
      const tds = [...tr.querySelectorAll('td[data-col]')];
      const text = (td, css) => (td.querySelector(css) || td).textContent;
      return {
        key: tr.dataset.key,
        cells: Object.fromEntries(tds.map(td => [td.dataset.col, text(td, '.v')])),
        n: Object.fromEntries(tds.filter(td => td.querySelector('.n'))
                                 .map(td => [td.dataset.col, text(td, '.n')])),
      };
    })"#;

pub struct Page(pub Client);

impl Page {
    pub async fn js(&self, script: &str, arg: Value) -> Value {
        self.0
            .execute(script, vec![arg])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    pub async fn click(&self, css: &str) {
        let element = self.0.find(Locator::Css(css)).await;
        let clicked = element
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await;
        clicked.unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.0.find(Locator::Css(css)).await;
        let typed = element
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .send_keys(text)
            .await;
        typed.unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }

    /// The rendered (visible) text of the first match.
    pub async fn text(&self, css: &str) -> String {
        let element = self.0.find(Locator::Css(css)).await;
        let text = element
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await;
        text.unwrap_or_else(|e| panic!("reading {css}: {e}"))
    }

    pub async fn count(&self, css: &str) -> usize {
        let found = self.0.find_all(Locator::Css(css)).await;
        found.unwrap_or_else(|e| panic!("{css}: {e}")).len()
    }

    pub async fn displayed(&self, css: &str) -> bool {
        let element = self.0.find(Locator::Css(css)).await;
        let shown = element
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .is_displayed()
            .await;
        shown.unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    /// Waits for the page to reach `state` (`body[data-state]`: ready, auth or error).
    pub async fn wait_for_state(&self, state: &str) {
        let css = format!("body[data-state='{state}']");
        let wait = self.0.wait().at_most(Duration::from_secs(10));
        if wait.for_element(Locator::Css(&css)).await.is_err() {
            let now = self.js(SHOW_STATE, Value::Null).await;
            panic!("the page did not reach state {state} within 10 s; it is in {now}");
        }
    }

    /// Waits for an element matching `css` to exist (a section's state, a message).
    pub async fn wait_for(&self, css: &str) {
        let wait = self.0.wait().at_most(Duration::from_secs(10));
        if wait.for_element(Locator::Css(css)).await.is_err() {
            let now = self.js(SHOW_STATE, Value::Null).await;
            panic!("{css} did not appear within 10 s; the page is in {now}");
        }
    }

    /// The text of every match, in document order.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let found = self.js(ALL_TEXTS, json!(css)).await;
        serde_json::from_value(found).expect("a list of texts")
    }

    pub async fn rows(&self, table: &str) -> Vec<Row> {
        let found = self.js(READ_ROWS, json!(table)).await;
        serde_json::from_value(found).expect("rows as {key, cells, n}")
    }

    pub async fn row_keys(&self, table: &str) -> Vec<String> {
        self.rows(table).await.into_iter().map(|r| r.key).collect()
    }

    /// Saves what a person would see, for a reviewer to look at, and checks it is a picture.
    pub async fn screenshot(&self, path: &Path) {
        let png = self.0.screenshot().await.expect("a screenshot");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG signature");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert!(
            width >= 1000 && height >= 1000 && png.len() > 50_000,
            "{width}×{height}, {} bytes",
            png.len()
        );
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    pub async fn close(self) {
        self.0.close().await.expect("the browser session closes");
    }
}

const ALL_TEXTS: &str =
    "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)";

const SHOW_STATE: &str = "return document.body.dataset.state + ' (' + document.getElementById('error').textContent + ')'";
