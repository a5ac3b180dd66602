//! Group lookup of card holders: the hot path's one read (certificate → holder → records →
//! 照会番号) for many concurrent checks in one statement.
//!
//! Why: each statement is a round trip to the database — on SQLite a hand-off to the
//! driver's worker thread and back, on PostgreSQL a network round trip — and under load
//! those hand-offs, not the lookups, are most of the cost (docs/PERFORMANCE.md). One reader
//! task takes every lookup that is waiting and answers them with one statement whose first
//! table is the list of (fingerprint, institution) asked for. A lookup that finds the
//! reader idle goes at once, alone: batching never waits for company.
//!
//! Every lookup gets exactly the rows of its own certificate and institution, as the
//! single-lookup statement would return them (the `store` tests compare both).

use std::sync::{Arc, OnceLock};

use onshi_model::InstitutionCode;
use sqlx::{AnyPool, Row};
use tokio::sync::{mpsc, oneshot};

use crate::card::{HolderRecords, decode_cert};
use crate::{Backend, StoreError};

/// Lookups in one statement at most (three parameters each).
const MAX_BATCH: usize = 32;
/// Lookups waiting for the reader at most; further callers wait for room.
const QUEUE: usize = 8 * MAX_BATCH;

struct Job {
    fingerprint: String,
    institution: InstitutionCode,
    reply: oneshot::Sender<Result<Option<HolderRecords>, StoreError>>,
}

/// The handle to the reader task, started on first use in the caller's runtime.
#[derive(Clone, Default)]
pub(crate) struct GroupLookup {
    sender: Arc<OnceLock<mpsc::Sender<Job>>>,
}

