//! The center's admin pages against the real `onshi serve --tls` on a seeded synthetic
//! population: over HTTP (no session, no access — a terminal's certificate included;
//! forged posts refused; filters; a revocation that refuses the terminal's very next
//! request), and in headless Chromium through web-tests/admin.mjs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use common::*;
use onshi_model::PersonalFamilyClassification;

/// A seeded center over mutual TLS with two enrolled institutions' codes and a person.
struct Center {
    data: PathBuf,
    url: String,
    server: Running,
    token: String,
    institutions: Vec<String>,
    person: serde_json::Value,
}

fn today() -> chrono::NaiveDate {
    onshi_center::today_jst()
}

async fn center(tag: &str) -> Center {
    let data = tempdir(tag);
    let url = format!("sqlite://{}", data.join("center.db").display());
    seed(&url, 300, 11, today(), false);
    let store = onshi_store::Store::connect(&url).await.unwrap();
    let institutions: Vec<String> = store
        .institution_codes(2)
        .await
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let v = store
        .sample_in_force(today(), PersonalFamilyClassification::Insured, 1)
        .await
        .unwrap()
        .remove(0);
    store.close().await;
    let person = serde_json::json!({
        "insurer_number": v.record.insurer_number.as_str(),
        "symbol": v.record.symbol.as_ref().map(|s| s.as_str()),
        "number": v.record.number.as_str(),
        "branch": v.record.branch.as_str(),
        "birth_date": v.person.birth_date.to_string(),
        "name": v.person.name.full(),
        "kana": v.person.name.full_kana(),
    });
    let server = serve_tls(&url, &data);
    // The token is written as the server announces itself: wait for it a little.
    let token_file = data.join(onshi_center::ADMIN_TOKEN_FILE);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !token_file.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let token = std::fs::read_to_string(&token_file)
        .expect("onshi serve writes the admin token into its data directory");
    Center {
        data,
        url,
        server,
        token: token.trim().to_owned(),
        institutions,
        person,
    }
}

fn client(builder: reqwest::ClientBuilder) -> reqwest::Client {
    builder
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A browser-like client that does not know the institution CA.
fn anonymous() -> reqwest::Client {
    client(reqwest::Client::builder().tls_danger_accept_invalid_certs(true))
}

/// A client presenting the certificate of the terminal whose files are in `dir`.
fn terminal(dir: &Path) -> reqwest::Client {
    let creds = onshi_clinic::TerminalCredentials::load(dir).expect("terminal credentials");
    client(reqwest::Client::builder().tls_backend_preconfigured(creds.client_config().unwrap()))
}

fn insurance_body(c: &Center, institution: &str, birth_date: &str) -> serde_json::Value {
    let mut b = c.person.clone();
    b["institution_code"] = institution.into();
    b["birth_date"] = birth_date.into();
    for k in ["name", "kana"] {
        b.as_object_mut().unwrap().remove(k);
    }
    b
}

async fn check(
    c: &Center,
    client: &reqwest::Client,
    institution: &str,
    birth: &str,
) -> (u16, serde_json::Value) {
    let r = client
        .post(format!("{}/v1/eligibility/insurance-data", c.server.base))
        .json(&insurance_body(c, institution, birth))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn fingerprint(dir: &Path) -> String {
    let pem = std::fs::read_to_string(dir.join("terminal.crt.pem")).unwrap();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    onshi_center::hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der).as_ref())
}

/// The value of the first `name="csrf"` field of a page.
fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

/// The text of `<textarea id="ID" …>TEXT</textarea>`.
fn textarea(html: &str, id: &str) -> String {
    let start = html.find(&format!("id=\"{id}\"")).expect(id);
    let open = start + html[start..].find('>').unwrap() + 1;
    let close = open + html[open..].find("</textarea>").unwrap();
    html[open..close].to_owned()
}

struct Admin<'a> {
    c: &'a Center,
    http: reqwest::Client,
    cookie: String,
}

impl Admin<'_> {
    async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.c.server.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self
            .http
            .post(format!("{}{path}", self.c.server.base))
            .header("cookie", &self.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode_form(form));
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }
}

