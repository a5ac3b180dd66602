//! The center's card-path contract as Rust types: request and response bodies of
//! `/v1/card/challenge`, `/v1/eligibility/card` and `/v1/card/link`, the problem body of
//! every error, and the exact bytes the card signs.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use onshi_card::secret::b64;
use onshi_model::{
    ConsentKind, InstitutionCode, Qualification, QualificationValidity, ReferenceClassification,
};
use serde::{Deserialize, Serialize};

/// A single-use challenge (32 random bytes, 120 s) from `POST /v1/card/challenge`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// The challenge bytes.
    #[serde(rename = "challenge", with = "b64")]
    pub bytes: Vec<u8>,
    /// When the center stops accepting it.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenge")
            .field("len", &self.bytes.len())
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// `signed_at` of the contract: Japan time, `yyyyMMddHHmmss` (14 ASCII digits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SignedAt(String);

impl SignedAt {
    /// The moment `at`, written in Japan time.
    pub fn at(at: DateTime<Utc>) -> Self {
        Self(
            at.with_timezone(&onshi_pki::jst())
                .format("%Y%m%d%H%M%S")
                .to_string(),
        )
    }

    /// The 14 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The message the card signs on the PIN path: `challenge ‖ institution code (10 ASCII
/// digits) ‖ signed_at (14 ASCII digits)`. The card signs the SHA-256 DigestInfo of it.
pub fn auth_message(
    challenge: &[u8],
    institution: &InstitutionCode,
    signed_at: &SignedAt,
) -> Vec<u8> {
    let code = institution.as_str().as_bytes();
    let mut m = Vec::with_capacity(challenge.len() + code.len() + 14);
    m.extend_from_slice(challenge);
    m.extend_from_slice(code);
    m.extend_from_slice(signed_at.as_str().as_bytes());
    m
}

/// How the patient's identity was established at the reader (`method` of the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// 暗証番号: the card signed the challenge after its PIN.
    Pin,
    /// 顔認証: the reader compared the card's photo with its camera.
    Face,
    /// 目視確認: staff compared the face with the photo.
    Visual,
}

/// The consent kinds as the center's JSON names them.
pub fn consent_name(kind: ConsentKind) -> &'static str {
    match kind {
        ConsentKind::Medication => "medication",
        ConsentKind::Checkups => "checkups",
        ConsentKind::Diagnoses => "diagnoses",
        ConsentKind::Surgeries => "surgeries",
        ConsentKind::CostCeiling => "cost_ceiling",
    }
}

/// The inverse of [`consent_name`].
pub fn parse_consent_name(name: &str) -> Option<ConsentKind> {
    ConsentKind::ALL
        .iter()
        .copied()
        .find(|k| consent_name(*k) == name)
}

mod consent_names {
    use onshi_model::ConsentKind;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(v: &[ConsentKind], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|k| super::consent_name(*k)))
    }
}

/// Face evidence (face path only): what the reader measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceEvidence {
    /// The matcher's similarity.
    pub score: f32,
    /// The threshold it was compared with.
    pub threshold: f32,
    /// SHA-256 of card-face EF 0002 as read, lower-case hex.
    pub card_face_sha256: String,
    /// Which matcher decided.
    pub matcher: String,
}

/// Visual evidence (目視確認 only): the member of staff who confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisualEvidence {
    /// The staff member's id at the institution.
    pub staff_id: String,
}

/// Body of `POST /v1/eligibility/card`.
#[derive(Debug, Clone, Serialize)]
pub struct CardCheckRequest {
    pub institution_code: String,
    pub method: Method,
    /// DER of the user-authentication certificate (EF 000A).
    #[serde(with = "b64")]
    pub certificate: Vec<u8>,
    #[serde(with = "b64")]
    pub challenge: Vec<u8>,
    pub signed_at: SignedAt,
    /// The card's signature (PIN path only).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_opt_b64"
    )]
    pub signature: Option<Vec<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub face: Option<FaceEvidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visual: Option<VisualEvidence>,
    /// The kinds the patient agreed to share (may be empty).
    #[serde(with = "consent_names")]
    pub consents: Vec<ConsentKind>,
    /// Evaluation date; the center's today (JST) when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<NaiveDate>,
}

fn serialize_opt_b64<S: serde::Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => b64::serialize(v, s),
        None => s.serialize_none(),
    }
}

/// Body of `POST /v1/card/link` (利用登録 at the reader; PIN path only).
#[derive(Debug, Clone, Serialize)]
pub struct LinkRequest {
    pub institution_code: String,
    #[serde(with = "b64")]
    pub certificate: Vec<u8>,
    #[serde(with = "b64")]
    pub challenge: Vec<u8>,
    pub signed_at: SignedAt,
    #[serde(with = "b64")]
    pub signature: Vec<u8>,
}

/// Answer of `POST /v1/card/link`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Linked {
    pub linked_on: NaiveDate,
}

