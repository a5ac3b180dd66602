//! The EMR's operations beyond the single check, as JSON (the same operations as the
//! folder interface's `OQSsiimm01` and `OQSmuquc01`/`OQSmuquc02`):
//!
//! - `POST /v1/reference-numbers`: registers the clinic's 照会番号 for the person the
//!   insurance data names; the center returns it with that institution's later results.
//! - `POST /v1/eligibility/bulk`: stores a bulk check (一括照会) and answers `202` with a
//!   reception number at once; the center's worker answers the queries.
//! - `GET /v1/eligibility/bulk/{reception_number}`: `processing` until the results are
//!   stored, then the results, one per query in the order sent.
//! - `POST /v1/eligibility/home-consents`: the bulk search of 訪問診療 / オンライン診療
//!   (`OQSmuhvq01`, `OQSmuonq01`): the patients who consented at home to this institution
//!   on the dates asked become the queries of a bulk check, fetched as above.
//!
//! Bulk checks are processed at the center, not at the terminal: the request is committed
//! to the database before it is acknowledged and the results are committed in one
//! statement, so neither a terminal nor a center restart loses one. A check still
//! processing when its process stopped is taken up again by the next fetch of it in any
//! center process (a conditional update keeps a second worker from answering it twice).

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::NaiveDateTime;
use onshi_model::{InstitutionCode, InsuranceDataQuery, Qualification};
use onshi_store::{BulkStatus, NewBulkCheck, RecordView, Store};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::ApiJson;
use crate::eligibility::{InsuranceDataRequest, check_by_insurance_data, validate_insurance_query};
use crate::error::{ApiError, Problem};
use crate::time::{now_jst, today_jst};
use crate::tls::ClientIdentity;
use crate::{AppState, hex};

/// Most queries in one bulk request (the body limit of 64 KiB allows about 300).
pub const MAX_BULK_QUERIES: usize = 1_000;
/// Longest 照会番号 (docs/reference.md §5).
pub const MAX_REFERENCE_NUMBER: usize = 50;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/reference-numbers", post(register_reference))
        .route("/v1/eligibility/bulk", post(submit_bulk))
        .route("/v1/eligibility/bulk/{reception_number}", get(fetch_bulk))
        .route("/v1/eligibility/home-consents", post(search_home_consents))
}

/// Over mutual TLS the terminal's certificate names the institution and the body must
/// agree; plain HTTP (the demo and tests on loopback) trusts the body.
pub(crate) fn authorize(
    state: &AppState,
    identity: Option<Extension<ClientIdentity>>,
    institution: &InstitutionCode,
) -> Result<(), ApiError> {
    if identity.is_some() {
        let cert = crate::card::terminal(state, identity)?;
        if &cert != institution {
            return Err(ApiError::InstitutionMismatch {
                body: institution.to_string(),
                cert: cert.to_string(),
            });
        }
    }
    Ok(())
}

pub(crate) async fn require_active(
    store: &Store,
    institution: &InstitutionCode,
) -> Result<(), ApiError> {
    match store.institution(institution).await? {
        None => Err(ApiError::InstitutionNotRegistered(institution.to_string())),
        Some(i) if !i.active => Err(ApiError::InstitutionInactive(institution.to_string())),
        Some(_) => Ok(()),
    }
}

/// Sets each record's 照会番号: the one `institution` registered for its person.
pub(crate) async fn attach_reference_numbers(
    store: &Store,
    institution: &InstitutionCode,
    views: &[RecordView],
    records: &mut [Qualification],
) -> Result<(), ApiError> {
    for (v, q) in views.iter().zip(records.iter_mut()) {
        if let Some(r) = store.reference_number(institution, v.person.id).await? {
            q.reference_number = Some(r.reference_number);
        }
    }
    Ok(())
}

// --- 照会番号 -----------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistrationRequest {
    institution_code: String,
    insurer_number: String,
    #[serde(default)]
    symbol: Option<String>,
    number: String,
    #[serde(default)]
    branch: Option<String>,
    birth_date: String,
    #[serde(default)]
    as_of: Option<String>,
    reference_number: String,
}