fn encode_form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_needs_a_session_refuses_forged_posts_filters_and_revokes_at_once() {
    let c = center("admin-http").await;
    let (inst_a, inst_b) = (c.institutions[0].clone(), c.institutions[1].clone());
    let dir_a = enroll(&c.url, &c.data, &inst_a, "T01");
    let dir_b = enroll(&c.url, &c.data, &inst_b, "T01");
    let (a, b) = (terminal(&dir_a), terminal(&dir_b));
    let birth = c.person["birth_date"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        assert_eq!(check(&c, &a, &inst_a, &birth).await.0, 200);
    }
    let (s, v) = check(&c, &a, &inst_a, "1900-01-01").await;
    assert_eq!((s, v["validity"].as_str()), (200, Some("4")), "{v}");
    assert_eq!(check(&c, &b, &inst_b, &birth).await.0, 200);

    // Without a session every admin page sends to the login form; a terminal's
    // certificate is no session.
    let anon = anonymous();
    for who in [&anon, &a] {
        for path in [
            "/admin/",
            "/admin/checks",
            "/admin/terminals",
            "/admin/audit",
        ] {
            let r = who
                .get(format!("{}{path}", c.server.base))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 303, "{path}");
            assert_eq!(location(&r), "/admin/login", "{path}");
        }
    }
    let r = a
        .post(format!("{}/admin/terminals/revoke", c.server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("fingerprint={}", fingerprint(&dir_a)))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/admin/login", "a terminal cannot revoke");
    assert_eq!(check(&c, &a, &inst_a, &birth).await.0, 200);

    // The token opens a session with a strict, HttpOnly, Secure cookie.
    let login = |token: String| {
        let anon = anon.clone();
        let base = c.server.base.clone();
        async move {
            anon.post(format!("{base}/admin/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encode_form(&[("token", &token)]))
                .send()
                .await
                .unwrap()
        }
    };
    let r = login("0".repeat(64)).await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("管理用トークンが正しくありません")
    );
    let r = login(c.token.clone()).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(location(&r), "/admin/");
    let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/admin"] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
    let admin = Admin {
        c: &c,
        http: anon.clone(),
        cookie: set.split(';').next().unwrap().to_owned(),
    };
    let (s, page) = admin.get("/admin/terminals").await;
    assert_eq!(s, 200);
    assert!(page.contains("<html lang=\"ja\">"));
    let csrf = csrf_of(&page);

    // Posts without the session's CSRF token, or from another site, are refused.
    let fp_a = fingerprint(&dir_a);
    for (form, extra) in [
        (vec![("fingerprint", fp_a.as_str())], vec![]),
        (vec![("csrf", "0"), ("fingerprint", fp_a.as_str())], vec![]),
        (
            vec![("csrf", csrf.as_str()), ("fingerprint", fp_a.as_str())],
            vec![("origin", "https://elsewhere.example")],
        ),
        (
            vec![("csrf", csrf.as_str()), ("fingerprint", fp_a.as_str())],
            vec![("sec-fetch-site", "cross-site")],
        ),
    ] {
        let r = admin.post("/admin/terminals/revoke", &form, &extra).await;
        assert_eq!(r.status().as_u16(), 403, "{form:?} {extra:?}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("この操作は受け付けられません")
        );
    }
    assert_eq!(
        check(&c, &a, &inst_a, &birth).await.0,
        200,
        "still enrolled"
    );
    let a_checks = 5;

    // The log of checks by institution, result, method and day.
    let today = today().to_string();
    let tomorrow = (onshi_center::today_jst() + chrono::Duration::days(1)).to_string();
    for (query, total) in [
        (format!("institution={inst_a}"), a_checks),
        (format!("institution={inst_a}&validity=4"), 1),
        (
            format!("institution={inst_a}&validity=1&method=6"),
            a_checks - 1,
        ),
        (format!("institution={inst_b}"), 1),
        ("method=1".to_owned(), 0),
        (format!("from={tomorrow}"), 0),
        (format!("from={today}&until={today}"), a_checks + 1),
        (format!("institution={inst_a}&page=2"), a_checks),
    ] {
        let (s, page) = admin.get(&format!("/admin/checks?{query}")).await;
        assert_eq!(s, 200, "{query}");
        assert!(
            page.contains(&format!("全 {total} 件")),
            "{query}: {total} expected"
        );
    }
    let (_, page) = admin.get("/admin/checks?institution=123").await;
    assert!(page.contains("医療機関コードは10桁の数字で入力してください"));
    let (_, page) = admin
        .get(&format!("/admin/checks?from={tomorrow}&until={today}"))
        .await;
    assert!(page.contains("開始日が終了日より後"));

    // Statistics: every check here was by insurance data, so マイナ保険証 is 0%.
    let (s, page) = admin.get(&format!("/admin/?institution={inst_a}")).await;
    assert_eq!(s, 200);
    assert!(
        page.contains(&format!("id=\"total\">{a_checks}件")),
        "total"
    );
    assert!(page.contains("id=\"share\">0.00%"));
    assert!(page.contains("id=\"national\">30.64%"));

    // The eligibility search, by insurance data and by name and birth date.
    let name = c.person["name"].as_str().unwrap();
    let p = &c.person;
    let r = admin
        .post(
            "/admin/eligibility",
            &[
                ("csrf", &csrf),
                ("mode", "insurance"),
                ("insurer_number", p["insurer_number"].as_str().unwrap()),
                ("symbol", p["symbol"].as_str().unwrap_or("")),
                ("number", p["number"].as_str().unwrap()),
                ("branch", p["branch"].as_str().unwrap()),
                ("birth_date", &birth),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(name) && page.contains("<strong>有効</strong>"),
        "{page}"
    );
    let r = admin
        .post(
            "/admin/eligibility",
            &[
                ("csrf", &csrf),
                ("mode", "person"),
                ("name", p["kana"].as_str().unwrap()),
                ("person_birth_date", &birth),
            ],
            &[],
        )
        .await;
    assert!(r.text().await.unwrap().contains(name));
    let r = admin
        .post(
            "/admin/eligibility",
            &[
                ("csrf", &csrf),
                ("mode", "insurance"),
                ("insurer_number", "12"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("保険者番号が正しくありません")
    );

    // Revocation: the terminal's next request, on its open connection, is refused.
    let r = admin
        .post(
            "/admin/terminals/revoke",
            &[("csrf", &csrf), ("fingerprint", &fp_a)],
            &[],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert!(location(&r).contains("revoked="), "{}", location(&r));
    let t0 = Instant::now();
    let (s, v) = check(&c, &a, &inst_a, &birth).await;
    let refused_in = t0.elapsed();
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("terminal_revoked")),
        "{v}"
    );
    let (s, _) = check(&c, &terminal(&dir_a), &inst_a, &birth).await;
    assert_eq!(s, 403, "a new connection is refused as well");
    assert_eq!(
        check(&c, &b, &inst_b, &birth).await.0,
        200,
        "others unaffected"
    );
    eprintln!("revoked terminal refused on its next request after {refused_in:?}");
    let r = admin
        .post(
            "/admin/terminals/revoke",
            &[("csrf", &csrf), ("fingerprint", &fp_a)],
            &[],
        )
        .await;
    assert!(location(&r).contains("missing=1"), "revoked once only");

    // Enrolment from the admin pages gives a working certificate and key, once.
    let form = [
        ("csrf", csrf.as_str()),
        ("institution", inst_a.as_str()),
        ("terminal_id", "T02"),
    ];
    let r = admin.post("/admin/terminals", &form, &[]).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    let dir = c.data.join("enrolled-T02");
    std::fs::create_dir_all(&dir).unwrap();
    for (id, file) in [
        ("pem-cert", "terminal.crt.pem"),
        ("pem-key", "terminal.key.pem"),
        ("pem-ca", "ca.pem"),
    ] {
        std::fs::write(dir.join(file), textarea(&page, id)).unwrap();
    }
    assert!(textarea(&page, "pem-key").starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(check(&c, &terminal(&dir), &inst_a, &birth).await.0, 200);
    let r = admin.post("/admin/terminals", &form, &[]).await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("有効な証明書があります"));
    let r = admin
        .post(
            "/admin/terminals",
            &[
                ("csrf", &csrf),
                ("institution", "0000000000"),
                ("terminal_id", "端末"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("端末IDは1〜16文字"), "{page}");

    // The audit log has it all; logging out ends the session.
    let (_, page) = admin.get("/admin/audit?action=admin.terminal").await;
    assert!(page.contains("端末の失効") && page.contains("端末の登録"));
    assert!(page.contains("全 2 件"));
    let (_, page) = admin.get("/admin/audit").await;
    assert!(page.contains("ログイン拒否") && page.contains("資格の照会（氏名・生年月日）"));
    let r = admin.post("/admin/logout", &[("csrf", &csrf)], &[]).await;
    assert_eq!(location(&r), "/admin/login");
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let r = anon
        .get(format!("{}/admin/", c.server.base))
        .header("cookie", &admin.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/admin/login", "the old cookie is dead");
}

fn chromium() -> PathBuf {
    std::env::var_os("ONSHI_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Chromium, node and playwright-core are here; skip with a notice when one is missing
/// and `ONSHI_REQUIRE_BROWSER=1` is not set, fail when it is.
fn browser_ready() -> bool {
    let required = std::env::var("ONSHI_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let mut missing = Vec::new();
    if !chromium().exists() {
        missing.push(chromium().display().to_string());
    }
    if !Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        missing.push("node".to_owned());
    }
    if !root()
        .join("web-tests/node_modules/playwright-core")
        .exists()
    {
        missing.push("web-tests/node_modules/playwright-core".to_owned());
    }
    if missing.is_empty() {
        return true;
    }
    assert!(
        !required,
        "ONSHI_REQUIRE_BROWSER=1 but missing: {missing:?}"
    );
    eprintln!(
        "NOTE: browser test skipped, missing: {missing:?} (set ONSHI_REQUIRE_BROWSER=1 to fail instead)"
    );
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_pages_in_headless_chromium() {
    if !browser_ready() {
        return;
    }
    let c = center("admin-browser").await;
    // Checks of another institution, so that the log's filter has something to leave out.
    let other = enroll(&c.url, &c.data, &c.institutions[1], "T01");
    let birth = c.person["birth_date"].as_str().unwrap().to_owned();
    assert_eq!(
        check(&c, &terminal(&other), &c.institutions[1], &birth)
            .await
            .0,
        200
    );
    let shots = root().join("target/browser-admin");
    let _ = std::fs::remove_dir_all(&shots);
    let out = tokio::task::spawn_blocking({
        let (base, token, inst, person) = (
            c.server.base.clone(),
            c.token.clone(),
            c.institutions[0].clone(),
            c.person.to_string(),
        );
        let shots = shots.clone();
        move || {
            Command::new("node")
                .arg("admin.mjs")
                .current_dir(root().join("web-tests"))
                .env("ONSHI_ADMIN_URL", base)
                .env("ONSHI_ADMIN_TOKEN", token)
                .env("ONSHI_SCREENSHOTS", shots)
                .env("ONSHI_INSTITUTION", inst)
                .env("ONSHI_PERSON", person)
                .env("ONSHI_CHROMIUM", chromium())
                .output()
                .expect("run node")
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "web-tests/admin.mjs failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{stdout}");
    assert!(stdout.contains("\"ok\":true"));
    let n = std::fs::read_dir(&shots).unwrap().count();
    assert!(n >= 10, "{n} screenshots in {}", shots.display());
}

/// `onshi demo`: the admin pages of its plain-HTTP center enrol terminals for the demo's
/// mutual-TLS center (same J-LIS state), and the certificate works there.
#[tokio::test(flavor = "multi_thread")]
async fn demo_admin_enrols_terminals_for_the_demo_card_path() {
    use std::io::{BufRead, BufReader};
    let data = tempdir("admin-demo");
    let mut child = std::process::Command::new(BIN)
        .args([
            "demo",
            "--persons",
            "200",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(&data)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (mut admin_url, mut token, mut card_path) = (None, None, None);
    let deadline = Instant::now() + Duration::from_secs(300);
    while admin_url.is_none() || token.is_none() || card_path.is_none() {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the demo prints the admin address, its token and the card path");
        let word_after = |key: &str| {
            line.split_once(key)
                .and_then(|(_, r)| r.split_whitespace().next())
                .map(str::to_owned)
        };
        if line.contains("管理画面 admin") {
            admin_url = word_after("admin");
        } else if line.contains("admin token") {
            token = word_after("token");
        } else if line.contains("card path") {
            card_path = word_after("card path");
        }
    }
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _demo = Kill(child);
    let admin_url = admin_url.unwrap();
    let base = admin_url.trim_end_matches("/admin/").to_owned();
    let tls_base = card_path.unwrap().trim_end_matches("/v1/").to_owned();
    let http = client(reqwest::Client::builder());
    let r = http
        .post(format!("{base}/admin/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode_form(&[("token", &token.unwrap())]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert!(
        !r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure"),
        "plain HTTP: no Secure flag, or the browser would drop the cookie"
    );
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = http
        .get(format!("{base}/admin/terminals"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let url = format!("sqlite://{}", data.join("center.db").display());
    let store = onshi_store::Store::connect(&url).await.unwrap();
    let inst = store.institution_codes(1).await.unwrap()[0].to_string();
    store.close().await;
    let r = http
        .post(format!("{base}/admin/terminals"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode_form(&[
            ("csrf", &csrf),
            ("institution", &inst),
            ("terminal_id", "ADM9"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.unwrap();
    let dir = data.join("enrolled-ADM9");
    std::fs::create_dir_all(&dir).unwrap();
    for (id, file) in [
        ("pem-cert", "terminal.crt.pem"),
        ("pem-key", "terminal.key.pem"),
        ("pem-ca", "ca.pem"),
    ] {
        std::fs::write(dir.join(file), textarea(&page, id)).unwrap();
    }
    let r = terminal(&dir)
        .post(format!("{tls_base}/v1/card/challenge"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
}