/// Answer of `POST /v1/eligibility/card`: the eligibility result of a reader reception.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardCheck {
    pub check_id: String,
    /// The reception the consents belong to (for the history endpoints).
    pub reception_id: String,
    pub reference: ReferenceClassification,
    pub validity: QualificationValidity,
    /// ProcessExecutionTime (Japan time).
    pub processed_at: NaiveDateTime,
    pub as_of: NaiveDate,
    pub records: Vec<Qualification>,
    /// Until when the consented history may be viewed; `None` without consent. RFC 3339;
    /// a time without offset is read as Japan time.
    #[serde(default, deserialize_with = "japan_time_opt")]
    pub history_until: Option<DateTime<Utc>>,
    /// A fresh challenge for the terminal's next reception (absent from older centers).
    #[serde(default)]
    pub next_challenge: Option<Challenge>,
}

fn japan_time_opt<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(&text) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .and_then(|t| t.and_local_timezone(onshi_pki::jst()).single())
        .map(|t| Some(t.with_timezone(&Utc)))
        .ok_or_else(|| {
            serde::de::Error::custom(format!("history_until {text:?} is not a date-time"))
        })
}

/// The history kinds behind `GET /v1/receptions/{id}/…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryKind {
    /// 薬剤情報.
    Medications,
    /// 特定健診等情報.
    Checkups,
    /// 診療情報.
    Diagnoses,
    /// 手術情報.
    Surgeries,
}

impl HistoryKind {
    /// The path segment.
    pub fn segment(self) -> &'static str {
        match self {
            Self::Medications => "medications",
            Self::Checkups => "checkups",
            Self::Diagnoses => "diagnoses",
            Self::Surgeries => "surgeries",
        }
    }
}

/// The body of `POST /v1/history/{kind}`: the patient by the data of their insurance card.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryByCardBody<'a> {
    pub insurer_number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<&'a str>,
    pub number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<&'a str>,
    /// Narrows a family down further (`YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<chrono::NaiveDate>,
    /// First month, `YYYY-MM`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Last month, `YYYY-MM`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// The patient of a history answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HistoryPatient {
    pub name: String,
    pub name_kana: String,
    pub birth_date: chrono::NaiveDate,
    /// Sex1 code: 1 男, 2 女, 3 未設定.
    pub sex: String,
}

/// The answer of `POST /v1/history/{kind}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HistoryByCard {
    pub patient: HistoryPatient,
    /// The reception whose consent allowed the view.
    pub reception: String,
    pub consented_at: String,
    pub available_until: String,
    /// The days served: from the first day of the first month to the last day asked for.
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    /// Newest first, as `GET /v1/receptions/{id}/{kind}` gives them.
    pub items: Vec<serde_json::Value>,
}

/// The body of every error the center answers (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    pub message_ja: String,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn signed_at_is_japan_time() {
        let t = Utc.with_ymd_and_hms(2025, 6, 1, 16, 4, 5).unwrap();
        assert_eq!(SignedAt::at(t).as_str(), "20250602010405");
    }

    #[test]
    fn auth_message_is_challenge_code_time() {
        let code = InstitutionCode::parse("0110113719").unwrap();
        let t = SignedAt::at(Utc.with_ymd_and_hms(2025, 6, 2, 0, 0, 0).unwrap());
        let m = auth_message(&[0xAA, 0xBB], &code, &t);
        assert_eq!(&m[..2], &[0xAA, 0xBB]);
        assert_eq!(&m[2..], b"011011371920250602090000");
    }

    #[test]
    fn request_body_has_exactly_the_contract_fields() {
        let req = CardCheckRequest {
            institution_code: "0110113719".into(),
            method: Method::Pin,
            certificate: vec![1, 2, 3],
            challenge: vec![4; 32],
            signed_at: SignedAt("20250602090000".into()),
            signature: Some(vec![5, 6]),
            face: None,
            visual: None,
            consents: vec![ConsentKind::Medication, ConsentKind::CostCeiling],
            as_of: None,
        };
        let v = serde_json::to_value(&req).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "certificate",
                "challenge",
                "consents",
                "institution_code",
                "method",
                "signature",
                "signed_at"
            ]
        );
        assert_eq!(v["method"], "pin");
        assert_eq!(v["certificate"], "AQID");
        assert_eq!(v["signature"], "BQY=");
        assert_eq!(
            v["consents"],
            serde_json::json!(["medication", "cost_ceiling"])
        );
    }

    #[test]
    fn history_until_accepts_rfc3339_and_japan_time() {
        let base = serde_json::json!({"check_id": "1", "reception_id": "1", "reference": "1",
            "validity": "4", "processed_at": "2025-06-02T09:00:00", "as_of": "2025-06-02",
            "records": []});
        let mut a = base.clone();
        a["history_until"] = "2025-06-03T00:00:00Z".into();
        let mut b = base.clone();
        b["history_until"] = "2025-06-03T09:00:00".into();
        let a: CardCheck = serde_json::from_value(a).unwrap();
        let b: CardCheck = serde_json::from_value(b).unwrap();
        assert_eq!(a.history_until, b.history_until);
        assert!(a.history_until.is_some());
        let c: CardCheck = serde_json::from_value(base).unwrap();
        assert_eq!(c.history_until, None);
    }

    #[test]
    fn consent_names_round_trip() {
        for k in ConsentKind::ALL {
            assert_eq!(parse_consent_name(consent_name(*k)), Some(*k));
        }
        assert_eq!(parse_consent_name("x"), None);
    }
}
