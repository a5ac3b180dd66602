//! Reads: the lookups of the eligibility hot path and the listings of the admin pages.

use std::sync::LazyLock;

use chrono::{NaiveDate, NaiveDateTime};
use onshi_model::*;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::rows::*;
use crate::write::{PERSON_COLS, RECORD_COLS};
use crate::{Store, StoreError};

/// A record with the person it covers, the 本人's name and the insurer's name: all the
/// eligibility result needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordView {
    pub record: RecordRow,
    pub person: PersonRow,
    /// 被保険者氏名: the full name of the record's 本人.
    pub insured_name: String,
    pub insurer_name: Option<String>,
}

/// A registered institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstitutionRow {
    pub code: InstitutionCode,
    pub kind: InstitutionKind,
    pub name: String,
    pub prefecture: Prefecture,
    pub address: String,
    pub post_number: String,
    pub active: bool,
}

/// A recorded eligibility check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRow {
    pub id: i64,
    pub checked_at: NaiveDateTime,
    pub institution_code: String,
    pub method: VerificationMethod,
    pub reference: ReferenceClassification,
    pub as_of: NaiveDate,
    pub validity: QualificationValidity,
    pub person_id: Option<i64>,
    pub record_id: Option<i64>,
    pub query: String,
}

static RECORD_VIEW_SELECT: LazyLock<String> = LazyLock::new(|| {
    let mut cols: Vec<String> = RECORD_COLS
        .iter()
        .map(|c| format!("r.{c} AS r_{c}"))
        .collect();
    cols.extend(PERSON_COLS.iter().map(|c| format!("p.{c} AS p_{c}")));
    format!(
        "SELECT {}, h.family_name AS h_family, h.given_name AS h_given, i.name AS insurer_name \
         FROM insured_records r \
         JOIN persons p ON p.id = r.person_id \
         JOIN persons h ON h.id = r.insured_person_id \
         LEFT JOIN insurers i ON i.number = r.insurer_number",
        cols.join(", ")
    )
});

static BY_CARD: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} WHERE r.insurer_number = $1 AND r.number = $2 AND r.symbol = $3 AND ($4 = '' OR r.branch = $4) AND p.birth_date = $5 \
         ORDER BY r.qualification_date, r.id",
        *RECORD_VIEW_SELECT
    )
});

static BY_CARD_ANY_BIRTH: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} WHERE r.insurer_number = $1 AND r.number = $2 AND r.symbol = $3 AND ($4 = '' OR r.branch = $4) \
         ORDER BY r.qualification_date, r.id",
        *RECORD_VIEW_SELECT
    )
});

static SAMPLE_IN_FORCE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} WHERE r.qualification_date <= $1 AND (r.disqualification_date IS NULL OR r.disqualification_date > $1) \
         AND r.personal_family = $2 ORDER BY r.id LIMIT $3",
        *RECORD_VIEW_SELECT
    )
});

static BY_PERSON: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} WHERE r.person_id = $1 ORDER BY r.qualification_date, r.id",
        *RECORD_VIEW_SELECT
    )
});

fn corrupt(table: &'static str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table,
        detail: detail.to_string(),
    }
}

fn date(row: &AnyRow, col: &str, table: &'static str) -> Result<NaiveDate, StoreError> {
    let v: i64 = row.try_get(col)?;
    date_from_db(v).ok_or_else(|| corrupt(table, format!("{col} = {v}")))
}

fn opt_date(row: &AnyRow, col: &str, table: &'static str) -> Result<Option<NaiveDate>, StoreError> {
    let v: Option<i64> = row.try_get(col)?;
    v.map(|v| date_from_db(v).ok_or_else(|| corrupt(table, format!("{col} = {v}"))))
        .transpose()
}

