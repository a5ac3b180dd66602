//! `POST /v1/phone/applications`: a set-up request from the portal app (マイナポータル),
//! signed with the card's signing key after the signing password. The center checks the
//! signature, the signing certificate's chain and revocation, that the user-authentication
//! certificate sent with it is registered, unrevoked and linked (利用登録), that both
//! certificates name the same person, that the phone is on the compatibility list, and on
//! iPhone that the input-support data matches; then it queues the issuance and answers
//! 202 with the phone's bearer token.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use onshi_pki::CertKind;
use onshi_store::NewPhoneApplication;

use super::wire::{SETUP_PURPOSE, SetupAccepted, SetupPayload, SetupRequest, unb64};
use super::{PhoneError, sha256_hex};
use crate::AppState;
use crate::api::ApiJson;
use crate::error::ApiError;
use crate::time::{now_jst, to_jst};

/// How far `requested_at` may be from the center's clock.
const CLOCK_SKEW_SECS: i64 = 300;

fn invalid(field: &'static str, label_ja: &'static str, reason: impl Into<String>) -> PhoneError {
    PhoneError::Api(ApiError::InvalidField {
        field,
        label_ja,
        reason: reason.into(),
    })
}

fn decode(field: &'static str, label_ja: &'static str, s: &str) -> Result<Vec<u8>, PhoneError> {
    unb64(s).ok_or_else(|| invalid(field, label_ja, "not base64"))
}

fn pki_error(e: onshi_pki::PkiError) -> PhoneError {
    PhoneError::Api(match e {
        onshi_pki::PkiError::Expired { not_after, .. } => {
            ApiError::CertificateExpired(not_after.to_string())
        }
        onshi_pki::PkiError::Revoked { reason, revoked_at } => {
            ApiError::CertificateRevoked(format!("{reason:?} at {revoked_at}"))
        }
        other => ApiError::CertificateInvalid(other.to_string()),
    })
}

fn same_text(a: &str, b: &str) -> bool {
    let f = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    f(a) == f(b)
}

