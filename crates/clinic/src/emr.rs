//! The center's EMR operations as the terminal calls them for the folder interface:
//! 照会番号 registration (`OQSsiimm01`) and the bulk check (`OQSmuquc01` submits,
//! `OQSmuquc02` fetches). The bulk check is processed and kept at the center, so a
//! terminal restart between the two files loses nothing.

use chrono::NaiveDate;
use onshi_model::{EligibilityResult, InstitutionCode, InsuranceDataQuery};
use serde::{Deserialize, Serialize};

use crate::center::{BlockingCenter, CenterClient, CenterError};
use crate::wire::{HistoryKind, Problem};

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

    /// [`CenterClient::fetch_bulk`], blocking.
    pub fn fetch_bulk(&self, reception_number: &str) -> Result<BulkCheck, CenterError> {
        self.block_on(self.client().fetch_bulk(reception_number))
    }
}

/// The medication (薬剤情報) or check-up (特定健診等情報) rows the center gave, as the
/// table of a `YZKsiquc01` / `TKKsiquc01` answer (element names of onshi's design).
pub fn history_table(kind: HistoryKind, rows: &[serde_json::Value]) -> onshi_oqs::HistoryTable {
    let (title, list, item, columns): (_, _, _, &[(&'static str, &'static str, &str, &str)]) =
        match kind {
            HistoryKind::Checkups => (
                "特定健診等情報",
                "SpecificHealthCheckupInfoList",
                "SpecificHealthCheckupInfo",
                &[
                    ("ImplementationDate", "実施日", "performed_on", ""),
                    ("CheckupKind", "種別", "kind", ""),
                    (
                        "ImplementationInstitutionCode",
                        "実施機関",
                        "institution_code",
                        "",
                    ),
                    ("Height", "身長", "height_cm", "cm"),
                    ("Weight", "体重", "weight_kg", "kg"),
                    ("BMI", "BMI", "bmi", ""),
                    ("WaistCircumference", "腹囲", "waist_cm", "cm"),
                    (
                        "SystolicBloodPressure",
                        "収縮期血圧",
                        "systolic_mmhg",
                        "mmHg",
                    ),
                    (
                        "DiastolicBloodPressure",
                        "拡張期血圧",
                        "diastolic_mmhg",
                        "mmHg",
                    ),
                    ("HbA1c", "HbA1c", "hba1c_percent", "%"),
                    (
                        "FastingBloodSugar",
                        "空腹時血糖",
                        "fasting_glucose_mg_dl",
                        "mg/dL",
                    ),
                    ("LDLCholesterol", "LDLコレステロール", "ldl_mg_dl", "mg/dL"),
                    ("HDLCholesterol", "HDLコレステロール", "hdl_mg_dl", "mg/dL"),
                    ("Triglyceride", "中性脂肪", "triglycerides_mg_dl", "mg/dL"),
                    ("AST", "AST", "ast_u_l", "U/L"),
                    ("ALT", "ALT", "alt_u_l", "U/L"),
                    ("GammaGT", "γ-GT", "ggt_u_l", "U/L"),
                    ("UrineProtein", "尿蛋白", "urine_protein", ""),
                    ("UrineSugar", "尿糖", "urine_glucose", ""),
                ],
            ),
            _ => (
                "薬剤情報",
                "PharmaceuticalInfoList",
                "PharmaceuticalInfo",
                &[
                    ("DispensingDate", "調剤日", "dispensed_on", ""),
                    ("DrugCode", "薬剤コード", "drug_code", ""),
                    ("DrugName", "薬剤名", "drug_name", ""),
                    ("Usage", "用法・用量", "dose", ""),
                    ("Quantity", "数量", "quantity", ""),
                    ("Unit", "単位", "unit", ""),
                    ("DaysSupplied", "日数", "days_supplied", "日"),
                    (
                        "PrescribingInstitutionCode",
                        "処方医療機関",
                        "prescriber",
                        "",
                    ),
                    ("PharmacyCode", "調剤薬局", "pharmacy", ""),
                ],
            ),
        };
    let cell = |v: &serde_json::Value, key: &str| -> String {
        match v.get(key) {
            Some(serde_json::Value::String(s)) if key.ends_with("_on") => s.replace('-', ""),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    };
    onshi_oqs::HistoryTable {
        title,
        list,
        item,
        columns: columns.iter().map(|(e, ja, _, _)| (*e, *ja)).collect(),
        rows: rows
            .iter()
            .map(|r| columns.iter().map(|(_, _, key, _)| cell(r, key)).collect())
            .collect(),
    }
}

impl BlockingCenter {
    /// [`CenterClient::history`], blocking.
    pub fn history_rows(
        &self,
        reception: &str,
        kind: HistoryKind,
    ) -> Result<Vec<serde_json::Value>, CenterError> {
        self.block_on(self.client().history(reception, kind))
    }
}
