//! The national center of onshi (オンライン資格確認等システム): an HTTP/JSON service that
//! answers eligibility checks for registered medical institutions, records every check,
//! and publishes its API as an OpenAPI document.
//!
//! The center owns the rules (which record is in force, what a job change looks like, who
//! may ask); persistence is the `store` crate's, identifiers and codes are the `model`
//! crate's. The center never trusts a caller's word for an institution it has not
//! registered, never sends internal error detail to a client, and never panics on input.

mod api;
mod eligibility;
mod error;
mod time;

use std::net::SocketAddr;
use std::sync::Arc;

use onshi_store::Store;

pub use api::router;
pub use eligibility::{CheckOutcome, check_by_insurance_data, validate_insurance_query};
pub use error::{ApiError, Problem};
pub use time::{now_jst, today_jst};

/// The OpenAPI document of the center, served at [`OPENAPI_PATH`].
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");
/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// What every request handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
}

impl AppState {
    pub fn new(store: Store) -> Self {
        Self {
            inner: Arc::new(Inner { store }),
        }
    }
    pub fn store(&self) -> &Store {
        &self.inner.store
    }
}

/// Serves the center on `listener` until `shutdown` completes, then drains requests in
/// flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
