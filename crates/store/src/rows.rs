//! The rows the store writes, in the model's types.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use onshi_model::{
    BranchNumber, BurdenRatio, ElderlyRecipientInfo, InstitutionCode, InstitutionKind,
    InsuredCardClassification, InsuredCardSymbol, InsuredNumber, InsurerKind, InsurerNumber,
    LimitInfo, MyNumber, PersonName, PersonalFamilyClassification, Prefecture,
    QualificationValidity, ReasonOfLoss, ReferenceClassification, Sex, SpecificDiseaseInfo,
    VerificationMethod,
};
use serde::{Deserialize, Serialize};

/// An insurer (保険者).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsurerRow {
    pub number: InsurerNumber,
    pub kind: InsurerKind,
    pub name: String,
    pub prefecture: Prefecture,
    pub address: String,
}

/// A medical institution as registered with the center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInstitution {
    pub code: InstitutionCode,
    pub kind: InstitutionKind,
    pub name: String,
    pub prefecture: Prefecture,
    pub address: String,
    pub post_number: String,
}

/// A person of the resident registry as the center knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    pub id: i64,
    pub household_id: i64,
    pub name: PersonName,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub post_number: String,
    pub address: String,
    pub prefecture: Prefecture,
    pub my_number: MyNumber,
    pub death_date: Option<NaiveDate>,
    pub face_seed: i64,
    pub card_issued_on: Option<NaiveDate>,
    pub linked_on: Option<NaiveDate>,
}

/// The parts of an insured record that few records have, kept together as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordExtras {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<LimitInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elderly_recipient: Option<ElderlyRecipientInfo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub specific_diseases: Vec<SpecificDiseaseInfo>,
}

impl RecordExtras {
    pub fn is_empty(&self) -> bool {
        self.limit.is_none()
            && self.elderly_recipient.is_none()
            && self.specific_diseases.is_empty()
    }
}

/// An insured record (資格): one person's membership of one insurer for a span of dates.
/// `disqualification_date` is the 資格喪失日, the first day without coverage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRow {
    pub id: i64,
    pub person_id: i64,
    pub insurer_number: InsurerNumber,
    pub symbol: Option<InsuredCardSymbol>,
    pub number: InsuredNumber,
    pub branch: BranchNumber,
    pub personal_family: PersonalFamilyClassification,
    pub insured_person_id: i64,
    pub card_classification: InsuredCardClassification,
    pub qualification_date: NaiveDate,
    pub disqualification_date: Option<NaiveDate>,
    pub reason_of_loss: Option<ReasonOfLoss>,
    pub card_valid_date: NaiveDate,
    pub card_expiration_date: Option<NaiveDate>,
    pub burden_ratio: BurdenRatio,
    pub extras: RecordExtras,
}

impl RecordRow {
    /// In force on `day`: acquired on or before it and not lost on or before it.
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        self.qualification_date <= day && self.disqualification_date.is_none_or(|d| d > day)
    }
}

/// One eligibility check to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCheck {
    pub checked_at: NaiveDateTime,
    pub institution_code: InstitutionCode,
    pub method: VerificationMethod,
    pub reference: ReferenceClassification,
    pub as_of: NaiveDate,
    pub validity: QualificationValidity,
    pub person_id: Option<i64>,
    pub record_id: Option<i64>,
    /// What was asked, for the audit trail (no secrets).
    pub query: String,
}

/// `yyyymmdd` as stored.
pub(crate) fn date_to_db(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

pub(crate) fn date_from_db(v: i64) -> Option<NaiveDate> {
    let y = i32::try_from(v / 10_000).ok()?;
    NaiveDate::from_ymd_opt(y, (v / 100 % 100) as u32, (v % 100) as u32)
}

/// Microseconds since the epoch (UTC) as stored.
pub(crate) fn instant_to_db(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_micros()
}

pub(crate) fn instant_from_db(v: i64) -> Option<NaiveDateTime> {
    chrono::DateTime::from_timestamp_micros(v).map(|t| t.naive_utc())
}

/// The stable text form of an enum that serde writes as a string.
pub(crate) fn enum_text<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        other => panic!("enum did not serialise to a string: {other:?}"),
    }
}
