//! Medical history for the clinic, inside the patient's consent: the institution that
//! received the consent at the reader may view that kind of information for 24 hours,
//! and every view is recorded for the patient to see later. Two ways in: by the reception
//! (`GET /v1/receptions/{reception}/{kind}`) and by the data of the insurance card
//! (`POST /v1/history/{kind}`, what the clinic's medication and check-up request files
//! carry: it must name one person, and that person's consent at the institution's reader
//! is required); both need the terminal certificate of the institution that got it.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{Months, NaiveDate, NaiveDateTime};
use onshi_model::{
    BranchNumber, ConsentKind, InstitutionCode, InsuredCardSymbol, InsuredNumber, InsurerNumber,
    parse_yyyymmdd,
};
use onshi_store::{NewHistoryView, Store};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::api::ApiJson;
use crate::eligibility::field;
use crate::error::ApiError;
use crate::time::now_jst;
use crate::tls::ClientIdentity;

/// How far back the history goes (docs/reference.md §4: three years of medication).
const HISTORY_MONTHS: u32 = 36;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/receptions/{reception}/{kind}", get(history))
        .route("/v1/history/{kind}", post(history_by_card))
}

fn kind_of(segment: &str) -> Option<ConsentKind> {
    match segment {
        "medications" => Some(ConsentKind::Medication),
        "checkups" => Some(ConsentKind::Checkups),
        "diagnoses" => Some(ConsentKind::Diagnoses),
        "surgeries" => Some(ConsentKind::Surgeries),
        _ => None,
    }
}

/// One decimal place from a value stored in tenths.
fn tenths(v: i64) -> f64 {
    v as f64 / 10.0
}

async fn history(
    State(state): State<AppState>,
    identity: Option<Extension<ClientIdentity>>,
    Path((reception, segment)): Path<(String, String)>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let institution = crate::card::terminal(&state, identity)?;
    let kind = kind_of(&segment).ok_or(ApiError::NotFound)?;
    let id: i64 = reception.parse().map_err(|_| ApiError::NotFound)?;
    // Another institution's reception is reported as absent, not as forbidden: its very
    // existence is none of the asker's business.
    let check = state
        .store()
        .check(id)
        .await?
        .filter(|c| c.institution_code == institution.as_str())
        .ok_or(ApiError::NotFound)?;
    let person_id = check.person_id.ok_or(ApiError::NotFound)?;
    let now = now_jst();
    let consent = state
        .store()
        .consents_of_reception(id)
        .await?
        .into_iter()
        .find(|c| c.kind == kind)
        .ok_or(ApiError::ConsentMissing(kind.label()))?;
    if consent.available_until <= now {
        return Err(ApiError::ConsentExpired(kind.label()));
    }
    let since = check
        .as_of
        .checked_sub_months(Months::new(HISTORY_MONTHS))
        .unwrap_or(check.as_of);
    let items = items(
        state.store(),
        kind,
        person_id,
        since,
        check.as_of.max(now.date()),
    )
    .await?;
    state
        .store()
        .record_history_view(&NewHistoryView {
            at: now,
            person_id,
            institution_code: institution,
            kind,
            reception_id: id,
            row_count: items.len() as i64,
        })
        .await?;
    Ok(Json(items))
}

/// Institution names by code, looked up once per answer.
struct Names<'a> {
    store: &'a Store,
    known: HashMap<InstitutionCode, String>,
}

impl Names<'_> {
    async fn of(&mut self, code: &InstitutionCode) -> Result<String, ApiError> {
        if let Some(n) = self.known.get(code) {
            return Ok(n.clone());
        }
        let name = self
            .store
            .institution(code)
            .await?
            .map(|i| i.name)
            .unwrap_or_default();
        self.known.insert(*code, name.clone());
        Ok(name)
    }
}

