//! Smartphone credentials and their issuance queue (migration 0004).
//!
//! A set-up request becomes a `pending` credential and a `queued` job in one transaction.
//! Workers claim due jobs under a lease: on PostgreSQL with `SELECT … FOR UPDATE SKIP
//! LOCKED` inside a transaction, on SQLite with one `UPDATE … WHERE id = (SELECT …)`
//! statement (SQLite takes its single write lock before the statement reads, so two
//! processes never claim the same row). Completion writes the certificates, the credential
//! and the job in one transaction guarded by the claim token, so a job's effects happen
//! exactly once even when a worker dies and another takes the job over after its lease.
//! The phone's certificates are registered in `card_certificates` (issuers `phone-auth`
//! and `phone-sign`), which puts their revocations into the CRLs and the verifier.

use chrono::{Duration, NaiveDateTime};
use sqlx::Row;

use crate::rows::{instant_from_db, instant_to_db};
use crate::{CardCertificate, PersonRow, Store, StoreError};

/// Where a phone credential is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneState {
    /// Requested; the issuance job has not completed.
    Pending,
    /// Issued and usable.
    Issued,
    /// Suspended by the holder (lost phone): refused until resumed.
    Suspended,
    /// Ended for good: card revoked or renewed, phone replaced, or revoked by the holder.
    Revoked,
    /// Issuance was abandoned (a newer request, or the card ended before issuance).
    Failed,
}

impl PhoneState {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Issued => "issued",
            Self::Suspended => "suspended",
            Self::Revoked => "revoked",
            Self::Failed => "failed",
        }
    }

    /// From the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Issued,
            Self::Suspended,
            Self::Revoked,
            Self::Failed,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A set-up request as the center accepted it.
#[derive(Debug, Clone)]
pub struct NewPhoneApplication {
    pub person_id: i64,
    /// `android` or `iphone`.
    pub platform: String,
    pub model: String,
    pub os_version: String,
    /// The card's user-authentication certificate the request was made with.
    pub card_fingerprint: String,
    pub card_not_after: NaiveDateTime,
    /// The phone's public keys (SubjectPublicKeyInfo DER).
    pub auth_spki: Vec<u8>,
    pub signing_spki: Vec<u8>,
    /// The mdoc device key (iPhone).
    pub device_key: Option<Vec<u8>>,
    /// The face photo the mdoc carries (iPhone), as read from the card face.
    pub portrait: Option<Vec<u8>>,
    /// Hex SHA-256 of the bearer token the phone fetches its credential with.
    pub token_sha256: String,
    pub requested_at: NaiveDateTime,
    /// When the issuance job becomes due.
    pub run_after: NaiveDateTime,
}

/// A phone credential as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneCredentialRow {
    pub id: i64,
    pub person_id: i64,
    pub platform: String,
    pub model: String,
    pub os_version: String,
    pub card_fingerprint: String,
    pub card_not_after: NaiveDateTime,
    pub auth_spki: Vec<u8>,
    pub signing_spki: Vec<u8>,
    pub device_key: Option<Vec<u8>>,
    pub portrait: Option<Vec<u8>>,
    pub token_sha256: String,
    pub state: PhoneState,
    pub auth_fingerprint: Option<String>,
    pub signing_fingerprint: Option<String>,
    pub auth_cert: Option<Vec<u8>>,
    pub signing_cert: Option<Vec<u8>>,
    pub mdoc: Option<Vec<u8>>,
    pub requested_at: NaiveDateTime,
    pub issued_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    pub end_reason: Option<String>,
}

/// A claimed issuance job. `token` proves the claim when completing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneJob {
    pub id: i64,
    pub credential_id: i64,
    pub token: String,
    /// How many times the job was claimed, this claim included.
    pub attempts: i64,
}

/// One certificate issued to a phone.
#[derive(Debug, Clone)]
pub struct PhoneCert {
    pub der: Vec<u8>,
    pub fingerprint: String,
    /// The CA label (`phone-auth`, `phone-sign`).
    pub issuer: String,
    /// Hex serial.
    pub serial: String,
    pub not_before: NaiveDateTime,
    pub not_after: NaiveDateTime,
}

/// What issuance produced for a credential.
#[derive(Debug, Clone)]
pub struct IssuedPhone {
    pub auth: PhoneCert,
    pub signing: PhoneCert,
    /// The encoded mdoc (iPhone).
    pub mdoc: Option<Vec<u8>>,
    pub issued_at: NaiveDateTime,
}

