//! Medical history for the clinic, inside the patient's consent: the institution that
//! received the consent at the reader may view that kind of information for 24 hours,
//! and every view is recorded for the patient to see later.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use chrono::Months;
use onshi_model::ConsentKind;
use onshi_store::NewHistoryView;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::time::now_jst;
use crate::tls::ClientIdentity;

/// How far back the history goes (docs/reference.md §4: three years of medication).
const HISTORY_MONTHS: u32 = 36;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/v1/receptions/{reception}/{kind}", get(history))
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
    let store = state.store();
    let items: Vec<Value> = match kind {
        ConsentKind::Medication => store
            .medications(person_id, since)
            .await?
            .into_iter()
            .map(|m| {
                json!({
                    "dispensed_on": m.dispensed_on, "drug_code": m.drug_code, "drug_name": m.drug_name,
                    "dose": m.dose, "quantity": tenths(m.quantity_x10), "unit": m.unit, "days_supplied": m.days_supplied,
                    "prescriber": m.prescriber.as_str(), "pharmacy": m.pharmacy.as_str(),
                })
            })
            .collect(),
        ConsentKind::Checkups => store
            .checkups(person_id, since)
            .await?
            .into_iter()
            .map(|c| {
                json!({
                    "performed_on": c.performed_on, "kind": c.kind.code(), "institution_code": c.institution_code.as_str(),
                    "height_cm": tenths(c.height_cm_x10), "weight_kg": tenths(c.weight_kg_x10), "bmi": tenths(c.bmi_x10),
                    "waist_cm": tenths(c.waist_cm_x10), "systolic_mmhg": c.systolic_mmhg, "diastolic_mmhg": c.diastolic_mmhg,
                    "hba1c_percent": tenths(c.hba1c_percent_x10), "fasting_glucose_mg_dl": c.fasting_glucose_mg_dl,
                    "ldl_mg_dl": c.ldl_mg_dl, "hdl_mg_dl": c.hdl_mg_dl, "triglycerides_mg_dl": c.triglycerides_mg_dl,
                    "ast_u_l": c.ast_u_l, "alt_u_l": c.alt_u_l, "ggt_u_l": c.ggt_u_l,
                    "urine_protein": c.urine_protein.code(), "urine_glucose": c.urine_glucose.code(),
                })
            })
            .collect(),
        ConsentKind::Diagnoses => store
            .diagnoses(person_id, since)
            .await?
            .into_iter()
            .map(|d| {
                json!({
                    "started_on": d.started_on, "icd10": d.icd10, "name": d.name, "outcome": d.outcome.code(),
                    "ended_on": d.ended_on, "institution_code": d.institution_code.as_str(),
                })
            })
            .collect(),
        ConsentKind::Surgeries => store
            .surgeries(person_id, since)
            .await?
            .into_iter()
            .map(|s| json!({"performed_on": s.performed_on, "code": s.code, "name": s.name, "institution_code": s.institution_code.as_str()}))
            .collect(),
        ConsentKind::CostCeiling => return Err(ApiError::NotFound),
    };
    store
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