/// A person's history of one kind from `since` to `until` (both inclusive), newest
/// first, as the JSON items of both routes.
async fn items(
    store: &Store,
    kind: ConsentKind,
    person_id: i64,
    since: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<Value>, ApiError> {
    let mut names = Names {
        store,
        known: HashMap::new(),
    };
    let mut out = Vec::new();
    match kind {
        ConsentKind::Medication => {
            for m in store.medications(person_id, since).await? {
                if m.dispensed_on > until {
                    continue;
                }
                out.push(json!({
                    "dispensed_on": m.dispensed_on, "drug_code": m.drug_code, "drug_name": m.drug_name,
                    "dose": m.dose, "quantity": tenths(m.quantity_x10), "unit": m.unit, "days_supplied": m.days_supplied,
                    "prescriber": m.prescriber.as_str(), "prescriber_name": names.of(&m.prescriber).await?,
                    "pharmacy": m.pharmacy.as_str(), "pharmacy_name": names.of(&m.pharmacy).await?,
                }));
            }
        }
        ConsentKind::Checkups => {
            for c in store.checkups(person_id, since).await? {
                if c.performed_on > until {
                    continue;
                }
                out.push(json!({
                    "performed_on": c.performed_on, "kind": c.kind.code(), "institution_code": c.institution_code.as_str(),
                    "institution_name": names.of(&c.institution_code).await?,
                    "height_cm": tenths(c.height_cm_x10), "weight_kg": tenths(c.weight_kg_x10), "bmi": tenths(c.bmi_x10),
                    "waist_cm": tenths(c.waist_cm_x10), "systolic_mmhg": c.systolic_mmhg, "diastolic_mmhg": c.diastolic_mmhg,
                    "hba1c_percent": tenths(c.hba1c_percent_x10), "fasting_glucose_mg_dl": c.fasting_glucose_mg_dl,
                    "ldl_mg_dl": c.ldl_mg_dl, "hdl_mg_dl": c.hdl_mg_dl, "triglycerides_mg_dl": c.triglycerides_mg_dl,
                    "ast_u_l": c.ast_u_l, "alt_u_l": c.alt_u_l, "ggt_u_l": c.ggt_u_l,
                    "urine_protein": c.urine_protein.code(), "urine_glucose": c.urine_glucose.code(),
                }));
            }
        }
        ConsentKind::Diagnoses => {
            for d in store.diagnoses(person_id, since).await? {
                if d.started_on > until {
                    continue;
                }
                out.push(json!({
                    "started_on": d.started_on, "icd10": d.icd10, "name": d.name, "outcome": d.outcome.code(),
                    "ended_on": d.ended_on, "institution_code": d.institution_code.as_str(),
                    "institution_name": names.of(&d.institution_code).await?,
                }));
            }
        }
        ConsentKind::Surgeries => {
            for s in store.surgeries(person_id, since).await? {
                if s.performed_on > until {
                    continue;
                }
                out.push(json!({
                    "performed_on": s.performed_on, "code": s.code, "name": s.name,
                    "institution_code": s.institution_code.as_str(),
                    "institution_name": names.of(&s.institution_code).await?,
                }));
            }
        }
        ConsentKind::CostCeiling => return Err(ApiError::NotFound),
    }
    Ok(out)
}

/// The JSON request of `POST /v1/history/{kind}`: the data printed on the patient's
/// insurance card or 資格確認書 and, optionally, the months wanted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryByCardRequest {
    insurer_number: String,
    #[serde(default)]
    symbol: Option<String>,
    number: String,
    #[serde(default)]
    branch: Option<String>,
    /// Narrows the family down further when given (`YYYY-MM-DD` or `YYYYMMDD`).
    #[serde(default)]
    birth_date: Option<String>,
    /// First month, `YYYY-MM` or `YYYYMM`; the earliest available when absent.
    #[serde(default)]
    from: Option<String>,
    /// Last month, `YYYY-MM` or `YYYYMM`; this month when absent.
    #[serde(default)]
    to: Option<String>,
}

fn month(field: &'static str, label_ja: &'static str, s: &str) -> Result<NaiveDate, ApiError> {
    let digits: String = s.chars().filter(|c| *c != '-').collect();
    let ok = digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| NaiveDate::parse_from_str(&format!("{digits}01"), "%Y%m%d").ok())
        .flatten()
        .ok_or_else(|| ApiError::InvalidField {
            field,
            label_ja,
            reason: format!("{s:?} は YYYY-MM の年月ではありません / not a YYYY-MM month"),
        })
}

fn last_day_of_month(first: NaiveDate) -> NaiveDate {
    first
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(first)
}

