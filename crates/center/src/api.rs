//! The HTTP routes of the center. One router per area, merged here.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use onshi_model::InstitutionCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::eligibility::{InsuranceDataRequest, check_by_insurance_data, validate_insurance_query};
use crate::error::ApiError;
use crate::time::{now_jst, today_jst};
use crate::{AppState, OPENAPI_JSON, OPENAPI_PATH};

/// The largest request body accepted.
const BODY_LIMIT: usize = 64 * 1024;

/// A JSON body whose rejections are problems.
pub(crate) struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType),
            Err(JsonRejection::BytesRejection(b))
                if b.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ApiError::PayloadTooLarge)
            }
            Err(e) => Err(ApiError::MalformedBody(e.body_text())),
        }
    }
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(meta_router())
        .merge(eligibility_router())
        .merge(institution_router())
        .merge(crate::card::router())
        .merge(crate::history::router())
        .merge(crate::crl::router())
        .merge(crate::admin::router())
        .merge(crate::phone::router())
        .merge(crate::emr::router())
        .merge(crate::fhir::router())
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

fn meta_router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health))
        .route(OPENAPI_PATH, get(openapi))
}

fn eligibility_router() -> Router<AppState> {
    Router::new().route("/v1/eligibility/insurance-data", post(insurance_data))
}

fn institution_router() -> Router<AppState> {
    Router::new()
        .route("/v1/institutions/{code}", get(institution))
        .route("/v1/institutions/{code}/checks", get(institution_checks))
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    database: &'static str,
}

async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state
        .store()
        .count(onshi_store::Table::Institutions)
        .await?;
    Ok(Json(Health {
        status: "ok",
        database: match state.store().backend() {
            onshi_store::Backend::Sqlite => "sqlite",
            onshi_store::Backend::Postgres => "postgres",
        },
    }))
}

async fn openapi() -> Response {
    let mut r = OPENAPI_JSON.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

#[derive(Serialize)]
struct EligibilityResponse {
    check_id: String,
    #[serde(flatten)]
    result: onshi_model::EligibilityResult,
}

async fn insurance_data(
    State(state): State<AppState>,
    identity: Option<axum::Extension<crate::tls::ClientIdentity>>,
    ApiJson(req): ApiJson<InsuranceDataRequest>,
) -> Result<Json<EligibilityResponse>, ApiError> {
    let now = now_jst();
    let (institution, query, as_of) = validate_insurance_query(&req, today_jst())?;
    // Over mutual TLS the terminal's certificate names the institution; plain HTTP (the
    // demo and tests on loopback) trusts the body.
    if identity.is_some() {
        let cert_institution = crate::card::terminal(&state, identity)?;
        if cert_institution != institution {
            return Err(ApiError::InstitutionMismatch {
                body: institution.to_string(),
                cert: cert_institution.to_string(),
            });
        }
    }
    let outcome = check_by_insurance_data(state.store(), institution, &query, as_of, now).await?;
    Ok(Json(EligibilityResponse {
        check_id: outcome.check_id.to_string(),
        result: outcome.result,
    }))
}

fn parse_code(code: &str) -> Result<InstitutionCode, ApiError> {
    InstitutionCode::parse(code).map_err(|e| ApiError::InvalidField {
        field: "code",
        label_ja: "医療機関コード",
        reason: e.to_string(),
    })
}

#[derive(Serialize)]
struct InstitutionBody {
    code: String,
    kind: String,
    kind_label: &'static str,
    name: String,
    prefecture: String,
    address: String,
    post_number: String,
    active: bool,
}

async fn institution(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<InstitutionBody>, ApiError> {
    let code = parse_code(&code)?;
    let i = state
        .store()
        .institution(&code)
        .await?
        .ok_or_else(|| ApiError::InstitutionNotRegistered(code.to_string()))?;
    Ok(Json(InstitutionBody {
        code: i.code.to_string(),
        kind: i.kind.code().to_owned(),
        kind_label: i.kind.label(),
        name: i.name,
        prefecture: i.prefecture.name().to_owned(),
        address: i.address,
        post_number: i.post_number,
        active: i.active,
    }))
}

#[derive(Deserialize)]
struct Limit {
    limit: Option<String>,
}

impl Limit {
    fn value(&self) -> Result<i64, ApiError> {
        match self.limit.as_deref() {
            None | Some("") => Ok(50),
            Some(s) => {
                s.parse::<i64>()
                    .map(|n| n.clamp(1, 500))
                    .map_err(|_| ApiError::InvalidField {
                        field: "limit",
                        label_ja: "件数",
                        reason: format!("{s:?} is not a number"),
                    })
            }
        }
    }
}

#[derive(Serialize)]
struct CheckBody {
    id: String,
    checked_at: chrono::NaiveDateTime,
    method: String,
    method_label: &'static str,
    reference: String,
    as_of: chrono::NaiveDate,
    validity: String,
    validity_label: &'static str,
}

async fn institution_checks(
    State(state): State<AppState>,
    Path(code): Path<String>,
    limit: Result<Query<Limit>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<CheckBody>>, ApiError> {
    let code = parse_code(&code)?;
    let limit = limit
        .map_err(|e| ApiError::MalformedBody(e.body_text()))?
        .value()?;
    if state.store().institution(&code).await?.is_none() {
        return Err(ApiError::InstitutionNotRegistered(code.to_string()));
    }
    let rows = state.store().recent_checks(Some(&code), limit).await?;
    Ok(Json(
        rows.into_iter()
            .map(|c| CheckBody {
                id: c.id.to_string(),
                checked_at: c.checked_at,
                method: c.method.code().to_owned(),
                method_label: c.method.label(),
                reference: c.reference.code().to_owned(),
                as_of: c.as_of,
                validity: c.validity.code().to_owned(),
                validity_label: c.validity.label(),
            })
            .collect(),
    ))
}
