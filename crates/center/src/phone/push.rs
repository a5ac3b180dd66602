//! The push channel from center to phone and what the phone fetches after it.
//!
//! `GET /v1/phone/applications/{id}/events` is a Server-Sent Events stream: a `state`
//! event at once, then `ready` when the credential is issued (or `ended` when it never
//! will be), then the stream closes. The phone keeps one such connection open, as a
//! phone keeps its push connection; the worker of this process signals the stream the
//! moment it completes a job, and a stream also looks at the database every
//! [`CROSS_PROCESS_CHECK`] in case another center process did the issuance. Every route
//! here takes the phone's bearer token from the set-up answer.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use onshi_store::{PhoneCredentialRow, PhoneState};

use super::wire::{EVENT_ENDED, EVENT_READY, EVENT_STATE, PhoneCredential, PhoneStatus, b64};
use super::{PhoneError, sha256_hex};
use crate::AppState;

/// How often an open stream looks at the database for issuance done by another process.
pub const CROSS_PROCESS_CHECK: Duration = Duration::from_secs(1);

/// What a credential's state means for its holder, in Japanese.
pub(crate) fn state_ja(s: PhoneState) -> &'static str {
    match s {
        PhoneState::Pending => "発行手続き中",
        PhoneState::Issued => "利用できます",
        PhoneState::Suspended => "一時停止中",
        PhoneState::Revoked => "失効",
        PhoneState::Failed => "発行されませんでした",
    }
}

/// The credential `id` if `headers` carry its bearer token.
async fn authorized(
    state: &AppState,
    id: &str,
    headers: &HeaderMap,
) -> Result<PhoneCredentialRow, PhoneError> {
    let id: i64 = id.parse().map_err(|_| PhoneError::Unauthorized)?;
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(PhoneError::Unauthorized)?;
    let cred = state
        .store()
        .phone_credential(id)
        .await?
        .ok_or(PhoneError::Unauthorized)?;
    let presented = sha256_hex(token.trim().as_bytes());
    aws_lc_rs::constant_time::verify_slices_are_equal(
        presented.as_bytes(),
        cred.token_sha256.as_bytes(),
    )
    .map_err(|_| PhoneError::Unauthorized)?;
    Ok(cred)
}

pub(crate) fn status_of(c: &PhoneCredentialRow) -> PhoneStatus {
    PhoneStatus {
        application_id: c.id.to_string(),
        platform: c.platform.clone(),
        model: c.model.clone(),
        os_version: c.os_version.clone(),
        state: c.state.as_str().into(),
        requested_at: c.requested_at,
        issued_at: c.issued_at,
        valid_until: c.card_not_after,
        ended_at: c.ended_at,
        end_reason: c.end_reason.clone(),
        state_ja: state_ja(c.state).into(),
    }
}

pub(super) async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<PhoneStatus>, PhoneError> {
    let cred = authorized(&state, &id, &headers).await?;
    Ok(Json(status_of(&cred)))
}

pub(super) async fn credential(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<PhoneCredential>, PhoneError> {
    let cred = authorized(&state, &id, &headers).await?;
    match cred.state {
        PhoneState::Pending => return Err(PhoneError::NotReady),
        PhoneState::Issued | PhoneState::Suspended => {}
        PhoneState::Revoked | PhoneState::Failed => {
            return Err(PhoneError::Ended(
                cred.end_reason
                    .clone()
                    .unwrap_or_else(|| cred.state.as_str().into()),
            ));
        }
    }
    let card = state.card().ok_or(PhoneError::Api(
        crate::error::ApiError::ClientCertificateRequired,
    ))?;
    let (auth_ca, sign_ca) = {
        let jlis = card
            .jlis
            .lock()
            .map_err(|_| crate::error::ApiError::Internal("J-LIS state poisoned".into()))?;
        (
            jlis.ca(onshi_pki::CaKind::PhoneAuth).cert_der().to_vec(),
            jlis.ca(onshi_pki::CaKind::PhoneSigning).cert_der().to_vec(),
        )
    };
    let missing =
        || crate::error::ApiError::Internal(format!("credential {} lacks a certificate", cred.id));
    Ok(Json(PhoneCredential {
        application_id: cred.id.to_string(),
        auth_certificate: b64(cred.auth_cert.as_deref().ok_or_else(missing)?),
        auth_ca_certificate: b64(&auth_ca),
        signing_certificate: b64(cred.signing_cert.as_deref().ok_or_else(missing)?),
        signing_ca_certificate: b64(&sign_ca),
        mdoc: cred.mdoc.as_deref().map(b64),
    }))
}

struct Watch {
    state: AppState,
    id: i64,
    changed: tokio::sync::watch::Receiver<u64>,
    first: bool,
    done: bool,
}

fn event(name: &str, c: &PhoneCredentialRow) -> Event {
    let body = serde_json::to_string(&status_of(c)).unwrap_or_default();
    Event::default().event(name).data(body)
}

async fn next(mut w: Watch) -> Option<(Result<Event, Infallible>, Watch)> {
    if w.done {
        return None;
    }
    loop {
        let cred = match w.state.store().phone_credential(w.id).await {
            Ok(Some(c)) => c,
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "phone events: lookup failed");
                tokio::time::sleep(CROSS_PROCESS_CHECK).await;
                continue;
            }
        };
        let terminal = match cred.state {
            PhoneState::Pending => None,
            PhoneState::Issued | PhoneState::Suspended => Some(EVENT_READY),
            PhoneState::Revoked | PhoneState::Failed => Some(EVENT_ENDED),
        };
        if let Some(name) = terminal {
            w.done = true;
            return Some((Ok(event(name, &cred)), w));
        }
        if w.first {
            w.first = false;
            return Some((Ok(event(EVENT_STATE, &cred)), w));
        }
        let _ = tokio::time::timeout(CROSS_PROCESS_CHECK, w.changed.changed()).await;
    }
}

pub(super) async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PhoneError> {
    let cred = authorized(&state, &id, &headers).await?;
    let changed = state.phone().changed.subscribe();
    let watch = Watch {
        state,
        id: cred.id,
        changed,
        first: true,
        done: false,
    };
    Ok(Sse::new(futures_util::stream::unfold(watch, next))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
