//! The card path's persistence: certificates linked to persons, enrolled terminals, spent
//! challenges, consents, and the one transaction that records a reception.

use chrono::{NaiveDate, NaiveDateTime};
use onshi_model::{ConsentKind, InstitutionCode};
use sqlx::Row;

use crate::rows::*;
use crate::{Store, StoreError};

/// A J-LIS user-authentication certificate as the center registers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardCertificate {
    /// Hex SHA-256 of the certificate's DER.
    pub fingerprint: String,
    /// The issuing CA's label.
    pub issuer: String,
    /// Hex serial number.
    pub serial: String,
    pub person_id: i64,
    pub issued_at: NaiveDateTime,
    pub not_after: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub revocation_reason: Option<String>,
}

/// An enrolled clinic terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalRow {
    pub fingerprint: String,
    pub institution_code: String,
    pub terminal_id: String,
    pub serial: String,
    pub enrolled_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

/// A revocation to apply to the verifier (certificates or terminals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedSerial {
    pub issuer: String,
    pub serial: String,
    pub revoked_at: NaiveDateTime,
    pub reason: String,
}

/// A registered certificate with its holder and the holder's records.
#[derive(Debug, Clone)]
pub struct HolderRecords {
    pub certificate: CardCertificate,
    pub person: crate::PersonRow,
    pub records: Vec<crate::RecordView>,
    /// The 照会番号 the asking institution registered for the holder.
    pub reference_number: Option<String>,
}

/// What a reception writes, all or nothing: the spent challenge, the check and the consents.
#[derive(Debug, Clone)]
pub struct NewReception {
    pub challenge_nonce: String,
    pub challenge_expires_at: NaiveDateTime,
    pub check: NewCheck,
    pub consents: Vec<(ConsentKind, NaiveDateTime, NaiveDateTime)>,
}

/// Why a reception could not be recorded.
#[derive(Debug)]
pub enum ReceptionWrite {
    /// Recorded; the check's id (which is also the reception id).
    Recorded(i64),
    /// The challenge was spent before.
    ChallengeReplayed,
}

/// A consent as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub reception_id: i64,
    pub person_id: i64,
    pub institution_code: String,
    pub kind: ConsentKind,
    pub consented_at: NaiveDateTime,
    pub available_until: NaiveDateTime,
}

fn instant(
    row: &sqlx::any::AnyRow,
    col: &str,
    table: &'static str,
) -> Result<NaiveDateTime, StoreError> {
    let v: i64 = row.try_get(col)?;
    instant_from_db(v).ok_or_else(|| StoreError::Corrupt {
        table,
        detail: format!("{col} = {v}"),
    })
}

fn opt_instant(
    row: &sqlx::any::AnyRow,
    col: &str,
    table: &'static str,
) -> Result<Option<NaiveDateTime>, StoreError> {
    let v: Option<i64> = row.try_get(col)?;
    v.map(|v| {
        instant_from_db(v).ok_or_else(|| StoreError::Corrupt {
            table,
            detail: format!("{col} = {v}"),
        })
    })
    .transpose()
}

