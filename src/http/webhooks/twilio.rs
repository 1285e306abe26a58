//! `POST /webhooks/twilio/status`: Twilio's delivery reports, checked with
//! X-Twilio-Signature as Twilio's own validators compute it.

use axum::{
    body::Bytes,
    extract::{OriginalUri, State},
    http::{HeaderMap, StatusCode, header},
    response::IntoResponse,
};

use crate::{
    config::ExposeSecret,
    domain::{delivery::DeliveryStatus, phone},
    http::{AppState, error::HttpError},
    inbound, signing,
    store::{conversation::Inbound, deliveries},
};

/// Twilio expects TwiML back; an empty response sends nothing (the next question goes
/// out through the REST API like any other SMS).
const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

pub async fn inbound(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, HttpError> {
    let params = verified(&state, &uri, &headers, &body)?;
    let sms = Inbound {
        provider: "twilio",
        provider_message_id: sid(&params)?,
        from: address(required(&params, "From")?, "From")?,
        to: param(&params, "To")?
            .map(|to| address(to, "To"))
            .transpose()?,
        body: param(&params, "Body")?.unwrap_or_default(),
        received_at: chrono::Utc::now(),
    };
    let outcome = inbound::receive(&state.pool, &state.survey, &sms).await?;
    tracing::info!(from = %phone::mask(sms.from), outcome = outcome.as_str(), "SMS received");
    Ok(([(header::CONTENT_TYPE, "text/xml")], EMPTY_TWIML))
}

pub async fn status(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, HttpError> {
    let params = verified(&state, &uri, &headers, &body)?;
    let sid = sid(&params)?;
    let raw = required(&params, "MessageStatus")?;
    // Statuses of inbound messages (`receiving`, `received`) say nothing about ours.
    let Some(status) = DeliveryStatus::normalise(raw) else {
        return Ok(StatusCode::OK);
    };
    let error_code = param(&params, "ErrorCode")?.filter(|c| !c.is_empty());
    let applied = deliveries::report(&state.pool, "twilio", sid, status, error_code).await?;
    tracing::info!(
        provider_message_id = sid,
        status = status.as_str(),
        ?applied,
        "delivery report"
    );
    Ok(StatusCode::OK)
}

/// The value of a parameter sent at most once. The signature covers every value of a
/// repeated parameter (sorted), but a handler reads one: which one would be a guess, so a
/// repeated parameter that is read is refused as malformed.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, HttpError> {
    let mut values = params
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(HttpError::BadRequest(format!("{name} is repeated")));
    }
    Ok(first)
}

fn required<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, HttpError> {
    param(params, name)?.ok_or_else(|| HttpError::BadRequest(format!("{name} is missing")))
}

fn sid(params: &[(String, String)]) -> Result<&str, HttpError> {
    let sid = required(params, "MessageSid")?;
    super::refuse_long("MessageSid", sid, super::MAX_ID_CHARS)?;
    Ok(sid)
}

fn address<'a>(value: &'a str, name: &str) -> Result<&'a str, HttpError> {
    super::refuse_long(name, value, super::MAX_ADDRESS_CHARS)?;
    Ok(value)
}

/// The form parameters, once the signature over them and the public URL has checked out.
fn verified(
    state: &AppState,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<(String, String)>, HttpError> {
    let auth = &state.webhooks;
    let token = auth.twilio_auth_token.as_ref().ok_or_else(|| {
        HttpError::Forbidden("provider.twilio.auth_token is not configured".into())
    })?;
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| HttpError::Forbidden("X-Twilio-Signature is missing".into()))?;
    let path_and_query = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    let url = format!("{}{}", auth.public_url, path_and_query);
    let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    if !signing::twilio::validate(token.expose_secret(), &url, &params, signature) {
        return Err(HttpError::Forbidden(
            "X-Twilio-Signature does not match".into(),
        ));
    }
    for (name, value) in &params {
        super::refuse_nul(name, value)?;
    }
    Ok(params)
}
