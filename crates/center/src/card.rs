//! The card path (PIN, face, visual) and 利用登録 at the reader, for enrolled terminals
//! over mutual TLS. See docs/reception.md for the protocol.

use axum::extract::State;
use axum::routing::post;
use axum::{Extension, Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use onshi_model::*;
use onshi_pki::{CertKind, PkiError, VerifiedCert};
use onshi_store::{NewCheck, NewReception, ReceptionWrite};
use serde::{Deserialize, Serialize};

use crate::api::ApiJson;
use crate::challenge::{ChallengeFault, ValidChallenge};
use crate::eligibility::{decide_for_person, qualification};
use crate::error::ApiError;
use crate::time::{now_jst, to_jst, today_jst};
use crate::tls::ClientIdentity;
use crate::{AppState, hex};

/// How far the card's `signed_at` may be from the center's clock.
const CLOCK_SKEW_SECS: i64 = 300;
/// How long a consent lets the institution view the information (docs/reference.md §4).
const CONSENT_HOURS: i64 = 24;
/// The lowest matcher threshold the center accepts in face evidence.
const MIN_FACE_THRESHOLD: f32 = 0.5;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/card/challenge", post(challenge))
        .route("/v1/eligibility/card", post(card_check))
        .route("/v1/card/link", post(link))
}

/// The API names of the consent kinds.
pub(crate) fn consent_name(k: ConsentKind) -> &'static str {
    match k {
        ConsentKind::Medication => "medication",
        ConsentKind::Checkups => "checkups",
        ConsentKind::Diagnoses => "diagnoses",
        ConsentKind::Surgeries => "surgeries",
        ConsentKind::CostCeiling => "cost_ceiling",
    }
}

fn consent_from_name(s: &str) -> Option<ConsentKind> {
    ConsentKind::ALL
        .iter()
        .copied()
        .find(|k| consent_name(*k) == s)
}

/// The enrolled terminal behind this request, re-verified (revocation) on every request.
pub(crate) fn terminal(
    state: &AppState,
    identity: Option<Extension<ClientIdentity>>,
) -> Result<InstitutionCode, ApiError> {
    match identity.map(|Extension(i)| i) {
        None | Some(ClientIdentity::Anonymous) => Err(ApiError::ClientCertificateRequired),
        Some(ClientIdentity::Refused(why)) => Err(ApiError::TerminalRefused(why)),
        Some(ClientIdentity::Terminal {
            institution, cert, ..
        }) => {
            let card = state.card().ok_or(ApiError::ClientCertificateRequired)?;
            card.trust
                .verify_kind(&cert, Utc::now(), &[CertKind::Terminal])
                .map_err(|e| ApiError::TerminalRefused(e.to_string()))?;
            Ok(institution)
        }
    }
}

#[derive(Serialize)]
struct ChallengeBody {
    challenge: String,
    expires_at: chrono::DateTime<Utc>,
}

async fn challenge(
    State(state): State<AppState>,
    identity: Option<Extension<ClientIdentity>>,
) -> Result<Json<ChallengeBody>, ApiError> {
    let institution = terminal(&state, identity)?;
    let card = state.card().ok_or(ApiError::ClientCertificateRequired)?;
    Ok(Json(ChallengeBody::issue(card, &institution, Utc::now())))
}