pub(crate) fn decode_person(row: &AnyRow, p: &str) -> Result<PersonRow, StoreError> {
    const T: &str = "persons";
    let c = |n: &str| format!("{p}{n}");
    let text =
        |n: &str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(c(n).as_str())?) };
    let name = PersonName::new(
        &text("family_name")?,
        &text("given_name")?,
        &text("family_kana")?,
        &text("given_kana")?,
    )
    .map_err(|e| corrupt(T, e))?;
    let sex: i64 = row.try_get(c("sex").as_str())?;
    let pref: i64 = row.try_get(c("prefecture").as_str())?;
    Ok(PersonRow {
        id: row.try_get(c("id").as_str())?,
        household_id: row.try_get(c("household_id").as_str())?,
        name,
        birth_date: date(row, &c("birth_date"), T)?,
        sex: Sex::from_iso5218(sex as u8).map_err(|e| corrupt(T, e))?,
        post_number: text("post_number")?,
        address: text("address")?,
        prefecture: Prefecture::from_code(pref as u8).map_err(|e| corrupt(T, e))?,
        my_number: MyNumber::parse(&text("my_number")?).map_err(|e| corrupt(T, e))?,
        death_date: opt_date(row, &c("death_date"), T)?,
        face_seed: row.try_get(c("face_seed").as_str())?,
        card_issued_on: opt_date(row, &c("card_issued_on"), T)?,
        linked_on: opt_date(row, &c("linked_on"), T)?,
    })
}

fn decode_record(row: &AnyRow, p: &str) -> Result<RecordRow, StoreError> {
    const T: &str = "insured_records";
    let c = |n: &str| format!("{p}{n}");
    let text =
        |n: &str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(c(n).as_str())?) };
    let symbol = text("symbol")?;
    let extras: Option<String> = row.try_get(c("extras").as_str())?;
    let reason: Option<String> = row.try_get(c("reason_of_loss").as_str())?;
    let ratio: i64 = row.try_get(c("burden_ratio").as_str())?;
    Ok(RecordRow {
        id: row.try_get(c("id").as_str())?,
        person_id: row.try_get(c("person_id").as_str())?,
        insurer_number: InsurerNumber::parse(&text("insurer_number")?)
            .map_err(|e| corrupt(T, e))?,
        symbol: if symbol.is_empty() {
            None
        } else {
            Some(InsuredCardSymbol::parse(&symbol).map_err(|e| corrupt(T, e))?)
        },
        number: InsuredNumber::parse(&text("number")?).map_err(|e| corrupt(T, e))?,
        branch: BranchNumber::parse(&text("branch")?).map_err(|e| corrupt(T, e))?,
        personal_family: PersonalFamilyClassification::parse(&text("personal_family")?)
            .map_err(|e| corrupt(T, e))?,
        insured_person_id: row.try_get(c("insured_person_id").as_str())?,
        card_classification: InsuredCardClassification::parse(&text("card_classification")?)
            .map_err(|e| corrupt(T, e))?,
        qualification_date: date(row, &c("qualification_date"), T)?,
        disqualification_date: opt_date(row, &c("disqualification_date"), T)?,
        reason_of_loss: reason
            .map(|r| ReasonOfLoss::parse(&r))
            .transpose()
            .map_err(|e| corrupt(T, e))?,
        card_valid_date: date(row, &c("card_valid_date"), T)?,
        card_expiration_date: opt_date(row, &c("card_expiration_date"), T)?,
        burden_ratio: BurdenRatio::try_from(ratio as u8).map_err(|e| corrupt(T, e))?,
        extras: match extras {
            Some(j) => serde_json::from_str(&j).map_err(|e| corrupt(T, e))?,
            None => RecordExtras::default(),
        },
    })
}

