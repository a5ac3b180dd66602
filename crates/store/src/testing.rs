//! Fresh databases for tests: a new SQLite file, or a new PostgreSQL database on the
//! server named by `ONSHI_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`).
//! A PostgreSQL that cannot be reached is an error, never a skip.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor};

use crate::StoreError;

/// The server the PostgreSQL suites run against.
pub fn postgres_admin_url() -> String {
    std::env::var("ONSHI_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Creates an empty database and returns its URL.
pub async fn fresh_postgres_url() -> Result<String, StoreError> {
    static N: AtomicU32 = AtomicU32::new(0);
    sqlx::any::install_default_drivers();
    let admin = postgres_admin_url();
    let name = format!(
        "onshi_t_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros() % 1_000_000
    );
    let mut conn = sqlx::AnyConnection::connect(&admin)
        .await
        .map_err(|source| StoreError::Connect {
            url: admin.clone(),
            source,
        })?;
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await?;
    conn.close().await?;
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    Ok(format!("{base}/{name}"))
}

/// A new SQLite file URL inside `dir`.
pub fn fresh_sqlite_url(dir: &std::path::Path) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "sqlite://{}/onshi-{}.db",
        dir.display(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
