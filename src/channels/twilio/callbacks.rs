//! Twilio's callbacks: delivery reports (`StatusCallback`) and replies, form posts checked
//! with X-Twilio-Signature as Twilio's own validators compute it.

use axum::http::StatusCode;
use secrecy::ExposeSecret;

use super::{
    signature,
    wire::{INBOUND_PATH, STATUS_CALLBACK_PATH},
};
use crate::{
    channels::{
        ProviderKind,
        callbacks::{
            Answer, Callback, Heard, Keys, MAX_ADDRESS_CHARS, MAX_ID_CHARS, Refusal, Reply,
            Request, Route, refuse_long, refuse_nul,
        },
    },
    domain::delivery::DeliveryStatus,
};

/// Twilio expects TwiML back; an empty response sends nothing (the next question goes
/// out through the REST API like any other SMS).
const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

pub fn routes() -> Vec<Route> {
    vec![
        Route {
            channel: ProviderKind::Twilio,
            path: STATUS_CALLBACK_PATH,
            read: status,
        },
        Route {
            channel: ProviderKind::Twilio,
            path: INBOUND_PATH,
            read: inbound,
        },
    ]
}

fn inbound(keys: &Keys, request: &Request<'_>) -> Result<Callback, Refusal> {
    let params = verified(keys, request)?;
    let reply = Reply {
        provider_message_id: sid(&params)?.to_owned(),
        from: address(required(&params, "From")?, "From")?.to_owned(),
        to: param(&params, "To")?
            .map(|to| address(to, "To").map(str::to_owned))
            .transpose()?,
        body: param(&params, "Body")?.unwrap_or_default().to_owned(),
        received_at: request.now,
        other_signature: None,
    };
    Ok(Callback {
        heard: vec![Heard::Reply(reply)],
        replay: None,
        answer: Answer {
            status: StatusCode::OK,
            body: Some(("text/xml", EMPTY_TWIML)),
        },
    })
}

fn status(keys: &Keys, request: &Request<'_>) -> Result<Callback, Refusal> {
    let params = verified(keys, request)?;
    let sid = sid(&params)?;
    let raw = required(&params, "MessageStatus")?;
    // Statuses of inbound messages (`receiving`, `received`) say nothing about ours.
    let heard = match DeliveryStatus::normalise(raw) {
        Some(status) => Heard::Delivery {
            provider_message_id: sid.to_owned(),
            status,
            error_code: param(&params, "ErrorCode")?
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
            billed_segments: None,
        },
        None => Heard::Nothing,
    };
    Ok(Callback {
        heard: vec![heard],
        replay: None,
        answer: Answer {
            status: StatusCode::OK,
            body: None,
        },
    })
}

/// The value of a parameter sent at most once. The signature covers every value of a
/// repeated parameter (sorted), but a handler reads one: which one would be a guess, so a
/// repeated parameter that is read is refused as malformed.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, Refusal> {
    let mut values = params
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(Refusal::Malformed(format!("{name} is repeated")));
    }
    Ok(first)
}

fn required<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, Refusal> {
    param(params, name)?.ok_or_else(|| Refusal::Malformed(format!("{name} is missing")))
}

fn sid(params: &[(String, String)]) -> Result<&str, Refusal> {
    let sid = required(params, "MessageSid")?;
    refuse_long("MessageSid", sid, MAX_ID_CHARS)?;
    Ok(sid)
}

fn address<'a>(value: &'a str, name: &str) -> Result<&'a str, Refusal> {
    refuse_long(name, value, MAX_ADDRESS_CHARS)?;
    Ok(value)
}

/// The form parameters, once the signature over them and the public URL has checked out.
fn verified(keys: &Keys, request: &Request<'_>) -> Result<Vec<(String, String)>, Refusal> {
    let token = keys
        .twilio_auth_token
        .as_ref()
        .ok_or_else(|| Refusal::Forbidden("provider.twilio.auth_token is not configured".into()))?;
    let signature = request
        .headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Refusal::Forbidden("X-Twilio-Signature is missing".into()))?;
    let url = format!("{}{}", keys.public_url, request.path_and_query);
    let params: Vec<(String, String)> = form_urlencoded::parse(request.body).into_owned().collect();
    if !signature::validate(token.expose_secret(), &url, &params, signature) {
        return Err(Refusal::Forbidden(
            "X-Twilio-Signature does not match".into(),
        ));
    }
    for (name, value) in &params {
        refuse_nul(name, value)?;
    }
    Ok(params)
}