fn decode_check(r: &AnyRow) -> Result<CheckRow, StoreError> {
    const T: &str = "eligibility_checks";
    let at: i64 = r.try_get("checked_at")?;
    Ok(CheckRow {
        id: r.try_get("id")?,
        checked_at: instant_from_db(at).ok_or_else(|| corrupt(T, "checked_at"))?,
        institution_code: r.try_get("institution_code")?,
        method: VerificationMethod::parse(&r.try_get::<String, _>("method")?)
            .map_err(|e| corrupt(T, e))?,
        reference: ReferenceClassification::parse(&r.try_get::<String, _>("reference")?)
            .map_err(|e| corrupt(T, e))?,
        as_of: date(r, "as_of", T)?,
        validity: QualificationValidity::parse(&r.try_get::<String, _>("validity")?)
            .map_err(|e| corrupt(T, e))?,
        person_id: r.try_get("person_id")?,
        record_id: r.try_get("record_id")?,
        query: r.try_get("query")?,
    })
}

pub(crate) fn decode_view(row: &AnyRow) -> Result<RecordView, StoreError> {
    let family: String = row.try_get("h_family")?;
    let given: String = row.try_get("h_given")?;
    Ok(RecordView {
        record: decode_record(row, "r_")?,
        person: decode_person(row, "p_")?,
        insured_name: format!("{family}\u{3000}{given}"),
        insurer_name: row.try_get("insurer_name")?,
    })
}

impl Store {
    /// Records matching what is printed on an insurance card or 資格確認書, for a person
    /// born on `birth_date`. A missing symbol matches records without one; a missing
    /// branch number matches every branch.
    pub async fn records_by_card(
        &self,
        insurer: &InsurerNumber,
        number: &InsuredNumber,
        symbol: Option<&InsuredCardSymbol>,
        branch: Option<BranchNumber>,
        birth_date: NaiveDate,
    ) -> Result<Vec<RecordView>, StoreError> {
        let rows = sqlx::query(BY_CARD.as_str())
            .bind(insurer.as_str())
            .bind(number.as_str())
            .bind(symbol.map(|s| s.as_str()).unwrap_or(""))
            .bind(branch.as_ref().map(|b| b.as_str()).unwrap_or(""))
            .bind(date_to_db(birth_date))
            .fetch_all(self.read_pool())
            .await?;
        rows.iter().map(decode_view).collect()
    }

    /// Records matching what is printed on an insurance card or 資格確認書, whoever they
    /// belong to: without a branch number a whole family's records match. For requests
    /// that carry no birth date (the medication and check-up requests); the caller must
    /// narrow the persons down by something else (a consent) before showing anything.
    pub async fn records_by_card_any_birth(
        &self,
        insurer: &InsurerNumber,
        number: &InsuredNumber,
        symbol: Option<&InsuredCardSymbol>,
        branch: Option<BranchNumber>,
    ) -> Result<Vec<RecordView>, StoreError> {
        let rows = sqlx::query(BY_CARD_ANY_BIRTH.as_str())
            .bind(insurer.as_str())
            .bind(number.as_str())
            .bind(symbol.map(|s| s.as_str()).unwrap_or(""))
            .bind(branch.as_ref().map(|b| b.as_str()).unwrap_or(""))
            .fetch_all(self.read_pool())
            .await?;
        rows.iter().map(decode_view).collect()
    }

    /// The first `limit` records in force on `day` (本人 or 家族), for examples and tests.
    pub async fn sample_in_force(
        &self,
        day: NaiveDate,
        family: PersonalFamilyClassification,
        limit: i64,
    ) -> Result<Vec<RecordView>, StoreError> {
        let rows = sqlx::query(SAMPLE_IN_FORCE.as_str())
            .bind(date_to_db(day))
            .bind(family.code())
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(decode_view).collect()
    }

    /// Every record of a person, oldest first.
    pub async fn records_of_person(&self, person_id: i64) -> Result<Vec<RecordView>, StoreError> {
        let rows = sqlx::query(BY_PERSON.as_str())
            .bind(person_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(decode_view).collect()
    }

    /// A person by id.
    pub async fn person(&self, id: i64) -> Result<Option<PersonRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM persons WHERE id = $1",
            PERSON_COLS.join(", ")
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(|r| decode_person(r, "")).transpose()
    }

