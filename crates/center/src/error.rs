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
            Self::NotFound => StatusCode::NOT_FOUND,
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
