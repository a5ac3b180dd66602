//! The national center of onshi (オンライン資格確認等システム): an HTTP/JSON service that
//! answers eligibility checks for registered medical institutions, records every check,
//! and publishes its API as an OpenAPI document.
//!
//! The center owns the rules (which record is in force, what a job change looks like, who
//! may ask); persistence is the `store` crate's, identifiers and codes are the `model`
//! crate's. The center never trusts a caller's word for an institution it has not
//! registered, never sends internal error detail to a client, and never panics on input.

mod admin;
mod api;
mod card;
mod challenge;
mod crl;
mod eligibility;
mod emr;
mod error;
mod fhir;
mod history;
pub mod phone;
mod time;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use onshi_store::Store;

pub use admin::{ADMIN_PATH, AdminToken, TOKEN_FILE as ADMIN_TOKEN_FILE};
pub use api::router;
pub use eligibility::{CheckOutcome, check_by_insurance_data, validate_insurance_query};
pub use error::{ApiError, Problem};
pub use time::{now_jst, to_jst, today_jst};
pub use tls::{ClientIdentity, serve_tls, server_config};

/// The OpenAPI document of the center, served at [`OPENAPI_PATH`].
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");
/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// What every request handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    card: Option<CardSecurity>,
    phone: phone::PhoneService,
    /// The admin pages' token and sessions; unset, the admin pages say they are disabled.
    admin: std::sync::OnceLock<admin::AdminAuth>,
}

/// What the card path needs: the verifier of J-LIS and terminal certificates, and the
/// challenge key shared by every center process.
#[derive(Debug)]
pub struct CardSecurity {
    pub trust: onshi_pki::TrustStore,
    pub challenges: challenge::Challenges,
    /// J-LIS's CAs, for signing the CRLs the center publishes.
    jlis: std::sync::Mutex<onshi_pki::Jlis>,
    crls: std::sync::Mutex<crl::CrlCache>,
}

impl CardSecurity {
    /// Trusts J-LIS's CAs from its state directory and takes (creating on first use) the
    /// challenge key from the database.
    pub async fn load(jlis: onshi_pki::Jlis, store: &Store) -> Result<Self, ApiError> {
        let trust = jlis
            .trust_store(onshi_pki::TrustPolicy::default())
            .map_err(|e| ApiError::Internal(format!("J-LIS trust anchors: {e}")))?;
        let secret = store
            .setting_or_init(
                "challenge_key",
                || hex(&challenge::Challenges::new_secret()),
            )
            .await?;
        let secret =
            unhex(&secret).ok_or_else(|| ApiError::Internal("challenge_key is not hex".into()))?;
        Ok(Self {
            trust,
            challenges: challenge::Challenges::new(&secret),
            jlis: std::sync::Mutex::new(jlis),
            crls: std::sync::Mutex::new(Default::default()),
        })
    }
}

impl AppState {
    /// A center without its PKI: insurance-data checks only.
    pub fn new(store: Store) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                card: None,
                phone: Default::default(),
                admin: Default::default(),
            }),
        }
    }

    /// A center with the card path.
    pub fn with_card(store: Store, card: CardSecurity) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                card: Some(card),
                phone: Default::default(),
                admin: Default::default(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn card(&self) -> Option<&CardSecurity> {
        self.inner.card.as_ref()
    }

    /// The same center with the smartphone service set up by `config`. Call it before
    /// the state is shared (cloned); a shared state keeps its service.
    pub fn with_phone(mut self, config: phone::PhoneConfig) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.phone = phone::PhoneService::new(config),
            None => tracing::warn!("with_phone on a shared state: configuration ignored"),
        }
        self
    }

    /// The smartphone service.
    pub fn phone(&self) -> &phone::PhoneService {
        &self.inner.phone
    }

    /// Opens the admin pages to the holder of `token` (once; later calls are ignored).
    /// A center without its PKI issues terminal certificates from the J-LIS state in
    /// `jlis_dir`, when given.
    pub fn enable_admin(&self, token: AdminToken, jlis_dir: Option<std::path::PathBuf>) {
        let _ = self.inner.admin.set(admin::AdminAuth::new(token, jlis_dir));
    }

    pub(crate) fn admin(&self) -> Option<&admin::AdminAuth> {
        self.inner.admin.get()
    }

    /// Applies revocations recorded in the database to the verifier, from `cursor`
    /// (microseconds of the last change seen); returns the new cursor. Run at start and
    /// every few seconds so that a revocation made by any process reaches every process.
    pub async fn reload_revocations(&self, cursor: i64) -> Result<i64, ApiError> {
        let Some(card) = self.card() else {
            return Ok(cursor);
        };
        let (revoked, newest) = self.store().revocations_since(cursor).await?;
        for r in revoked {
            let Some(kind) = onshi_pki::CaKind::ALL
                .iter()
                .copied()
                .find(|k| k.label() == r.issuer)
            else {
                tracing::warn!(issuer = %r.issuer, "revocation for an unknown CA");
                continue;
            };
            let Some(serial) =
                unhex(&r.serial).and_then(|b| onshi_pki::Serial::from_bytes(&b).ok())
            else {
                tracing::warn!(serial = %r.serial, "malformed serial in a revocation");
                continue;
            };
            let entry = onshi_pki::RevokedEntry {
                serial,
                revoked_at: r.revoked_at.and_utc(),
                reason: onshi_pki::RevocationReason::Unspecified,
            };
            if let Err(e) = card.trust.revoke(kind, entry) {
                tracing::warn!(error = %e, "revocation not applied");
            }
        }
        Ok(newest)
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[usize::from(b >> 4)] as char);
        s.push(D[usize::from(b & 15)] as char);
    }
    s
}

/// Parses hex (either case); `None` if malformed.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Serves the center on `listener` until `shutdown` completes, then drains requests in
/// flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
