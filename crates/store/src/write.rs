//! Writes: bulk loading for the seeder, and the center's run-time records.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection};

use crate::rows::*;
use crate::{Backend, Store, StoreError};

/// A value bound into a statement.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
}

pub(crate) fn bind<'q>(q: Query<'q, Any, AnyArguments>, v: Val) -> Query<'q, Any, AnyArguments> {
    match v {
        Val::Int(i) => q.bind(i),
        Val::OptInt(i) => q.bind(i),
        Val::Text(s) => q.bind(s),
        Val::OptText(s) => q.bind(s),
    }
}

/// Rows per multi-row `INSERT`. The SQLite driver's cost grows faster than linearly with
/// the parameters of one statement (1,000 rows of 16 columns loaded 30× slower than 8
/// rows), while PostgreSQL gains from larger statements up to a few hundred rows;
/// measured with `onshi seed --persons 50000` (docs/PERFORMANCE.md).
fn rows_per_statement(backend: Backend, cols: usize) -> usize {
    match backend {
        Backend::Sqlite => 8,
        Backend::Postgres => (20_000 / cols).clamp(1, 200),
    }
}

/// Inserts `rows` into `table` with multi-row `INSERT … VALUES (…), (…)` statements,
/// inside the caller's transaction.
pub(crate) async fn bulk_insert(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
    cols: &[&str],
    rows: Vec<Vec<Val>>,
) -> Result<(), StoreError> {
    let per_stmt = rows_per_statement(backend, cols.len());
    let mut rows = rows.into_iter().peekable();
    let mut sql = String::new();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Val>> = rows.by_ref().take(per_stmt).collect();
        sql.clear();
        sql.push_str(&format!(
            "INSERT INTO {table} ({}) VALUES ",
            cols.join(", ")
        ));
        let mut n = 0;
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..cols.len() {
                if c > 0 {
                    sql.push(',');
                }
                n += 1;
                sql.push_str(&format!("${n}"));
            }
            sql.push(')');
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        for row in chunk {
            debug_assert_eq!(row.len(), cols.len());
            for v in row {
                q = bind(q, v);
            }
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

fn opt_date(d: Option<chrono::NaiveDate>) -> Val {
    Val::OptInt(d.map(date_to_db))
}

impl Store {
    pub async fn insert_insurers(&self, rows: &[InsurerRow]) -> Result<(), StoreError> {
        let vals = rows
            .iter()
            .map(|r| {
                vec![
                    Val::Text(r.number.as_str().into()),
                    Val::Text(enum_text(&r.kind)),
                    Val::Text(r.name.clone()),
                    Val::Int(r.prefecture.code().into()),
                    Val::Text(r.address.clone()),
                ]
            })
            .collect();
        let mut tx = self.pool().begin().await?;
        bulk_insert(
            &mut tx,
            self.backend(),
            "insurers",
            &["number", "kind", "name", "prefecture", "address"],
            vals,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn insert_institutions(&self, rows: &[NewInstitution]) -> Result<(), StoreError> {
        let now = chrono::Utc::now().naive_utc();
        let vals = rows
            .iter()
            .map(|r| {
                vec![
                    Val::Text(r.code.as_str().into()),
                    Val::Text(r.kind.code().into()),
                    Val::Text(r.name.clone()),
                    Val::Int(r.prefecture.code().into()),
                    Val::Text(r.address.clone()),
                    Val::Text(r.post_number.clone()),
                    Val::Int(instant_to_db(now)),
                ]
            })
            .collect();
        let mut tx = self.pool().begin().await?;
        bulk_insert(
            &mut tx,
            self.backend(),
            "institutions",
            &[
                "code",
                "kind",
                "name",
                "prefecture",
                "address",
                "post_number",
                "registered_at",
            ],
            vals,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Loads persons and their insured records in one transaction, with a 資格取得 event
    /// for each record and a 資格喪失 event for each lost one.
    pub async fn insert_people(
        &self,
        persons: &[PersonRow],
        records: &[RecordRow],
    ) -> Result<(), StoreError> {
        let person_vals = persons
            .iter()
            .map(|p| {
                vec![
                    Val::Int(p.id),
                    Val::Int(p.household_id),
                    Val::Text(p.name.family.clone()),
                    Val::Text(p.name.given.clone()),
                    Val::Text(p.name.family_kana.clone()),
                    Val::Text(p.name.given_kana.clone()),
                    Val::Int(date_to_db(p.birth_date)),
                    Val::Int(p.sex.iso5218().into()),
                    Val::Text(p.post_number.clone()),
                    Val::Text(p.address.clone()),
                    Val::Int(p.prefecture.code().into()),
                    Val::Text(p.my_number.as_str().into()),
                    opt_date(p.death_date),
                    Val::Int(p.face_seed),
                    opt_date(p.card_issued_on),
                    opt_date(p.linked_on),
                ]
            })
            .collect();
        let record_vals = records
            .iter()
            .map(|r| {
                vec![
                    Val::Int(r.id),
                    Val::Int(r.person_id),
                    Val::Text(r.insurer_number.as_str().into()),
                    Val::Text(
                        r.symbol
                            .as_ref()
                            .map(|s| s.as_str().to_owned())
                            .unwrap_or_default(),
                    ),
                    Val::Text(r.number.as_str().into()),
                    Val::Text(r.branch.as_str().into()),
                    Val::Text(r.personal_family.code().into()),
                    Val::Int(r.insured_person_id),
                    Val::Text(r.card_classification.code().into()),
                    Val::Int(date_to_db(r.qualification_date)),
                    opt_date(r.disqualification_date),
                    Val::OptText(r.reason_of_loss.map(|x| x.code().to_owned())),
                    Val::Int(date_to_db(r.card_valid_date)),
                    opt_date(r.card_expiration_date),
                    Val::Int(r.burden_ratio.percent().into()),
                    Val::OptText(
                        (!r.extras.is_empty())
                            .then(|| serde_json::to_string(&r.extras).expect("serialisable")),
                    ),
                ]
            })
            .collect();
        let now = instant_to_db(chrono::Utc::now().naive_utc());
        let mut event_vals = Vec::with_capacity(records.len() * 2);
        for r in records {
            // Event ids derive from record ids so a reload of the same nation is idempotent
            // in shape and never collides with run-time ids (which are time-based and large).
            event_vals.push(vec![
                Val::Int(r.id * 2),
                Val::Int(r.id),
                Val::Int(r.person_id),
                Val::Text("acquired".into()),
                Val::Int(date_to_db(r.qualification_date)),
                Val::Text(String::new()),
                Val::Int(now),
            ]);
            if let Some(d) = r.disqualification_date {
                event_vals.push(vec![
                    Val::Int(r.id * 2 + 1),
                    Val::Int(r.id),
                    Val::Int(r.person_id),
                    Val::Text("lost".into()),
                    Val::Int(date_to_db(d)),
                    Val::Text(
                        r.reason_of_loss
                            .map(|x| x.code().to_owned())
                            .unwrap_or_default(),
                    ),
                    Val::Int(now),
                ]);
            }
        }
        let mut tx = self.pool().begin().await?;
        bulk_insert(&mut tx, self.backend(), "persons", PERSON_COLS, person_vals).await?;
        bulk_insert(
            &mut tx,
            self.backend(),
            "insured_records",
            RECORD_COLS,
            record_vals,
        )
        .await?;
        bulk_insert(
            &mut tx,
            self.backend(),
            "insured_record_events",
            &[
                "id",
                "record_id",
                "person_id",
                "kind",
                "occurred_on",
                "detail",
                "recorded_at",
            ],
            event_vals,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records one eligibility check; returns its id. Committed before returning.
    pub async fn record_check(&self, c: &NewCheck) -> Result<i64, StoreError> {
        let id = self.next_id();
        let mut conn = self.pool().acquire().await?;
        insert_check(&mut conn, id, c).await?;
        Ok(id)
    }

    /// Appends to the audit log; returns the entry's id. Committed before returning.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<i64, StoreError> {
        let id = self.next_id();
        sqlx::query("INSERT INTO audit_log (id, at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id)
            .bind(instant_to_db(chrono::Utc::now().naive_utc()))
            .bind(actor)
            .bind(action)
            .bind(subject)
            .bind(detail)
            .execute(self.pool())
            .await?;
        Ok(id)
    }
}

/// Inserts one check row on `conn` (inside the caller's transaction, if any).
pub(crate) async fn insert_check(
    conn: &mut AnyConnection,
    id: i64,
    c: &NewCheck,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO eligibility_checks (id, checked_at, institution_code, method, reference, as_of, validity, person_id, record_id, query) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(instant_to_db(c.checked_at))
    .bind(c.institution_code.as_str())
    .bind(c.method.code())
    .bind(c.reference.code())
    .bind(date_to_db(c.as_of))
    .bind(c.validity.code())
    .bind(c.person_id)
    .bind(c.record_id)
    .bind(c.query.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) const PERSON_COLS: &[&str] = &[
    "id",
    "household_id",
    "family_name",
    "given_name",
    "family_kana",
    "given_kana",
    "birth_date",
    "sex",
    "post_number",
    "address",
    "prefecture",
    "my_number",
    "death_date",
    "face_seed",
    "card_issued_on",
    "linked_on",
];

pub(crate) const RECORD_COLS: &[&str] = &[
    "id",
    "person_id",
    "insurer_number",
    "symbol",
    "number",
    "branch",
    "personal_family",
    "insured_person_id",
    "card_classification",
    "qualification_date",
    "disqualification_date",
    "reason_of_loss",
    "card_valid_date",
    "card_expiration_date",
    "burden_ratio",
    "extras",
];
