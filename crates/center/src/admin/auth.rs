//! Who may use the admin pages: the holder of the center's admin token, through a session.
//!
//! The token is 32 random bytes (hex) kept in the data directory (`admin-token`, mode
//! 0600) and printed by `onshi serve` and `onshi demo`. Logging in with it opens a session:
//! a random id in an `HttpOnly; SameSite=Strict` cookie scoped to `/admin` (and `Secure`
//! over TLS), held in this process's memory for [`SESSION_TTL`]. Each session has its own
//! CSRF token, required in every form the admin pages post; a post whose `Origin` or
//! `Sec-Fetch-Site` says it comes from another site is refused before that. A terminal's
//! mutual-TLS identity grants nothing here.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use axum::http::HeaderMap;

/// The name of the session cookie.
pub(crate) const COOKIE: &str = "onshi_admin";
/// How long a session lasts without use.
pub(crate) const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// Sessions kept at most; the oldest go first.
const MAX_SESSIONS: usize = 256;
/// The token's file in the data directory.
pub const TOKEN_FILE: &str = "admin-token";

/// The admin token. `Debug` shows its length only.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AdminToken({} chars)", self.0.len())
    }
}

impl AdminToken {
    /// A fresh token of 32 random bytes.
    pub fn generate() -> Self {
        Self(random_hex())
    }

    /// A token given by the operator: at least 16 visible ASCII characters.
    pub fn new(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.len() < 16 || !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("the admin token must be at least 16 visible ASCII characters".into());
        }
        Ok(Self(s.to_owned()))
    }

    /// Reads `DIR/admin-token`, creating it (mode 0600) with a fresh token when absent.
    pub fn load_or_create(dir: &Path) -> std::io::Result<Self> {
        let path = dir.join(TOKEN_FILE);
        match std::fs::read_to_string(&path) {
            Ok(s) => Self::new(&s).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir)?;
                let token = Self::generate();
                match write_secret(&path, token.0.as_bytes()) {
                    Ok(()) => Ok(token),
                    // Another process made it first: that one is the token.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        Self::load_or_create(dir)
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// The token itself, to print for the operator.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn matches(&self, given: &str) -> bool {
        ct_eq(
            digest(&SHA256, self.0.as_bytes()).as_ref(),
            digest(&SHA256, given.trim().as_bytes()).as_ref(),
        )
    }
}

/// Writes a new secret file whole or not at all: a reader never sees it empty or half
/// written (it is written beside, then linked into place), and an existing file is never
/// replaced (`AlreadyExists`).
fn write_secret(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(name);
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    o.mode(0o600);
    let written = o.open(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    linked
}

/// Equality whose time does not depend on where the inputs differ.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn random_hex() -> String {
    let mut b = [0u8; 32];
    // The system RNG failing leaves no safe way on; it does not fail on Linux.
    SystemRandom::new()
        .fill(&mut b)
        .expect("the system random number generator");
    crate::hex(&b)
}

/// An open admin session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The CSRF token its forms carry.
    pub csrf: String,
    /// A short label for the audit log (the first characters of the session id's hash).
    pub label: String,
    last_used: Instant,
}

/// The admin token and the sessions opened with it.
#[derive(Debug)]
pub struct AdminAuth {
    token: AdminToken,
    /// Keyed by the SHA-256 of the session id, so that the ids themselves are not kept.
    sessions: Mutex<HashMap<String, Session>>,
    /// Where to issue terminal certificates from when the center runs without its PKI
    /// (the plain-HTTP center of `onshi demo`, beside the demo's TLS center).
    pub(crate) jlis_dir: Option<std::path::PathBuf>,
}

impl AdminAuth {
    pub fn new(token: AdminToken, jlis_dir: Option<std::path::PathBuf>) -> Self {
        Self {
            token,
            sessions: Mutex::new(HashMap::new()),
            jlis_dir,
        }
    }

