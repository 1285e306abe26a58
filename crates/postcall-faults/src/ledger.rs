//! What every mainland-style platform double in the suite shares (Tencent, Aliyun, Twilio:
//! no idempotency key, so every send a double takes reaches the customer): the fault plan
//! that loses answers, the per-number limits the platform enforces, and the record of what
//! was asked, taken and looked up, which is the suite's independent count of what customers
//! got. Each double only speaks its platform's wire format and signature around it.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::provider::{Fault as Seen, Receipt};

/// What a double does with one send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Takes it and answers at once.
    None,
    /// Takes it (the customer gets it) and answers only after this long.
    TakeThenHang(Duration),
    /// Holds the request this long without taking it.
    HangUntaken(Duration),
    /// Takes it and answers a platform-side timeout error, as Tencent does when its own
    /// side timed out after sending.
    TakenButTimedOut,
}

type Plan = dyn Fn(&str, u32) -> Fault + Send + Sync;

/// The per-number limits a platform enforces on its side.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// SMS per number per calendar day in `zone`.
    pub per_natural_day: Option<usize>,
    pub zone: Tz,
    /// SMS per number in any 24 hours.
    pub per_rolling_day: Option<usize>,
    /// The same content to one number at most once in this many seconds.
    pub same_content_seconds: Option<i64>,
}

impl Limits {
    /// Tencent's documented default: 2 a Beijing day, the same content once in 30 s.
    pub const TENCENT: Self = Self {
        per_natural_day: Some(2),
        zone: chrono_tz::Asia::Shanghai,
        per_rolling_day: None,
        same_content_seconds: Some(30),
    };

    /// Aliyun's kind: `n` SMS a number in any 24 hours (its default is 50), refused with
    /// `isv.BUSINESS_LIMIT_CONTROL`.
    pub const fn rolling_day(n: usize) -> Self {
        Self {
            per_natural_day: None,
            zone: chrono_tz::Asia::Shanghai,
            per_rolling_day: Some(n),
            same_content_seconds: None,
        }
    }
}

/// Which limit refused a send; each double answers it with its platform's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    Day,
    SameContent,
}

/// One send a double took.
#[derive(Debug, Clone)]
pub struct Taken {
    /// postcall's message id, as the platform echoes it (SessionContext, OutId; Twilio has
    /// none and matches by body).
    pub key: String,
    pub phone: String,
    /// The platform's id for it.
    pub serial: String,
    /// What the customer read: the template and its values, or the text.
    pub content: String,
    pub at: DateTime<Utc>,
}

/// How a double is to answer one send.
pub enum Verdict {
    /// Hold the request this long, then answer a timeout; nothing taken.
    HangUntaken(Duration),
    /// Refused by a limit; nothing taken.
    Capped(Cap),
    /// Taken under this serial; answer as the fault says (None, TakeThenHang, TakenButTimedOut).
    Taken { serial: String, fault: Fault },
}

pub struct Ledger {
    receipts: Mutex<Vec<Receipt>>,
    taken: Mutex<Vec<Taken>>,
    /// Sends per key, this one included.
    attempts: Mutex<HashMap<String, u32>>,
    plan: Mutex<Arc<Plan>>,
    limits: Mutex<Option<Limits>>,
    capped: Mutex<Vec<Cap>>,
    lookups: Mutex<usize>,
    refused: Mutex<Vec<String>>,
}

