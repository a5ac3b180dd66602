//! J-LIS's CRL distribution points, served by the center: `GET /crl/<ca label>.crl`, a
//! DER CRL built from the revocations recorded in the database and signed by that CA.
//! Anyone may fetch them (no client certificate needed); a CRL is rebuilt when the
//! revocations change or after [`CRL_REFRESH`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use onshi_pki::{CaKind, RevocationReason, RevokedEntry};

use crate::error::ApiError;
use crate::{AppState, unhex};

/// How long a built CRL is served before it is rebuilt.
pub const CRL_REFRESH: Duration = Duration::from_secs(60);
/// nextUpdate − thisUpdate of the CRLs served.
const CRL_VALIDITY_HOURS: i64 = 24;

/// CRLs already built, per CA: the DER, when it was built, and how many entries it holds.
pub(crate) type CrlCache = HashMap<CaKind, (Vec<u8>, Instant, usize)>;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/crl/{file}", get(crl))
}

/// The reason recorded by the registry, as a CRL reason.
fn reason(text: &str) -> RevocationReason {
    match text {
        "lost" => RevocationReason::LostCard,
        "death" => RevocationReason::Death,
        "attribute-change" => RevocationReason::AttributeChange,
        "key-compromise" => RevocationReason::KeyCompromise,
        "superseded" | "renewed" => RevocationReason::Superseded,
        "terminal revoked" => RevocationReason::CessationOfOperation,
        _ => RevocationReason::Unspecified,
    }
}

async fn crl(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let label = file.strip_suffix(".crl").ok_or(ApiError::NotFound)?;
    let kind = CaKind::ALL
        .iter()
        .copied()
        .find(|k| k.label() == label)
        .ok_or(ApiError::NotFound)?;
    let card = state.card().ok_or(ApiError::NotFound)?;
    let (revoked, _) = state.store().revocations_since(0).await?;
    let entries: Vec<RevokedEntry> = revoked
        .iter()
        .filter(|r| r.issuer == label)
        .filter_map(|r| {
            let serial = unhex(&r.serial).and_then(|b| onshi_pki::Serial::from_bytes(&b).ok())?;
            Some(RevokedEntry {
                serial,
                revoked_at: r.revoked_at.and_utc(),
                reason: reason(&r.reason),
            })
        })
        .collect();
    let der = {
        let mut cache = card
            .crls
            .lock()
            .map_err(|_| ApiError::Internal("CRL cache poisoned".into()))?;
        match cache.get(&kind) {
            Some((der, built, n)) if *n == entries.len() && built.elapsed() < CRL_REFRESH => {
                der.clone()
            }
            _ => {
                let mut jlis = card
                    .jlis
                    .lock()
                    .map_err(|_| ApiError::Internal("J-LIS state poisoned".into()))?;
                let der = jlis
                    .build_crl(
                        kind,
                        &entries,
                        chrono::Utc::now(),
                        chrono::Duration::hours(CRL_VALIDITY_HOURS),
                    )
                    .map_err(|e| ApiError::Internal(format!("building the {label} CRL: {e}")))?;
                cache.insert(kind, (der.clone(), Instant::now(), entries.len()));
                der
            }
        }
    };
    let mut resp = der.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pkix-crl"),
    );
    Ok(resp)
}
