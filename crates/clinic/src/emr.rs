//! The center's EMR operations as the terminal calls them for the folder interface:
//! 照会番号 registration (`OQSsiimm01`) and the bulk check (`OQSmuquc01` submits,
//! `OQSmuquc02` fetches). The bulk check is processed and kept at the center, so a
//! terminal restart between the two files loses nothing.

use chrono::NaiveDate;
use onshi_model::{EligibilityResult, InstitutionCode, InsuranceDataQuery};
use serde::{Deserialize, Serialize};

use crate::center::{BlockingCenter, CenterClient, CenterError};
use crate::wire::{HistoryByCard, HistoryByCardBody, HistoryKind, Problem};

/// One query's answer in a finished bulk check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BulkItem {
    /// Position of the query in the request.
    pub index: usize,
    #[serde(default)]
    pub result: Option<EligibilityResult>,
    #[serde(default)]
    pub error: Option<Problem>,
}

/// What the center says of a bulk check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BulkCheck {
    pub reception_number: String,
    /// `processing` or `done`.
    pub status: String,
    pub as_of: NaiveDate,
    pub query_count: usize,
    #[serde(default)]
    pub results: Option<Vec<BulkItem>>,
}

impl BulkCheck {
    /// Answered: every query has its item.
    pub fn is_done(&self) -> bool {
        self.status == "done" && self.results.is_some()
    }
}

#[derive(Serialize)]
struct RegistrationBody<'a> {
    institution_code: &'a str,
    #[serde(flatten)]
    query: RegistrationQuery<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    as_of: Option<NaiveDate>,
    reference_number: &'a str,
}

/// The query without its consent flag (a registration has none).
#[derive(Serialize)]
struct RegistrationQuery<'a> {
    insurer_number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    symbol: Option<&'a str>,
    number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    branch: Option<&'a str>,
    birth_date: NaiveDate,
}

#[derive(Serialize)]
struct BulkBody<'a> {
    institution_code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    as_of: Option<NaiveDate>,
    queries: &'a [InsuranceDataQuery],
}

#[derive(Deserialize)]
struct Registered {
    #[allow(dead_code)]
    reference_number: String,
}

impl CenterClient {
    /// `POST /v1/reference-numbers`.
    pub async fn register_reference_number(
        &self,
        institution: &InstitutionCode,
        query: &InsuranceDataQuery,
        as_of: Option<NaiveDate>,
        reference_number: &str,
    ) -> Result<(), CenterError> {
        let body = RegistrationBody {
            institution_code: institution.as_str(),
            query: RegistrationQuery {
                insurer_number: query.insurer_number.as_str(),
                symbol: query.symbol.as_ref().map(|s| s.as_str()),
                number: query.number.as_str(),
                branch: query.branch.as_ref().map(|b| b.as_str()),
                birth_date: query.birth_date,
            },
            as_of,
            reference_number,
        };
        let _: Registered = self.post("/v1/reference-numbers", &body).await?;
        Ok(())
    }

    /// `POST /v1/eligibility/bulk`: the reception number.
    pub async fn submit_bulk(
        &self,
        institution: &InstitutionCode,
        queries: &[InsuranceDataQuery],
        as_of: Option<NaiveDate>,
    ) -> Result<BulkCheck, CenterError> {
        let body = BulkBody {
            institution_code: institution.as_str(),
            as_of,
            queries,
        };
        self.post("/v1/eligibility/bulk", &body).await
    }

    /// `GET /v1/eligibility/bulk/{reception_number}`.
    pub async fn fetch_bulk(&self, reception_number: &str) -> Result<BulkCheck, CenterError> {
        self.get(&format!("/v1/eligibility/bulk/{reception_number}"))
            .await
    }

    /// `POST /v1/eligibility/home-consents`: the 訪問診療 / オンライン診療 search, answered
    /// as a bulk check (its reception number, then [`CenterClient::fetch_bulk`]).
    pub async fn search_home_consents(
        &self,
        institution: &InstitutionCode,
        search: &onshi_oqs::HomeCareSearch,
    ) -> Result<BulkCheck, CenterError> {
        let kind = match search.care {
            onshi_oqs::HomeCare::HomeVisit => "home_visit",
            onshi_oqs::HomeCare::Online => "online",
        };
        let mut body = serde_json::json!({
            "institution_code": institution.as_str(),
            "kind": kind,
        });
        match search.dates {
            onshi_oqs::SearchDates::Consented { from, to } => {
                body["consented_from"] = serde_json::json!(from);
                body["consented_to"] = serde_json::json!(to);
            }
            onshi_oqs::SearchDates::Examination { from, to } => {
                body["examination_from"] = serde_json::json!(from);
                body["examination_to"] = serde_json::json!(to);
            }
        }
        self.post("/v1/eligibility/home-consents", &body).await
    }
}

