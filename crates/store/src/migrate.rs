//! Applies the SQL files of `migrations/` in order, once each, recording them in
//! `onshi_migrations`. The files are portable SQL, so the same ones serve both backends.

use sqlx::AnyPool;

use crate::error::StoreError;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_card.sql")),
    (3, include_str!("../migrations/0003_history.sql")),
    (4, include_str!("../migrations/0004_phone.sql")),
    (5, include_str!("../migrations/0005_emr.sql")),
    (6, include_str!("../migrations/0006_home_consents.sql")),
];

pub(crate) async fn run(pool: &AnyPool) -> Result<(), StoreError> {
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS onshi_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .execute(pool)
        .await?;
    for (version, sql) in MIGRATIONS {
        let mut tx = pool.begin().await?;
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM onshi_migrations WHERE version = $1")
                .bind(*version)
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_some() {
            continue;
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
            .execute(&mut *tx)
            .await
            .map_err(|source| StoreError::Migration {
                version: *version,
                source,
            })?;
        sqlx::query("INSERT INTO onshi_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(chrono::Utc::now().timestamp())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}
