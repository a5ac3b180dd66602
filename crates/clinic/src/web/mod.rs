//! The terminal's web pages: the face-auth reader's screens (the kiosk, `/kiosk`) and the
//! reception desk (`/desk`), served over HTTP by the terminal itself. The kiosk page is a
//! view of one server-side [`Reception`](crate::Reception): every tap is a POST that moves
//! the state machine on a blocking thread, and every change reaches the page as a
//! server-sent event carrying the new screen (htmx swaps it in). The desk follows the
//! same reader and today's receptions the same way.
//!
//! It must not keep PINs or camera frames: a PIN goes straight into the card crate's
//! zeroizing `Pin`, a frame is decoded, compared and dropped. It must not reach the
//! center other than through [`CenterClient`]. Pages are in Japanese by default, English
//! on a toggle.

mod card;
mod desk;
mod desk_pages;
mod kiosk;
mod station;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use onshi_model::InstitutionCode;
use tokio::sync::watch;

pub use card::{CardIoError, PlacedCard, ReaderCard, SimCard, SimPhone, list_cards, list_phones};
pub use desk::{DeskLog, Entry, EntryMethod};
pub use station::{Action, HandleCenter, Platform, Refusal, Screen, ShownMethod, Station, Step};

use crate::center::CenterClient;
use crate::message::Lang;
use crate::reception::{Reader, ReaderConfig};

/// How the terminal's web server is set up.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The reader's settings (institution, J-LIS card-data key, face attempts, language).
    pub reader: ReaderConfig,
    /// Virtual card files the simulation panel offers; `None` hides the panel (a real
    /// reader places the cards).
    pub sim_cards: Option<PathBuf>,
    /// What the general-purpose reader trusts for phones; `None`: this reader has no
    /// smartphone path (the kiosk says so and asks for the card).
    pub phone_trust: Option<crate::reception::PhoneTrust>,
}

/// Everything the handlers share.
#[derive(Clone)]
pub struct Terminal {
    station: Arc<Mutex<Station>>,
    screen: watch::Receiver<Screen>,
    desk: Arc<DeskLog>,
    client: CenterClient,
    institution: InstitutionCode,
    as_of: Option<chrono::NaiveDate>,
    sim_cards: Option<PathBuf>,
    /// The reader has a smartphone path.
    phones: bool,
}

impl std::fmt::Debug for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal")
            .field("institution", &self.institution)
            .field("sim_cards", &self.sim_cards)
            .finish_non_exhaustive()
    }
}

impl Terminal {
    /// A terminal talking to the center through `client`. Call it inside the Tokio
    /// runtime the server will run on: the reader's center calls are driven on it.
    pub fn new(client: CenterClient, config: WebConfig) -> Self {
        let handle = tokio::runtime::Handle::current();
        let institution = config.reader.institution;
        let as_of = config.reader.as_of;
        let reader = Reader::new(
            HandleCenter::new(client.clone(), handle),
            config.reader,
            Box::new(onshi_face::ClassicMatcher::default()),
            crate::CLASSIC_MATCHER_NAME,
        );
        let desk = Arc::new(DeskLog::default());
        let phones = config.phone_trust.is_some();
        let (station, screen) = Station::new(reader, desk.clone(), config.phone_trust);
        Self {
            station: Arc::new(Mutex::new(station)),
            screen,
            desk,
            client,
            institution,
            as_of,
            sim_cards: config.sim_cards,
            phones,
        }
    }

    /// Moves the reader (on a blocking thread: card and center calls block).
    pub async fn act(&self, action: Action) -> Result<(), Refusal> {
        let station = self.station.clone();
        tokio::task::spawn_blocking(move || {
            station
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .apply(action)
        })
        .await
        .unwrap_or(Err(Refusal::NotNow))
    }

    /// The current screen.
    pub fn screen(&self) -> Screen {
        self.screen.borrow().clone()
    }

    /// Today's receptions.
    pub fn desk(&self) -> &DeskLog {
        &self.desk
    }
}

/// The kiosk, the desk, their static files and `/healthz`.
pub fn router(terminal: Terminal) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(|| async { "ok" }))
        .route("/static/htmx.min.js", get(htmx))
        .route("/static/htmx-ext-sse.min.js", get(htmx_sse))
        .route("/static/onshi.css", get(css))
        .route("/static/kiosk.js", get(kiosk_js))
        .merge(kiosk::routes())
        .merge(desk_pages::routes())
        .with_state(terminal)
}

/// Serves `router(terminal)` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    terminal: Terminal,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(terminal))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn index() -> Response {
    html(
        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>onshi 資格確認端末</title>\
         <link rel=\"stylesheet\" href=\"/static/onshi.css\"></head><body class=\"desk\"><main>\
         <h1>onshi 資格確認端末</h1><ul class=\"index\">\
         <li><a href=\"/kiosk\">顔認証付きカードリーダーの画面（患者さん用） / Reader screens</a></li>\
         <li><a href=\"/desk\">受付（職員用） / Reception desk</a></li></ul></main></body></html>"
            .to_owned(),
    )
}

fn html(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

fn static_file(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn htmx() -> Response {
    static_file(
        "text/javascript",
        include_str!("../../../../assets/vendor/htmx.min.js"),
    )
}

async fn htmx_sse() -> Response {
    static_file(
        "text/javascript",
        include_str!("../../../../assets/vendor/htmx-ext-sse.min.js"),
    )
}

async fn css() -> Response {
    static_file(
        "text/css; charset=utf-8",
        include_str!("../../templates/static/onshi.css"),
    )
}

async fn kiosk_js() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("../../templates/static/kiosk.js"),
    )
}

/// A refusal as the page shows it.
fn refused(r: Refusal) -> Response {
    let status = match r {
        Refusal::NotNow => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        r.to_string(),
    )
        .into_response()
}

/// Picks the Japanese or English text in templates: `{{ t.s("はい", "Yes") }}`.
#[derive(Debug, Clone, Copy)]
pub struct T(pub Lang);

impl T {
    pub fn s<'a>(&self, ja: &'a str, en: &'a str) -> &'a str {
        match self.0 {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    /// The `lang` attribute.
    pub fn code(&self) -> &'static str {
        match self.0 {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// The language.
    pub fn lang(&self) -> Lang {
        self.0
    }

    pub fn is_en(&self) -> bool {
        self.0 == Lang::En
    }
}

/// `?lang=en` on the desk's pages.
#[derive(Debug, Default, serde::Deserialize)]
pub struct LangQuery {
    #[serde(default)]
    lang: Option<String>,
}

impl LangQuery {
    fn lang(&self) -> Lang {
        match self.lang.as_deref() {
            Some("en") => Lang::En,
            _ => Lang::Ja,
        }
    }
}
