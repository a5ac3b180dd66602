//! The queries of the center's admin pages: listings with search and paging, the log of
//! eligibility checks with its filters, and the daily counts behind the usage statistics.
//!
//! Every statement is portable SQL (`$n` placeholders, `LIKE … ESCAPE`, `||`, integer
//! division on BIGINT) and runs unchanged on SQLite and PostgreSQL. Text searches escape
//! `%`, `_` and `\` so that what the operator types is matched literally.

use chrono::{NaiveDate, NaiveDateTime};
use onshi_model::*;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::read::decode_person;
use crate::rows::{date_to_db, instant_from_db, instant_to_db};
use crate::write::PERSON_COLS;
use crate::{CheckRow, InstitutionRow, InsurerRow, PersonRow, Store, StoreError, TerminalRow};

/// The most rows one page may hold.
pub const MAX_PAGE_SIZE: i64 = 200;

/// A window of a listing: `limit` rows after skipping `offset`.
///
/// Invariant: `0 <= offset` and `1 <= limit <= MAX_PAGE_SIZE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    offset: i64,
    limit: i64,
}

impl Page {
    /// Page `number` (from 1) of `size` rows; out-of-range values are brought into range
    /// (page 0 is page 1, a size above [`MAX_PAGE_SIZE`] is that size).
    pub fn new(number: i64, size: i64) -> Self {
        let limit = size.clamp(1, MAX_PAGE_SIZE);
        let number = number.clamp(1, i64::MAX / MAX_PAGE_SIZE);
        Self {
            offset: (number - 1) * limit,
            limit,
        }
    }

    pub fn offset(self) -> i64 {
        self.offset
    }

    pub fn limit(self) -> i64 {
        self.limit
    }

    /// The page number, from 1.
    pub fn number(self) -> i64 {
        self.offset / self.limit + 1
    }
}

/// One page of a listing and how many rows match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    pub rows: Vec<T>,
    pub total: i64,
    pub page: Page,
}

impl<T> Paged<T> {
    /// Pages needed for every matching row (at least 1).
    pub fn pages(&self) -> i64 {
        ((self.total + self.page.limit - 1) / self.page.limit).max(1)
    }
}

/// A registered institution with its terminal counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstitutionListing {
    pub institution: InstitutionRow,
    pub active_terminals: i64,
    pub revoked_terminals: i64,
}

/// A recorded check with the name of the institution that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckListing {
    pub check: CheckRow,
    pub institution_name: Option<String>,
}

/// What the log of checks is filtered by; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckFilter {
    pub institution: Option<InstitutionCode>,
    pub method: Option<VerificationMethod>,
    pub validity: Option<QualificationValidity>,
    /// First day included (Japan's calendar, as `checked_at` is stored).
    pub from: Option<NaiveDate>,
    /// Last day included.
    pub until: Option<NaiveDate>,
}

/// Checks made on one day by one method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyMethodCount {
    pub day: NaiveDate,
    pub method: VerificationMethod,
    pub count: i64,
}

/// An entry of the center's own audit log (admin actions and the like).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

fn corrupt(table: &'static str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table,
        detail: detail.to_string(),
    }
}

/// `%text%` for `LIKE … ESCAPE '\'`, with the pattern characters of `text` escaped.
fn contains_pattern(text: &str) -> String {
    format!("%{}%", escape_like(text))
}

fn prefix_pattern(text: &str) -> String {
    format!("{}%", escape_like(text))
}

fn escape_like(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

/// A name as typed, without the spaces (ASCII or ideographic) people put between family
/// and given names.
fn compact_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
        .collect()
}

fn instant(row: &AnyRow, col: &str, table: &'static str) -> Result<NaiveDateTime, StoreError> {
    let v: i64 = row.try_get(col)?;
    instant_from_db(v).ok_or_else(|| corrupt(table, format!("{col} = {v}")))
}

fn opt_instant(
    row: &AnyRow,
    col: &str,
    table: &'static str,
) -> Result<Option<NaiveDateTime>, StoreError> {
    let v: Option<i64> = row.try_get(col)?;
    v.map(|v| instant_from_db(v).ok_or_else(|| corrupt(table, format!("{col} = {v}"))))
        .transpose()
}

fn decode_institution(row: &AnyRow) -> Result<InstitutionRow, StoreError> {
    const T: &str = "institutions";
    let pref: i64 = row.try_get("prefecture")?;
    let active: i64 = row.try_get("active")?;
    Ok(InstitutionRow {
        code: InstitutionCode::parse(&row.try_get::<String, _>("code")?)
            .map_err(|e| corrupt(T, e))?,
        kind: InstitutionKind::parse(&row.try_get::<String, _>("kind")?)
            .map_err(|e| corrupt(T, e))?,
        name: row.try_get("name")?,
        prefecture: Prefecture::from_code(pref as u8).map_err(|e| corrupt(T, e))?,
        address: row.try_get("address")?,
        post_number: row.try_get("post_number")?,
        active: active != 0,
    })
}

