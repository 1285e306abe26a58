//! One claimed message: check, wait for the rate limit, check again with fresh state if
//! the wait was long, send; an accepted send goes to the recorder, any other outcome is
//! recorded here.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use tokio::sync::mpsc;

use super::{
    Dispatcher,
    claim::Ticket,
    plan::{self, Gate, Record, Situation},
    record::{Accepted, Sent},
};
use crate::{
    channels::{Outbound, SmsProvider},
    domain::{lifecycle::MessageStatus, phone, timezone},
    metrics,
    store::{
        caps, first_send,
        messages::{self, Claimed, Lease},
        reconcile,
    },
};

impl<P: SmsProvider + 'static> Dispatcher<P> {
    /// `read_at`: when the claim read the opt-out and the survey's state.
    #[tracing::instrument(name = "send", skip_all, fields(
        call_id = m.call_id.as_deref().unwrap_or("-"), message = %m.id, attempt = m.attempts))]
    pub(super) async fn send_one(
        self: Arc<Self>,
        mut m: Claimed,
        read_at: Instant,
        mut ticket: Ticket,
        recorder: mpsc::UnboundedSender<Sent>,
    ) {
        let lease = Lease {
            id: m.id,
            replica: &self.replica,
            attempts: m.attempts,
            checks: None,
        };
        let zones = match m.zones.take() {
            Some(zones) => zones,
            None => self.zones(&m),
        };
        // Checked first with what the claim read. A message that may go then waits for the
        // rate limit, which under a backlog can take long enough for an opt-out, a closed
        // survey or the start of quiet hours. Quiet hours are judged by the clock just before
        // it goes; the rest is read again from the database if the wait made it stale.
        if self.gate(&m, &zones) == Gate::Send {
            if !self.wait_for_rate(&m, &lease).await {
                return;
            }
            ticket.ahead = None;
            if plan::is_stale(read_at.elapsed()) {
                let now = match &m.first {
                    Some(first) => first_send::recheck(&self.pool, first.survey_id).await,
                    None => messages::recheck(&self.pool, m.id).await,
                };
                match now {
                    Ok(now) => {
                        m.opted_out = now.opted_out;
                        m.survey_state = now.survey_state;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "could not re-check before sending; handed back");
                        self.hand_back(&m, &lease, Utc::now()).await;
                        return;
                    }
                }
            }
        }
        match self.gate(&m, &zones) {
            Gate::Cancel(reason) => {
                tracing::info!(reason, "send cancelled");
                metrics::sms(self.provider.name(), "cancelled");
                if !self.own_row(&m).await {
                    return;
                }
                self.write(|| {
                    messages::finish(
                        &self.pool,
                        &lease,
                        MessageStatus::Cancelled,
                        None,
                        reason,
                        None,
                    )
                })
                .await;
            }
            Gate::Defer(until) => {
                tracing::info!(%until, "quiet hours: send deferred");
                metrics::sms(self.provider.name(), "deferred");
                self.hand_back(&m, &lease, until).await;
            }
            Gate::Send => self.send_now(m, &lease, ticket, &recorder).await,
        }
    }

    /// The customer's zones for a message the claim found queued.
    fn zones(&self, m: &Claimed) -> Vec<chrono_tz::Tz> {
        let default = self.policy.default_timezone;
        match phone::region_of(&m.to_phone) {
            Ok(region) => timezone::zones_in_region(
                m.customer_timezone.as_deref().and_then(|z| z.parse().ok()),
                region,
                default,
            ),
            Err(_) => vec![default],
        }
    }

    fn gate(&self, m: &Claimed, zones: &[chrono_tz::Tz]) -> Gate {
        let situation = Situation {
            opted_out: m.opted_out && m.stops_at_opt_out(),
            survey_live: m.survey_live(),
            respects_quiet_hours: m.purpose.respects_quiet_hours(),
            quiet_hours: self.policy.quiet_hours.as_ref(),
            zones,
        };
        plan::gate(&situation, Utc::now())
    }

    /// Waits for the rate limit; false if shutdown came first (the message is handed back).
    async fn wait_for_rate(&self, m: &Claimed, lease: &Lease<'_>) -> bool {
        tokio::select! {
            _ = self.limiter.acquire(m.segments.max(1) as u32) => true,
            _ = self.shutdown.cancelled() => {
                // Not sent: hand it back now rather than leave it to the lease rescuer.
                self.hand_back(m, lease, Utc::now()).await;
                false
            }
        }
    }

    async fn send_now(
        &self,
        mut m: Claimed,
        lease: &Lease<'_>,
        ticket: Ticket,
        recorder: &mpsc::UnboundedSender<Sent>,
    ) {
        let outbound = Outbound {
            id: m.id,
            to: &m.to_phone,
            body: &m.body,
            template: m.template(),
        };
        // A lookup searches from when the attempt began (less the margin, at the lookup).
        let since = Utc::now();
        let outcome = self.provider.send(&outbound).await;
        let jitter = rand::random::<f64>();
        let attempts = m.attempts.max(1) as u32;
        let decision = plan::record(outcome, attempts, &self.retry, Utc::now(), jitter);
        // Every outcome but acceptance is written on the outbox's row.
        if !matches!(decision, Record::Accepted { .. }) && !self.own_row(&m).await {
            return;
        }
        match decision {
            Record::Accepted {
                provider_message_id,
                status,
                billed_segments,
            } => {
                let segments = billed_segments.unwrap_or(m.segments);
                metrics::sms(self.provider.name(), "accepted");
                metrics::segments(self.provider.name(), segments.max(1) as u32);
                tracing::info!(to = %phone::mask(&m.to_phone), provider = self.provider.name(),
                    provider_message_id, status = status.as_str(), segments, "SMS accepted");
                let send = match m.first.take() {
                    Some(first) => Accepted::First(Box::new(first_send::Accepted {
                        message: m,
                        first,
                        provider_message_id,
                        status: status.into(),
                        billed_segments,
                    })),
                    None => Accepted::Queued(messages::Accepted {
                        id: m.id,
                        attempts: lease.attempts,
                        checks: None,
                        provider_message_id,
                        status: status.into(),
                        billed_segments,
                    }),
                };
                // The recorder outlives every send task, so this cannot fail while one runs.
                let _ = recorder.send(Sent {
                    send,
                    slot: ticket.slot,
                });
            }
            Record::RetryAt { at, code, message } => {
                metrics::sms(self.provider.name(), "retry");
                tracing::warn!(%at, code, error = %phone::redact(&message), "send failed; will retry");
                self.write(|| messages::retry_at(&self.pool, lease, at, code.as_deref(), &message))
                    .await;
            }
            Record::ReconcileAt { at, code, message } => {
                metrics::sms(self.provider.name(), "unknown");
                tracing::warn!(%at, code, error = %phone::redact(&message),
                    "send outcome unknown; the platform is asked before anything is sent again");
                self.write(|| {
                    reconcile::park(&self.pool, lease, at, since, code.as_deref(), &message)
                })
                .await;
            }
            Record::Failed {
                code,
                message,
                recipient_opted_out,
            } => {
                metrics::sms(self.provider.name(), "failed");
                if recipient_opted_out {
                    metrics::opt_out("carrier");
                }
                tracing::warn!(
                    code,
                    error = %phone::redact(&message),
                    recipient_opted_out,
                    "send failed for good"
                );
                let opt_out = recipient_opted_out.then_some(m.to_phone.as_str());
                self.write(|| {
                    messages::finish(
                        &self.pool,
                        lease,
                        MessageStatus::Failed,
                        code.as_deref(),
                        &message,
                        opt_out,
                    )
                })
                .await;
            }
            Record::CapRefused { code, message } => {
                metrics::sms(self.provider.name(), "failed");
                metrics::cap_hit(
                    self.provider.name(),
                    code.as_deref().unwrap_or(caps::REASON),
                    "refused",
                );
                tracing::warn!(code, error = %phone::redact(&message),
                    "the platform refused a per-number cap; survey ended, not retried");
                self.write(|| caps::refused(&self.pool, lease, code.as_deref(), &message))
                    .await;
            }
        }
    }

    /// Hands a message back unsent, due again at `at`: a first question to its survey's due
    /// scan, any other to the outbox's.
    async fn hand_back(&self, m: &Claimed, lease: &Lease<'_>, at: chrono::DateTime<Utc>) {
        match (&m.first, self.survey_lease(m)) {
            (Some(first), Some(survey)) => {
                self.write(|| first_send::release(&self.pool, &survey, at, first))
                    .await
            }
            _ => {
                self.write(|| messages::release(&self.pool, lease, at))
                    .await
            }
        };
    }

    /// Gives a first question claimed on its survey the outbox row the outcome's statements
    /// work on (`first_send::materialise`); true when the message has its row under this
    /// lease, false if the lease was lost.
    async fn own_row(&self, m: &Claimed) -> bool {
        let (Some(survey), Some(row)) = (self.survey_lease(m), m.as_new()) else {
            return true;
        };
        self.write(|| first_send::materialise(&self.pool, &survey, &row, self.lease))
            .await
    }

    /// The lease this replica holds on a first question's survey; None for any other message.
    fn survey_lease(&self, m: &Claimed) -> Option<first_send::Lease<'_>> {
        m.first.as_ref().map(|first| first_send::Lease {
            survey_id: first.survey_id,
            replica: &self.replica,
            attempts: m.attempts,
        })
    }

    /// Records an outcome, retrying briefly if the database hiccups: an outcome lost here
    /// means the lease expires and the message is sent again. True if it was recorded.
    pub(super) async fn write<F, Fut>(&self, op: F) -> bool
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = sqlx::Result<bool>>,
    {
        for delay_ms in [0u64, 200, 1000, 3000, 10_000] {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            match op().await {
                Ok(true) => return true,
                Ok(false) => {
                    tracing::warn!(
                        "lease lost before the outcome was recorded; another replica owns the message"
                    );
                    return false;
                }
                Err(e) => tracing::warn!(error = %e, "could not record a send outcome; retrying"),
            }
        }
        tracing::error!(
            "gave up recording a send outcome; the lease rescuer will return the message"
        );
        false
    }
}