/// The outcome of completing a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobCompletion {
    /// The credential is issued; `superseded` are the holder's older phones of the same
    /// platform, now revoked.
    Issued { superseded: Vec<i64> },
    /// The credential ended before issuance (card revoked, newer request): the job is
    /// done and nothing was registered.
    Abandoned,
    /// Another worker holds the job now (this claim's lease ran out): nothing written.
    LostClaim,
}

/// A phone certificate's holder: the credential, the card certificate it hangs on
/// (whether a newer card certificate superseded it), and the person.
#[derive(Debug, Clone)]
pub struct PhoneHolder {
    pub credential: PhoneCredentialRow,
    pub card: CardCertificate,
    pub card_superseded: bool,
    pub person: PersonRow,
}

/// The job of a credential, as the queue sees it (for operators and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneJobStatus {
    pub id: i64,
    pub state: String,
    pub attempts: i64,
    pub error: Option<String>,
}

const CRED_COLS: &[&str] = &[
    "id",
    "person_id",
    "platform",
    "model",
    "os_version",
    "card_fingerprint",
    "card_not_after",
    "auth_spki",
    "signing_spki",
    "device_key",
    "portrait",
    "token_sha256",
    "state",
    "auth_fingerprint",
    "signing_fingerprint",
    "auth_cert",
    "signing_cert",
    "mdoc",
    "requested_at",
    "issued_at",
    "ended_at",
    "end_reason",
];

/// States in which a credential still counts (may become or is usable).
const LIVE: &str = "('pending', 'issued', 'suspended')";