impl GroupLookup {
    /// The holder of the certificate `fingerprint` with every record, and the 照会番号
    /// `institution` registered for them; `None` for an unknown certificate.
    pub(crate) async fn holder(
        &self,
        pool: &AnyPool,
        backend: Backend,
        fingerprint: &str,
        institution: &InstitutionCode,
    ) -> Result<Option<HolderRecords>, StoreError> {
        let sender = self.sender.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(run(pool.clone(), backend, rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        let job = Job {
            fingerprint: fingerprint.to_owned(),
            institution: *institution,
            reply,
        };
        if sender.send(job).await.is_err() {
            // The reader's runtime is gone: look up alone.
            return lookup(pool, backend, &[(fingerprint, institution)])
                .await
                .map(|mut v| v.pop().flatten());
        }
        answer.await.map_err(|_| StoreError::ReaderStopped)?
    }
}

async fn run(pool: AnyPool, backend: Backend, mut rx: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs = std::mem::take(&mut batch);
        let keys: Vec<(&str, &InstitutionCode)> = jobs
            .iter()
            .map(|j| (j.fingerprint.as_str(), &j.institution))
            .collect();
        match lookup(&pool, backend, &keys).await {
            Ok(found) => {
                for (job, holder) in jobs.into_iter().zip(found) {
                    let _ = job.reply.send(Ok(holder));
                }
            }
            Err(e) => {
                // One failure answers every lookup of the statement with the same error.
                let message = e.to_string();
                for job in jobs {
                    let _ = job.reply.send(Err(StoreError::Lookup(message.clone())));
                }
            }
        }
    }
}

/// The statement for `n` lookups: the keys as a VALUES list, each joined to its
/// certificate, the person, the institution's 照会番号 and every record with its insured
/// person and insurer; ordered by key and then as records are listed everywhere else.
///
/// Each key must be an index lookup whatever the population (nothing scans): SQLite's
/// planner loops over the VALUES rows by itself; PostgreSQL, which would hash-join the
/// whole tables against a list of keys, gets a LATERAL subquery per key behind an
/// optimisation fence (`OFFSET 0`), i.e. the single-lookup plan once per key.
fn statement(backend: Backend, n: usize) -> String {
    let mut cols: Vec<String> = crate::write::RECORD_COLS
        .iter()
        .map(|c| format!("r.{c} AS r_{c}"))
        .collect();
    cols.extend(
        crate::write::PERSON_COLS
            .iter()
            .map(|c| format!("p.{c} AS p_{c}")),
    );
    let mut keys = String::new();
    for i in 0..n {
        if i > 0 {
            keys.push(',');
        }
        keys.push_str(&format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
    }
    let select = format!(
        "c.fingerprint, c.issuer, c.serial, c.person_id, c.issued_at, c.not_after, c.revoked_at, c.revocation_reason, \
         {}, h.family_name AS h_family, h.given_name AS h_given, i.name AS insurer_name, \
         rn.reference_number AS reference_number",
        cols.join(", ")
    );
    let joins = "JOIN persons p ON p.id = c.person_id \
         LEFT JOIN reference_numbers rn ON rn.institution_code = q.inst AND rn.person_id = p.id \
         LEFT JOIN insured_records r ON r.person_id = p.id \
         LEFT JOIN persons h ON h.id = r.insured_person_id \
         LEFT JOIN insurers i ON i.number = r.insurer_number";
    match backend {
        Backend::Sqlite => format!(
            "WITH q(k, fp, inst) AS (VALUES {keys}) \
             SELECT q.k AS q_k, {select} \
             FROM q JOIN card_certificates c ON c.fingerprint = q.fp {joins} \
             ORDER BY q.k, r.qualification_date, r.id"
        ),
        Backend::Postgres => format!(
            "SELECT q.k AS q_k, x.* FROM (VALUES {keys}) AS q(k, fp, inst) \
             CROSS JOIN LATERAL (SELECT {select} \
             FROM card_certificates c {joins} \
             WHERE c.fingerprint = q.fp OFFSET 0) x \
             ORDER BY q.k, x.r_qualification_date, x.r_id"
        ),
    }
}

/// The statements for 1…MAX_BATCH lookups, built once per backend.
fn statements(backend: Backend) -> &'static [String] {
    static SQLITE: OnceLock<Vec<String>> = OnceLock::new();
    static POSTGRES: OnceLock<Vec<String>> = OnceLock::new();
    let cell = match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    };
    cell.get_or_init(|| (1..=MAX_BATCH).map(|n| statement(backend, n)).collect())
}

/// Looks up every key in one statement; the answers in the keys' order.
pub(crate) async fn lookup(
    pool: &AnyPool,
    backend: Backend,
    keys: &[(&str, &InstitutionCode)],
) -> Result<Vec<Option<HolderRecords>>, StoreError> {
    let mut out: Vec<Option<HolderRecords>> = (0..keys.len()).map(|_| None).collect();
    for (chunk_no, chunk) in keys.chunks(MAX_BATCH).enumerate() {
        let mut query = sqlx::query(statements(backend)[chunk.len() - 1].as_str());
        for (k, (fingerprint, institution)) in chunk.iter().enumerate() {
            query = query
                .bind(k as i64)
                .bind(*fingerprint)
                .bind(institution.as_str());
        }
        let rows = query.fetch_all(pool).await?;
        for row in &rows {
            let k: i64 = row.try_get("q_k")?;
            let slot = usize::try_from(k)
                .ok()
                .filter(|k| *k < chunk.len())
                .ok_or_else(|| StoreError::Lookup(format!("unexpected key {k}")))?;
            let holder = match &mut out[chunk_no * MAX_BATCH + slot] {
                Some(h) => h,
                empty => empty.insert(HolderRecords {
                    certificate: decode_cert(row)?,
                    person: crate::read::decode_person(row, "p_")?,
                    records: Vec::new(),
                    reference_number: row.try_get("reference_number")?,
                }),
            };
            if row.try_get::<Option<i64>, _>("r_id")?.is_some() {
                holder.records.push(crate::read::decode_view(row)?);
            }
        }
    }
    Ok(out)
}
