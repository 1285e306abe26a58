//! Per-number caps, checked in the claim transaction (DESIGN.md §4): the phones of
//! everything the claim may send are locked (`store::caps::lock_phones`), their sends in
//! the cap windows read, and each candidate checked in turn against them and against what
//! this claim already took. Another replica counting the same phone waits for the lock,
//! then sees this claim's sends: two replicas never both send a number's last allowed SMS.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::{
    domain::caps::{Cap, Caps, Send, Verdict},
    store::caps as store,
};

/// What happened at a cap, for the metric and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// A first question moved to when it fits.
    Deferred,
    /// A first question that could not fit in its survey's life.
    Dropped,
    /// A follow-up not sent; its survey ended there.
    Ended,
}

impl Hit {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Deferred => "deferred",
            Self::Dropped => "dropped",
            Self::Ended => "ended",
        }
    }
}

/// The sends that count against each locked phone, as of `now`.
pub struct Counter<'a> {
    caps: &'a Caps,
    now: DateTime<Utc>,
    sends: HashMap<String, Vec<(DateTime<Utc>, String)>>,
}

impl<'a> Counter<'a> {
    /// Locks `phones` for the transaction and reads their sends, but for the first sends of
    /// the surveys this claim is taking (`claiming`), which it counts as it goes; with no
    /// caps, neither.
    pub async fn load(
        conn: &mut PgConnection,
        caps: &'a Caps,
        phones: &[&str],
        claiming: &[i64],
    ) -> sqlx::Result<Self> {
        let mut counter = Self {
            caps,
            now: Utc::now(),
            sends: HashMap::new(),
        };
        if caps.is_off() || phones.is_empty() {
            return Ok(counter);
        }
        store::lock_phones(conn, phones).await?;
        // Read after the locks: what a replica that held them committed counts.
        counter.now = Utc::now();
        for row in store::history(conn, phones, caps.horizon(counter.now), claiming).await? {
            counter
                .sends
                .entry(row.to_phone)
                .or_default()
                .push((row.at, row.body));
        }
        Ok(counter)
    }

    /// Whether `body` may go to `phone` now; if it fits, it counts from now on.
    pub fn take(&mut self, phone: &str, body: &str) -> Verdict {
        if self.caps.is_off() {
            return Verdict::Fits;
        }
        let made = self.sends.entry(phone.to_owned()).or_default();
        let as_sends: Vec<Send<'_>> = made
            .iter()
            .map(|(at, content)| Send { at: *at, content })
            .collect();
        let verdict = self.caps.check(&as_sends, body, self.now);
        if verdict == Verdict::Fits {
            made.push((self.now, body.to_owned()));
        }
        verdict
    }
}

/// The reason stored on a message a cap held back.
pub fn why(cap: Cap, fits_at: DateTime<Utc>) -> String {
    format!(
        "would break the provider's {} cap (fits from {})",
        cap.as_str(),
        fits_at.to_rfc3339()
    )
}