#[derive(Debug, Serialize)]
struct Registered {
    reference_number: String,
    registered_at: NaiveDateTime,
}

/// A 照会番号 as the interface allows it: 1–50 characters, no control characters, no
/// surrounding space.
pub(crate) fn validate_reference_number(s: &str) -> Result<String, ApiError> {
    let n = s.chars().count();
    let reason = if n == 0 {
        Some("空です / empty".to_owned())
    } else if n > MAX_REFERENCE_NUMBER {
        Some(format!(
            "{MAX_REFERENCE_NUMBER} 文字を超えています（{n} 文字） / longer than {MAX_REFERENCE_NUMBER} characters"
        ))
    } else if s.chars().any(char::is_control) || s.trim() != s {
        Some("制御文字または前後の空白があります / control characters or surrounding space".into())
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ApiError::InvalidField {
            field: "reference_number",
            label_ja: "照会番号",
            reason,
        }),
        None => Ok(s.to_owned()),
    }
}

async fn register_reference(
    State(state): State<AppState>,
    identity: Option<Extension<ClientIdentity>>,
    ApiJson(req): ApiJson<RegistrationRequest>,
) -> Result<Json<Registered>, ApiError> {
    let query_req = InsuranceDataRequest {
        institution_code: req.institution_code,
        insurer_number: req.insurer_number,
        symbol: req.symbol,
        number: req.number,
        branch: req.branch,
        birth_date: req.birth_date,
        as_of: req.as_of,
        limit_consent: None,
    };
    let (institution, query, as_of) = validate_insurance_query(&query_req, today_jst())?;
    let reference_number = validate_reference_number(&req.reference_number)?;
    authorize(&state, identity, &institution)?;
    let store = state.store();
    require_active(store, &institution).await?;
    let matches = store
        .records_by_card(
            &query.insurer_number,
            &query.number,
            query.symbol.as_ref(),
            query.branch,
            query.birth_date,
        )
        .await?;
    // A lost qualification still names the person: the clinic's id is the person's.
    let (_, views) = crate::eligibility::decide(store, matches, as_of).await?;
    let view = views.first().ok_or(ApiError::QualificationNotFound)?;
    let now = now_jst();
    store
        .register_reference_number(
            &institution,
            view.person.id,
            view.record.id,
            &reference_number,
            now,
        )
        .await?;
    Ok(Json(Registered {
        reference_number,
        registered_at: now,
    }))
}

// --- 一括照会 -----------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkQuery {
    insurer_number: String,
    #[serde(default)]
    symbol: Option<String>,
    number: String,
    #[serde(default)]
    branch: Option<String>,
    birth_date: String,
    #[serde(default)]
    limit_consent: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkRequest {
    institution_code: String,
    #[serde(default)]
    as_of: Option<String>,
    queries: Vec<BulkQuery>,
}

/// One query's answer, in the order of the request.
#[derive(Debug, Serialize, Deserialize)]
struct BulkItem {
    index: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    check_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<onshi_model::EligibilityResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<Problem>,
}

#[derive(Debug, Serialize)]
struct BulkBody {
    reception_number: String,
    status: &'static str,
    institution_code: String,
    submitted_at: NaiveDateTime,
    as_of: chrono::NaiveDate,
    query_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    finished_at: Option<NaiveDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    results: Option<Value>,
}

fn body_of(row: onshi_store::BulkCheckRow) -> Result<BulkBody, ApiError> {
    let results = row
        .results
        .as_deref()
        .map(serde_json::from_str::<Value>)
        .transpose()
        .map_err(|e| ApiError::Internal(format!("bulk results: {e}")))?;
    Ok(BulkBody {
        reception_number: row.reception_number,
        status: row.status.code(),
        institution_code: row.institution_code,
        submitted_at: row.submitted_at,
        as_of: row.as_of,
        query_count: row.query_count,
        finished_at: row.finished_at,
        results,
    })
}

fn new_reception_number() -> Result<String, ApiError> {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    let mut b = [0u8; 12];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| ApiError::Internal("random source failed".into()))?;
    Ok(format!("B{}", hex(&b).to_uppercase()))
}