    /// A registered institution, active or not.
    pub async fn institution(
        &self,
        code: &InstitutionCode,
    ) -> Result<Option<InstitutionRow>, StoreError> {
        let row = sqlx::query("SELECT code, kind, name, prefecture, address, post_number, active FROM institutions WHERE code = $1")
            .bind(code.as_str())
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        const T: &str = "institutions";
        let pref: i64 = row.try_get("prefecture")?;
        let active: i64 = row.try_get("active")?;
        Ok(Some(InstitutionRow {
            code: InstitutionCode::parse(&row.try_get::<String, _>("code")?)
                .map_err(|e| corrupt(T, e))?,
            kind: InstitutionKind::parse(&row.try_get::<String, _>("kind")?)
                .map_err(|e| corrupt(T, e))?,
            name: row.try_get("name")?,
            prefecture: Prefecture::from_code(pref as u8).map_err(|e| corrupt(T, e))?,
            address: row.try_get("address")?,
            post_number: row.try_get("post_number")?,
            active: active != 0,
        }))
    }

    /// Some registered institutions, for examples and listings.
    pub async fn institution_codes(&self, limit: i64) -> Result<Vec<InstitutionCode>, StoreError> {
        let rows = sqlx::query("SELECT code FROM institutions ORDER BY code LIMIT $1")
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                InstitutionCode::parse(&r.try_get::<String, _>("code")?)
                    .map_err(|e| corrupt("institutions", e))
            })
            .collect()
    }

    /// The latest checks, newest first, optionally for one institution.
    pub async fn recent_checks(
        &self,
        institution: Option<&InstitutionCode>,
        limit: i64,
    ) -> Result<Vec<CheckRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, checked_at, institution_code, method, reference, as_of, validity, person_id, record_id, query \
             FROM eligibility_checks WHERE ($1 = '' OR institution_code = $1) ORDER BY checked_at DESC, id DESC LIMIT $2",
        )
        .bind(institution.map(|c| c.as_str()).unwrap_or(""))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(decode_check).collect()
    }

    /// Checks matching one `column = $1` condition on an integer.
    pub(crate) async fn checks_where(
        &self,
        condition: &'static str,
        value: i64,
    ) -> Result<Vec<CheckRow>, StoreError> {
        let sql = format!(
            "SELECT id, checked_at, institution_code, method, reference, as_of, validity, person_id, record_id, query \
             FROM eligibility_checks WHERE {condition} ORDER BY checked_at DESC, id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(decode_check).collect()
    }

    /// Rows in a table (for the demo banner, statistics and tests).
    pub async fn count(&self, table: Table) -> Result<i64, StoreError> {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {}",
            table.name()
        )))
        .fetch_one(self.pool())
        .await?;
        Ok(n)
    }

    /// Audit entries, newest first, optionally filtered by action.
    pub async fn audit_entries(
        &self,
        action: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(i64, NaiveDateTime, String, String, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, subject, detail FROM audit_log WHERE ($1 = '' OR action = $1) ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(action.unwrap_or(""))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let at: i64 = r.try_get("at")?;
                Ok((
                    r.try_get("id")?,
                    instant_from_db(at).ok_or_else(|| corrupt("audit_log", "at"))?,
                    r.try_get("actor")?,
                    r.try_get("action")?,
                    r.try_get("subject")?,
                    r.try_get("detail")?,
                ))
            })
            .collect()
    }
}

/// The tables [`Store::count`] can count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Persons,
    Insurers,
    Institutions,
    InsuredRecords,
    InsuredRecordEvents,
    EligibilityChecks,
    AuditLog,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Self::Persons => "persons",
            Self::Insurers => "insurers",
            Self::Institutions => "institutions",
            Self::InsuredRecords => "insured_records",
            Self::InsuredRecordEvents => "insured_record_events",
            Self::EligibilityChecks => "eligibility_checks",
            Self::AuditLog => "audit_log",
        }
    }
}
