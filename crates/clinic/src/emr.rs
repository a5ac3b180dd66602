//! The center's EMR operations as the terminal calls them for the folder interface:
//! 照会番号 registration (`OQSsiimm01`) and the bulk check (`OQSmuquc01` submits,
//! `OQSmuquc02` fetches). The bulk check is processed and kept at the center, so a
//! terminal restart between the two files loses nothing.

use chrono::NaiveDate;
use onshi_model::{EligibilityResult, InstitutionCode, InsuranceDataQuery};
use serde::{Deserialize, Serialize};

use crate::center::{BlockingCenter, CenterClient, CenterError};
use crate::wire::Problem;

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