impl ChallengeBody {
    fn issue(
        card: &crate::CardSecurity,
        institution: &InstitutionCode,
        now: DateTime<Utc>,
    ) -> Self {
        let (c, expires_at) = card.challenges.issue(institution.as_str(), now);
        Self {
            challenge: B64.encode(c),
            expires_at,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaceEvidence {
    score: f32,
    threshold: f32,
    card_face_sha256: String,
    matcher: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VisualEvidence {
    staff_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CardCheckRequest {
    institution_code: String,
    method: String,
    certificate: String,
    challenge: String,
    signed_at: String,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    face: Option<FaceEvidence>,
    #[serde(default)]
    visual: Option<VisualEvidence>,
    #[serde(default)]
    consents: Vec<String>,
    #[serde(default)]
    as_of: Option<String>,
}

fn invalid(field: &'static str, label_ja: &'static str, reason: impl Into<String>) -> ApiError {
    ApiError::InvalidField {
        field,
        label_ja,
        reason: reason.into(),
    }
}

fn b64(field: &'static str, label_ja: &'static str, s: &str) -> Result<Vec<u8>, ApiError> {
    B64.decode(s)
        .map_err(|e| invalid(field, label_ja, format!("not base64: {e}")))
}

fn pki_error(e: PkiError) -> ApiError {
    match e {
        PkiError::Expired { not_after, .. } => ApiError::CertificateExpired(not_after.to_string()),
        PkiError::Revoked { reason, revoked_at } => {
            ApiError::CertificateRevoked(format!("{reason:?} at {revoked_at}"))
        }
        other => ApiError::CertificateInvalid(other.to_string()),
    }
}

/// What the identity steps established.
struct Authenticated {
    institution: InstitutionCode,
    verified: VerifiedCert,
    challenge: ValidChallenge,
    now: NaiveDateTime,
}

/// The checks shared by the card check and 利用登録: terminal, institution, challenge,
/// certificate and (for the PIN path) the card's signature.
fn authenticate(
    state: &AppState,
    identity: Option<Extension<ClientIdentity>>,
    institution_code: &str,
    certificate: &str,
    challenge: &str,
    signed_at: &str,
    signature: Option<&str>,
) -> Result<Authenticated, ApiError> {
    let institution = terminal(state, identity)?;
    let claimed = InstitutionCode::parse(institution_code)
        .map_err(|e| invalid("institution_code", "医療機関コード", e.to_string()))?;
    if claimed != institution {
        return Err(ApiError::InstitutionMismatch {
            body: claimed.to_string(),
            cert: institution.to_string(),
        });
    }
    let card = state.card().ok_or(ApiError::ClientCertificateRequired)?;
    let cert = b64("certificate", "電子証明書", certificate)?;
    let challenge_bytes = b64("challenge", "チャレンジ", challenge)?;
    let now_utc = Utc::now();
    let challenge = card
        .challenges
        .check(&challenge_bytes, institution.as_str(), now_utc)
        .map_err(|f| match f {
            ChallengeFault::Unknown => ApiError::ChallengeUnknown,
            ChallengeFault::Expired => ApiError::ChallengeExpired,
        })?;
    let verified = card
        .trust
        .verify_kind(&cert, now_utc, &[CertKind::CardAuth, CertKind::PhoneAuth])
        .map_err(pki_error)?;
    let now = now_jst();
    if let Some(sig) = signature {
        let sig = b64("signature", "署名", sig)?;
        let at = NaiveDateTime::parse_from_str(signed_at, "%Y%m%d%H%M%S")
            .map_err(|_| invalid("signed_at", "署名日時", "expected yyyyMMddHHmmss"))?;
        if (at - now).num_seconds().abs() > CLOCK_SKEW_SECS {
            return Err(invalid(
                "signed_at",
                "署名日時",
                "more than 5 minutes from the center's clock",
            ));
        }
        let mut message = Vec::with_capacity(challenge_bytes.len() + 24);
        message.extend_from_slice(&challenge_bytes);
        message.extend_from_slice(institution.as_str().as_bytes());
        message.extend_from_slice(signed_at.as_bytes());
        verified
            .verify_signature(&message, &sig)
            .map_err(|_| ApiError::SignatureInvalid)?;
    }
    Ok(Authenticated {
        institution,
        verified,
        challenge,
        now,
    })
}

/// The person a verified certificate belongs to, refusing certificates J-LIS revoked.
async fn holder(
    state: &AppState,
    verified: &VerifiedCert,
) -> Result<onshi_store::PersonRow, ApiError> {
    let (reg, person) = state
        .store()
        .card_holder(&hex(verified.fingerprint()))
        .await?
        .ok_or_else(|| ApiError::CertificateInvalid("not registered by J-LIS".into()))?;
    refuse_revoked(&reg)?;
    Ok(person)
}

/// Refuses a certificate J-LIS revoked after registering it.
fn refuse_revoked(reg: &onshi_store::CardCertificate) -> Result<(), ApiError> {
    match reg.revoked_at {
        Some(at) => Err(ApiError::CertificateRevoked(format!(
            "{} at {at}",
            reg.revocation_reason.as_deref().unwrap_or_default()
        ))),
        None => Ok(()),
    }
}

/// As [`holder`], with every record of the holder and the 照会番号 `institution`
/// registered for the holder, in one read (the hot path).
async fn holder_records(
    state: &AppState,
    verified: &VerifiedCert,
    institution: &InstitutionCode,
) -> Result<onshi_store::HolderRecords, ApiError> {
    let found = state
        .store()
        .card_holder_records(&hex(verified.fingerprint()), institution)
        .await?
        .ok_or_else(|| ApiError::CertificateInvalid("not registered by J-LIS".into()))?;
    refuse_revoked(&found.certificate)?;
    Ok(found)
}

#[derive(Serialize)]
struct CardCheckResponse {
    check_id: String,
    reception_id: String,
    #[serde(flatten)]
    result: EligibilityResult,
    history_until: Option<NaiveDateTime>,
    /// A fresh challenge for the terminal's next reception, so that a busy terminal needs
    /// no separate `POST /v1/card/challenge` round trip.
    next_challenge: ChallengeBody,
}

async fn card_check(
    State(state): State<AppState>,
    identity: Option<Extension<ClientIdentity>>,
    ApiJson(req): ApiJson<CardCheckRequest>,
) -> Result<Json<CardCheckResponse>, ApiError> {
    let method = match req.method.as_str() {
        "pin" => VerificationMethod::CardPin,
        "face" => VerificationMethod::CardFace,
        "visual" => VerificationMethod::CardVisual,
        "android_pin" => VerificationMethod::AndroidPin,
        "iphone_biometric" => VerificationMethod::IphoneBiometric,
        other => {
            return Err(invalid(
                "method",
                "本人確認方法",
                format!("{other:?} is not pin, face or visual"),
            ));
        }
    };
    let signature = match method {
        VerificationMethod::CardPin
        | VerificationMethod::AndroidPin
        | VerificationMethod::IphoneBiometric => Some(
            req.signature
                .as_deref()
                .ok_or_else(|| invalid("signature", "署名", "required for the PIN path"))?,
        ),
        _ => None,
    };
    let auth = authenticate(
        &state,
        identity,
        &req.institution_code,
        &req.certificate,
        &req.challenge,
        &req.signed_at,
        signature,
    )?;
    // The one dispatch point of the smartphone: a phone certificate resolves through its
    // credential to the card and the person (crate::phone::reception).
    let phone_holder = crate::phone::reception::dispatch(&state, &auth.verified, method).await?;
    let evidence = match method {
        VerificationMethod::CardFace => {
            let f = req
                .face
                .as_ref()
                .ok_or(ApiError::FaceEvidenceInsufficient)?;
            let hash_ok = f.card_face_sha256.len() == 64
                && f.card_face_sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !hash_ok
                || f.matcher.is_empty()
                || !(f.score >= f.threshold && f.threshold >= MIN_FACE_THRESHOLD)
            {
                return Err(ApiError::FaceEvidenceInsufficient);
            }
            format!(
                "face score={:.3} threshold={:.3} matcher={} card_face={}",
                f.score, f.threshold, f.matcher, f.card_face_sha256
            )
        }
        VerificationMethod::CardVisual => {
            let v = req
                .visual
                .as_ref()
                .ok_or_else(|| invalid("visual", "目視確認", "staff_id required"))?;
            if v.staff_id.trim().is_empty() || v.staff_id.len() > 64 {
                return Err(invalid(
                    "visual",
                    "目視確認",
                    "staff_id required (at most 64 characters)",
                ));
            }
            format!("visual staff={}", v.staff_id)
        }
        _ => "pin".to_owned(),
    };
    let mut consents = Vec::with_capacity(req.consents.len());
    for name in &req.consents {
        let k = consent_from_name(name)
            .ok_or_else(|| invalid("consents", "同意", format!("unknown kind {name:?}")))?;
        if !consents.contains(&k) {
            consents.push(k);
        }
    }
    let as_of = match req.as_of.as_deref() {
        None | Some("") => today_jst(),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| invalid("as_of", "資格確認日", "expected YYYY-MM-DD"))?,
    };
    let (person, views, reference_number) = match phone_holder {
        Some(p) => {
            let views = state.store().records_of_person(p.id).await?;
            let reference = state
                .store()
                .reference_number(&auth.institution, p.id)
                .await?
                .map(|r| r.reference_number);
            (p, views, reference)
        }
        None => {
            let found = holder_records(&state, &auth.verified, &auth.institution).await?;
            (found.person, found.records, found.reference_number)
        }
    };
    if person.linked_on.is_none() {
        return Err(ApiError::CardNotLinked);
    }
    let (validity, views) = decide_for_person(views, as_of);
    let now = auth.now;
    let until = now + Duration::hours(CONSENT_HOURS);
    let limit_time = consents.contains(&ConsentKind::CostCeiling).then_some(now);
    let states: Vec<ConsentState> = ConsentKind::ALL
        .iter()
        .map(|k| {
            let given = consents.contains(k);
            ConsentState {
                kind: *k,
                flag: if given {
                    ConsentFlag::Consented
                } else {
                    ConsentFlag::NotConsented
                },
                consented_at: given.then_some(now),
                available_until: given.then_some(until),
            }
        })
        .collect();
    let records: Vec<Qualification> = views
        .iter()
        .map(|v| {
            let mut q = qualification(v, as_of, limit_time);
            q.consents = states.clone();
            // Every record is the holder's: one 照会番号 for all.
            q.reference_number = reference_number.clone();
            q
        })
        .collect();
    let single = (views.len() == 1).then(|| &views[0]);
    let next_challenge = ChallengeBody::issue(
        state.card().ok_or(ApiError::ClientCertificateRequired)?,
        &auth.institution,
        Utc::now(),
    );
    let written = state
        .store()
        .record_reception(&NewReception {
            challenge_nonce: auth.challenge.nonce_hex.clone(),
            challenge_expires_at: to_jst(auth.challenge.expires_at),
            check: NewCheck {
                checked_at: now,
                institution_code: auth.institution,
                method,
                reference: ReferenceClassification::MyNumberCard,
                as_of,
                validity,
                person_id: Some(person.id),
                record_id: single.map(|v| v.record.id),
                query: format!("cert={} {evidence}", auth.verified.serial()),
            },
            consents: consents.iter().map(|k| (*k, now, until)).collect(),
        })
        .await?;
    let id = match written {
        ReceptionWrite::Recorded(id) => id,
        ReceptionWrite::ChallengeReplayed => return Err(ApiError::ChallengeReplayed),
    };
    let history_kinds = [
        ConsentKind::Medication,
        ConsentKind::Checkups,
        ConsentKind::Diagnoses,
        ConsentKind::Surgeries,
    ];
    Ok(Json(CardCheckResponse {
        check_id: id.to_string(),
        reception_id: id.to_string(),
        result: EligibilityResult {
            reference: ReferenceClassification::MyNumberCard,
            validity,
            processed_at: now,
            as_of,
            records,
        },
        history_until: consents
            .iter()
            .any(|k| history_kinds.contains(k))
            .then_some(until),
        next_challenge,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LinkRequest {
    institution_code: String,
    certificate: String,
    challenge: String,
    signed_at: String,
    signature: String,
}

#[derive(Serialize)]
struct LinkResponse {
    linked_on: NaiveDate,
}

/// 利用登録 at the reader: the holder proves possession of the card with the PIN.
async fn link(
    State(state): State<AppState>,
    identity: Option<Extension<ClientIdentity>>,
    ApiJson(req): ApiJson<LinkRequest>,
) -> Result<Json<LinkResponse>, ApiError> {
    let auth = authenticate(
        &state,
        identity,
        &req.institution_code,
        &req.certificate,
        &req.challenge,
        &req.signed_at,
        Some(&req.signature),
    )?;
    let person = holder(&state, &auth.verified).await?;
    if !state
        .store()
        .spend_challenge(
            &auth.challenge.nonce_hex,
            auth.now,
            to_jst(auth.challenge.expires_at),
        )
        .await?
    {
        return Err(ApiError::ChallengeReplayed);
    }
    let linked_on = state.store().link_card(person.id, today_jst()).await?;
    state
        .store()
        .audit(
            &format!("terminal:{}", auth.institution),
            "card.link",
            &format!("person:{}", person.id),
            &format!("cert={}", auth.verified.serial()),
        )
        .await?;
    Ok(Json(LinkResponse { linked_on }))
}