fn now_db() -> i64 {
    instant_to_db(chrono::Utc::now().naive_utc())
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Store {
    /// Registers a certificate issued to a person (the J-LIS side of issuance).
    pub async fn register_card_certificate(&self, c: &CardCertificate) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO card_certificates (fingerprint, issuer, serial, person_id, issued_at, not_after, revoked_at, revocation_reason, changed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(c.fingerprint.as_str())
        .bind(c.issuer.as_str())
        .bind(c.serial.as_str())
        .bind(c.person_id)
        .bind(instant_to_db(c.issued_at))
        .bind(instant_to_db(c.not_after))
        .bind(c.revoked_at.map(instant_to_db))
        .bind(c.revocation_reason.as_deref())
        .bind(now_db())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The registered certificate with this fingerprint and the person it belongs to, in
    /// one round trip (the card path's lookup).
    pub async fn card_holder(
        &self,
        fingerprint: &str,
    ) -> Result<Option<(CardCertificate, crate::PersonRow)>, StoreError> {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            let person: Vec<String> = crate::write::PERSON_COLS
                .iter()
                .map(|c| format!("p.{c} AS p_{c}"))
                .collect();
            format!(
                "SELECT c.fingerprint, c.issuer, c.serial, c.person_id, c.issued_at, c.not_after, c.revoked_at, c.revocation_reason, {} \
                 FROM card_certificates c JOIN persons p ON p.id = c.person_id WHERE c.fingerprint = $1",
                person.join(", ")
            )
        });
        let row = sqlx::query(SQL.as_str())
            .bind(fingerprint)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| Ok((decode_cert(&r)?, crate::read::decode_person(&r, "p_")?)))
            .transpose()
    }

    /// The hot path's one read: the registration of a certificate, its holder, every
    /// record of the holder (oldest first) and the 照会番号 `institution` registered for
    /// the holder, in one statement. `None` when J-LIS never registered the certificate.
    pub async fn card_holder_records(
        &self,
        fingerprint: &str,
        institution: &InstitutionCode,
    ) -> Result<Option<HolderRecords>, StoreError> {
        // Concurrent lookups share one statement (crate::lookup).
        self.lookups
            .holder(self.read_pool(), self.backend, fingerprint, institution)
            .await
    }

    /// Every certificate of a person, newest first.
    pub async fn card_certificates_of(
        &self,
        person_id: i64,
    ) -> Result<Vec<CardCertificate>, StoreError> {
        let rows = sqlx::query(
            "SELECT fingerprint, issuer, serial, person_id, issued_at, not_after, revoked_at, revocation_reason \
             FROM card_certificates WHERE person_id = $1 ORDER BY issued_at DESC",
        )
        .bind(person_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(decode_cert).collect()
    }

    /// Revokes a certificate (lost card, death, renewal …). Returns false if it was unknown
    /// or already revoked.
    pub async fn revoke_card_certificate(
        &self,
        fingerprint: &str,
        at: NaiveDateTime,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE card_certificates SET revoked_at = $1, revocation_reason = $2, changed_at = $3 \
             WHERE fingerprint = $4 AND revoked_at IS NULL",
        )
        .bind(instant_to_db(at))
        .bind(reason)
        .bind(now_db())
        .bind(fingerprint)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Revocations (of certificates and of terminals) changed since `since` (micros), with
    /// the newest change seen, for incremental reloads into the verifier.
    pub async fn revocations_since(
        &self,
        since: i64,
    ) -> Result<(Vec<RevokedSerial>, i64), StoreError> {
        let rows = sqlx::query(
            "SELECT issuer, serial, revoked_at, revocation_reason AS reason, changed_at FROM card_certificates \
             WHERE changed_at > $1 AND revoked_at IS NOT NULL \
             UNION ALL \
             SELECT 'institution', serial, revoked_at, 'terminal revoked', changed_at FROM terminals \
             WHERE changed_at > $1 AND revoked_at IS NOT NULL",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        let mut newest = since;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let changed: i64 = r.try_get("changed_at")?;
            newest = newest.max(changed);
            out.push(RevokedSerial {
                issuer: r.try_get("issuer")?,
                serial: r.try_get("serial")?,
                revoked_at: instant(r, "revoked_at", "card_certificates")?,
                reason: r
                    .try_get::<Option<String>, _>("reason")?
                    .unwrap_or_default(),
            });
        }
        Ok((out, newest))
    }

    /// Enrols a terminal.
    pub async fn enroll_terminal(&self, t: &TerminalRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO terminals (fingerprint, institution_code, terminal_id, serial, enrolled_at, revoked_at, changed_at) \
             VALUES ($1, $2, $3, $4, $5, NULL, $6)",
        )
        .bind(t.fingerprint.as_str())
        .bind(t.institution_code.as_str())
        .bind(t.terminal_id.as_str())
        .bind(t.serial.as_str())
        .bind(instant_to_db(t.enrolled_at))
        .bind(now_db())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The enrolled terminal with this certificate fingerprint.
    pub async fn terminal(&self, fingerprint: &str) -> Result<Option<TerminalRow>, StoreError> {
        let row = sqlx::query(
            "SELECT fingerprint, institution_code, terminal_id, serial, enrolled_at, revoked_at FROM terminals WHERE fingerprint = $1",
        )
        .bind(fingerprint)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(TerminalRow {
                fingerprint: r.try_get("fingerprint")?,
                institution_code: r.try_get("institution_code")?,
                terminal_id: r.try_get("terminal_id")?,
                serial: r.try_get("serial")?,
                enrolled_at: instant(&r, "enrolled_at", "terminals")?,
                revoked_at: opt_instant(&r, "revoked_at", "terminals")?,
            })
        })
        .transpose()
    }

    /// Revokes every certificate of a terminal. Returns how many were revoked.
    pub async fn revoke_terminal(
        &self,
        institution: &InstitutionCode,
        terminal_id: &str,
        at: NaiveDateTime,
    ) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE terminals SET revoked_at = $1, changed_at = $2 WHERE institution_code = $3 AND terminal_id = $4 AND revoked_at IS NULL",
        )
        .bind(instant_to_db(at))
        .bind(now_db())
        .bind(institution.as_str())
        .bind(terminal_id)
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    /// 利用登録: links the person's card to their insurance. Returns the link date (the
    /// existing one when already linked).
    pub async fn link_card(&self, person_id: i64, on: NaiveDate) -> Result<NaiveDate, StoreError> {
        sqlx::query("UPDATE persons SET linked_on = $1 WHERE id = $2 AND linked_on IS NULL")
            .bind(date_to_db(on))
            .bind(person_id)
            .execute(self.pool())
            .await?;
        let v: Option<i64> = sqlx::query_scalar("SELECT linked_on FROM persons WHERE id = $1")
            .bind(person_id)
            .fetch_one(self.pool())
            .await?;
        v.and_then(date_from_db).ok_or_else(|| StoreError::Corrupt {
            table: "persons",
            detail: format!("linked_on of {person_id}"),
        })
    }

    /// A named setting, created with `init()` the first time (by whichever process gets
    /// there first; every process then reads the same value).
    pub async fn setting_or_init(
        &self,
        name: &str,
        init: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        if let Some(v) =
            sqlx::query_scalar::<_, String>("SELECT value FROM center_settings WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await?
        {
            return Ok(v);
        }
        let value = init();
        let inserted = sqlx::query("INSERT INTO center_settings (name, value) VALUES ($1, $2)")
            .bind(name)
            .bind(value.as_str())
            .execute(self.pool())
            .await;
        match inserted {
            Ok(_) => Ok(value),
            Err(e) if is_unique_violation(&e) => Ok(sqlx::query_scalar(
                "SELECT value FROM center_settings WHERE name = $1",
            )
            .bind(name)
            .fetch_one(self.pool())
            .await?),
            Err(e) => Err(e.into()),
        }
    }

    /// Records a reception atomically: spends the challenge (refusing a replay), records
    /// the check and the consents. Concurrent receptions share one transaction (group
    /// commit, see `commit.rs`); this returns only after that transaction has committed.
    pub async fn record_reception(&self, r: &NewReception) -> Result<ReceptionWrite, StoreError> {
        self.commits
            .record(self.pool(), self.backend, &self.ids, r)
            .await
    }

    /// Spends a challenge outside a reception (利用登録). False when it was spent before.
    pub async fn spend_challenge(
        &self,
        nonce: &str,
        at: NaiveDateTime,
        expires_at: NaiveDateTime,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "INSERT INTO used_challenges (nonce, used_at, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(nonce)
        .bind(instant_to_db(at))
        .bind(instant_to_db(expires_at))
        .execute(self.pool())
        .await;
        match r {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Forgets spent challenges that expired before `before` (they can no longer verify).
    pub async fn purge_challenges(&self, before: NaiveDateTime) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM used_challenges WHERE expires_at < $1")
                .bind(instant_to_db(before))
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }

    /// The consents of a reception.
    pub async fn consents_of_reception(
        &self,
        reception_id: i64,
    ) -> Result<Vec<ConsentRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT reception_id, person_id, institution_code, kind, consented_at, available_until FROM consents WHERE reception_id = $1",
        )
        .bind(reception_id)
        .fetch_all(self.pool())
        .await?;
        decode_consents(&rows)
    }

    /// The consents a person gave at an institution's readers that are still available at
    /// `now`, newest first.
    pub async fn consents_available(
        &self,
        person_id: i64,
        institution: &InstitutionCode,
        now: NaiveDateTime,
    ) -> Result<Vec<ConsentRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT reception_id, person_id, institution_code, kind, consented_at, available_until FROM consents \
             WHERE person_id = $1 AND institution_code = $2 AND available_until > $3 \
             ORDER BY consented_at DESC, id DESC",
        )
        .bind(person_id)
        .bind(institution.as_str())
        .bind(instant_to_db(now))
        .fetch_all(self.pool())
        .await?;
        decode_consents(&rows)
    }

    /// A recorded check by id.
    pub async fn check(&self, id: i64) -> Result<Option<crate::CheckRow>, StoreError> {
        Ok(self.checks_where("id = $1", id).await?.into_iter().next())
    }
}

