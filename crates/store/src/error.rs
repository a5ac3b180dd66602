use thiserror::Error;

/// What went wrong in the store.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot open database {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("migration {version} failed: {source}")]
    Migration {
        version: i64,
        #[source]
        source: sqlx::Error,
    },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// The group-commit writer stopped before answering (its runtime shut down); the
    /// reception may or may not have been recorded.
    #[error("the reception writer stopped before answering")]
    WriterStopped,
    /// The group-lookup reader stopped before answering (its runtime shut down).
    #[error("the card-holder reader stopped before answering")]
    ReaderStopped,
    /// A group lookup's statement failed; every lookup it carried gets this.
    #[error("card-holder lookup failed: {0}")]
    Lookup(String),
    /// A stored value does not decode into its model type: the database holds data this
    /// version of onshi did not write.
    #[error("corrupt row in {table}: {detail}")]
    Corrupt { table: &'static str, detail: String },
}
