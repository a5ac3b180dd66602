//! Eligibility by insurance data (the 資格確認書 / 保険証 path): the rule that turns the
//! records matching a query into a QualificationValidity and a result.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use onshi_model::*;
use onshi_store::{NewCheck, RecordView, Store};
use serde::Deserialize;

use crate::error::ApiError;

/// The JSON request of `POST /v1/eligibility/insurance-data`, as received: every field
/// is text here and is validated into model types by [`validate_insurance_query`], so
/// that each fault is reported against its field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsuranceDataRequest {
    pub institution_code: String,
    pub insurer_number: String,
    #[serde(default)]
    pub symbol: Option<String>,
    pub number: String,
    #[serde(default)]
    pub branch: Option<String>,
    /// `YYYY-MM-DD` or `YYYYMMDD`.
    pub birth_date: String,
    /// The date to evaluate on; today in Japan when absent.
    #[serde(default)]
    pub as_of: Option<String>,
    #[serde(default)]
    pub limit_consent: Option<bool>,
}

/// A model constructor's refusal as the request field at fault.
pub(crate) fn field<T>(
    field: &'static str,
    label_ja: &'static str,
    r: Result<T, ModelError>,
) -> Result<T, ApiError> {
    r.map_err(|e| ApiError::InvalidField {
        field,
        label_ja,
        reason: e.to_string(),
    })
}

fn parse_date(s: &str) -> Result<NaiveDate, ModelError> {
    if s.len() == 10 {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ModelError::Date(s.to_owned()))
    } else {
        parse_yyyymmdd(s)
    }
}

/// Validates a request into the institution, the query and the evaluation date.
pub fn validate_insurance_query(
    req: &InsuranceDataRequest,
    today: NaiveDate,
) -> Result<(InstitutionCode, InsuranceDataQuery, NaiveDate), ApiError> {
    let institution = field(
        "institution_code",
        "医療機関コード",
        InstitutionCode::parse(&req.institution_code),
    )?;
    let insurer_number = field(
        "insurer_number",
        "保険者番号",
        InsurerNumber::parse(&req.insurer_number),
    )?;
    let symbol = match req.symbol.as_deref() {
        None | Some("") => None,
        Some(s) => Some(field("symbol", "記号", InsuredCardSymbol::parse(s))?),
    };
    let number = field("number", "番号", InsuredNumber::parse(&req.number))?;
    let branch = match req.branch.as_deref() {
        None | Some("") => None,
        Some(s) => Some(field("branch", "枝番", BranchNumber::parse(s))?),
    };
    let birth_date = field("birth_date", "生年月日", parse_date(&req.birth_date))?;
    let as_of = match req.as_of.as_deref() {
        None | Some("") => today,
        Some(s) => field("as_of", "資格確認日", parse_date(s))?,
    };
    if birth_date > as_of {
        return Err(ApiError::InvalidField {
            field: "birth_date",
            label_ja: "生年月日",
            reason: "生年月日が確認日より後です / birth date is after the date checked".into(),
        });
    }
    Ok((
        institution,
        InsuranceDataQuery {
            insurer_number,
            symbol,
            number,
            branch,
            birth_date,
            limit_consent: req.limit_consent.unwrap_or(false),
        },
        as_of,
    ))
}

/// The result of a check together with what was recorded about it.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    pub result: EligibilityResult,
    pub check_id: i64,
}

/// 未就学: a child before the 1 April following their 6th birthday.
fn is_preschool(birth: NaiveDate, on: NaiveDate) -> bool {
    // The school year starts on 1 April; children born on 1 April join the year before.
    let sixth = birth.year() + 6;
    let school_start_year = if (birth.month(), birth.day()) <= (4, 1) {
        sixth
    } else {
        sixth + 1
    };
    let school_start = NaiveDate::from_ymd_opt(school_start_year, 4, 1).expect("valid date");
    on < school_start
}

/// Builds one qualification of the result from a stored record.
pub(crate) fn qualification(
    v: &RecordView,
    as_of: NaiveDate,
    limit_consent: Option<NaiveDateTime>,
) -> Qualification {
    let r = &v.record;
    let p = &v.person;
    Qualification {
        card_classification: r.card_classification,
        insurer_number: r.insurer_number.clone(),
        insurer_name: v
            .insurer_name
            .clone()
            .or_else(|| InsurerKind::of(&r.insurer_number).map(|k| k.name_ja().to_owned()))
            .unwrap_or_default(),
        symbol: r.symbol.clone(),
        number: r.number.clone(),
        branch: Some(r.branch),
        personal_family: r.personal_family,
        insured_name: v.insured_name.clone(),
        name: p.name.full(),
        name_of_other: None,
        name_kana: p.name.kana_halfwidth(),
        name_of_other_kana: None,
        sex1: p.sex.oqs(),
        sex2: None,
        birth_date: p.birth_date,
        address: p.address.clone(),
        post_number: Some(p.post_number.clone()),
        qualification_date: r.qualification_date,
        disqualification_date: r.disqualification_date,
        reason_of_loss: r.reason_of_loss,
        card_valid_date: Some(r.card_valid_date),
        card_expiration_date: r.card_expiration_date,
        burden_ratio: Some(r.burden_ratio),
        preschool: is_preschool(p.birth_date, as_of).then_some(PreschoolClassification::Preschool),
        elderly_recipient: r.extras.elderly_recipient.clone(),
        limit_consent: if limit_consent.is_some() {
            ConsentFlag::Consented
        } else {
            ConsentFlag::NotConsented
        },
        limit_consent_time: limit_consent,
        limit: limit_consent.and(r.extras.limit.clone()),
        specific_diseases: r.extras.specific_diseases.clone(),
        consents: Vec::new(),
        reference_number: None,
    }
}

