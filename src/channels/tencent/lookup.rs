//! A send of unknown outcome looked up: one TC3-signed `PullSmsSendStatusByPhoneNumber` for
//! the number since the attempt, matched by `SessionContext`, which carries postcall's
//! message id (DESIGN §4 "No blind resend").
//!
//! Tencent lists a send there once the carrier's receipt is in, so `dispatch.reconcile.
//! grace_seconds` must cover the receipt's delay; and it echoes `SessionContext` only for
//! apps where Tencent enabled it: a listed send without one could be this message, so the
//! answer is "cannot tell", never "not found".

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Tencent,
    signature::ACTION_PULL_STATUS,
    wire::{Mobile, PULL_LIMIT, PullStatusRequest, PullStatusResponse},
};
use crate::{
    channels::{Lookup, Outbound, http_client as http},
    domain::delivery::DeliveryStatus,
};

impl Tencent {
    pub(super) async fn pull_status(&self, message: &Outbound<'_>, since: DateTime<Utc>) -> Lookup {
        let body = PullStatusRequest {
            begin_time: u64::try_from(since.timestamp()).unwrap_or_default(),
            offset: 0,
            limit: PULL_LIMIT,
            phone_number: Mobile(message.to.to_owned()),
            sms_sdk_app_id: self.sms_sdk_app_id.clone(),
            end_time: u64::try_from(Utc::now().timestamp()).unwrap_or_default(),
        };
        let payload = match serde_json::to_vec(&body) {
            Ok(payload) => payload,
            Err(e) => {
                return Lookup::CannotAsk {
                    message: format!("the pull could not be written: {e}"),
                };
            }
        };
        match http::ask(self.signed(ACTION_PULL_STATUS, payload)).await {
            Ok(answer) => judge(&answer, message.id),
            Err(message) => Lookup::CannotAsk { message },
        }
    }
}

/// What Tencent's answer to the pull says of message `id`.
pub fn judge(answer: &http::Answer, id: Uuid) -> Lookup {
    let cannot = |why: String| Lookup::CannotAsk {
        message: format!("{ACTION_PULL_STATUS}: {why}"),
    };
    if !answer.status.is_success() {
        return cannot(format!(
            "HTTP {}: {}",
            answer.status,
            http::excerpt(&answer.body)
        ));
    }
    let pulled = match serde_json::from_str::<PullStatusResponse>(&answer.body) {
        Ok(pulled) => pulled.response,
        Err(e) => return cannot(format!("an unreadable body ({e})")),
    };
    if let Some(error) = pulled.error {
        return cannot(format!("{}: {}", error.code, error.message));
    }
    let id = id.to_string();
    let listed = &pulled.pull_sms_send_status_set;
    if let Some(found) = listed.iter().find(|s| s.session_context == id) {
        return if found.serial_no.is_empty() {
            cannot("this message listed without a SerialNo".to_owned())
        } else {
            // Exactly what an accepted SendSms records; its receipt, if already in, was
            // kept as an early report and is folded in with it.
            Lookup::Found {
                provider_message_id: found.serial_no.clone(),
                status: DeliveryStatus::Sent,
            }
        };
    }
    if listed.iter().any(|s| s.session_context.is_empty()) {
        return cannot(
            "sends listed without SessionContext: ask Tencent to enable it for this SmsSdkAppId"
                .to_owned(),
        );
    }
    if listed.len() as u64 >= PULL_LIMIT {
        return cannot(format!(
            "{PULL_LIMIT} sends listed, the most one pull returns"
        ));
    }
    Lookup::NotFound
}

#[cfg(test)]
mod tests;
