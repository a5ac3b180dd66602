//! The center's admin pages (管理画面), in Japanese: institutions and their terminals (enrol,
//! revoke), insurers, a person's eligibility, the log of checks and of admin actions, and
//! the usage statistics.
//!
//! Server-rendered HTML (askama templates under `templates/admin/`) with plain forms, so
//! every page works without script; the vendored htmx only swaps the results of the
//! filter forms in place. Access needs a session opened with the admin token (see
//! [`auth`]); every form post carries the session's CSRF token. Searches that show a
//! person's data are posts (the data stays out of URLs and logs) and are written to the
//! audit log, as are enrolments and revocations.

mod auth;
mod pages;
mod stats;

use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use onshi_store::{Page, Paged, StoreError};

use crate::AppState;
use crate::tls::ClientIdentity;

pub use auth::{AdminAuth, AdminToken, TOKEN_FILE};

/// Where the admin pages live.
pub const ADMIN_PATH: &str = "/admin/";

/// Rows per page of the listings.
const PAGE_SIZE: i64 = 50;

const HTMX: &str = include_str!("../../../../assets/vendor/htmx.min.js");
const CSS: &str = include_str!("../../templates/admin/admin.css");

/// The admin routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to(ADMIN_PATH) }))
        .route(
            "/admin/login",
            get(pages::login_form).post(pages::login_submit),
        )
        .route("/admin/logout", post(pages::logout))
        .route("/admin/", get(stats::stats_page))
        .route("/admin/institutions", get(pages::institutions))
        .route(
            "/admin/terminals",
            get(pages::terminals).post(pages::enrol_terminal),
        )
        .route("/admin/terminals/revoke", post(pages::revoke_terminal))
        .route("/admin/insurers", get(pages::insurers))
        .route(
            "/admin/eligibility",
            get(pages::eligibility_form).post(pages::eligibility_search),
        )
        .route("/admin/checks", get(pages::checks))
        .route("/admin/audit", get(pages::audit))
        .route("/admin/assets/htmx.min.js", get(htmx))
        .route("/admin/assets/admin.css", get(css))
        .layer(axum::middleware::map_response(security_headers))
}

async fn htmx() -> Response {
    static_asset(HTMX, "text/javascript; charset=utf-8")
}

async fn css() -> Response {
    static_asset(CSS, "text/css; charset=utf-8")
}

fn static_asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// Every admin response: no framing, no sniffing, no referrer outside the center, scripts and styles from
/// this origin only, and no caching of pages that may show personal data.
async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // `same-origin` rather than `no-referrer`: under the latter browsers send
    // `Origin: null` with form posts, which the CSRF check could not tell from a forgery.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// How an admin request can fail; each renders as a Japanese page (or a redirect to the
/// login form).
#[derive(Debug)]
pub(crate) enum AdminError {
    /// No session: log in first.
    Login,
    /// The center runs without an admin token.
    Disabled,
    /// A post without this session's CSRF token, or from another site.
    Forbidden,
    /// Something broke inside; the detail is logged, never shown.
    Internal(String),
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<askama::Error> for AdminError {
    fn from(e: askama::Error) -> Self {
        Self::Internal(format!("template: {e}"))
    }
}

impl From<crate::ApiError> for AdminError {
    fn from(e: crate::ApiError) -> Self {
        Self::Internal(e.to_string())
    }
}

#[derive(Template)]
#[template(path = "admin/error.html")]
struct ErrorPage {
    layout: Layout,
    message: &'static str,
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, heading, message) = match self {
            Self::Login => return Redirect::to("/admin/login").into_response(),
            Self::Disabled => (
                StatusCode::NOT_FOUND,
                "管理画面は無効です",
                "このセンターは管理用トークンなしで起動されています。onshi serve または onshi demo で起動すると、管理画面の URL とトークンが表示されます。",
            ),
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                "この操作は受け付けられません",
                "フォームの有効期限が切れたか、別のサイトから送信されました。管理画面を開き直してから、もう一度操作してください。",
            ),
            Self::Internal(detail) => {
                tracing::error!(%detail, "admin page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "エラーが発生しました",
                    "処理中にセンター内部でエラーが発生しました。時間をおいてもう一度お試しください。続く場合はシステム管理者に連絡してください。",
                )
            }
        };
        let page = ErrorPage {
            layout: Layout::anonymous(heading),
            message,
        };
        match page.render() {
            Ok(html) => (status, html_headers(), html).into_response(),
            Err(_) => (status, message).into_response(),
        }
    }
}

