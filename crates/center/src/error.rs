//! Errors as `application/problem+json` (RFC 9457) with a stable code and a message in
//! Japanese and in English. Internal detail is logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// `urn:onshi:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The English title.
    pub title: String,
    pub status: u16,
    /// The stable machine-readable code.
    pub code: String,
    /// 日本語のメッセージ (for staff screens).
    pub message_ja: String,
    /// The English message.
    pub detail: String,
    /// The request field at fault, where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Every way a request to the center can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    #[error("malformed request body: {0}")]
    MalformedBody(String),
    #[error("unsupported media type: send application/json")]
    UnsupportedMediaType,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("field {field}: {reason}")]
    InvalidField {
        field: &'static str,
        label_ja: &'static str,
        reason: String,
    },
    #[error("institution {0} is not registered")]
    InstitutionNotRegistered(String),
    #[error("institution {0} is suspended")]
    InstitutionInactive(String),
    #[error("no such resource")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("a client certificate is required")]
    ClientCertificateRequired,
    #[error("terminal refused: {0}")]
    TerminalRefused(String),
    #[error("institution in the body ({body}) differs from the certificate's ({cert})")]
    InstitutionMismatch { body: String, cert: String },
    #[error("unknown challenge")]
    ChallengeUnknown,
    #[error("challenge expired")]
    ChallengeExpired,
    #[error("challenge already used")]
    ChallengeReplayed,
    #[error("signature does not verify")]
    SignatureInvalid,
    #[error("certificate invalid: {0}")]
    CertificateInvalid(String),
    #[error("certificate expired on {0}")]
    CertificateExpired(String),
    #[error("certificate revoked: {0}")]
    CertificateRevoked(String),
    #[error("card not linked to health insurance")]
    CardNotLinked,
    /// The holder suspended this phone's credential (lost phone) at the portal.
    #[error("phone credential suspended")]
    PhoneSuspended,
    #[error("face evidence below threshold")]
    FaceEvidenceInsufficient,
    #[error("no consent for {0}")]
    ConsentMissing(&'static str),
    #[error("consent for {0} expired")]
    ConsentExpired(&'static str),
    #[error("no qualification matches")]
    QualificationNotFound,
    /// Insurance data without a branch number (or birth date) matched several family
    /// members.
    #[error("several patients match")]
    SeveralPatients,
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<onshi_store::StoreError> for ApiError {
    fn from(e: onshi_store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedBody(_) | Self::InvalidField { .. } => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::InstitutionNotRegistered(_) | Self::InstitutionInactive(_) => {
                StatusCode::FORBIDDEN
            }
            Self::NotFound | Self::QualificationNotFound => StatusCode::NOT_FOUND,
            Self::ClientCertificateRequired
            | Self::TerminalRefused(_)
            | Self::InstitutionMismatch { .. }
            | Self::CertificateExpired(_)
            | Self::CertificateRevoked(_)
            | Self::FaceEvidenceInsufficient
            | Self::ConsentMissing(_)
            | Self::ConsentExpired(_) => StatusCode::FORBIDDEN,
            Self::ChallengeUnknown | Self::ChallengeExpired => StatusCode::BAD_REQUEST,
            Self::ChallengeReplayed | Self::CardNotLinked | Self::SeveralPatients => {
                StatusCode::CONFLICT
            }
            Self::PhoneSuspended => StatusCode::FORBIDDEN,
            Self::SignatureInvalid | Self::CertificateInvalid(_) => StatusCode::UNAUTHORIZED,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedBody(_) => "malformed_body",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
            Self::InvalidField { .. } => "invalid_field",
            Self::InstitutionNotRegistered(_) => "institution_not_registered",
            Self::InstitutionInactive(_) => "institution_inactive",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::ClientCertificateRequired => "client_certificate_required",
            Self::TerminalRefused(_) => "terminal_revoked",
            Self::InstitutionMismatch { .. } => "institution_mismatch",
            Self::ChallengeUnknown => "challenge_unknown",
            Self::ChallengeExpired => "challenge_expired",
            Self::ChallengeReplayed => "challenge_replayed",
            Self::SignatureInvalid => "signature_invalid",
            Self::CertificateInvalid(_) => "certificate_invalid",
            Self::CertificateExpired(_) => "certificate_expired",
            Self::CertificateRevoked(_) => "certificate_revoked",
            Self::CardNotLinked => "card_not_linked",
            Self::PhoneSuspended => "phone_suspended",
            Self::FaceEvidenceInsufficient => "face_evidence_insufficient",
            Self::ConsentMissing(_) => "consent_missing",
            Self::ConsentExpired(_) => "consent_expired",
            Self::QualificationNotFound => "qualification_not_found",
            Self::SeveralPatients => "several_patients",
            Self::Internal(_) => "internal_error",
        }
    }

    pub fn problem(&self) -> Problem {
        let (title, message_ja, detail, field) = match self {
            Self::MalformedBody(why) => (
                "Malformed request",
                "リクエストの形式が正しくありません。JSON の書式と項目を確認してください。"
                    .to_owned(),
                format!("The request body could not be read: {why}"),
                None,
            ),
            Self::UnsupportedMediaType => (
                "Unsupported media type",
                "リクエストは application/json で送信してください。".to_owned(),
                "Send the request body as application/json.".to_owned(),
                None,
            ),
            Self::PayloadTooLarge => (
                "Payload too large",
                "リクエストが大きすぎます。".to_owned(),
                "The request body exceeds the size limit.".to_owned(),
                None,
            ),
            Self::InvalidField {
                field,
                label_ja,
                reason,
            } => (
                "Invalid field",
                format!("入力項目「{label_ja}」が正しくありません（{reason}）。"),
                format!("Field `{field}` is invalid: {reason}"),
                Some((*field).to_owned()),
            ),
            Self::InstitutionNotRegistered(code) => (
                "Institution not registered",
                format!("医療機関コード {code} はオンライン資格確認に登録されていません。"),
                format!("Institution {code} is not registered with the center."),
                Some("institution_code".to_owned()),
            ),
            Self::InstitutionInactive(code) => (
                "Institution suspended",
                format!("医療機関コード {code} の利用は停止されています。"),
                format!("Institution {code} is suspended."),
                Some("institution_code".to_owned()),
            ),
            Self::NotFound => (
                "Not found",
                "指定されたリソースはありません。".to_owned(),
                "No such resource.".to_owned(),
                None,
            ),
            Self::MethodNotAllowed => (
                "Method not allowed",
                "この操作はこのリソースでは使えません。".to_owned(),
                "This method is not allowed on this resource.".to_owned(),
                None,
            ),
            Self::ClientCertificateRequired => (
                "Client certificate required",
                "資格確認端末の証明書で接続してください（端末の登録が必要です）。".to_owned(),
                "This operation needs mutual TLS with an enrolled terminal certificate.".to_owned(),
                None,
            ),
            Self::TerminalRefused(why) => (
                "Terminal refused",
                "この資格確認端末は利用できません。端末の登録状況をご確認ください。".to_owned(),
                format!("The terminal is not accepted: {why}"),
                None,
            ),
            Self::InstitutionMismatch { body, cert } => (
                "Institution mismatch",
                format!("医療機関コード {body} は、この端末の医療機関（{cert}）と一致しません。"),
                format!("The request names institution {body}, the terminal belongs to {cert}."),
                Some("institution_code".to_owned()),
            ),
            Self::ChallengeUnknown => (
                "Unknown challenge",
                "認証の手続きが正しくありません。最初からやり直してください。".to_owned(),
                "The challenge was not issued by this center for this institution.".to_owned(),
                Some("challenge".to_owned()),
            ),
            Self::ChallengeExpired => (
                "Challenge expired",
                "時間が経過しました。もう一度カードを置いてやり直してください。".to_owned(),
                "The challenge expired; request a new one.".to_owned(),
                Some("challenge".to_owned()),
            ),
            Self::ChallengeReplayed => (
                "Challenge already used",
                "この認証はすでに使われています。最初からやり直してください。".to_owned(),
                "The challenge was already used; a request cannot be replayed.".to_owned(),
                Some("challenge".to_owned()),
            ),
            Self::SignatureInvalid => (
                "Signature invalid",
                "カードによる本人確認ができませんでした。もう一度お試しください。".to_owned(),
                "The signature does not verify against the certificate.".to_owned(),
                Some("signature".to_owned()),
            ),
            Self::CertificateInvalid(why) => (
                "Certificate invalid",
                "カードの電子証明書を確認できませんでした。受付にお申し出ください。".to_owned(),
                format!("The certificate is not acceptable: {why}"),
                Some("certificate".to_owned()),
            ),
            Self::CertificateExpired(when) => (
                "Certificate expired",
                "マイナンバーカードの電子証明書の有効期限が切れています。受付で保険証の確認を別の方法で行います。電子証明書の更新はお住まいの市区町村の窓口で行えます。".to_owned(),
                format!("The certificate expired ({when}) beyond the grace period."),
                Some("certificate".to_owned()),
            ),
            Self::CertificateRevoked(why) => (
                "Certificate revoked",
                "このマイナンバーカードの電子証明書は失効しています。受付で保険証の確認を別の方法で行います。".to_owned(),
                format!("The certificate is revoked ({why})."),
                Some("certificate".to_owned()),
            ),
            Self::PhoneSuspended => (
                "Phone suspended",
                "このスマートフォンの電子証明書は一時停止中です。マイナンバーカードで受付するか、スマートフォンが見つかった場合はマイナポータルで一時停止を解除してください。".to_owned(),
                "The holder suspended this phone's credential at the portal.".to_owned(),
                Some("certificate".to_owned()),
            ),
            Self::CardNotLinked => (
                "Card not linked",
                "このマイナンバーカードは健康保険証としての利用登録がされていません。この場で利用登録ができます。".to_owned(),
                "The card is not registered for use as a health insurance card (利用登録).".to_owned(),
                None,
            ),
            Self::FaceEvidenceInsufficient => (
                "Face evidence insufficient",
                "顔認証ができませんでした。暗証番号で確認してください。".to_owned(),
                "The face match score is below the threshold or the evidence is incomplete.".to_owned(),
                Some("face".to_owned()),
            ),
            Self::ConsentMissing(kind) => (
                "Consent missing",
                format!("{kind}の提供に患者さんの同意がありません。"),
                format!("The patient did not consent to share {kind} with this institution."),
                None,
            ),
            Self::ConsentExpired(kind) => (
                "Consent expired",
                format!("{kind}の閲覧期限（同意から24時間）が過ぎています。"),
                format!("The consent to view {kind} has expired (24 hours)."),
                None,
            ),
            Self::QualificationNotFound => (
                "Qualification not found",
                "入力された保険情報に該当する資格がありません。記号・番号・枝番・生年月日をご確認ください。".to_owned(),
                "No qualification in force matches the insurance data.".to_owned(),
                None,
            ),
            Self::SeveralPatients => (
                "Several patients",
                "この保険情報には複数の方が該当します。枝番を指定してください。".to_owned(),
                "Several family members match the insurance data; give the branch number.".to_owned(),
                Some("branch".to_owned()),
            ),
            Self::Internal(_) => (
                "Internal error",
                "センターで障害が発生しました。しばらくしてから再度お試しください。".to_owned(),
                "The center failed to process the request; try again later.".to_owned(),
                None,
            ),
        };
        Problem {
            kind: format!("urn:onshi:problem:{}", self.code()),
            title: title.to_owned(),
            status: self.status().as_u16(),
            code: self.code().to_owned(),
            message_ja,
            detail,
            field,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let status = self.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        resp
    }
}
