//! A send of unknown outcome looked up: ACS3-signed `QuerySendDetails` for the number, for
//! each day (Beijing time, as `SendDate` is written) since the attempt, page by page,
//! matched by `OutId`, which carries postcall's message id (DESIGN §4 "No blind resend").
//!
//! The answer carries no `BizId`: a send found this way is recorded under its `OutId` with
//! the status the query gives, and Aliyun's later SmsReport for it (keyed by `biz_id`) finds
//! no message.

use chrono::{DateTime, Days, Utc};
use chrono_tz::Asia::Shanghai;
use uuid::Uuid;

use super::{
    Aliyun,
    errors::CODE_OK,
    send::phone_number,
    signature::ACTION_QUERY_SEND_DETAILS,
    wire::{QUERY_PAGE_SIZE, QuerySendDetailsResponse},
};
use crate::{
    channels::{Lookup, Outbound, http_client as http},
    domain::delivery::DeliveryStatus,
};

/// Pages read per day at most.
const MOST_PAGES: usize = 5;

impl Aliyun {
    pub(super) async fn query_details(
        &self,
        message: &Outbound<'_>,
        since: DateTime<Utc>,
    ) -> Lookup {
        let phone = phone_number(message.to);
        let size = QUERY_PAGE_SIZE.to_string();
        for day in send_dates(since, Utc::now()) {
            for page in 1..=MOST_PAGES {
                let current = page.to_string();
                let query = [
                    ("PhoneNumber", phone.as_str()),
                    ("SendDate", day.as_str()),
                    ("PageSize", size.as_str()),
                    ("CurrentPage", current.as_str()),
                ];
                let answer = match http::ask(self.signed(ACTION_QUERY_SEND_DETAILS, &query)).await {
                    Ok(answer) => answer,
                    Err(message) => return Lookup::CannotAsk { message },
                };
                match judge(&answer, message.id) {
                    Page::Decided(lookup) => return lookup,
                    Page::Full => continue,
                    Page::Last => break,
                }
            }
        }
        Lookup::NotFound
    }
}

/// The `SendDate`s (yyyyMMdd, Beijing time) from `since` to `now`.
pub fn send_dates(since: DateTime<Utc>, now: DateTime<Utc>) -> Vec<String> {
    let (mut day, last) = (
        since.with_timezone(&Shanghai).date_naive(),
        now.with_timezone(&Shanghai).date_naive(),
    );
    let mut days = vec![];
    while day <= last && days.len() < 7 {
        days.push(day.format("%Y%m%d").to_string());
        day = day + Days::new(1);
    }
    days
}

/// What one page says.
#[derive(Debug, PartialEq)]
pub enum Page {
    Decided(Lookup),
    /// Not on it, and there may be a next page.
    Full,
    /// Not on it, and it was the day's last.
    Last,
}

pub fn judge(answer: &http::Answer, id: Uuid) -> Page {
    let cannot = |why: String| {
        Page::Decided(Lookup::CannotAsk {
            message: format!("{ACTION_QUERY_SEND_DETAILS}: {why}"),
        })
    };
    let read = match serde_json::from_str::<QuerySendDetailsResponse>(&answer.body) {
        Ok(read) => read,
        Err(_) if !answer.status.is_success() => {
            return cannot(format!(
                "HTTP {}: {}",
                answer.status,
                http::excerpt(&answer.body)
            ));
        }
        Err(e) => return cannot(format!("an unreadable body ({e})")),
    };
    if read.code != CODE_OK || !answer.status.is_success() {
        return cannot(format!(
            "HTTP {}: {}: {} (RequestId {})",
            answer.status, read.code, read.message, read.request_id
        ));
    }
    let list = read.details.map(|d| d.list).unwrap_or_default();
    let id = id.to_string();
    if let Some(found) = list
        .iter()
        .find(|d| d.out_id.as_deref() == Some(id.as_str()))
    {
        return Page::Decided(Lookup::Found {
            provider_message_id: format!("OutId:{id}"),
            status: match found.send_status {
                Some(3) => DeliveryStatus::Delivered,
                Some(2) => DeliveryStatus::Undelivered,
                _ => DeliveryStatus::Queued,
            },
        });
    }
    if list.len() >= QUERY_PAGE_SIZE {
        Page::Full
    } else {
        Page::Last
    }
}

#[cfg(test)]
mod tests;