fn cols(prefix: &str, alias: &str) -> String {
    CRED_COLS
        .iter()
        .map(|c| format!("{alias}.{c} AS {prefix}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[usize::from(b >> 4)] as char);
        s.push(D[usize::from(b & 15)] as char);
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn corrupt(detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        table: "phone_credentials",
        detail: detail.into(),
    }
}

fn at(row: &sqlx::any::AnyRow, col: &str) -> Result<NaiveDateTime, StoreError> {
    let v: i64 = row.try_get(col)?;
    instant_from_db(v).ok_or_else(|| corrupt(format!("{col} = {v}")))
}

fn opt_at(row: &sqlx::any::AnyRow, col: &str) -> Result<Option<NaiveDateTime>, StoreError> {
    let v: Option<i64> = row.try_get(col)?;
    v.map(|v| instant_from_db(v).ok_or_else(|| corrupt(format!("{col} = {v}"))))
        .transpose()
}

fn bytes(row: &sqlx::any::AnyRow, col: &str) -> Result<Vec<u8>, StoreError> {
    let v: String = row.try_get(col)?;
    unhex(&v).ok_or_else(|| corrupt(format!("{col} is not hex")))
}

fn opt_bytes(row: &sqlx::any::AnyRow, col: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let v: Option<String> = row.try_get(col)?;
    v.map(|v| unhex(&v).ok_or_else(|| corrupt(format!("{col} is not hex"))))
        .transpose()
}

fn decode(row: &sqlx::any::AnyRow, p: &str) -> Result<PhoneCredentialRow, StoreError> {
    let c = |name: &str| format!("{p}{name}");
    let state: String = row.try_get(c("state").as_str())?;
    Ok(PhoneCredentialRow {
        id: row.try_get(c("id").as_str())?,
        person_id: row.try_get(c("person_id").as_str())?,
        platform: row.try_get(c("platform").as_str())?,
        model: row.try_get(c("model").as_str())?,
        os_version: row.try_get(c("os_version").as_str())?,
        card_fingerprint: row.try_get(c("card_fingerprint").as_str())?,
        card_not_after: at(row, &c("card_not_after"))?,
        auth_spki: bytes(row, &c("auth_spki"))?,
        signing_spki: bytes(row, &c("signing_spki"))?,
        device_key: opt_bytes(row, &c("device_key"))?,
        portrait: opt_bytes(row, &c("portrait"))?,
        token_sha256: row.try_get(c("token_sha256").as_str())?,
        state: PhoneState::parse(&state).ok_or_else(|| corrupt(format!("state {state:?}")))?,
        auth_fingerprint: row.try_get(c("auth_fingerprint").as_str())?,
        signing_fingerprint: row.try_get(c("signing_fingerprint").as_str())?,
        auth_cert: opt_bytes(row, &c("auth_cert"))?,
        signing_cert: opt_bytes(row, &c("signing_cert"))?,
        mdoc: opt_bytes(row, &c("mdoc"))?,
        requested_at: at(row, &c("requested_at"))?,
        issued_at: opt_at(row, &c("issued_at"))?,
        ended_at: opt_at(row, &c("ended_at"))?,
        end_reason: row.try_get(c("end_reason").as_str())?,
    })
}

fn now_db() -> i64 {
    instant_to_db(chrono::Utc::now().naive_utc())
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// Ends live credentials `ids` (state `revoked`) and revokes their certificates.
async fn end_credentials(
    tx: &mut Tx<'_>,
    ids: &[i64],
    reason: &str,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    for id in ids {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE phone_credentials SET state = 'revoked', ended_at = $1, end_reason = $2, changed_at = $3 \
             WHERE id = $4 AND state IN {LIVE}"
        )))
        .bind(instant_to_db(at))
        .bind(reason)
        .bind(now_db())
        .bind(*id)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "UPDATE card_certificates SET revoked_at = $1, revocation_reason = $2, changed_at = $3 \
             WHERE revoked_at IS NULL AND fingerprint IN \
             (SELECT auth_fingerprint FROM phone_credentials WHERE id = $4 AND auth_fingerprint IS NOT NULL \
              UNION ALL SELECT signing_fingerprint FROM phone_credentials WHERE id = $4 AND signing_fingerprint IS NOT NULL)",
        )
        // card_certificates keeps revocation times in UTC (as J-LIS's registry writes
        // them and the CRLs publish them).
        .bind(now_db())
        .bind(reason)
        .bind(now_db())
        .bind(*id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn register_cert(tx: &mut Tx<'_>, c: &PhoneCert, person_id: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO card_certificates (fingerprint, issuer, serial, person_id, issued_at, not_after, revoked_at, revocation_reason, changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, $7)",
    )
    .bind(c.fingerprint.as_str())
    .bind(c.issuer.as_str())
    .bind(c.serial.as_str())
    .bind(person_id)
    .bind(instant_to_db(c.not_before))
    .bind(instant_to_db(c.not_after))
    .bind(now_db())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Records a set-up request: a `pending` credential and its `queued` job, in one
    /// transaction. Older pending requests of the same person and platform are abandoned
    /// (the newest request wins). Returns (credential id, job id).
    pub async fn insert_phone_application(
        &self,
        a: &NewPhoneApplication,
    ) -> Result<(i64, i64), StoreError> {
        let id = self.next_id();
        let job = self.next_id();
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "UPDATE phone_credentials SET state = 'failed', ended_at = $1, end_reason = 'superseded by a newer request', changed_at = $2 \
             WHERE person_id = $3 AND platform = $4 AND state = 'pending'",
        )
        .bind(instant_to_db(a.requested_at))
        .bind(now_db())
        .bind(a.person_id)
        .bind(a.platform.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO phone_credentials (id, person_id, platform, model, os_version, card_fingerprint, card_not_after, \
             auth_spki, signing_spki, device_key, portrait, token_sha256, state, requested_at, changed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending', $13, $14)",
        )
        .bind(id)
        .bind(a.person_id)
        .bind(a.platform.as_str())
        .bind(a.model.as_str())
        .bind(a.os_version.as_str())
        .bind(a.card_fingerprint.as_str())
        .bind(instant_to_db(a.card_not_after))
        .bind(hex(&a.auth_spki))
        .bind(hex(&a.signing_spki))
        .bind(a.device_key.as_deref().map(hex))
        .bind(a.portrait.as_deref().map(hex))
        .bind(a.token_sha256.as_str())
        .bind(instant_to_db(a.requested_at))
        .bind(now_db())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO phone_jobs (id, credential_id, state, run_after, attempts, created_at) VALUES ($1, $2, 'queued', $3, 0, $4)",
        )
        .bind(job)
        .bind(id)
        .bind(instant_to_db(a.run_after))
        .bind(instant_to_db(a.requested_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((id, job))
    }

    /// Claims one due job for `worker` until `now + lease`: a queued job whose time has
    /// come, or a running one whose claimant's lease ran out. At most one claimant holds a
    /// job at a time, across processes.
    pub async fn claim_phone_job(
        &self,
        worker: &str,
        now: NaiveDateTime,
        lease: Duration,
    ) -> Result<Option<PhoneJob>, StoreError> {
        let token = format!("{worker}:{}", self.next_id());
        let now_v = instant_to_db(now);
        let until = instant_to_db(now + lease);
        const DUE: &str =
            "(state = 'queued' AND run_after <= $1) OR (state = 'running' AND claimed_until < $1)";
        match self.backend() {
            crate::Backend::Postgres => {
                let mut tx = self.pool().begin().await?;
                let id: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT id FROM phone_jobs WHERE {DUE} ORDER BY run_after LIMIT 1 FOR UPDATE SKIP LOCKED"
                )))
                .bind(now_v)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(id) = id else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                sqlx::query(
                    "UPDATE phone_jobs SET state = 'running', claimed_by = $1, claimed_until = $2, attempts = attempts + 1 WHERE id = $3",
                )
                .bind(token.as_str())
                .bind(until)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
            crate::Backend::Sqlite => {
                let n = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE phone_jobs SET state = 'running', claimed_by = $2, claimed_until = $3, attempts = attempts + 1 \
                     WHERE id = (SELECT id FROM phone_jobs WHERE {DUE} ORDER BY run_after LIMIT 1)"
                )))
                .bind(now_v)
                .bind(token.as_str())
                .bind(until)
                .execute(self.pool())
                .await?
                .rows_affected();
                if n == 0 {
                    return Ok(None);
                }
            }
        }
        let row = sqlx::query(
            "SELECT id, credential_id, attempts FROM phone_jobs WHERE claimed_by = $1 AND state = 'running'",
        )
        .bind(token.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(PhoneJob {
                id: r.try_get("id")?,
                credential_id: r.try_get("credential_id")?,
                token: token.clone(),
                attempts: r.try_get("attempts")?,
            })
        })
        .transpose()
    }

    /// Completes a claimed job with what issuance produced: registers the certificates,
    /// issues the credential, revokes the holder's older phones of the same platform and
    /// marks the job done — all in one transaction, and only while `job`'s claim holds.
    pub async fn complete_phone_job(
        &self,
        job: &PhoneJob,
        issued: &IssuedPhone,
    ) -> Result<JobCompletion, StoreError> {
        let mut tx = self.pool().begin().await?;
        let mine = sqlx::query(
            "UPDATE phone_jobs SET state = 'done', finished_at = $1, claimed_until = NULL WHERE id = $2 AND claimed_by = $3 AND state = 'running'",
        )
        .bind(instant_to_db(issued.issued_at))
        .bind(job.id)
        .bind(job.token.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if mine == 0 {
            tx.rollback().await?;
            return Ok(JobCompletion::LostClaim);
        }
        let cred = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM phone_credentials c WHERE c.id = $1",
            cols("", "c")
        )))
        .bind(job.credential_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| decode(&r, ""))
        .transpose()?
        .ok_or_else(|| corrupt(format!("job {} names no credential", job.id)))?;
        if cred.state != PhoneState::Pending {
            sqlx::query("UPDATE phone_jobs SET error = $1 WHERE id = $2")
                .bind(format!(
                    "credential {} before issuance",
                    cred.state.as_str()
                ))
                .bind(job.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(JobCompletion::Abandoned);
        }
        register_cert(&mut tx, &issued.auth, cred.person_id).await?;
        register_cert(&mut tx, &issued.signing, cred.person_id).await?;
        sqlx::query(
            "UPDATE phone_credentials SET state = 'issued', auth_fingerprint = $1, signing_fingerprint = $2, auth_cert = $3, \
             signing_cert = $4, mdoc = $5, issued_at = $6, changed_at = $7 WHERE id = $8",
        )
        .bind(issued.auth.fingerprint.as_str())
        .bind(issued.signing.fingerprint.as_str())
        .bind(hex(&issued.auth.der))
        .bind(hex(&issued.signing.der))
        .bind(issued.mdoc.as_deref().map(hex))
        .bind(instant_to_db(issued.issued_at))
        .bind(now_db())
        .bind(cred.id)
        .execute(&mut *tx)
        .await?;
        let older: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM phone_credentials WHERE person_id = $1 AND platform = $2 AND id <> $3 AND state IN ('issued', 'suspended')",
        )
        .bind(cred.person_id)
        .bind(cred.platform.as_str())
        .bind(cred.id)
        .fetch_all(&mut *tx)
        .await?;
        end_credentials(&mut tx, &older, "superseded", issued.issued_at).await?;
        tx.commit().await?;
        Ok(JobCompletion::Issued { superseded: older })
    }

    /// Records a failed attempt. With `give_up` the job and its credential end as
    /// `failed`; otherwise the job is queued again for `retry_at`.
    pub async fn fail_phone_job(
        &self,
        job: &PhoneJob,
        error: &str,
        at: NaiveDateTime,
        give_up: bool,
        retry_at: NaiveDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let n = if give_up {
            sqlx::query(
                "UPDATE phone_jobs SET state = 'failed', error = $1, finished_at = $2, claimed_until = NULL \
                 WHERE id = $3 AND claimed_by = $4 AND state = 'running'",
            )
            .bind(error)
            .bind(instant_to_db(at))
            .bind(job.id)
            .bind(job.token.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected()
        } else {
            sqlx::query(
                "UPDATE phone_jobs SET state = 'queued', error = $1, run_after = $2, claimed_by = NULL, claimed_until = NULL \
                 WHERE id = $3 AND claimed_by = $4 AND state = 'running'",
            )
            .bind(error)
            .bind(instant_to_db(retry_at))
            .bind(job.id)
            .bind(job.token.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected()
        };
        if n == 1 && give_up {
            sqlx::query(
                "UPDATE phone_credentials SET state = 'failed', ended_at = $1, end_reason = $2, changed_at = $3 WHERE id = $4 AND state = 'pending'",
            )
            .bind(instant_to_db(at))
            .bind(error)
            .bind(now_db())
            .bind(job.credential_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// A credential by id.
    pub async fn phone_credential(
        &self,
        id: i64,
    ) -> Result<Option<PhoneCredentialRow>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM phone_credentials c WHERE c.id = $1",
            cols("", "c")
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .map(|r| decode(&r, ""))
        .transpose()
    }

    /// A person's credentials, newest request first.
    pub async fn phone_credentials_of(
        &self,
        person_id: i64,
    ) -> Result<Vec<PhoneCredentialRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM phone_credentials c WHERE c.person_id = $1 ORDER BY c.requested_at DESC, c.id DESC",
            cols("", "c")
        )))
        .bind(person_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| decode(r, "")).collect()
    }

    /// The job of a credential.
    pub async fn phone_job_of(
        &self,
        credential_id: i64,
    ) -> Result<Option<PhoneJobStatus>, StoreError> {
        let row = sqlx::query(
            "SELECT id, state, attempts, error FROM phone_jobs WHERE credential_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(credential_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(PhoneJobStatus {
                id: r.try_get("id")?,
                state: r.try_get("state")?,
                attempts: r.try_get("attempts")?,
                error: r.try_get("error")?,
            })
        })
        .transpose()
    }

    /// The holder of a phone user-authentication certificate, in one round trip: the
    /// credential, the card certificate it hangs on, and the person.
    pub async fn phone_holder(
        &self,
        auth_fingerprint: &str,
    ) -> Result<Option<PhoneHolder>, StoreError> {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            let person: Vec<String> = crate::write::PERSON_COLS
                .iter()
                .map(|c| format!("ps.{c} AS p_{c}"))
                .collect();
            format!(
                "SELECT {}, k.fingerprint AS k_fingerprint, k.issuer AS k_issuer, k.serial AS k_serial, k.person_id AS k_person_id, \
                 k.issued_at AS k_issued_at, k.not_after AS k_not_after, k.revoked_at AS k_revoked_at, k.revocation_reason AS k_reason, \
                 (SELECT COUNT(*) FROM card_certificates n WHERE n.person_id = k.person_id AND n.issuer = k.issuer AND n.issued_at > k.issued_at) AS k_newer, \
                 {} FROM phone_credentials c JOIN card_certificates k ON k.fingerprint = c.card_fingerprint \
                 JOIN persons ps ON ps.id = c.person_id WHERE c.auth_fingerprint = $1",
                cols("c_", "c"),
                person.join(", ")
            )
        });
        let row = sqlx::query(SQL.as_str())
            .bind(auth_fingerprint)
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        let newer: i64 = r.try_get("k_newer")?;
        let revoked_at: Option<i64> = r.try_get("k_revoked_at")?;
        Ok(Some(PhoneHolder {
            credential: decode(&r, "c_")?,
            card: CardCertificate {
                fingerprint: r.try_get("k_fingerprint")?,
                issuer: r.try_get("k_issuer")?,
                serial: r.try_get("k_serial")?,
                person_id: r.try_get("k_person_id")?,
                issued_at: at(&r, "k_issued_at")?,
                not_after: at(&r, "k_not_after")?,
                revoked_at: revoked_at.and_then(instant_from_db),
                revocation_reason: r.try_get("k_reason")?,
            },
            card_superseded: newer > 0,
            person: crate::read::decode_person(&r, "p_")?,
        }))
    }

    /// Suspends (一時停止) an issued credential of `person_id`. False when there is no such
    /// issued credential.
    pub async fn suspend_phone(
        &self,
        id: i64,
        person_id: i64,
        at: NaiveDateTime,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE phone_credentials SET state = 'suspended', ended_at = $1, end_reason = $2, changed_at = $3 \
             WHERE id = $4 AND person_id = $5 AND state = 'issued'",
        )
        .bind(instant_to_db(at))
        .bind(reason)
        .bind(now_db())
        .bind(id)
        .bind(person_id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Lifts a suspension (the phone was found). False when it is not suspended.
    pub async fn resume_phone(&self, id: i64, person_id: i64) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE phone_credentials SET state = 'issued', ended_at = NULL, end_reason = NULL, changed_at = $1 \
             WHERE id = $2 AND person_id = $3 AND state = 'suspended'",
        )
        .bind(now_db())
        .bind(id)
        .bind(person_id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Revokes one live credential of `person_id` and its certificates. False when it is
    /// not live.
    pub async fn revoke_phone(
        &self,
        id: i64,
        person_id: i64,
        reason: &str,
        at: NaiveDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let live: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM phone_credentials WHERE id = $1 AND person_id = $2 AND state IN {LIVE}"
        )))
        .bind(id)
        .bind(person_id)
        .fetch_optional(&mut *tx)
        .await?;
        if live.is_none() {
            tx.rollback().await?;
            return Ok(false);
        }
        end_credentials(&mut tx, &[id], reason, at).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The lifecycle rule "a phone credential ends with its card certificate": revokes
    /// live credentials whose card certificate was revoked (`card-revoked`) or superseded
    /// by a newer card certificate of the same person (`superseded`), looking only at
    /// card certificates changed after `since` (microseconds, as in
    /// [`Store::revocations_since`]). Returns the credentials ended and the new cursor.
    pub async fn cascade_phone_revocations(
        &self,
        since: i64,
        at: NaiveDateTime,
    ) -> Result<(Vec<i64>, i64), StoreError> {
        let newest: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(changed_at) FROM card_certificates WHERE changed_at > $1",
        )
        .bind(since)
        .fetch_one(self.pool())
        .await?;
        let Some(newest) = newest else {
            return Ok((Vec::new(), since));
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT p.id AS id, 'card-revoked' AS why FROM card_certificates c JOIN phone_credentials p ON p.card_fingerprint = c.fingerprint \
             WHERE c.changed_at > $1 AND c.changed_at <= $2 AND c.revoked_at IS NOT NULL AND p.state IN {LIVE} \
             UNION ALL \
             SELECT p.id AS id, 'superseded' AS why FROM card_certificates n JOIN card_certificates c \
             ON c.person_id = n.person_id AND c.issuer = n.issuer AND c.issued_at < n.issued_at \
             JOIN phone_credentials p ON p.card_fingerprint = c.fingerprint \
             WHERE n.changed_at > $1 AND n.changed_at <= $2 AND p.state IN {LIVE}"
        )))
        .bind(since)
        .bind(newest)
        .fetch_all(self.pool())
        .await?;
        let mut ended = Vec::new();
        let mut tx = self.pool().begin().await?;
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            if ended.contains(&id) {
                continue;
            }
            let why: String = r.try_get("why")?;
            end_credentials(&mut tx, &[id], &why, at).await?;
            ended.push(id);
        }
        tx.commit().await?;
        Ok((ended, newest))
    }
}
