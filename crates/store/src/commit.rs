//! Group commit of receptions: the hot path's writes (spent challenge, check, consents)
//! from many concurrent requests go through one writer task that puts whatever has
//! arrived while the previous transaction was committing into the next one.
//!
//! Why: on SQLite every statement is a hand-off to the driver's worker thread and only one
//! transaction can write at a time, so per-request transactions queue on the write lock
//! and pay five or more thread hand-offs each; on PostgreSQL each commit is a WAL flush.
//! One transaction for a batch of receptions costs a handful of statements whatever the
//! batch size. Durability is unchanged: a caller's answer is sent only after the
//! transaction holding its rows has committed.
//!
//! Isolation between receptions is kept: a replayed challenge fails only its own reception
//! (`INSERT … ON CONFLICT DO NOTHING RETURNING` says which challenges were fresh), and if a
//! batch's transaction fails for any other reason each reception of it is retried in a
//! transaction of its own, so one bad row cannot take its neighbours down.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use sqlx::{AnyConnection, AnyPool, Row};
use tokio::sync::{mpsc, oneshot};

use crate::card::{NewReception, ReceptionWrite, is_unique_violation};
use crate::rows::{date_to_db, instant_to_db};
use crate::write::{Val, bind};
use crate::{Backend, IdGenerator, StoreError};

/// Receptions in one transaction at most.
const MAX_BATCH: usize = 128;
/// Receptions waiting for the writer at most; further callers wait for room.
const QUEUE: usize = 4 * MAX_BATCH;

const CHECK_COLS: &[&str] = &[
    "id",
    "checked_at",
    "institution_code",
    "method",
    "reference",
    "as_of",
    "validity",
    "person_id",
    "record_id",
    "query",
];
const CONSENT_COLS: &[&str] = &[
    "id",
    "reception_id",
    "person_id",
    "institution_code",
    "kind",
    "consented_at",
    "available_until",
];

struct Job {
    reception: NewReception,
    reply: oneshot::Sender<Result<ReceptionWrite, StoreError>>,
}

/// The handle to the writer task, started on first use in the caller's runtime.
#[derive(Clone, Default)]
pub(crate) struct GroupCommit {
    sender: Arc<OnceLock<mpsc::Sender<Job>>>,
    /// How long the writer waits after the first reception of a batch for others to join
    /// it (zero: only what arrived while the previous transaction committed).
    window: std::time::Duration,
}

impl GroupCommit {
    pub(crate) fn with_window(window: std::time::Duration) -> Self {
        Self {
            sender: Arc::default(),
            window,
        }
    }

    pub(crate) fn window(&self) -> std::time::Duration {
        self.window
    }

    /// Records `r` in the next group transaction. Falls back to a transaction of its own
    /// when the writer is gone (its runtime shut down).
    pub(crate) async fn record(
        &self,
        pool: &AnyPool,
        backend: Backend,
        ids: &IdGenerator,
        r: &NewReception,
    ) -> Result<ReceptionWrite, StoreError> {
        let sender = self.sender.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(run(pool.clone(), backend, ids.clone(), self.window, rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        let job = Job {
            reception: r.clone(),
            reply,
        };
        if sender.send(job).await.is_err() {
            return record_alone(pool, ids, r).await;
        }
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

async fn run(
    pool: AnyPool,
    backend: Backend,
    ids: IdGenerator,
    window: std::time::Duration,
    mut rx: mpsc::Receiver<Job>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        if !window.is_zero() && batch.len() < MAX_BATCH {
            // Let the receptions of the next moment share this transaction's commit.
            tokio::time::sleep(window).await;
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
        let jobs = std::mem::take(&mut batch);
        let receptions: Vec<&NewReception> = jobs.iter().map(|j| &j.reception).collect();
        match record_batch(&pool, backend, &ids, &receptions).await {
            Ok(results) => {
                for (job, result) in jobs.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(result));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, receptions = jobs.len(), "group commit failed; writing one by one");
                for job in jobs {
                    let result = record_alone(&pool, &ids, &job.reception).await;
                    let _ = job.reply.send(result);
                }
            }
        }
    }
}

/// Rows per multi-row statement here: SQLite's driver slows down with many parameters
/// (docs/PERFORMANCE.md), so about a hundred parameters a statement.
fn rows_per_statement(backend: Backend, cols: usize) -> usize {
    match backend {
        Backend::Sqlite => (120 / cols).max(1),
        Backend::Postgres => (20_000 / cols).clamp(1, 500),
    }
}

fn placeholders(sql: &mut String, rows: usize, cols: usize) {
    let mut n = 0;
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push(',');
            }
            n += 1;
            sql.push('$');
            sql.push_str(&n.to_string());
        }
        sql.push(')');
    }
}

