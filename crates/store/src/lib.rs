//! Persistence of the center: one schema and one set of migrations for an embedded SQLite
//! file (the default, in WAL mode) and for PostgreSQL, behind one `Store`.
//!
//! The store speaks in rows and in the `model` crate's types; it holds no business rules
//! (which record is valid, who may see what: that is the center's job), does no HTTP, and
//! never decides anything on behalf of its callers. Other actors never reach into these
//! tables: they talk to the center.

mod admin;
mod card;
mod commit;
mod emr;
mod error;
mod history;
mod id;
mod lookup;
mod migrate;
mod phone;
mod read;
mod rows;
mod write;

#[doc(hidden)]
pub mod testing;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

pub use admin::*;
pub use card::*;
pub use emr::*;
pub use error::StoreError;
pub use history::*;
pub use id::IdGenerator;
pub use phone::*;
pub use read::{CheckRow, InstitutionRow, RecordView, Table};
pub use rows::*;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The center's database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    ids: IdGenerator,
    commits: commit::GroupCommit,
    lookups: lookup::GroupLookup,
    /// A PostgreSQL streaming replica for the hot path's read, when configured.
    replica: Option<AnyPool>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Store {
    /// Opens (and for SQLite creates) the database at `url` — `sqlite://PATH` or
    /// `postgres://…` — and brings its schema up to date.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Self::connect_with(url, default_pool_size(url)).await
    }

    /// As [`Store::connect`] with an explicit number of pooled connections.
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        let url = if backend == Backend::Sqlite && !url.contains("mode=") {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=rwc")
        } else {
            url.to_owned()
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::Connect {
                url: redact(&url),
                source: e,
            })?
            .disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            // A broken connection shows on use; a ping before every query would cost a
            // round trip (a thread hand-off on SQLite) on the hot path.
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; NORMAL syncs at checkpoints,
                        // which keeps every committed transaction across a process crash.
                        conn.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Connect {
                url: redact(&url),
                source: e,
            })?;
        let store = Store {
            pool,
            backend,
            ids: IdGenerator::new(),
            commits: commit::GroupCommit::default(),
            lookups: lookup::GroupLookup::default(),
            replica: None,
        };
        migrate::run(&store.pool).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A new time-ordered row id.
    pub fn next_id(&self) -> i64 {
        self.ids.next()
    }

    /// Refreshes the query planner's statistics after a bulk load: PostgreSQL's `ANALYZE`,
    /// so that queries are planned for the tables' real sizes (autovacuum would get there
    /// only later). SQLite has none to refresh: without statistics its planner takes the
    /// index lookups the hot path wants.
    pub async fn refresh_statistics(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("ANALYZE").execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Closes the pool, waiting for connections in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Lets the group commit of receptions wait `window` after the first reception of a
    /// transaction for others to join it: fewer, larger commits (less CPU per check under
    /// a steady load) for at most `window` more latency. Zero (the default) commits as
    /// soon as the previous transaction is done. Set before the first reception.
    pub fn with_commit_window(mut self, window: Duration) -> Store {
        self.commits = commit::GroupCommit::with_window(window);
        self
    }

    /// The group commit's window ([`Store::with_commit_window`]).
    pub fn commit_window(&self) -> Duration {
        self.commits.window()
    }

    /// Serves the eligibility check's read (certificate → holder → records) from a
    /// PostgreSQL streaming replica at `url`; everything else, and every write, stays on
    /// the primary. The replica may lag by the replication delay (docs/postgres.md): a
    /// card registered or linked a moment ago may not be seen there yet.
    pub async fn with_replica(
        mut self,
        url: &str,
        max_connections: u32,
    ) -> Result<Store, StoreError> {
        if self.backend != Backend::Postgres
            || !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(StoreError::UnsupportedUrl(format!(
                "{} (replicas are for PostgreSQL primaries)",
                redact(url)
            )));
        }
        let options = AnyConnectOptions::from_str(url)
            .map_err(|e| StoreError::Connect {
                url: redact(url),
                source: e,
            })?
            .disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Connect {
                url: redact(url),
                source: e,
            })?;
        self.replica = Some(pool);
        Ok(self)
    }

    /// Where the hot path reads: the replica if there is one.
    pub(crate) fn read_pool(&self) -> &AnyPool {
        self.replica.as_ref().unwrap_or(&self.pool)
    }
}

fn default_pool_size(url: &str) -> u32 {
    // One SQLite connection: in WAL mode a commit by one connection empties the page
    // cache of every other, which made re-reading pages (pread) the largest cost of the
    // hot path with four; one connection keeps its cache warm and never waits on a lock.
    if url.starts_with("sqlite:") { 1 } else { 16 }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
