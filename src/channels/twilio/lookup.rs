//! A send of unknown outcome looked up: Twilio's message list for the number, newest first,
//! page by page back to the attempt, matched by body and sender (DESIGN §4 "No blind
//! resend"). Twilio takes no idempotency key and echoes nothing of postcall's, so the body,
//! the sender and the time are what identify the message.
//!
//! The list is filtered by `To` (and `From` when postcall sends from a number), not by
//! `DateSent>=`: a message Twilio still holds queued has no `date_sent` yet and that filter
//! would hide it, which would read as "not sent" and send it twice. `date_created` bounds the
//! search instead.

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;

use super::{
    Twilio,
    wire::{ListedMessage, MessagePage},
};
use crate::{
    channels::{Lookup, Outbound, http_client as http},
    domain::delivery::DeliveryStatus,
};

/// Pages read at most before giving up: a number postcall texts gets a handful a day.
const MOST_PAGES: usize = 5;
const PAGE_SIZE: &str = "50";

impl Twilio {
    pub(super) async fn list_sent(&self, message: &Outbound<'_>, since: DateTime<Utc>) -> Lookup {
        let mut query = vec![("To", message.to), ("PageSize", PAGE_SIZE)];
        if !self.from.is_empty() {
            query.push(("From", self.from.as_str()));
        }
        let mut request = self.client.get(&self.messages_url).query(&query);
        for _ in 0..MOST_PAGES {
            let answer = match http::ask(
                request.basic_auth(&self.account_sid, Some(self.auth_token.expose_secret())),
            )
            .await
            {
                Ok(answer) => answer,
                Err(message) => return Lookup::CannotAsk { message },
            };
            let page = match read_page(&answer) {
                Ok(page) => page,
                Err(message) => return Lookup::CannotAsk { message },
            };
            let sender = Sender {
                from: &self.from,
                messaging_service_sid: &self.messaging_service_sid,
            };
            match judge(&page, message, &sender, since) {
                Page::Decided(lookup) => return lookup,
                Page::ReadOn => {}
            }
            let Some(next) = page.next_page_uri else {
                return Lookup::NotFound;
            };
            request = self.client.get(format!("{}{next}", self.base_url));
        }
        Lookup::CannotAsk {
            message: format!("no answer within {MOST_PAGES} pages of the number's messages"),
        }
    }
}

/// Who postcall sends as: one of the two is set.
pub struct Sender<'a> {
    pub from: &'a str,
    pub messaging_service_sid: &'a str,
}

/// What one page says.
#[derive(Debug, PartialEq)]
pub enum Page {
    Decided(Lookup),
    /// Everything on it is newer than the attempt and none is this message.
    ReadOn,
}

pub fn read_page(answer: &http::Answer) -> Result<MessagePage, String> {
    if !answer.status.is_success() {
        return Err(format!(
            "Messages list: HTTP {}: {}",
            answer.status,
            http::excerpt(&answer.body)
        ));
    }
    serde_json::from_str(&answer.body)
        .map_err(|e| format!("Messages list: an unreadable body ({e})"))
}

/// Looks for `message` on one page of the number's messages, newest first.
pub fn judge(
    page: &MessagePage,
    message: &Outbound<'_>,
    sender: &Sender<'_>,
    since: DateTime<Utc>,
) -> Page {
    for listed in &page.messages {
        let created = match listed
            .date_created
            .as_deref()
            .map(DateTime::parse_from_rfc2822)
        {
            Some(Ok(created)) => created.to_utc(),
            _ => {
                return Page::Decided(Lookup::CannotAsk {
                    message: format!(
                        "message {} listed without a readable date_created",
                        listed.sid
                    ),
                });
            }
        };
        if created < since {
            // Newest first: everything from here on is older than the attempt.
            return Page::Decided(Lookup::NotFound);
        }
        if is(listed, message, sender) {
            return Page::Decided(Lookup::Found {
                provider_message_id: listed.sid.clone(),
                status: listed
                    .status
                    .as_deref()
                    .and_then(DeliveryStatus::normalise)
                    .unwrap_or(DeliveryStatus::Queued),
            });
        }
    }
    if page.messages.is_empty() {
        Page::Decided(Lookup::NotFound)
    } else {
        Page::ReadOn
    }
}

fn is(listed: &ListedMessage, message: &Outbound<'_>, sender: &Sender<'_>) -> bool {
    let by_us = if sender.from.is_empty() {
        listed.messaging_service_sid.as_deref() == Some(sender.messaging_service_sid)
    } else {
        listed.from.as_deref() == Some(sender.from)
    };
    by_us
        && listed.to.as_deref() == Some(message.to)
        && listed.body.as_deref() == Some(message.body)
        && listed
            .direction
            .as_deref()
            .is_none_or(|d| d.starts_with("outbound"))
}

#[cfg(test)]
mod tests;