impl Ledger {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            receipts: Mutex::default(),
            taken: Mutex::default(),
            attempts: Mutex::default(),
            plan: Mutex::new(Arc::new(|_: &str, _: u32| Fault::None)),
            limits: Mutex::default(),
            capped: Mutex::default(),
            lookups: Mutex::default(),
            refused: Mutex::default(),
        })
    }

    /// Each send is answered as `plan(phone, attempt)` says; `attempt` counts sends of one
    /// key.
    pub fn plan(&self, plan: impl Fn(&str, u32) -> Fault + Send + Sync + 'static) {
        *self.plan.lock().unwrap() = Arc::new(plan);
    }

    /// From now on, sends over `limits` are refused.
    pub fn limit(&self, limits: Limits) {
        *self.limits.lock().unwrap() = Some(limits);
    }

    /// One well-formed, correctly signed send arrived: counted, recorded, and judged by the
    /// plan and the limits. `serial(n)` names the n-th send taken.
    pub fn send(
        &self,
        key: &str,
        phone: &str,
        content: &str,
        serial: impl FnOnce(usize) -> String,
    ) -> Verdict {
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let n = attempts.entry(key.to_owned()).or_default();
            *n += 1;
            *n
        };
        let plan = self.plan.lock().unwrap().clone();
        let fault = plan(phone, attempt);
        let now = Utc::now();
        // Judged and taken under one lock: two requests at once meet the same count.
        let mut taken = self.taken.lock().unwrap();
        let (verdict, seen) = match fault {
            Fault::HangUntaken(delay) => (Verdict::HangUntaken(delay), Seen::Hang),
            _ => match self.over(&taken, phone, content, now) {
                // Answered 200 with the refusal inside, as these platforms do; nothing sent.
                Some(cap) => {
                    self.capped.lock().unwrap().push(cap);
                    (Verdict::Capped(cap), Seen::Status(200))
                }
                None => {
                    let serial = serial(taken.len());
                    taken.push(Taken {
                        key: key.to_owned(),
                        phone: phone.to_owned(),
                        serial: serial.clone(),
                        content: content.to_owned(),
                        at: now,
                    });
                    let seen = match fault {
                        Fault::TakeThenHang(delay) => Seen::Slow(delay),
                        _ => Seen::None,
                    };
                    (Verdict::Taken { serial, fault }, seen)
                }
            },
        };
        drop(taken);
        self.receipts.lock().unwrap().push(Receipt {
            key: key.to_owned(),
            to: phone.to_owned(),
            body: content.to_owned(),
            at: Instant::now(),
            wall: now,
            fault: seen,
            well_formed: true,
        });
        verdict
    }

    /// The limit a send of `content` to `phone` now would break, given what was taken.
    fn over(&self, taken: &[Taken], phone: &str, content: &str, now: DateTime<Utc>) -> Option<Cap> {
        let limits = (*self.limits.lock().unwrap())?;
        let to_phone: Vec<&Taken> = taken.iter().filter(|t| t.phone == phone).collect();
        if let Some(seconds) = limits.same_content_seconds
            && to_phone
                .iter()
                .any(|t| t.content == content && now - t.at < TimeDelta::seconds(seconds))
        {
            return Some(Cap::SameContent);
        }
        let today = now.with_timezone(&limits.zone).date_naive();
        let same_day = to_phone
            .iter()
            .filter(|t| t.at.with_timezone(&limits.zone).date_naive() == today)
            .count();
        let last_day = to_phone
            .iter()
            .filter(|t| now - t.at < TimeDelta::days(1))
            .count();
        let full = |cap: Option<usize>, n: usize| cap.is_some_and(|cap| n >= cap);
        (full(limits.per_natural_day, same_day) || full(limits.per_rolling_day, last_day))
            .then_some(Cap::Day)
    }

    /// The sends to `phone` taken within `range`, oldest first.
    pub fn taken_to(&self, phone: &str, range: std::ops::RangeInclusive<i64>) -> Vec<Taken> {
        self.taken
            .lock()
            .unwrap()
            .iter()
            .filter(|t| t.phone == phone && range.contains(&t.at.timestamp()))
            .cloned()
            .collect()
    }

    pub fn looked_up(&self) {
        *self.lookups.lock().unwrap() += 1;
    }

    /// A call refused before it was played (signature, action, shape): why.
    pub fn refuse(&self, why: impl Into<String>) {
        self.refused.lock().unwrap().push(why.into());
    }

    /// Every send, keyed by postcall's message id; `accepted()` when the double took it.
    pub fn receipts(&self) -> Vec<Receipt> {
        self.receipts.lock().unwrap().clone()
    }

    pub fn taken(&self) -> Vec<Taken> {
        self.taken.lock().unwrap().clone()
    }

    pub fn lookups(&self) -> usize {
        *self.lookups.lock().unwrap()
    }

    pub fn refused(&self) -> Vec<String> {
        self.refused.lock().unwrap().clone()
    }

    /// The sends a limit refused.
    pub fn capped(&self) -> Vec<Cap> {
        self.capped.lock().unwrap().clone()
    }

    /// Numbers that postcall asked to text more than `cap` distinct messages within one of
    /// `window`'s periods: what it should have held back itself (taken or refused alike;
    /// a request held untaken and sent again under its own id counts once).
    pub fn over_cap(&self, cap: usize, window: Window) -> usize {
        let mut per_phone: HashMap<String, HashMap<String, DateTime<Utc>>> = HashMap::new();
        for r in self.receipts().iter().filter(|r| r.fault != Seen::Hang) {
            per_phone
                .entry(r.to.clone())
                .or_default()
                .entry(r.key.clone())
                .or_insert(r.wall);
        }
        per_phone
            .values()
            .filter(|sends| {
                let mut times: Vec<DateTime<Utc>> = sends.values().copied().collect();
                times.sort();
                match window {
                    Window::NaturalDay(zone) => {
                        let mut days: HashMap<chrono::NaiveDate, usize> = HashMap::new();
                        for t in &times {
                            *days.entry(t.with_timezone(&zone).date_naive()).or_default() += 1;
                        }
                        days.values().any(|&n| n > cap)
                    }
                    Window::Rolling(span) => times
                        .iter()
                        .zip(times.iter().skip(cap))
                        .any(|(first, last)| *last - *first < span),
                }
            })
            .count()
    }

    /// Pairs of sends taken to one number with the same content less than `seconds` apart.
    pub fn same_content_within(&self, seconds: i64) -> usize {
        let taken = self.taken();
        taken
            .iter()
            .enumerate()
            .map(|(i, a)| {
                taken[i + 1..]
                    .iter()
                    .filter(|b| {
                        a.phone == b.phone
                            && a.content == b.content
                            && (b.at - a.at).abs() < TimeDelta::seconds(seconds)
                    })
                    .count()
            })
            .sum()
    }
}

/// A customer's reply as the platform passes it on to a worker: the path under the worker's
/// base and the JSON body; posted again unchanged if no worker took it.
pub struct Reply {
    pub path: String,
    pub body: serde_json::Value,
}

/// A cap's period.
#[derive(Debug, Clone, Copy)]
pub enum Window {
    /// A calendar day in this zone.
    NaturalDay(Tz),
    /// Any span this long (Aliyun's day: the 24 h before a send).
    Rolling(TimeDelta),
}

/// A platform double serving on a free local port around its ledger; stopped when dropped.
pub struct Double {
    ledger: Arc<Ledger>,
    /// `http://127.0.0.1:port`.
    pub url: String,
    server: tokio::task::JoinHandle<()>,
}

impl Double {
    /// Serves `app`, whose handlers share the new ledger as their state.
    pub async fn serve(app: impl FnOnce(Arc<Ledger>) -> axum::Router) -> anyhow::Result<Self> {
        let ledger = Ledger::new();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = app(ledger.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            ledger,
            url,
            server,
        })
    }

    /// Its record, fault plan and limits.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }
}

impl Drop for Double {
    fn drop(&mut self) {
        self.server.abort();
    }
}