fn html_headers() -> [(header::HeaderName, &'static str); 1] {
    [(header::CONTENT_TYPE, "text/html; charset=utf-8")]
}

/// Renders a page as HTML.
fn html(t: &impl Template) -> Result<Response, AdminError> {
    Ok((html_headers(), t.render()?).into_response())
}

/// What every page's frame shows: the title, the current section, and the session's
/// CSRF token for the logout form.
pub(crate) struct Layout {
    pub title: String,
    pub nav: &'static str,
    pub csrf: String,
    pub logged_in: bool,
}

impl Layout {
    fn anonymous(title: &str) -> Self {
        Self {
            title: title.to_owned(),
            nav: "",
            csrf: String::new(),
            logged_in: false,
        }
    }

    fn new(title: &str, nav: &'static str, session: &auth::Session) -> Self {
        Self {
            title: title.to_owned(),
            nav,
            csrf: session.csrf.clone(),
            logged_in: true,
        }
    }

    /// The sections of the navigation, the current one marked.
    pub fn sections(&self) -> Vec<NavItem> {
        [
            ("stats", "/admin/", "利用状況"),
            ("institutions", "/admin/institutions", "医療機関"),
            ("terminals", "/admin/terminals", "端末"),
            ("insurers", "/admin/insurers", "保険者"),
            ("eligibility", "/admin/eligibility", "資格の照会"),
            ("checks", "/admin/checks", "資格確認の記録"),
            ("audit", "/admin/audit", "操作の記録"),
        ]
        .into_iter()
        .map(|(key, path, label)| NavItem {
            path,
            label,
            current: key == self.nav,
        })
        .collect()
    }
}

/// One entry of the navigation.
pub(crate) struct NavItem {
    pub path: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The admin session of a request, or why there is none.
fn session(state: &AppState, headers: &HeaderMap) -> Result<auth::Session, AdminError> {
    let admin = state.admin().ok_or(AdminError::Disabled)?;
    admin.session(headers).ok_or(AdminError::Login)
}

/// The session of a form post whose CSRF token and origin check out.
fn post_session(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<auth::Session, AdminError> {
    if !auth::same_origin(headers) {
        return Err(AdminError::Forbidden);
    }
    let s = session(state, headers)?;
    if !auth::csrf_ok(&s, csrf) {
        return Err(AdminError::Forbidden);
    }
    Ok(s)
}

/// Whether the request came over TLS (the session cookie is then `Secure`).
fn over_tls(identity: &Option<axum::Extension<ClientIdentity>>) -> bool {
    identity.is_some()
}

/// A page number from a query string: absent, empty or malformed is page 1.
fn page_number(s: &str) -> i64 {
    s.trim().parse::<i64>().unwrap_or(1).max(1)
}

/// The pager under a listing.
pub(crate) struct Pager {
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `base` is the listing's path with its filters as a query (ending in `?` or `&`).
    fn of<T>(paged: &Paged<T>, base: &str) -> Self {
        let page = paged.page.number();
        let pages = paged.pages();
        Self {
            total: paged.total,
            page,
            pages,
            prev: (page > 1).then(|| format!("{base}page={}", page - 1)),
            next: (page < pages).then(|| format!("{base}page={}", page + 1)),
        }
    }
}

fn page(number: &str) -> Page {
    Page::new(page_number(number), PAGE_SIZE)
}

/// `k=v&` pairs for a pager link, percent-encoded.
fn query_of(pairs: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (k, v) in pairs {
        if v.is_empty() {
            continue;
        }
        s.push_str(k);
        s.push('=');
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                s.push(b as char);
            } else {
                s.push_str(&format!("%{b:02X}"));
            }
        }
        s.push('&');
    }
    s
}

/// Japan's wall clock for an instant stored in UTC (the audit log, terminal enrolments).
fn jst_of_utc(t: chrono::NaiveDateTime) -> String {
    (t + chrono::Duration::hours(9))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn pager_queries_are_encoded() {
        assert_eq!(
            super::query_of(&[("q", "中央 1&2"), ("kind", ""), ("x", "a-b")]),
            "q=%E4%B8%AD%E5%A4%AE%201%262&x=a-b&"
        );
        assert_eq!(super::page_number("x"), 1);
        assert_eq!(super::page_number("-3"), 1);
        assert_eq!(super::page_number("4"), 4);
    }
}