async fn history_by_card(
    State(state): State<AppState>,
    identity: Option<Extension<ClientIdentity>>,
    Path(segment): Path<String>,
    ApiJson(req): ApiJson<HistoryByCardRequest>,
) -> Result<Json<Value>, ApiError> {
    let institution = crate::card::terminal(&state, identity)?;
    let kind = kind_of(&segment).ok_or(ApiError::NotFound)?;
    let now = now_jst();
    let today = now.date();
    let insurer = field(
        "insurer_number",
        "保険者番号",
        InsurerNumber::parse(&req.insurer_number),
    )?;
    let symbol = match req.symbol.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(field("symbol", "記号", InsuredCardSymbol::parse(s))?),
    };
    let number = field("number", "番号", InsuredNumber::parse(req.number.trim()))?;
    let branch = match req.branch.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(field("branch", "枝番", BranchNumber::parse(s))?),
    };
    let birth = match req.birth_date.as_deref() {
        None | Some("") => None,
        Some(s) => {
            let digits: String = s.chars().filter(|c| *c != '-').collect();
            Some(field("birth_date", "生年月日", parse_yyyymmdd(&digits))?)
        }
    };
    let from = req
        .from
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| month("from", "開始年月", s))
        .transpose()?;
    let to = req
        .to
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| month("to", "終了年月", s).map(last_day_of_month))
        .transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::InvalidField {
            field: "from",
            label_ja: "開始年月",
            reason: "開始年月が終了年月より後です / from is after to".into(),
        });
    }
    let store = state.store();
    crate::emr::require_active(store, &institution).await?;
    let mut persons: Vec<onshi_store::PersonRow> = Vec::new();
    for v in store
        .records_by_card_any_birth(&insurer, &number, symbol.as_ref(), branch)
        .await?
    {
        if birth.is_none_or(|b| b == v.person.birth_date)
            && !persons.iter().any(|p| p.id == v.person.id)
        {
            persons.push(v.person);
        }
    }
    // The card's data must name one person before anything is shown. Without a branch
    // number (or birth date) a whole family matches, and a family member's consent must
    // never answer for another: the clinic is asked for the branch number instead.
    let person = match persons.len() {
        0 => return Err(ApiError::QualificationNotFound),
        1 => persons.pop().expect("one"),
        _ => return Err(ApiError::SeveralPatients),
    };
    // That person's consent at this institution's reader, within its 24 hours.
    let consent = store
        .consents_available(person.id, &institution, now)
        .await?
        .into_iter()
        .find(|c| c.kind == kind)
        .ok_or(ApiError::ConsentMissing(kind.label()))?;
    // The history reaches back from the date of the reception that gave the consent, as
    // through the reception route, and never past today.
    let anchor = store
        .check(consent.reception_id)
        .await?
        .map_or(today, |c| c.as_of);
    let earliest = anchor
        .checked_sub_months(Months::new(HISTORY_MONTHS))
        .unwrap_or(anchor);
    let latest = anchor.max(today);
    let from = from.map_or(earliest, |f| f.max(earliest));
    let to = to.map_or(latest, |t| t.min(latest));
    let items = if from <= to {
        items(store, kind, person.id, from, to).await?
    } else {
        // Months wholly outside the history: nothing, over an empty period.
        Vec::new()
    };
    let from = from.min(to);
    store
        .record_history_view(&NewHistoryView {
            at: now,
            person_id: person.id,
            institution_code: institution,
            kind,
            reception_id: consent.reception_id,
            row_count: items.len() as i64,
        })
        .await?;
    Ok(Json(json!({
        "patient": {
            "name": person.name.full(),
            "name_kana": person.name.kana_halfwidth(),
            "birth_date": person.birth_date,
            "sex": person.sex.oqs().code(),
        },
        "reception": consent.reception_id.to_string(),
        "consented_at": fmt_instant(consent.consented_at),
        "available_until": fmt_instant(consent.available_until),
        "from": from,
        "to": to,
        "items": items,
    })))
}

/// Japan time as `YYYY-MM-DDTHH:MM:SS+09:00`.
fn fmt_instant(t: NaiveDateTime) -> String {
    format!("{}+09:00", t.format("%Y-%m-%dT%H:%M:%S"))
}
