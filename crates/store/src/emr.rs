//! What the EMR interface keeps: the clinics' 照会番号 (their own patient ids), the bulk
//! checks (一括照会) from submission to result, and the consents patients give at home for
//! 訪問診療 and オンライン診療 that the clinics' bulk searches find.
//!
//! The store keeps the rows; what a bulk request's queries and results mean (they are
//! JSON written and read by the center) and who may read them is the center's business.

use chrono::{NaiveDate, NaiveDateTime};
use onshi_model::InstitutionCode;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::rows::{date_from_db, date_to_db, instant_from_db, instant_to_db};
use crate::{Store, StoreError};

/// A 照会番号 as registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceNumberRow {
    pub institution_code: String,
    pub person_id: i64,
    pub reference_number: String,
    /// The record the registration named.
    pub record_id: i64,
    pub registered_at: NaiveDateTime,
}

/// The state of a bulk check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkStatus {
    /// Stored, not yet answered.
    Processing,
    /// Answered: the results are stored.
    Done,
}

impl BulkStatus {
    /// The text stored.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Processing => "processing",
            Self::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "processing" => Some(Self::Processing),
            "done" => Some(Self::Done),
            _ => None,
        }
    }
}

/// A bulk check to store.
#[derive(Debug, Clone)]
pub struct NewBulkCheck {
    pub reception_number: String,
    pub institution_code: InstitutionCode,
    pub submitted_at: NaiveDateTime,
    pub as_of: NaiveDate,
    pub query_count: i64,
    /// The queries, as the center serialises them.
    pub queries: String,
}

/// A bulk check as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkCheckRow {
    pub reception_number: String,
    pub institution_code: String,
    pub submitted_at: NaiveDateTime,
    pub as_of: NaiveDate,
    pub query_count: i64,
    pub queries: String,
    pub status: BulkStatus,
    /// The results, as the center serialised them (with [`BulkStatus::Done`]).
    pub results: Option<String>,
    pub finished_at: Option<NaiveDateTime>,
}

const BULK_COLS: &str = "reception_number, institution_code, submitted_at, as_of, query_count, queries, status, results, finished_at";

fn corrupt(table: &'static str, detail: String) -> StoreError {
    StoreError::Corrupt { table, detail }
}

fn decode_bulk(r: &AnyRow) -> Result<BulkCheckRow, StoreError> {
    const T: &str = "bulk_checks";
    let submitted: i64 = r.try_get("submitted_at")?;
    let as_of: i64 = r.try_get("as_of")?;
    let status: String = r.try_get("status")?;
    let finished: Option<i64> = r.try_get("finished_at")?;
    Ok(BulkCheckRow {
        reception_number: r.try_get("reception_number")?,
        institution_code: r.try_get("institution_code")?,
        submitted_at: instant_from_db(submitted)
            .ok_or_else(|| corrupt(T, format!("submitted_at = {submitted}")))?,
        as_of: date_from_db(as_of).ok_or_else(|| corrupt(T, format!("as_of = {as_of}")))?,
        query_count: r.try_get("query_count")?,
        queries: r.try_get("queries")?,
        status: BulkStatus::parse(&status)
            .ok_or_else(|| corrupt(T, format!("status = {status}")))?,
        results: r.try_get("results")?,
        finished_at: finished
            .map(|v| instant_from_db(v).ok_or_else(|| corrupt(T, format!("finished_at = {v}"))))
            .transpose()?,
    })
}

