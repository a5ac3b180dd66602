//! The smartphone service's contract as Rust types, shared with the portal app (the
//! `onshi phone` commands): the signed set-up request, its answer, the credential the
//! phone downloads, the portal's card login, and the push events.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

/// The value of [`SetupPayload::purpose`]: the card's signing key signs nothing else
/// with this prefix.
pub const SETUP_PURPOSE: &str = "onshi-phone-setup/1";
/// The binding the portal's challenges carry in place of an institution code: the card
/// signs `challenge ‖ "portal" ‖ signed_at`.
pub const PORTAL_BINDING: &str = "portal";
/// Push event names on `/v1/phone/applications/{id}/events`.
pub const EVENT_STATE: &str = "state";
/// The credential is issued: fetch it.
pub const EVENT_READY: &str = "ready";
/// Issuance will not happen (superseded, failed, card ended).
pub const EVENT_ENDED: &str = "ended";

/// What the card's signing key signs at set-up (the exact bytes are sent as
/// [`SetupRequest::request`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupPayload {
    /// [`SETUP_PURPOSE`].
    pub purpose: String,
    /// `android` or `iphone`.
    pub platform: String,
    pub model: String,
    pub os_version: String,
    /// The phone's JPKI public keys (SubjectPublicKeyInfo DER, base64).
    pub auth_public_key: String,
    pub signing_public_key: String,
    /// The iPhone's mdoc device key (SubjectPublicKeyInfo DER, base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_key: Option<String>,
    /// The iPhone's 券面事項入力補助 data, read from the card with its 4-digit PIN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_support: Option<InputSupport>,
    /// When the app made the request (RFC 3339).
    pub requested_at: chrono::DateTime<chrono::Utc>,
}

/// The card's input-support data as the app read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSupport {
    pub my_number: String,
    pub name: String,
    pub address: String,
    pub birth_date: chrono::NaiveDate,
    /// ISO 5218 digit.
    pub sex: String,
    /// The face photo from the card-face AP (unlocked with 照合番号A, the My Number, and
    /// checked against J-LIS's card-data signature by the app), base64.
    pub portrait: String,
}

/// Body of `POST /v1/phone/applications`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The [`SetupPayload`] JSON, base64: the bytes the card signed.
    pub request: String,
    /// The card's signature (signing key, PKCS#1 v1.5 over SHA-256 of the bytes), base64.
    pub signature: String,
    /// The card's signing certificate (EF 0001), base64 DER.
    pub signing_certificate: String,
    /// The card's user-authentication certificate (EF 000A), base64 DER.
    pub auth_certificate: String,
}

/// Answer of `POST /v1/phone/applications` (202 Accepted).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetupAccepted {
    pub application_id: String,
    pub state: String,
    /// The phone's bearer token for its events and its credential (shown once).
    pub token: String,
    /// Seconds until issuance is due.
    pub ready_in_seconds: u64,
    pub events: String,
    pub credential: String,
}

/// Answer of `GET /v1/phone/applications/{id}`: where the credential is in its life.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhoneStatus {
    pub application_id: String,
    pub platform: String,
    pub model: String,
    pub os_version: String,
    /// pending, issued, suspended, revoked, failed.
    pub state: String,
    pub requested_at: chrono::NaiveDateTime,
    pub issued_at: Option<chrono::NaiveDateTime>,
    /// When the credential stops at the latest (the card certificate's expiry).
    pub valid_until: chrono::NaiveDateTime,
    pub ended_at: Option<chrono::NaiveDateTime>,
    pub end_reason: Option<String>,
    pub state_ja: String,
}

/// Answer of `GET /v1/phone/applications/{id}/credential`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhoneCredential {
    pub application_id: String,
    /// DER, base64.
    pub auth_certificate: String,
    pub auth_ca_certificate: String,
    pub signing_certificate: String,
    pub signing_ca_certificate: String,
    /// The iPhone's mdoc (issuer-signed part, CBOR), base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mdoc: Option<String>,
}

/// A citizen's login at the portal with the card: the user-authentication certificate
/// and its signature over `challenge ‖ "portal" ‖ signed_at` after the card's PIN.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardLogin {
    pub certificate: String,
    pub challenge: String,
    /// Japan time, `yyyyMMddHHmmss`.
    pub signed_at: String,
    pub signature: String,
}

/// The message a card signs to log in to the portal.
pub fn portal_message(challenge: &[u8], signed_at: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(challenge.len() + 20);
    m.extend_from_slice(challenge);
    m.extend_from_slice(PORTAL_BINDING.as_bytes());
    m.extend_from_slice(signed_at.as_bytes());
    m
}

/// Standard base64.
pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Standard base64, decoded.
pub fn unb64(s: &str) -> Option<Vec<u8>> {
    B64.decode(s).ok()
}