    /// Opens a session if `given` is the token; returns the cookie value.
    pub(crate) fn login(&self, given: &str) -> Option<(String, Session)> {
        if !self.token.matches(given) {
            return None;
        }
        let id = random_hex();
        let key = session_key(&id);
        let session = Session {
            csrf: random_hex(),
            label: key[..8].to_owned(),
            last_used: Instant::now(),
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        sessions.retain(|_, s| now.duration_since(s.last_used) < SESSION_TTL);
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(key, session.clone());
        Some((id, session))
    }

    /// The live session named by the request's cookie, refreshed.
    pub(crate) fn session(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers, COOKIE)?;
        let key = session_key(&id);
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let s = sessions.get_mut(&key)?;
        if s.last_used.elapsed() >= SESSION_TTL {
            sessions.remove(&key);
            return None;
        }
        s.last_used = Instant::now();
        Some(s.clone())
    }

    /// Ends the request's session.
    pub(crate) fn logout(&self, headers: &HeaderMap) {
        if let Some(id) = cookie(headers, COOKIE) {
            self.sessions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&session_key(&id));
        }
    }
}

fn session_key(id: &str) -> String {
    crate::hex(digest(&SHA256, id.as_bytes()).as_ref())
}

/// The value of cookie `name` in the request.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The `Set-Cookie` value opening a session (`Secure` over TLS).
pub(crate) fn session_cookie(id: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={id}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_TTL.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value ending a session.
pub(crate) fn cleared_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// A form's CSRF token matches the session's.
pub(crate) fn csrf_ok(session: &Session, given: &str) -> bool {
    ct_eq(session.csrf.as_bytes(), given.as_bytes())
}

/// A post comes from the admin pages themselves: not from another site by the browser's
/// word (`Sec-Fetch-Site`), and with an `Origin`, if any, naming this host.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    match (header("origin"), header("host")) {
        (None, _) => true,
        // An opaque origin (a privacy-minded referrer policy, a sandbox): trust only the
        // browser's own statement that the post came from this origin.
        (Some("null"), _) => header("sec-fetch-site") == Some("same-origin"),
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host),
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_token_file_is_written_whole_once_and_kept() {
        let dir = std::env::temp_dir().join(format!(
            "onshi-admin-token-{}-{}",
            std::process::id(),
            random_hex()
        ));
        let first = AdminToken::load_or_create(&dir).unwrap();
        let written = std::fs::read_to_string(dir.join(TOKEN_FILE)).unwrap();
        assert_eq!(written, first.expose());
        assert_eq!(
            AdminToken::load_or_create(&dir).unwrap().expose(),
            first.expose(),
            "kept across starts"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(TOKEN_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [TOKEN_FILE], "no temporary file left behind");
        assert_eq!(
            write_secret(&dir.join(TOKEN_FILE), b"other")
                .unwrap_err()
                .kind(),
            std::io::ErrorKind::AlreadyExists
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn only_the_token_opens_a_session_and_the_cookie_finds_it() {
        let auth = AdminAuth::new(AdminToken::new("0123456789abcdef0123").unwrap(), None);
        assert!(auth.login("0123456789abcdef0124").is_none());
        assert!(auth.login("").is_none());
        let (id, s) = auth.login(" 0123456789abcdef0123\n").unwrap();
        let h = headers(&[("cookie", &format!("x=1; {COOKIE}={id}; y=2"))]);
        assert_eq!(auth.session(&h).unwrap().csrf, s.csrf);
        assert!(csrf_ok(&s, &s.csrf));
        assert!(!csrf_ok(&s, ""));
        assert!(
            auth.session(&headers(&[("cookie", &format!("{COOKIE}={id}0"))]))
                .is_none()
        );
        auth.logout(&h);
        assert!(auth.session(&h).is_none(), "logged out");
    }

    #[test]
    fn short_tokens_are_refused_and_debug_hides_the_token() {
        assert!(AdminToken::new("short").is_err());
        let t = AdminToken::generate();
        assert_eq!(t.expose().len(), 64);
        assert!(!format!("{t:?}").contains(t.expose()));
    }

    #[test]
    fn cross_site_posts_are_recognised() {
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8080")])));
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://127.0.0.1:8080"),
            ("sec-fetch-site", "same-origin"),
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://evil.example"),
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("sec-fetch-site", "cross-site"),
        ])));
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null"),
            ("sec-fetch-site", "same-origin"),
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null"),
        ])));
    }

    #[test]
    fn cookies_carry_their_attributes() {
        let c = session_cookie("abc", true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.ends_with("Secure"));
        assert!(!session_cookie("abc", false).contains("Secure"));
        assert!(cleared_cookie(false).contains("Max-Age=0"));
    }
}