fn decode_terminal(row: &AnyRow) -> Result<TerminalRow, StoreError> {
    Ok(TerminalRow {
        fingerprint: row.try_get("fingerprint")?,
        institution_code: row.try_get("institution_code")?,
        terminal_id: row.try_get("terminal_id")?,
        serial: row.try_get("serial")?,
        enrolled_at: instant(row, "enrolled_at", "terminals")?,
        revoked_at: opt_instant(row, "revoked_at", "terminals")?,
    })
}

fn decode_insurer(row: &AnyRow) -> Result<InsurerRow, StoreError> {
    const T: &str = "insurers";
    let kind: String = row.try_get("kind")?;
    let pref: i64 = row.try_get("prefecture")?;
    Ok(InsurerRow {
        number: InsurerNumber::parse(&row.try_get::<String, _>("number")?)
            .map_err(|e| corrupt(T, e))?,
        kind: serde_json::from_value(serde_json::Value::String(kind.clone()))
            .map_err(|_| corrupt(T, format!("kind = {kind}")))?,
        name: row.try_get("name")?,
        prefecture: Prefecture::from_code(pref as u8).map_err(|e| corrupt(T, e))?,
        address: row.try_get("address")?,
    })
}

fn insurer_kind_text(kind: InsurerKind) -> String {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn decode_check_listing(r: &AnyRow) -> Result<CheckListing, StoreError> {
    const T: &str = "eligibility_checks";
    let at: i64 = r.try_get("checked_at")?;
    let as_of: i64 = r.try_get("as_of")?;
    Ok(CheckListing {
        check: CheckRow {
            id: r.try_get("id")?,
            checked_at: instant_from_db(at).ok_or_else(|| corrupt(T, "checked_at"))?,
            institution_code: r.try_get("institution_code")?,
            method: VerificationMethod::parse(&r.try_get::<String, _>("method")?)
                .map_err(|e| corrupt(T, e))?,
            reference: ReferenceClassification::parse(&r.try_get::<String, _>("reference")?)
                .map_err(|e| corrupt(T, e))?,
            as_of: crate::rows::date_from_db(as_of)
                .ok_or_else(|| corrupt(T, format!("as_of = {as_of}")))?,
            validity: QualificationValidity::parse(&r.try_get::<String, _>("validity")?)
                .map_err(|e| corrupt(T, e))?,
            person_id: r.try_get("person_id")?,
            record_id: r.try_get("record_id")?,
            query: r.try_get("query")?,
        },
        institution_name: r.try_get("institution_name")?,
    })
}

/// Microseconds of midnight (as stored) starting `day`.
fn day_start(day: NaiveDate) -> i64 {
    instant_to_db(day.and_time(chrono::NaiveTime::MIN))
}

/// The stored bounds `[from, until]` of a day range, open ends as the extremes.
fn day_bounds(from: Option<NaiveDate>, until: Option<NaiveDate>) -> (i64, i64) {
    let lo = from.map(day_start).unwrap_or(i64::MIN);
    let hi = until
        .and_then(|d| d.succ_opt())
        .map(day_start)
        .unwrap_or(i64::MAX);
    (lo, hi)
}

const CHECK_WHERE: &str = "($1 = '' OR c.institution_code = $1) AND ($2 = '' OR c.method = $2) \
     AND ($3 = '' OR c.validity = $3) AND c.checked_at >= $4 AND c.checked_at < $5";

impl Store {
    /// Registered institutions whose code starts with `text` or whose name contains it
    /// (all when `text` is empty), by code, with their terminal counts.
    pub async fn list_institutions(
        &self,
        text: &str,
        page: Page,
    ) -> Result<Paged<InstitutionListing>, StoreError> {
        let text = text.trim();
        let (prefix, contains) = (prefix_pattern(text), contains_pattern(text));
        const WHERE: &str = "($1 = '' OR i.code LIKE $2 ESCAPE '\\' OR i.name LIKE $3 ESCAPE '\\')";
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM institutions i WHERE {WHERE}"
        )))
        .bind(text)
        .bind(prefix.as_str())
        .bind(contains.as_str())
        .fetch_one(self.pool())
        .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT i.code, i.kind, i.name, i.prefecture, i.address, i.post_number, i.active, \
             (SELECT COUNT(*) FROM terminals t WHERE t.institution_code = i.code AND t.revoked_at IS NULL) AS active_terminals, \
             (SELECT COUNT(*) FROM terminals t WHERE t.institution_code = i.code AND t.revoked_at IS NOT NULL) AS revoked_terminals \
             FROM institutions i WHERE {WHERE} ORDER BY i.code LIMIT $4 OFFSET $5"
        )))
        .bind(text)
        .bind(prefix.as_str())
        .bind(contains.as_str())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(self.pool())
        .await?;
        let rows = rows
            .iter()
            .map(|r| {
                Ok(InstitutionListing {
                    institution: decode_institution(r)?,
                    active_terminals: r.try_get("active_terminals")?,
                    revoked_terminals: r.try_get("revoked_terminals")?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Paged { rows, total, page })
    }

    /// Enrolled terminal certificates, newest first, of one institution or of all.
    pub async fn list_terminals(
        &self,
        institution: Option<&InstitutionCode>,
        page: Page,
    ) -> Result<Paged<TerminalRow>, StoreError> {
        let code = institution.map(|c| c.as_str()).unwrap_or("");
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM terminals WHERE ($1 = '' OR institution_code = $1)",
        )
        .bind(code)
        .fetch_one(self.pool())
        .await?;
        let rows = sqlx::query(
            "SELECT fingerprint, institution_code, terminal_id, serial, enrolled_at, revoked_at FROM terminals \
             WHERE ($1 = '' OR institution_code = $1) ORDER BY enrolled_at DESC, fingerprint LIMIT $2 OFFSET $3",
        )
        .bind(code)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(self.pool())
        .await?;
        let rows = rows.iter().map(decode_terminal).collect::<Result<_, _>>()?;
        Ok(Paged { rows, total, page })
    }

    /// Revokes one terminal certificate by its fingerprint. Returns the terminal as it now
    /// stands, or `None` when no unrevoked certificate has that fingerprint.
    pub async fn revoke_terminal_certificate(
        &self,
        fingerprint: &str,
        at: NaiveDateTime,
    ) -> Result<Option<TerminalRow>, StoreError> {
        let n = sqlx::query(
            "UPDATE terminals SET revoked_at = $1, changed_at = $2 WHERE fingerprint = $3 AND revoked_at IS NULL",
        )
        .bind(instant_to_db(at))
        .bind(instant_to_db(chrono::Utc::now().naive_utc()))
        .bind(fingerprint)
        .execute(self.pool())
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        self.terminal(fingerprint).await
    }

    /// Insurers whose number starts with `text` or whose name contains it (all when
    /// empty), optionally of one kind, by number.
    pub async fn list_insurers(
        &self,
        text: &str,
        kind: Option<InsurerKind>,
        page: Page,
    ) -> Result<Paged<InsurerRow>, StoreError> {
        let text = text.trim();
        let (prefix, contains) = (prefix_pattern(text), contains_pattern(text));
        let kind = kind.map(insurer_kind_text).unwrap_or_default();
        const WHERE: &str = "($1 = '' OR number LIKE $2 ESCAPE '\\' OR name LIKE $3 ESCAPE '\\') AND ($4 = '' OR kind = $4)";
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM insurers WHERE {WHERE}"
        )))
        .bind(text)
        .bind(prefix.as_str())
        .bind(contains.as_str())
        .bind(kind.as_str())
        .fetch_one(self.pool())
        .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT number, kind, name, prefecture, address FROM insurers WHERE {WHERE} \
             ORDER BY number LIMIT $5 OFFSET $6"
        )))
        .bind(text)
        .bind(prefix.as_str())
        .bind(contains.as_str())
        .bind(kind.as_str())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(self.pool())
        .await?;
        let rows = rows.iter().map(decode_insurer).collect::<Result<_, _>>()?;
        Ok(Paged { rows, total, page })
    }

    /// Persons born on `birth_date` whose name (kanji or katakana, spaces ignored)
    /// contains `name`, by id; at most `limit`. An empty name matches nobody: the center's
    /// staff search a person, they do not browse the population.
    pub async fn find_persons(
        &self,
        name: &str,
        birth_date: NaiveDate,
        limit: i64,
    ) -> Result<Vec<PersonRow>, StoreError> {
        let name = compact_name(name);
        if name.is_empty() {
            return Ok(Vec::new());
        }
        let pattern = contains_pattern(&name);
        let sql = format!(
            "SELECT {} FROM persons WHERE birth_date = $1 \
             AND ((family_name || given_name) LIKE $2 ESCAPE '\\' OR (family_kana || given_kana) LIKE $2 ESCAPE '\\') \
             ORDER BY id LIMIT $3",
            PERSON_COLS.join(", ")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(date_to_db(birth_date))
            .bind(pattern.as_str())
            .bind(limit.clamp(1, MAX_PAGE_SIZE))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| decode_person(r, "")).collect()
    }

    /// The log of eligibility checks, newest first, filtered.
    pub async fn list_checks(
        &self,
        filter: &CheckFilter,
        page: Page,
    ) -> Result<Paged<CheckListing>, StoreError> {
        let inst = filter.institution.map(|c| c.as_str().to_owned());
        let inst = inst.as_deref().unwrap_or("");
        let method = filter.method.map(|m| m.code()).unwrap_or("");
        let validity = filter.validity.map(|v| v.code()).unwrap_or("");
        let (lo, hi) = day_bounds(filter.from, filter.until);
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM eligibility_checks c WHERE {CHECK_WHERE}"
        )))
        .bind(inst)
        .bind(method)
        .bind(validity)
        .bind(lo)
        .bind(hi)
        .fetch_one(self.pool())
        .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.id, c.checked_at, c.institution_code, c.method, c.reference, c.as_of, c.validity, \
             c.person_id, c.record_id, c.query, i.name AS institution_name \
             FROM eligibility_checks c LEFT JOIN institutions i ON i.code = c.institution_code \
             WHERE {CHECK_WHERE} ORDER BY c.checked_at DESC, c.id DESC LIMIT $6 OFFSET $7"
        )))
        .bind(inst)
        .bind(method)
        .bind(validity)
        .bind(lo)
        .bind(hi)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(self.pool())
        .await?;
        let rows = rows
            .iter()
            .map(decode_check_listing)
            .collect::<Result<_, _>>()?;
        Ok(Paged { rows, total, page })
    }

    /// Checks per day and method from `from` to `until` (both included), optionally for
    /// one institution; days without checks are absent.
    pub async fn checks_per_day(
        &self,
        from: NaiveDate,
        until: NaiveDate,
        institution: Option<&InstitutionCode>,
    ) -> Result<Vec<DailyMethodCount>, StoreError> {
        let (lo, hi) = day_bounds(Some(from), Some(until));
        // Instants are stored as the center's wall-clock microseconds since 1970-01-01, so
        // whole days divide out exactly (both backends truncate BIGINT division).
        let rows = sqlx::query(
            "SELECT c.checked_at / 86400000000 AS day, c.method, COUNT(*) AS n FROM eligibility_checks c \
             WHERE ($1 = '' OR c.institution_code = $1) AND c.checked_at >= $2 AND c.checked_at < $3 \
             GROUP BY c.checked_at / 86400000000, c.method ORDER BY day, c.method",
        )
        .bind(institution.map(|c| c.as_str()).unwrap_or(""))
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let day: i64 = r.try_get("day")?;
                let at = instant_from_db(day * MICROS_PER_DAY)
                    .ok_or_else(|| corrupt("eligibility_checks", "checked_at"))?;
                Ok(DailyMethodCount {
                    day: at.date(),
                    method: VerificationMethod::parse(&r.try_get::<String, _>("method")?)
                        .map_err(|e| corrupt("eligibility_checks", e))?,
                    count: r.try_get("n")?,
                })
            })
            .collect()
    }

    /// The center's audit log, newest first, optionally only actions starting with
    /// `action_prefix`.
    pub async fn list_audit(
        &self,
        action_prefix: &str,
        page: Page,
    ) -> Result<Paged<AuditRow>, StoreError> {
        let prefix = prefix_pattern(action_prefix.trim());
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE $1 ESCAPE '\\'")
                .bind(prefix.as_str())
                .fetch_one(self.pool())
                .await?;
        let rows = sqlx::query(
            "SELECT id, at, actor, action, subject, detail FROM audit_log WHERE action LIKE $1 ESCAPE '\\' \
             ORDER BY at DESC, id DESC LIMIT $2 OFFSET $3",
        )
        .bind(prefix.as_str())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(self.pool())
        .await?;
        let rows = rows
            .iter()
            .map(|r| {
                Ok(AuditRow {
                    id: r.try_get("id")?,
                    at: instant(r, "at", "audit_log")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    subject: r.try_get("subject")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Paged { rows, total, page })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_what_the_operator_types() {
        assert_eq!(contains_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
        assert_eq!(prefix_pattern("13"), "13%");
    }

    #[test]
    fn names_lose_their_spaces() {
        assert_eq!(compact_name(" 山田\u{3000}太郎 "), "山田太郎");
        assert_eq!(compact_name("ヤマダ タロウ"), "ヤマダタロウ");
    }

    #[test]
    fn pages_stay_in_range() {
        let p = Page::new(0, 0);
        assert_eq!((p.offset(), p.limit(), p.number()), (0, 1, 1));
        let p = Page::new(3, 50);
        assert_eq!((p.offset(), p.limit(), p.number()), (100, 50, 3));
        assert_eq!(Page::new(1, 10_000).limit(), MAX_PAGE_SIZE);
        let paged: Paged<()> = Paged {
            rows: vec![],
            total: 101,
            page: Page::new(1, 50),
        };
        assert_eq!(paged.pages(), 3);
    }
}