impl BlockingCenter {
    /// [`CenterClient::register_reference_number`], blocking.
    pub fn register_reference_number(
        &self,
        institution: &InstitutionCode,
        query: &InsuranceDataQuery,
        as_of: Option<NaiveDate>,
        reference_number: &str,
    ) -> Result<(), CenterError> {
        self.block_on(self.client().register_reference_number(
            institution,
            query,
            as_of,
            reference_number,
        ))
    }

    /// [`CenterClient::submit_bulk`], blocking.
    pub fn submit_bulk(
        &self,
        institution: &InstitutionCode,
        queries: &[InsuranceDataQuery],
        as_of: Option<NaiveDate>,
    ) -> Result<BulkCheck, CenterError> {
        self.block_on(self.client().submit_bulk(institution, queries, as_of))
    }

    /// [`CenterClient::search_home_consents`], blocking.
    pub fn search_home_consents(
        &self,
        institution: &InstitutionCode,
        search: &onshi_oqs::HomeCareSearch,
    ) -> Result<BulkCheck, CenterError> {
        self.block_on(self.client().search_home_consents(institution, search))
    }

    /// [`CenterClient::fetch_bulk`], blocking.
    pub fn fetch_bulk(&self, reception_number: &str) -> Result<BulkCheck, CenterError> {
        self.block_on(self.client().fetch_bulk(reception_number))
    }
}

/// The center's answer to a medication or check-up request, as the answer file's values:
/// the patient, the period and the records. A record the center describes in a way this
/// terminal does not understand is an error, not a silent gap.
pub fn history_answer(
    kind: HistoryKind,
    answer: &HistoryByCard,
    category: onshi_oqs::FileCategory,
    months_asked: bool,
    treatments: Vec<onshi_oqs::TreatmentEntry>,
) -> Result<onshi_oqs::HistoryAnswer, String> {
    let p = &answer.patient;
    let patient = onshi_oqs::HistoryPatient {
        name: p.name.clone(),
        kana: p.name_kana.clone(),
        birth_date: p.birth_date,
        sex: onshi_model::OqsSex::parse(&p.sex).map_err(|e| e.to_string())?,
    };
    let content = match kind {
        HistoryKind::Medications => onshi_oqs::HistoryContent::Medications(
            answer
                .items
                .iter()
                .map(medication_entry)
                .collect::<Result<_, _>>()?,
        ),
        HistoryKind::Checkups => onshi_oqs::HistoryContent::Checkups(
            answer
                .items
                .iter()
                .map(checkup_entry)
                .collect::<Result<_, _>>()?,
        ),
        other => return Err(format!("{other:?} has no answer file")),
    };
    // The months served: always for medication, for check-ups when they were asked for.
    let period = if kind == HistoryKind::Medications || months_asked {
        Some(onshi_oqs::MonthRange::new(answer.from, answer.to).map_err(|e| e.to_string())?)
    } else {
        None
    };
    Ok(onshi_oqs::HistoryAnswer {
        patient,
        period,
        category,
        content,
        treatments,
    })
}

/// The operations (手術情報) the center gave, as treatment rows of a medication answer
/// (`FileCategory` 3 or 4) — only when they are the same patient's as `medication`'s: a
/// family member's consent must never put their operations into another's file.
pub fn treatment_entries(
    medication: &HistoryByCard,
    surgeries: &HistoryByCard,
) -> Result<Vec<onshi_oqs::TreatmentEntry>, String> {
    if surgeries.patient != medication.patient {
        return Ok(Vec::new());
    }
    surgeries
        .items
        .iter()
        .map(|v| {
            Ok(onshi_oqs::TreatmentEntry {
                performed_on: day(v, "performed_on")?,
                code: text(v, "code")?.to_owned(),
                name: text(v, "name")?.to_owned(),
                institution: institution(v, "institution_code")?,
                institution_name: text(v, "institution_name").unwrap_or("").to_owned(),
            })
        })
        .collect()
}

