//! Provider callbacks, for every channel alike: the channel verifies a request over its
//! raw body and reads it (`channels::*::callbacks`); one that fails gets 403 or 400 and
//! changes nothing. Acting on what was read is the same for all: a delivery report goes to
//! `store::deliveries`, a reply to `inbound`, a replayed callback is ignored. A platform's
//! batches that must be answered at once are stored first and acted on after (`inbox`).

mod inbox;

pub use inbox::sweep as sweep_inbox;

use std::{
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use axum::{
    Extension,
    body::Bytes,
    extract::{ConnectInfo, DefaultBodyLimit, OriginalUri, RawPathParams, State},
    handler::Handler,
    http::{HeaderMap, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use tower_http::timeout::TimeoutLayer;

use super::{AppState, Routes, error::HttpError};
use crate::{
    channels::{
        self,
        callbacks::{Answer, Heard, Refusal, Request, Route},
        compose::Texts,
    },
    domain::phone,
    inbound,
    store::{conversation::Inbound, deliveries, webhook_receipts},
};

/// Callbacks are small; anything larger is not from a provider.
const BODY_LIMIT: usize = 64 * 1024;
/// A stored-first batch may hold a thousand reports (about 260 bytes each).
const BATCH_BODY_LIMIT: usize = 2 * 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

pub fn routes() -> Routes {
    channels::callback_routes()
        .into_iter()
        .fold(Routes::new(), |routes, route| {
            let limit = match channels::stored_first(&route) {
                Some(_) => BATCH_BODY_LIMIT,
                None => BODY_LIMIT,
            };
            let handler = move |State(state): State<AppState>,
                                OriginalUri(uri): OriginalUri,
                                params: RawPathParams,
                                peer: Option<Extension<ConnectInfo<SocketAddr>>>,
                                headers: HeaderMap,
                                body: Bytes| {
                let token = params
                    .iter()
                    .find(|(name, _)| *name == "token")
                    .map(|(_, value)| value.to_owned());
                let arrived = Arrived {
                    uri,
                    token,
                    peer: peer.map(|Extension(ConnectInfo(addr))| addr.ip()),
                    headers,
                    body,
                };
                receive(route, state, arrived)
            };
            // The route's own limit overrides the router-wide one below.
            routes.post(route.path, handler.layer(DefaultBodyLimit::max(limit)))
        })
        .wrap(|router| {
            router
                .layer(DefaultBodyLimit::max(BODY_LIMIT))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    TIMEOUT,
                ))
        })
}

/// A callback request as axum hands it over.
struct Arrived {
    uri: Uri,
    token: Option<String>,
    peer: Option<IpAddr>,
    headers: HeaderMap,
    body: Bytes,
}

async fn receive(route: Route, state: AppState, arrived: Arrived) -> Result<Response, HttpError> {
    let uri = &arrived.uri;
    let request = Request {
        path_and_query: uri.path_and_query().map_or(uri.path(), |pq| pq.as_str()),
        token: arrived.token.as_deref(),
        peer: arrived.peer,
        headers: &arrived.headers,
        body: &arrived.body,
        now: chrono::Utc::now(),
    };
    let callback = (route.read)(&state.webhooks, &request).map_err(refused)?;
    if let Some(kind) = channels::stored_first(&route) {
        let provider = route.channel.as_str();
        let senders = inbox::senders(&callback.heard);
        return inbox::store(
            &state,
            provider,
            kind,
            &arrived.body,
            &senders,
            callback.answer,
        )
        .await;
    }
    if let Some(replay) = &callback.replay
        && webhook_receipts::seen(&state.pool, &replay.id).await?
    {
        tracing::info!(webhook_id = replay.id, "replayed webhook ignored");
        return Ok(answer(callback.answer));
    }
    for heard in callback.heard {
        act(route.channel.as_str(), &state, heard).await?;
    }
    if let Some(replay) = &callback.replay {
        webhook_receipts::remember(&state.pool, &replay.id, replay.remember_for).await?;
    }
    Ok(answer(callback.answer))
}

async fn act(provider: &str, state: &AppState, heard: Heard) -> Result<(), HttpError> {
    match heard {
        Heard::Delivery {
            provider_message_id,
            status,
            error_code,
            billed_segments,
        } => {
            let applied = deliveries::report(
                &state.pool,
                provider,
                &provider_message_id,
                status,
                error_code.as_deref(),
                billed_segments.and_then(|n| i32::try_from(n).ok()),
            )
            .await?;
            tracing::info!(
                provider_message_id,
                status = status.as_str(),
                ?applied,
                "delivery report"
            );
        }
        Heard::Reply(reply) => {
            let sms = Inbound {
                provider,
                provider_message_id: &reply.provider_message_id,
                from: &reply.from,
                to: reply.to.as_deref(),
                body: &reply.body,
                received_at: reply.received_at,
                other_signature: reply.other_signature.as_deref(),
            };
            let texts = Texts::new(&state.survey, &state.channel);
            let outcome = inbound::receive(&state.pool, &state.wake, &texts, &sms).await?;
            tracing::info!(from = %phone::mask(&reply.from), outcome = outcome.as_str(), "SMS received");
        }
        Heard::Nothing => {}
    }
    Ok(())
}

fn refused(refusal: Refusal) -> HttpError {
    match refusal {
        Refusal::Forbidden(why) => HttpError::Forbidden(why),
        Refusal::Malformed(why) => HttpError::BadRequest(why),
        Refusal::NotFound(why) => {
            // Answered like any unknown path, so a prober learns nothing; the reason is
            // for the operator.
            tracing::info!(why, "callback refused as not found");
            HttpError::NotFound
        }
    }
}

fn answer(answer: Answer) -> Response {
    match answer.body {
        Some((content_type, body)) => {
            (answer.status, [(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        None => answer.status.into_response(),
    }
}