pub(super) async fn apply(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SetupRequest>,
) -> Result<(StatusCode, Json<SetupAccepted>), PhoneError> {
    let card = state
        .card()
        .ok_or(PhoneError::Api(ApiError::ClientCertificateRequired))?;
    let payload_bytes = decode("request", "申請内容", &req.request)?;
    let signature = decode("signature", "署名", &req.signature)?;
    let signing_der = decode(
        "signing_certificate",
        "署名用電子証明書",
        &req.signing_certificate,
    )?;
    let auth_der = decode(
        "auth_certificate",
        "利用者証明用電子証明書",
        &req.auth_certificate,
    )?;
    let now_utc = Utc::now();

    // The signing certificate (chain, validity, revocation) and its signature.
    let signing = card
        .trust
        .verify_kind(&signing_der, now_utc, &[CertKind::CardSigning])
        .map_err(pki_error)?;
    signing
        .verify_signature(&payload_bytes, &signature)
        .map_err(|_| PhoneError::Api(ApiError::SignatureInvalid))?;
    let payload: SetupPayload = serde_json::from_slice(&payload_bytes)
        .map_err(|e| PhoneError::Api(ApiError::MalformedBody(format!("request: {e}"))))?;
    if payload.purpose != SETUP_PURPOSE {
        return Err(invalid("request", "申請内容", "wrong purpose"));
    }
    if (payload.requested_at - now_utc).num_seconds().abs() > CLOCK_SKEW_SECS {
        return Err(invalid(
            "request",
            "申請内容",
            "requested_at more than 5 minutes from the center's clock",
        ));
    }

    // The card's user-authentication certificate: valid (no grace for a new phone),
    // registered, unrevoked, and its holder linked.
    let auth = card
        .trust
        .verify_kind(&auth_der, now_utc, &[CertKind::CardAuth])
        .map_err(pki_error)?;
    if auth.in_grace() {
        return Err(PhoneError::Api(ApiError::CertificateExpired(
            auth.not_after().to_string(),
        )));
    }
    let card_fp = crate::hex(auth.fingerprint());
    let (reg, person) = state.store().card_holder(&card_fp).await?.ok_or_else(|| {
        PhoneError::Api(ApiError::CertificateInvalid(
            "not registered by J-LIS".into(),
        ))
    })?;
    if reg.revoked_at.is_some() {
        return Err(PhoneError::Api(ApiError::CertificateRevoked(
            reg.revocation_reason.unwrap_or_default(),
        )));
    }
    if person.linked_on.is_none() {
        return Err(PhoneError::Api(ApiError::CardNotLinked));
    }
    let attrs = signing.attributes().ok_or_else(|| {
        PhoneError::Api(ApiError::CertificateInvalid(
            "signing certificate without attributes".into(),
        ))
    })?;
    if attrs.birth_date != person.birth_date || !same_text(&attrs.name, &person.name.full()) {
        return Err(PhoneError::SetupRefused(
            "署名用電子証明書と利用者証明用電子証明書が同じカードのものではありません。",
            "the signing and authentication certificates name different persons".into(),
        ));
    }

    // The handset.
    let verdict = state.phone().config().compatibility.check(
        &payload.platform,
        &payload.model,
        &payload.os_version,
    );
    if !verdict.supported {
        return Err(PhoneError::Unsupported(verdict.message_ja, verdict.message));
    }
    let platform = if payload.platform.eq_ignore_ascii_case("iphone")
        || payload.platform.eq_ignore_ascii_case("ios")
    {
        "iphone"
    } else {
        "android"
    };
    let auth_spki = decode("request", "申請内容", &payload.auth_public_key)?;
    let signing_spki = decode("request", "申請内容", &payload.signing_public_key)?;
    let device_key = match (platform, payload.device_key.as_deref()) {
        ("iphone", Some(k)) => Some(decode("request", "申請内容", k)?),
        ("iphone", None) => {
            return Err(invalid(
                "request",
                "申請内容",
                "an iPhone sends its mdoc device key",
            ));
        }
        (_, Some(_)) => {
            return Err(invalid(
                "request",
                "申請内容",
                "an Android phone has no mdoc",
            ));
        }
        _ => None,
    };
    if platform == "iphone" {
        // The iPhone's card substitute record carries the input-support data: the app read
        // it with the 4-digit PIN, and it must be this person's.
        let Some(is) = payload.input_support.as_ref() else {
            return Err(PhoneError::SetupRefused(
                "iPhone の登録には券面事項入力補助用の暗証番号（4桁）による読み取りが必要です。",
                "an iPhone set-up carries the input-support data".into(),
            ));
        };
        let sex_ok = attrs.sex.code().to_string() == is.sex;
        if is.my_number != person.my_number.as_str()
            || is.birth_date != attrs.birth_date
            || !same_text(&is.name, &attrs.name)
            || !same_text(&is.address, &attrs.address)
            || !sex_ok
        {
            return Err(PhoneError::SetupRefused(
                "券面事項入力補助の内容が電子証明書の内容と一致しません。",
                "input-support data differs from the certificates".into(),
            ));
        }
    }
    let portrait = match payload.input_support.as_ref() {
        Some(is) if platform == "iphone" => {
            let p = decode("request", "申請内容", &is.portrait)?;
            if p.is_empty() {
                return Err(invalid("request", "申請内容", "the face photo is empty"));
            }
            Some(p)
        }
        _ => None,
    };
    for (what, spki) in [("auth", &auth_spki), ("signing", &signing_spki)] {
        if spki.len() < 200 || spki.len() > 400 || spki.first() != Some(&0x30) {
            return Err(invalid(
                "request",
                "申請内容",
                format!("{what}_public_key is not an RSA-2048 SubjectPublicKeyInfo"),
            ));
        }
    }

    let mut token = [0u8; 32];
    SystemRandom::new()
        .fill(&mut token)
        .map_err(|_| PhoneError::Api(ApiError::Internal("system RNG failed".into())))?;
    let token = crate::hex(&token);
    let now = now_jst();
    let delay = state.phone().issue_delay();
    let run_after = now + chrono::Duration::from_std(delay).unwrap_or_default();
    let (id, _job) = state
        .store()
        .insert_phone_application(&NewPhoneApplication {
            person_id: person.id,
            platform: platform.into(),
            model: verdict.model.clone(),
            os_version: payload.os_version.clone(),
            card_fingerprint: card_fp,
            card_not_after: to_jst(auth.not_after()),
            auth_spki,
            signing_spki,
            device_key,
            portrait,
            token_sha256: sha256_hex(token.as_bytes()),
            requested_at: now,
            run_after,
        })
        .await?;
    state
        .store()
        .audit(
            "portal",
            "phone.setup",
            &format!("person:{}", person.id),
            &format!(
                "application={id} platform={platform} model={}",
                verdict.model
            ),
        )
        .await?;
    state.phone().wake_worker();
    Ok((
        StatusCode::ACCEPTED,
        Json(SetupAccepted {
            application_id: id.to_string(),
            state: "pending".into(),
            token,
            ready_in_seconds: delay.as_secs_f64().ceil() as u64,
            events: format!("/v1/phone/applications/{id}/events"),
            credential: format!("/v1/phone/applications/{id}/credential"),
        }),
    ))
}