fn decode_consents(rows: &[sqlx::any::AnyRow]) -> Result<Vec<ConsentRow>, StoreError> {
    rows.iter()
        .map(|r| {
            Ok(ConsentRow {
                reception_id: r.try_get("reception_id")?,
                person_id: r.try_get("person_id")?,
                institution_code: r.try_get("institution_code")?,
                kind: ConsentKind::parse(&r.try_get::<String, _>("kind")?).map_err(|e| {
                    StoreError::Corrupt {
                        table: "consents",
                        detail: e.to_string(),
                    }
                })?,
                consented_at: instant(r, "consented_at", "consents")?,
                available_until: instant(r, "available_until", "consents")?,
            })
        })
        .collect()
}

pub(crate) fn decode_cert(r: &sqlx::any::AnyRow) -> Result<CardCertificate, StoreError> {
    const T: &str = "card_certificates";
    Ok(CardCertificate {
        fingerprint: r.try_get("fingerprint")?,
        issuer: r.try_get("issuer")?,
        serial: r.try_get("serial")?,
        person_id: r.try_get("person_id")?,
        issued_at: instant(r, "issued_at", T)?,
        not_after: instant(r, "not_after", T)?,
        revoked_at: opt_instant(r, "revoked_at", T)?,
        revocation_reason: r.try_get("revocation_reason")?,
    })
}
