//! The smartphone credential (スマホ用電子証明書 and the iPhone's card substitute record) on
//! the center's side: set-up requests from the portal app signed with the card's signing
//! key ([`setup`]), the asynchronous issuance by a worker over a durable job queue
//! ([`worker`]), the push that tells the phone its credential is ready and the download
//! of it ([`push`]), the compatibility list ([`compat`]), the citizen's portal (phones
//! listed, suspended, resumed; "is my phone supported?") ([`portal`]) and the phone's
//! certificate at the reader ([`reception`]). See docs/smartphone.md.
//!
//! Lifecycle rules kept here: a phone credential hangs on the card's user-authentication
//! certificate it was requested with and ends with it (no grace period for phones); a
//! revoked or renewed card revokes the phone; a new phone of the same platform replaces
//! (revokes) the old one; a suspended phone is refused until resumed.

pub mod compat;
mod mdoc;
mod portal;
mod push;
pub(crate) mod reception;
mod setup;
pub mod wire;
mod worker;

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use compat::{Compatibility, Verdict};
pub use worker::spawn_worker;

use crate::AppState;
use crate::error::{ApiError, Problem};

/// Default delay between a set-up request and its issuance: the demo answers in
/// seconds; the real service takes minutes (docs/reference.md §3).
pub const DEFAULT_ISSUE_DELAY: Duration = Duration::from_secs(3);

/// How the center runs the smartphone service.
#[derive(Debug, Clone)]
pub struct PhoneConfig {
    /// Between a set-up request and its issuance (initial value of
    /// [`PhoneService::issue_delay`]).
    pub issue_delay: Duration,
    /// The published compatibility list.
    pub compatibility: Compatibility,
}

impl Default for PhoneConfig {
    fn default() -> Self {
        Self {
            issue_delay: DEFAULT_ISSUE_DELAY,
            compatibility: Compatibility::shipped(),
        }
    }
}

/// The smartphone service's share of the center's state: its configuration, the wake-up
/// of this process's worker and the signal that a credential changed (for the pushes).
#[derive(Debug)]
pub struct PhoneService {
    config: PhoneConfig,
    /// The issuance delay in milliseconds (settable while serving).
    delay_ms: std::sync::atomic::AtomicU64,
    wake: tokio::sync::Notify,
    changed: tokio::sync::watch::Sender<u64>,
}

impl Default for PhoneService {
    fn default() -> Self {
        Self::new(PhoneConfig::default())
    }
}

impl PhoneService {
    /// A service with `config`.
    pub fn new(config: PhoneConfig) -> Self {
        Self {
            delay_ms: std::sync::atomic::AtomicU64::new(
                u64::try_from(config.issue_delay.as_millis()).unwrap_or(u64::MAX),
            ),
            config,
            wake: tokio::sync::Notify::new(),
            changed: tokio::sync::watch::channel(0).0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &PhoneConfig {
        &self.config
    }

    /// Between a set-up request and its issuance.
    pub fn issue_delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Changes the issuance delay for requests made from now on.
    pub fn set_issue_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.delay_ms
            .store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn wake_worker(&self) {
        self.wake.notify_one();
    }

    pub(crate) fn credential_changed(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// The routes of the smartphone service. The set-up, push and portal routes take no
/// client certificate: the phone and the citizen authenticate with their own keys.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/phone/compatibility", get(portal::compatibility_list))
        .route(
            "/v1/phone/compatibility/check",
            get(portal::compatibility_check),
        )
        .route("/v1/phone/applications", post(setup::apply))
        .route("/v1/phone/applications/{id}", get(push::status))
        .route("/v1/phone/applications/{id}/events", get(push::events))
        .route(
            "/v1/phone/applications/{id}/credential",
            get(push::credential),
        )
        .route("/v1/portal/challenge", post(portal::challenge))
        .route("/v1/portal/phones", post(portal::phones))
        .route("/v1/portal/phones/{id}/suspend", post(portal::suspend))
        .route("/v1/portal/phones/{id}/resume", post(portal::resume))
        .route("/v1/portal/home-consents", post(portal::home_consent))
        .route("/portal/phone", get(portal::page))
}

/// Refusals of the smartphone routes beyond the center's common ones.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PhoneError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("phone not supported: {0}")]
    Unsupported(String, String),
    #[error("application unknown or token invalid")]
    Unauthorized,
    #[error("credential not issued yet")]
    NotReady,
    #[error("credential ended: {0}")]
    Ended(String),
    #[error("set-up refused: {0}")]
    SetupRefused(&'static str, String),
}

impl From<onshi_store::StoreError> for PhoneError {
    fn from(e: onshi_store::StoreError) -> Self {
        PhoneError::Api(e.into())
    }
}

impl IntoResponse for PhoneError {
    fn into_response(self) -> Response {
        let (status, code, title, ja, detail) = match self {
            PhoneError::Api(e) => return e.into_response(),
            PhoneError::Unsupported(ja, en) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "phone_unsupported",
                "Phone not supported",
                ja,
                en,
            ),
            PhoneError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "phone_token_invalid",
                "Unknown application",
                "申請が見つからないか、この端末からは参照できません。".into(),
                "No such application for this bearer token.".into(),
            ),
            PhoneError::NotReady => (
                StatusCode::CONFLICT,
                "phone_credential_pending",
                "Credential not ready",
                "スマホ用電子証明書は発行手続き中です。発行されると通知が届きます。".into(),
                "The credential is not issued yet; wait for the push.".into(),
            ),
            PhoneError::Ended(why) => (
                StatusCode::GONE,
                "phone_credential_ended",
                "Credential ended",
                "このスマートフォンの電子証明書は失効しているか、発行されませんでした。マイナポータルアプリから登録し直してください。".into(),
                format!("The credential ended: {why}."),
            ),
            PhoneError::SetupRefused(ja, en) => (
                StatusCode::BAD_REQUEST,
                "phone_setup_refused",
                "Set-up refused",
                ja.to_owned(),
                en,
            ),
        };
        let problem = Problem {
            kind: format!("urn:onshi:problem:{code}"),
            title: title.into(),
            status: status.as_u16(),
            code: code.into(),
            message_ja: ja,
            detail,
            field: None,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        resp
    }
}

/// Hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    crate::hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}