/// One transaction for the whole batch; the result of each reception in order.
async fn record_batch(
    pool: &AnyPool,
    backend: Backend,
    ids: &IdGenerator,
    batch: &[&NewReception],
) -> Result<Vec<ReceptionWrite>, StoreError> {
    let mut tx = pool.begin().await?;
    let fresh = spend_challenges(&mut tx, backend, batch).await?;
    // A nonce twice in one batch: the first spends it, the second is a replay.
    let mut seen = HashSet::with_capacity(batch.len());
    let mut results = Vec::with_capacity(batch.len());
    let mut checks = Vec::new();
    let mut consents = Vec::new();
    for r in batch {
        let nonce = r.challenge_nonce.as_str();
        if !fresh.contains(nonce) || !seen.insert(nonce) {
            results.push(ReceptionWrite::ChallengeReplayed);
            continue;
        }
        let id = ids.next();
        results.push(ReceptionWrite::Recorded(id));
        checks.push(check_row(id, r));
        if let Some(person_id) = r.check.person_id {
            for (kind, at, until) in &r.consents {
                consents.push(vec![
                    Val::Int(ids.next()),
                    Val::Int(id),
                    Val::Int(person_id),
                    Val::Text(r.check.institution_code.as_str().to_owned()),
                    Val::Text(kind.code().to_owned()),
                    Val::Int(instant_to_db(*at)),
                    Val::Int(instant_to_db(*until)),
                ]);
            }
        }
    }
    insert_rows(&mut tx, backend, "eligibility_checks", CHECK_COLS, checks).await?;
    insert_rows(&mut tx, backend, "consents", CONSENT_COLS, consents).await?;
    tx.commit().await?;
    Ok(results)
}

fn check_row(id: i64, r: &NewReception) -> Vec<Val> {
    let c = &r.check;
    vec![
        Val::Int(id),
        Val::Int(instant_to_db(c.checked_at)),
        Val::Text(c.institution_code.as_str().to_owned()),
        Val::Text(c.method.code().to_owned()),
        Val::Text(c.reference.code().to_owned()),
        Val::Int(date_to_db(c.as_of)),
        Val::Text(c.validity.code().to_owned()),
        Val::OptInt(c.person_id),
        Val::OptInt(c.record_id),
        Val::Text(c.query.clone()),
    ]
}

/// Spends the batch's challenges; the nonces that were not spent before.
async fn spend_challenges(
    conn: &mut AnyConnection,
    backend: Backend,
    batch: &[&NewReception],
) -> Result<HashSet<String>, StoreError> {
    let mut fresh = HashSet::with_capacity(batch.len());
    let mut sql = String::new();
    for chunk in batch.chunks(rows_per_statement(backend, 3)) {
        sql.clear();
        sql.push_str("INSERT INTO used_challenges (nonce, used_at, expires_at) VALUES ");
        placeholders(&mut sql, chunk.len(), 3);
        sql.push_str(" ON CONFLICT (nonce) DO NOTHING RETURNING nonce");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        for r in chunk {
            q = q
                .bind(r.challenge_nonce.as_str())
                .bind(instant_to_db(r.check.checked_at))
                .bind(instant_to_db(r.challenge_expires_at));
        }
        for row in q.fetch_all(&mut *conn).await? {
            fresh.insert(row.try_get::<String, _>(0)?);
        }
    }
    Ok(fresh)
}

async fn insert_rows(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
    cols: &[&str],
    rows: Vec<Vec<Val>>,
) -> Result<(), StoreError> {
    let per = rows_per_statement(backend, cols.len());
    let mut sql = String::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Val>> = rows.by_ref().take(per).collect();
        sql.clear();
        sql.push_str("INSERT INTO ");
        sql.push_str(table);
        sql.push_str(" (");
        sql.push_str(&cols.join(", "));
        sql.push_str(") VALUES ");
        placeholders(&mut sql, chunk.len(), cols.len());
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        for row in chunk {
            for v in row {
                q = bind(q, v);
            }
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// One reception in a transaction of its own.
pub(crate) async fn record_alone(
    pool: &AnyPool,
    ids: &IdGenerator,
    r: &NewReception,
) -> Result<ReceptionWrite, StoreError> {
    let mut tx = pool.begin().await?;
    let spent =
        sqlx::query("INSERT INTO used_challenges (nonce, used_at, expires_at) VALUES ($1, $2, $3)")
            .bind(r.challenge_nonce.as_str())
            .bind(instant_to_db(r.check.checked_at))
            .bind(instant_to_db(r.challenge_expires_at))
            .execute(&mut *tx)
            .await;
    match spent {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Ok(ReceptionWrite::ChallengeReplayed),
        Err(e) => return Err(e.into()),
    }
    let id = ids.next();
    crate::write::insert_check(&mut tx, id, &r.check).await?;
    if let Some(person_id) = r.check.person_id {
        for (kind, at, until) in &r.consents {
            sqlx::query(
                "INSERT INTO consents (id, reception_id, person_id, institution_code, kind, consented_at, available_until) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(ids.next())
            .bind(id)
            .bind(person_id)
            .bind(r.check.institution_code.as_str())
            .bind(kind.code())
            .bind(instant_to_db(*at))
            .bind(instant_to_db(*until))
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(ReceptionWrite::Recorded(id))
}