async fn submit_bulk(
    State(state): State<AppState>,
    identity: Option<Extension<ClientIdentity>>,
    ApiJson(req): ApiJson<BulkRequest>,
) -> Result<(StatusCode, Json<BulkBody>), ApiError> {
    let today = today_jst();
    if req.queries.is_empty() || req.queries.len() > MAX_BULK_QUERIES {
        return Err(ApiError::InvalidField {
            field: "queries",
            label_ja: "照会対象",
            reason: format!(
                "1〜{MAX_BULK_QUERIES} 件にしてください（{} 件） / 1 to {MAX_BULK_QUERIES} queries",
                req.queries.len()
            ),
        });
    }
    let mut institution = None;
    let mut as_of = today;
    let mut queries: Vec<InsuranceDataQuery> = Vec::with_capacity(req.queries.len());
    for (i, q) in req.queries.into_iter().enumerate() {
        let one = InsuranceDataRequest {
            institution_code: req.institution_code.clone(),
            insurer_number: q.insurer_number,
            symbol: q.symbol,
            number: q.number,
            branch: q.branch,
            birth_date: q.birth_date,
            as_of: req.as_of.clone(),
            limit_consent: q.limit_consent,
        };
        let (inst, query, date) = validate_insurance_query(&one, today).map_err(|e| match e {
            ApiError::InvalidField {
                field,
                label_ja,
                reason,
            } if field != "institution_code" && field != "as_of" => ApiError::InvalidField {
                field: "queries",
                label_ja,
                reason: format!("{i} 件目の {field}: {reason}"),
            },
            e => e,
        })?;
        institution = Some(inst);
        as_of = date;
        queries.push(query);
    }
    let institution = institution.ok_or(ApiError::Internal("no query".into()))?;
    authorize(&state, identity, &institution)?;
    require_active(state.store(), &institution).await?;
    accept_bulk(&state, institution, as_of, &queries).await
}

/// Stores a bulk check before acknowledging it, and starts answering it: `202` with its
/// reception number.
async fn accept_bulk(
    state: &AppState,
    institution: InstitutionCode,
    as_of: chrono::NaiveDate,
    queries: &[InsuranceDataQuery],
) -> Result<(StatusCode, Json<BulkBody>), ApiError> {
    let now = now_jst();
    let row = NewBulkCheck {
        reception_number: new_reception_number()?,
        institution_code: institution,
        submitted_at: now,
        as_of,
        query_count: queries.len() as i64,
        queries: serde_json::to_string(queries)
            .map_err(|e| ApiError::Internal(format!("bulk queries: {e}")))?,
    };
    state.store().insert_bulk_check(&row).await?;
    spawn_worker(state.clone(), row.reception_number.clone());
    Ok((
        StatusCode::ACCEPTED,
        Json(BulkBody {
            reception_number: row.reception_number,
            status: BulkStatus::Processing.code(),
            institution_code: institution.to_string(),
            submitted_at: now,
            as_of,
            query_count: row.query_count,
            finished_at: None,
            results: None,
        }),
    ))
}

async fn fetch_bulk(
    State(state): State<AppState>,
    identity: Option<Extension<ClientIdentity>>,
    Path(reception_number): Path<String>,
) -> Result<Json<BulkBody>, ApiError> {
    if reception_number.is_empty()
        || reception_number.len() > 50
        || !reception_number
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(ApiError::NotFound);
    }
    let row = state
        .store()
        .bulk_check(&reception_number)
        .await?
        .ok_or(ApiError::NotFound)?;
    if identity.is_some() {
        // Another institution's bulk check is absent, not forbidden.
        let cert = crate::card::terminal(&state, identity)?;
        if cert.as_str() != row.institution_code {
            return Err(ApiError::NotFound);
        }
    }
    if row.status == BulkStatus::Processing {
        spawn_worker(state.clone(), row.reception_number.clone());
    }
    Ok(Json(body_of(row)?))
}

