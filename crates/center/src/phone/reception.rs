//! A phone's user-authentication certificate at the reader: the person behind it, through
//! the phone credential and the card it hangs on. Called from the card path's one
//! dispatch point; the signature, chain and challenge were checked there already.

use onshi_model::VerificationMethod;
use onshi_pki::VerifiedCert;
use onshi_store::PhoneState;

use crate::AppState;
use crate::error::ApiError;
use crate::time::now_jst;

/// The holder of phone certificate `verified`, presented with `method`; refuses a method
/// of the other platform, a suspended, revoked or unissued credential, a credential whose
/// card certificate was revoked or renewed, and one past its card's expiry (phones have
/// no grace period, docs/reference.md §2).
pub(crate) async fn holder(
    state: &AppState,
    verified: &VerifiedCert,
    method: VerificationMethod,
) -> Result<onshi_store::PersonRow, ApiError> {
    let h = state
        .store()
        .phone_holder(&crate::hex(verified.fingerprint()))
        .await?
        .ok_or_else(|| ApiError::CertificateInvalid("phone certificate not registered".into()))?;
    let c = &h.credential;
    let expected = match c.platform.as_str() {
        "android" => VerificationMethod::AndroidPin,
        _ => VerificationMethod::IphoneBiometric,
    };
    if method != expected {
        return Err(ApiError::InvalidField {
            field: "method",
            label_ja: "本人確認方法",
            reason: format!("this certificate is an {} phone's", c.platform),
        });
    }
    match c.state {
        PhoneState::Issued => {}
        PhoneState::Suspended => return Err(ApiError::PhoneSuspended),
        PhoneState::Revoked => {
            return Err(ApiError::CertificateRevoked(format!(
                "phone credential {}",
                c.end_reason.as_deref().unwrap_or("revoked")
            )));
        }
        PhoneState::Pending | PhoneState::Failed => {
            return Err(ApiError::CertificateInvalid(
                "phone credential not issued".into(),
            ));
        }
    }
    if h.card.revoked_at.is_some() {
        return Err(ApiError::CertificateRevoked(
            "the card certificate of this phone was revoked".into(),
        ));
    }
    if h.card_superseded {
        return Err(ApiError::CertificateRevoked(
            "the card of this phone was renewed".into(),
        ));
    }
    if now_jst() > c.card_not_after {
        return Err(ApiError::CertificateExpired(c.card_not_after.to_string()));
    }
    Ok(h.person)
}

/// The card path's dispatch point: `None` for a card certificate presented with a card
/// method (the card path resolves it), the phone's holder for a phone certificate with
/// its platform's method, and a refusal for any other pairing.
pub(crate) async fn dispatch(
    state: &AppState,
    verified: &VerifiedCert,
    method: VerificationMethod,
) -> Result<Option<onshi_store::PersonRow>, ApiError> {
    let phone_method = matches!(
        method,
        VerificationMethod::AndroidPin | VerificationMethod::IphoneBiometric
    );
    match (
        verified.kind() == onshi_pki::CertKind::PhoneAuth,
        phone_method,
    ) {
        (false, false) => Ok(None),
        (true, true) => holder(state, verified, method).await.map(Some),
        (true, false) => Err(ApiError::CertificateInvalid(
            "a smartphone certificate with a card method".into(),
        )),
        (false, true) => Err(ApiError::CertificateInvalid(
            "a card certificate with a smartphone method".into(),
        )),
    }
}
