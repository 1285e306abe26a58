//! One lookup: a send of unknown outcome, asked of the platform under a lease; found, it is
//! recorded as the accepted send it was (through the recorder, like any other); not found, it
//! goes back to the queue to be sent again; not answered, it is asked again later or fails
//! (DESIGN §4 "No blind resend").

use std::sync::Arc;

use chrono::Utc;
use sqlx::PgPool;
use tokio::sync::mpsc;

use super::{
    Dispatcher,
    claim::Ticket,
    plan::{self, Reconciled},
    record::{Accepted, Sent},
};
use crate::{
    channels::{Outbound, SmsProvider},
    domain::{lifecycle::MessageStatus, phone},
    metrics,
    store::{
        messages::{self, Lease},
        reconcile::{self, Due},
        wake,
    },
};

impl<P: SmsProvider + 'static> Dispatcher<P> {
    #[tracing::instrument(name = "reconcile", skip_all, fields(
        call_id = due.message.call_id.as_deref().unwrap_or("-"), message = %due.message.id,
        attempt = due.message.attempts, check = due.checks))]
    pub(super) async fn reconcile_one(
        self: Arc<Self>,
        due: Due,
        ticket: Ticket,
        recorder: mpsc::UnboundedSender<Sent>,
    ) {
        // A lookup sends nothing: it waits for no rate limit, and holds only its slot.
        let Ticket { slot, .. } = ticket;
        let m = &due.message;
        let lease = Lease {
            id: m.id,
            replica: &self.replica,
            attempts: m.attempts,
            checks: Some(due.checks),
        };
        let outbound = Outbound {
            id: m.id,
            to: &m.to_phone,
            body: &m.body,
            template: m.template(),
        };
        // Less what the platform's clock may be behind ours, and what it rounds away: Twilio
        // lists `date_created` in whole seconds. A send whose replica died has no attempt
        // time but its row's creation, and needs the margin as much.
        let lookup = self
            .provider
            .find(&outbound, due.since - plan::LOOKUP_MARGIN)
            .await;
        let decision = plan::reconciled(
            lookup,
            m.attempts.max(1) as u32,
            due.checks.max(1) as u32,
            &self.retry,
            Utc::now(),
            rand::random::<f64>(),
        );
        let name = self.provider.name();
        match decision {
            Reconciled::Accepted {
                provider_message_id,
                status,
            } => {
                metrics::sms(name, "reconciled");
                tracing::info!(to = %phone::mask(&m.to_phone), provider = name,
                    provider_message_id, status = status.as_str(), "the platform has it: recorded as sent");
                let _ = recorder.send(Sent {
                    send: Accepted::Queued(messages::Accepted {
                        id: m.id,
                        attempts: m.attempts,
                        checks: Some(due.checks),
                        provider_message_id,
                        status: status.into(),
                        billed_segments: None,
                    }),
                    slot,
                });
            }
            Reconciled::Resend => {
                metrics::sms(name, "not_found");
                tracing::info!("the platform has no such send: sent again");
                self.write(|| reconcile::resend(&self.pool, &lease)).await;
                // The claims sleep until a notification or their poll; it is due now.
                if let Err(e) = wake_all(&self.pool).await {
                    tracing::debug!(error = %e, "could not wake the dispatchers; the poll will");
                }
            }
            Reconciled::CheckAgainAt { at, message } => {
                metrics::sms(name, "lookup_failed");
                tracing::warn!(%at, error = %phone::redact(&message), "lookup failed; will ask again");
                self.write(|| reconcile::ask_again(&self.pool, &lease, at, &message))
                    .await;
            }
            Reconciled::Failed { message } => {
                metrics::sms(name, "failed");
                tracing::warn!(error = %phone::redact(&message), "send failed for good after lookups");
                self.write(|| {
                    messages::finish(
                        &self.pool,
                        &lease,
                        MessageStatus::Failed,
                        None,
                        &message,
                        None,
                    )
                })
                .await;
            }
        }
    }
}

async fn wake_all(pool: &PgPool) -> sqlx::Result<()> {
    wake::notify(&mut *pool.acquire().await?).await
}