impl Store {
    /// Registers (or replaces) an institution's 照会番号 for a person.
    pub async fn register_reference_number(
        &self,
        institution: &InstitutionCode,
        person_id: i64,
        record_id: i64,
        reference_number: &str,
        at: NaiveDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO reference_numbers (institution_code, person_id, reference_number, record_id, registered_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (institution_code, person_id) DO UPDATE SET \
             reference_number = excluded.reference_number, record_id = excluded.record_id, \
             registered_at = excluded.registered_at",
        )
        .bind(institution.as_str())
        .bind(person_id)
        .bind(reference_number)
        .bind(record_id)
        .bind(instant_to_db(at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// An institution's 照会番号 for a person, if registered.
    pub async fn reference_number(
        &self,
        institution: &InstitutionCode,
        person_id: i64,
    ) -> Result<Option<ReferenceNumberRow>, StoreError> {
        let row = sqlx::query(
            "SELECT institution_code, person_id, reference_number, record_id, registered_at \
             FROM reference_numbers WHERE institution_code = $1 AND person_id = $2",
        )
        .bind(institution.as_str())
        .bind(person_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            let at: i64 = r.try_get("registered_at")?;
            Ok(ReferenceNumberRow {
                institution_code: r.try_get("institution_code")?,
                person_id: r.try_get("person_id")?,
                reference_number: r.try_get("reference_number")?,
                record_id: r.try_get("record_id")?,
                registered_at: instant_from_db(at)
                    .ok_or_else(|| corrupt("reference_numbers", format!("registered_at = {at}")))?,
            })
        })
        .transpose()
    }

    /// Stores a bulk check as processing. Fails with a unique violation when the
    /// reception number is taken.
    pub async fn insert_bulk_check(&self, b: &NewBulkCheck) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO bulk_checks (reception_number, institution_code, submitted_at, as_of, query_count, queries, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(b.reception_number.as_str())
        .bind(b.institution_code.as_str())
        .bind(instant_to_db(b.submitted_at))
        .bind(date_to_db(b.as_of))
        .bind(b.query_count)
        .bind(b.queries.as_str())
        .bind(BulkStatus::Processing.code())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A bulk check by reception number.
    pub async fn bulk_check(
        &self,
        reception_number: &str,
    ) -> Result<Option<BulkCheckRow>, StoreError> {
        let sql = format!("SELECT {BULK_COLS} FROM bulk_checks WHERE reception_number = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(reception_number)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(decode_bulk)
            .transpose()
    }

    /// Bulk checks still processing, oldest first.
    pub async fn pending_bulk_checks(&self, limit: i64) -> Result<Vec<BulkCheckRow>, StoreError> {
        let sql = format!(
            "SELECT {BULK_COLS} FROM bulk_checks WHERE status = $1 ORDER BY submitted_at LIMIT $2"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(BulkStatus::Processing.code())
            .bind(limit)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(decode_bulk)
            .collect()
    }

    /// Stores the results of a bulk check and marks it done. Returns false when it was
    /// not processing (answered already by another worker).
    pub async fn finish_bulk_check(
        &self,
        reception_number: &str,
        results: &str,
        at: NaiveDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE bulk_checks SET status = $1, results = $2, finished_at = $3 \
             WHERE reception_number = $4 AND status = $5",
        )
        .bind(BulkStatus::Done.code())
        .bind(results)
        .bind(instant_to_db(at))
        .bind(reception_number)
        .bind(BulkStatus::Processing.code())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(done == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn roundtrip(store: Store) {
        let inst = InstitutionCode::parse("1311234569").unwrap();
        let at = NaiveDate::from_ymd_opt(2025, 6, 2)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        assert!(store.reference_number(&inst, 7).await.unwrap().is_none());
        store
            .register_reference_number(&inst, 7, 70, "P-1", at)
            .await
            .unwrap();
        store
            .register_reference_number(&inst, 7, 71, "P-2", at)
            .await
            .unwrap();
        let r = store.reference_number(&inst, 7).await.unwrap().unwrap();
        assert_eq!((r.reference_number.as_str(), r.record_id), ("P-2", 71));

        let b = NewBulkCheck {
            reception_number: "B-1".into(),
            institution_code: inst,
            submitted_at: at,
            as_of: at.date(),
            query_count: 2,
            queries: "[1,2]".into(),
        };
        store.insert_bulk_check(&b).await.unwrap();
        assert!(store.insert_bulk_check(&b).await.is_err());
        assert_eq!(store.pending_bulk_checks(10).await.unwrap().len(), 1);
        assert!(store.finish_bulk_check("B-1", "[]", at).await.unwrap());
        assert!(!store.finish_bulk_check("B-1", "[]", at).await.unwrap());
        let row = store.bulk_check("B-1").await.unwrap().unwrap();
        assert_eq!(row.status, BulkStatus::Done);
        assert_eq!(row.results.as_deref(), Some("[]"));
        assert!(store.pending_bulk_checks(10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn emr_rows_roundtrip_on_sqlite_and_postgres() {
        let dir = std::env::temp_dir().join(format!("onshi-emr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = crate::testing::fresh_sqlite_url(&dir);
        roundtrip(Store::connect(&url).await.unwrap()).await;
        let _ = std::fs::remove_dir_all(&dir);
        let pg = crate::testing::fresh_postgres_url().await.unwrap();
        roundtrip(Store::connect(&pg).await.unwrap()).await;
    }
}

/// What a consent given at home is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HomeCareKind {
    /// 訪問診療.
    HomeVisit,
    /// オンライン診療.
    Online,
}

impl HomeCareKind {
    pub const fn code(self) -> &'static str {
        match self {
            Self::HomeVisit => "home_visit",
            Self::Online => "online",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "home_visit" => Some(Self::HomeVisit),
            "online" => Some(Self::Online),
            _ => None,
        }
    }
}

/// A consent given at home, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeConsentRow {
    pub id: i64,
    pub person_id: i64,
    pub institution_code: String,
    pub kind: HomeCareKind,
    pub consented_at: NaiveDateTime,
    /// The day of the online examination the consent is for (online care only).
    pub examination_date: Option<NaiveDate>,
}

/// Which dates a bulk search of home consents looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HomeConsentDates {
    /// The days the consents were given (both inclusive).
    Consented { from: NaiveDate, to: NaiveDate },
    /// The examination days (online care).
    Examination { from: NaiveDate, to: NaiveDate },
}

fn decode_home_consent(r: &AnyRow) -> Result<HomeConsentRow, StoreError> {
    const T: &str = "home_consents";
    let at: i64 = r.try_get("consented_at")?;
    let kind: String = r.try_get("kind")?;
    let exam: Option<i64> = r.try_get("examination_date")?;
    Ok(HomeConsentRow {
        id: r.try_get("id")?,
        person_id: r.try_get("person_id")?,
        institution_code: r.try_get("institution_code")?,
        kind: HomeCareKind::parse(&kind).ok_or_else(|| corrupt(T, format!("kind = {kind}")))?,
        consented_at: instant_from_db(at)
            .ok_or_else(|| corrupt(T, format!("consented_at = {at}")))?,
        examination_date: exam
            .map(|v| date_from_db(v).ok_or_else(|| corrupt(T, format!("examination_date = {v}"))))
            .transpose()?,
    })
}

impl Store {
    /// Records a consent given at home; returns its id.
    pub async fn record_home_consent(
        &self,
        person_id: i64,
        institution: &InstitutionCode,
        kind: HomeCareKind,
        consented_at: NaiveDateTime,
        examination_date: Option<NaiveDate>,
    ) -> Result<i64, StoreError> {
        let id = self.next_id();
        sqlx::query(
            "INSERT INTO home_consents (id, person_id, institution_code, kind, consented_at, examination_date) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(person_id)
        .bind(institution.as_str())
        .bind(kind.code())
        .bind(instant_to_db(consented_at))
        .bind(examination_date.map(date_to_db))
        .execute(self.pool())
        .await?;
        Ok(id)
    }

    /// The consents given at home to an institution for a kind of care, on the dates
    /// asked, oldest first.
    pub async fn home_consents(
        &self,
        institution: &InstitutionCode,
        kind: HomeCareKind,
        dates: HomeConsentDates,
    ) -> Result<Vec<HomeConsentRow>, StoreError> {
        macro_rules! home_consents_where {
            ($cond:literal) => {
                concat!(
                    "SELECT id, person_id, institution_code, kind, consented_at, examination_date \
                     FROM home_consents WHERE institution_code = $1 AND kind = $2 AND ",
                    $cond,
                    " ORDER BY consented_at, id"
                )
            };
        }
        let q = match dates {
            HomeConsentDates::Consented { from, to } => {
                let start = from.and_hms_opt(0, 0, 0).expect("midnight");
                let end = to
                    .succ_opt()
                    .unwrap_or(to)
                    .and_hms_opt(0, 0, 0)
                    .expect("midnight");
                sqlx::query(home_consents_where!(
                    "consented_at >= $3 AND consented_at < $4"
                ))
                .bind(institution.as_str())
                .bind(kind.code())
                .bind(instant_to_db(start))
                .bind(instant_to_db(end))
            }
            HomeConsentDates::Examination { from, to } => sqlx::query(home_consents_where!(
                "examination_date >= $3 AND examination_date <= $4"
            ))
            .bind(institution.as_str())
            .bind(kind.code())
            .bind(date_to_db(from))
            .bind(date_to_db(to)),
        };
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter().map(decode_home_consent).collect()
    }
}