/// Decides validity among the records matching a query on `as_of`, consulting the
/// person's other records for the job-change rule. Returns the validity and the records
/// to report.
pub(crate) async fn decide(
    store: &Store,
    matches: Vec<RecordView>,
    as_of: NaiveDate,
) -> Result<(QualificationValidity, Vec<RecordView>), ApiError> {
    let (current, rest): (Vec<_>, Vec<_>) = matches
        .into_iter()
        .partition(|v| v.record.in_force_on(as_of));
    let mut lost: Vec<RecordView> = rest
        .into_iter()
        .filter(|v| v.record.disqualification_date.is_some_and(|d| d <= as_of))
        .collect();
    // The most recently lost record is the one the patient's document belongs to.
    lost.sort_by_key(|v| v.record.disqualification_date);
    let newer_exists = match lost.last() {
        Some(last) if current.is_empty() => store
            .records_of_person(last.person.id)
            .await?
            .iter()
            .any(|o| o.record.id != last.record.id && o.record.in_force_on(as_of)),
        _ => false,
    };
    let validity = decide_validity(current.len(), lost.len(), newer_exists);
    let records = match validity {
        QualificationValidity::Valid | QualificationValidity::Several => current,
        QualificationValidity::Invalid | QualificationValidity::InvalidNewerExists => {
            lost.pop().into_iter().collect()
        }
        _ => Vec::new(),
    };
    Ok((validity, records))
}

/// The card path's rule: a card identifies the person, so the result is the person's
/// qualification in force on `as_of` (several → 複数該当), else their most recently lost
/// one (無効), else none (該当資格なし).
pub(crate) fn decide_for_person(
    views: Vec<RecordView>,
    as_of: NaiveDate,
) -> (QualificationValidity, Vec<RecordView>) {
    let (current, rest): (Vec<_>, Vec<_>) =
        views.into_iter().partition(|v| v.record.in_force_on(as_of));
    match current.len() {
        1 => (QualificationValidity::Valid, current),
        n if n > 1 => (QualificationValidity::Several, current),
        _ => {
            let lost = rest
                .into_iter()
                .filter(|v| v.record.disqualification_date.is_some_and(|d| d <= as_of))
                .max_by_key(|v| v.record.disqualification_date);
            match lost {
                Some(v) => (QualificationValidity::Invalid, vec![v]),
                None => (QualificationValidity::NotFound, Vec::new()),
            }
        }
    }
}

/// Checks eligibility by insurance data for a registered institution and records the
/// check. The record is committed before the result is returned.
pub async fn check_by_insurance_data(
    store: &Store,
    institution: InstitutionCode,
    query: &InsuranceDataQuery,
    as_of: NaiveDate,
    now: NaiveDateTime,
) -> Result<CheckOutcome, ApiError> {
    match store.institution(&institution).await? {
        None => return Err(ApiError::InstitutionNotRegistered(institution.to_string())),
        Some(i) if !i.active => return Err(ApiError::InstitutionInactive(institution.to_string())),
        Some(_) => {}
    }
    let matches = store
        .records_by_card(
            &query.insurer_number,
            &query.number,
            query.symbol.as_ref(),
            query.branch,
            query.birth_date,
        )
        .await?;
    let (validity, views) = decide(store, matches, as_of).await?;
    let limit_time = query.limit_consent.then_some(now);
    let mut records: Vec<Qualification> = views
        .iter()
        .map(|v| qualification(v, as_of, limit_time))
        .collect();
    crate::emr::attach_reference_numbers(store, &institution, &views, &mut records).await?;
    let single = (views.len() == 1).then(|| &views[0]);
    let check_id = store
        .record_check(&NewCheck {
            checked_at: now,
            institution_code: institution,
            method: VerificationMethod::InsuranceData,
            reference: ReferenceClassification::InsuranceData,
            as_of,
            validity,
            person_id: single.map(|v| v.person.id),
            record_id: single.map(|v| v.record.id),
            query: format!(
                "{}/{}/{}/{}",
                query.insurer_number,
                query.symbol.as_ref().map(|s| s.as_str()).unwrap_or(""),
                query.number,
                query
                    .branch
                    .map(|b| b.as_str().to_owned())
                    .unwrap_or_default()
            ),
        })
        .await?;
    Ok(CheckOutcome {
        result: EligibilityResult {
            reference: ReferenceClassification::InsuranceData,
            validity,
            processed_at: now,
            as_of,
            records,
        },
        check_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preschool_until_the_april_after_the_sixth_birthday() {
        let d = |s| parse_yyyymmdd(s).unwrap();
        assert!(is_preschool(d("20190501"), d("20260331")));
        assert!(!is_preschool(d("20190501"), d("20260401")));
        // Born on 1 April: starts school a year earlier.
        assert!(!is_preschool(d("20190401"), d("20250401")));
        assert!(is_preschool(d("20190402"), d("20250401")));
    }
}