/// The JSON request of `POST /v1/eligibility/home-consents`: one pair of dates.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HomeConsentSearch {
    institution_code: String,
    /// `home_visit` (訪問診療) or `online` (オンライン診療).
    kind: String,
    #[serde(default)]
    consented_from: Option<String>,
    #[serde(default)]
    consented_to: Option<String>,
    /// オンライン診療 only: search by examination day instead.
    #[serde(default)]
    examination_from: Option<String>,
    #[serde(default)]
    examination_to: Option<String>,
}

/// Longest span of days one search may cover.
const MAX_SEARCH_DAYS: i64 = 366;

fn search_date(
    field: &'static str,
    label_ja: &'static str,
    s: &str,
) -> Result<chrono::NaiveDate, ApiError> {
    let digits: String = s.chars().filter(|c| *c != '-').collect();
    onshi_model::parse_yyyymmdd(&digits).map_err(|e| ApiError::InvalidField {
        field,
        label_ja,
        reason: e.to_string(),
    })
}

async fn search_home_consents(
    State(state): State<AppState>,
    identity: Option<Extension<ClientIdentity>>,
    ApiJson(req): ApiJson<HomeConsentSearch>,
) -> Result<(StatusCode, Json<BulkBody>), ApiError> {
    use onshi_store::{HomeCareKind, HomeConsentDates};
    let institution =
        InstitutionCode::parse(&req.institution_code).map_err(|e| ApiError::InvalidField {
            field: "institution_code",
            label_ja: "医療機関コード",
            reason: e.to_string(),
        })?;
    let kind = HomeCareKind::parse(&req.kind).ok_or_else(|| ApiError::InvalidField {
        field: "kind",
        label_ja: "診療の種類",
        reason: "home_visit（訪問診療）または online（オンライン診療）".into(),
    })?;
    let pair = |from: &Option<String>,
                to: &Option<String>,
                f,
                t|
     -> Result<Option<(chrono::NaiveDate, chrono::NaiveDate)>, ApiError> {
        match (from.as_deref(), to.as_deref()) {
            (None, None) => Ok(None),
            (Some(a), Some(b)) => Ok(Some((
                search_date(f, "開始日", a)?,
                search_date(t, "終了日", b)?,
            ))),
            (None, Some(_)) => Err(ApiError::InvalidField {
                field: f,
                label_ja: "開始日",
                reason: "missing".into(),
            }),
            (Some(_), None) => Err(ApiError::InvalidField {
                field: t,
                label_ja: "終了日",
                reason: "missing".into(),
            }),
        }
    };
    let consented = pair(
        &req.consented_from,
        &req.consented_to,
        "consented_from",
        "consented_to",
    )?;
    let examined = pair(
        &req.examination_from,
        &req.examination_to,
        "examination_from",
        "examination_to",
    )?;
    let dates = match (consented, examined, kind) {
        (Some((from, to)), None, _) => HomeConsentDates::Consented { from, to },
        (None, Some((from, to)), HomeCareKind::Online) => {
            HomeConsentDates::Examination { from, to }
        }
        (None, Some(_), HomeCareKind::HomeVisit) => {
            return Err(ApiError::InvalidField {
                field: "examination_from",
                label_ja: "診察日",
                reason: "訪問診療は同意日で検索します / home visits are searched by consent date"
                    .into(),
            });
        }
        _ => {
            return Err(ApiError::InvalidField {
                field: "consented_from",
                label_ja: "同意日",
                reason: "同意日または診察日の期間をひとつ指定してください / give one pair of dates"
                    .into(),
            });
        }
    };
    let (from, to) = match dates {
        HomeConsentDates::Consented { from, to } | HomeConsentDates::Examination { from, to } => {
            (from, to)
        }
    };
    if from > to || (to - from).num_days() >= MAX_SEARCH_DAYS {
        return Err(ApiError::InvalidField {
            field: match dates {
                HomeConsentDates::Consented { .. } => "consented_to",
                HomeConsentDates::Examination { .. } => "examination_to",
            },
            label_ja: "期間",
            reason: format!(
                "開始日から終了日までを {MAX_SEARCH_DAYS} 日以内にしてください / from ≤ to, at most {MAX_SEARCH_DAYS} days"
            ),
        });
    }
    authorize(&state, identity, &institution)?;
    let store = state.store();
    require_active(store, &institution).await?;
    let today = today_jst();
    // Each consenting person once, as a query for the qualification they hold today:
    // the bulk check then answers them as any bulk check, with the 照会番号.
    let mut seen = HashSet::new();
    let mut queries = Vec::new();
    for c in store.home_consents(&institution, kind, dates).await? {
        if !seen.insert(c.person_id) {
            continue;
        }
        if seen.len() > MAX_BULK_QUERIES {
            return Err(ApiError::InvalidField {
                field: "consented_from",
                label_ja: "期間",
                reason: format!(
                    "{MAX_BULK_QUERIES} 人を超えます。期間を短くしてください / more than {MAX_BULK_QUERIES} patients: shorten the days"
                ),
            });
        }
        let views = store.records_of_person(c.person_id).await?;
        let (_, current) = crate::eligibility::decide_for_person(views, today);
        if let Some(v) = current.first() {
            queries.push(InsuranceDataQuery {
                insurer_number: v.record.insurer_number.clone(),
                symbol: v.record.symbol.clone(),
                number: v.record.number.clone(),
                branch: Some(v.record.branch),
                birth_date: v.person.birth_date,
                limit_consent: false,
            });
        }
    }
    accept_bulk(&state, institution, today, &queries).await
}