fn text<'a>(v: &'a serde_json::Value, key: &str) -> Result<&'a str, String> {
    v.get(key)
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| format!("item without {key}: {v}"))
}

fn number(v: &serde_json::Value, key: &str) -> Result<f64, String> {
    v.get(key)
        .and_then(serde_json::Value::as_f64)
        .ok_or_else(|| format!("item without a number {key}: {v}"))
}

fn day(v: &serde_json::Value, key: &str) -> Result<NaiveDate, String> {
    let s = text(v, key)?;
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("{key} {s:?} is not a date"))
}

fn institution(v: &serde_json::Value, key: &str) -> Result<InstitutionCode, String> {
    InstitutionCode::parse(text(v, key)?).map_err(|e| e.to_string())
}

fn medication_entry(v: &serde_json::Value) -> Result<onshi_oqs::MedicationEntry, String> {
    Ok(onshi_oqs::MedicationEntry {
        dispensed_on: day(v, "dispensed_on")?,
        drug_code: text(v, "drug_code")?.to_owned(),
        drug_name: text(v, "drug_name")?.to_owned(),
        usage: text(v, "dose")?.to_owned(),
        quantity_x10: (number(v, "quantity")? * 10.0).round() as i64,
        unit: text(v, "unit")?.to_owned(),
        days_supplied: u32::try_from(
            v.get("days_supplied")
                .and_then(serde_json::Value::as_u64)
                .ok_or_else(|| format!("item without days_supplied: {v}"))?,
        )
        .map_err(|e| e.to_string())?,
        prescriber: institution(v, "prescriber")?,
        prescriber_name: text(v, "prescriber_name").unwrap_or("").to_owned(),
        pharmacy: institution(v, "pharmacy")?,
        pharmacy_name: text(v, "pharmacy_name").unwrap_or("").to_owned(),
    })
}

/// The center's check-up fields and the items of the answer file they become.
const CHECKUP_FIELDS: &[(&str, onshi_oqs::CheckupItem)] = {
    use onshi_oqs::CheckupItem::*;
    &[
        ("height_cm", Height),
        ("weight_kg", Weight),
        ("bmi", Bmi),
        ("waist_cm", Waist),
        ("systolic_mmhg", Systolic),
        ("diastolic_mmhg", Diastolic),
        ("fasting_glucose_mg_dl", FastingGlucose),
        ("hba1c_percent", HbA1c),
        ("triglycerides_mg_dl", Triglycerides),
        ("hdl_mg_dl", Hdl),
        ("ldl_mg_dl", Ldl),
        ("ast_u_l", Ast),
        ("alt_u_l", Alt),
        ("ggt_u_l", Ggt),
        ("urine_glucose", UrineGlucose),
        ("urine_protein", UrineProtein),
    ]
};

fn urine(s: &str) -> Result<onshi_oqs::UrineLevel, String> {
    use onshi_oqs::UrineLevel::*;
    Ok(match s {
        "-" => Negative,
        "+-" => Trace,
        "1+" => Plus1,
        "2+" => Plus2,
        "3+" => Plus3,
        other => return Err(format!("urine result {other:?}")),
    })
}

fn checkup_entry(v: &serde_json::Value) -> Result<onshi_oqs::CheckupEntry, String> {
    let mut results = Vec::with_capacity(CHECKUP_FIELDS.len());
    for (key, item) in CHECKUP_FIELDS {
        let value = match v.get(*key) {
            None | Some(serde_json::Value::Null) => continue,
            Some(serde_json::Value::String(s)) => onshi_oqs::CheckupValue::Urine(urine(s)?),
            Some(serde_json::Value::Number(n)) => onshi_oqs::CheckupValue::Quantity(n.to_string()),
            Some(other) => return Err(format!("{key}: {other}")),
        };
        results.push((*item, value));
    }
    Ok(onshi_oqs::CheckupEntry {
        performed_on: day(v, "performed_on")?,
        institution: Some(institution(v, "institution_code")?),
        results,
    })
}

impl BlockingCenter {
    /// [`CenterClient::history_by_card`], blocking.
    pub fn history_by_card(
        &self,
        kind: HistoryKind,
        body: &HistoryByCardBody<'_>,
    ) -> Result<HistoryByCard, CenterError> {
        self.block_on(self.client().history_by_card(kind, body))
    }
}