/// Reception numbers being answered by this process.
static IN_FLIGHT: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Default::default);

struct InFlight(String);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut set) = IN_FLIGHT.lock() {
            set.remove(&self.0);
        }
    }
}

/// Answers a bulk check in the background unless this process is already at it.
fn spawn_worker(state: AppState, reception_number: String) {
    {
        let Ok(mut set) = IN_FLIGHT.lock() else {
            return;
        };
        if !set.insert(reception_number.clone()) {
            return;
        }
    }
    let guard = InFlight(reception_number);
    tokio::spawn(async move {
        if let Err(e) = answer_bulk(&state, &guard.0).await {
            // Left processing: the next fetch takes it up again.
            tracing::warn!(reception = %guard.0, error = %e, "bulk check not answered");
        }
        drop(guard);
    });
}

async fn answer_bulk(state: &AppState, reception_number: &str) -> Result<(), ApiError> {
    let store = state.store();
    let Some(row) = store.bulk_check(reception_number).await? else {
        return Ok(());
    };
    if row.status != BulkStatus::Processing {
        return Ok(());
    }
    let institution = InstitutionCode::parse(&row.institution_code)
        .map_err(|e| ApiError::Internal(format!("bulk institution: {e}")))?;
    let queries: Vec<InsuranceDataQuery> = serde_json::from_str(&row.queries)
        .map_err(|e| ApiError::Internal(format!("bulk queries: {e}")))?;
    let mut items = Vec::with_capacity(queries.len());
    for (index, q) in queries.iter().enumerate() {
        let item = match check_by_insurance_data(store, institution, q, row.as_of, now_jst()).await
        {
            Ok(outcome) => BulkItem {
                index,
                check_id: Some(outcome.check_id.to_string()),
                result: Some(outcome.result),
                error: None,
            },
            Err(e @ ApiError::Internal(_)) => return Err(e),
            Err(e) => BulkItem {
                index,
                check_id: None,
                result: None,
                error: Some(e.problem()),
            },
        };
        items.push(item);
    }
    let results =
        serde_json::to_string(&items).map_err(|e| ApiError::Internal(format!("bulk: {e}")))?;
    store
        .finish_bulk_check(reception_number, &results, now_jst())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_numbers_are_checked() {
        assert!(validate_reference_number("P-000123").is_ok());
        assert!(validate_reference_number("患者０１").is_ok());
        assert!(validate_reference_number("").is_err());
        assert!(validate_reference_number(" P").is_err());
        assert!(validate_reference_number("a\tb").is_err());
        assert!(validate_reference_number(&"x".repeat(51)).is_err());
        assert!(validate_reference_number(&"番".repeat(50)).is_ok());
    }

    #[test]
    fn reception_numbers_are_fetchable_names() {
        let n = new_reception_number().unwrap();
        assert_eq!(n.len(), 25);
        assert!(n.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(n, new_reception_number().unwrap());
    }
}
