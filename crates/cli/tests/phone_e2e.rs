//! The smartphone across processes, on SQLite: the center as `onshi serve --tls` with a
//! short issuance delay, the portal app and the phone as `onshi phone …`, the reader as
//! `onshi phone reception`. Set-up signed with the card, the push arriving on the phone's
//! open channel, receptions with the Android PIN (wrong, then right) and the iPhone
//! biometric (failed, then passed), the compatibility list (API, page, refused set-up),
//! suspension and resumption from the portal, replacement by a new phone, the card's
//! renewal and revocation ending the phone (and its serial in the phone CRL), and a
//! center killed with -9 while a job is queued.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::tls::*;
use common::*;
use serde_json::Value;

const DELAY: &str = "2s";

struct World {
    data: PathBuf,
    url: String,
    center: String,
    terminal: PathBuf,
    server: Option<Running>,
}

impl World {
    /// A world on the database at `url` with its center started.
    fn started(data: &Path, url: &str) -> World {
        let mut w = World {
            data: data.to_path_buf(),
            url: url.to_owned(),
            center: "https://127.0.0.1:0".into(),
            terminal: PathBuf::new(),
            server: None,
        };
        w.start_center();
        w
    }

    fn center_args(&self) -> Vec<String> {
        vec![
            "--center".into(),
            self.center.clone(),
            "--data-dir".into(),
            self.data.to_str().unwrap().into(),
        ]
    }

    /// `onshi phone SUB ARGS --center … --data-dir …`, expecting failure; its stderr.
    fn phone_fails(&self, sub: &str, args: &[&str]) -> String {
        let out = Command::new(BIN)
            .arg("phone")
            .arg(sub)
            .args(args)
            .args(self.center_args())
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "onshi phone {sub} {args:?} succeeded"
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn with_center(&self, sub: &str, args: &[&str]) -> String {
        phone_at(&self.center, &self.data, sub, args)
    }

    fn new_phone(&self, name: &str, args: &[&str]) -> PathBuf {
        let p = self.data.join(name);
        new_phone(&p, args);
        p
    }

    fn issue_card(&self, person: i64, name: &str) -> PathBuf {
        let out = self.data.join(name);
        issue_card(&self.url, &self.data, &person.to_string(), &out);
        out
    }

    /// Set-up through the portal app, then the phone waits on its push channel in a
    /// separate process; returns the seconds from the request to the push.
    fn setup_and_wait(&self, phone: &Path, card: &Path, extra: &[&str]) -> f64 {
        let started = Instant::now();
        set_up_phone(&self.center, &self.data, phone, card, extra);
        started.elapsed().as_secs_f64()
    }

    fn reception(&self, phone: &Path, kind: &str, extra: &[&str]) -> Value {
        let mut a = vec![
            "phone",
            "reception",
            "--phone",
            phone.to_str().unwrap(),
            "--center",
            &self.center,
            "--cert",
            self.terminal.to_str().unwrap(),
            "--kind",
            kind,
            "--data-dir",
            self.data.to_str().unwrap(),
            "--consent",
            "medication,checkups",
        ];
        a.extend_from_slice(extra);
        serde_json::from_str(&run(&a)).expect("reception JSON")
    }

    /// A reception that is done.
    #[track_caller]
    fn reception_done(&self, phone: &Path, kind: &str, extra: &[&str]) {
        assert_eq!(self.reception(phone, kind, extra)["outcome"], "done");
    }

    /// A reception that fails with `failure`.
    #[track_caller]
    fn reception_fails(&self, phone: &Path, kind: &str, extra: &[&str], failure: &str) {
        assert_eq!(failure_id(&self.reception(phone, kind, extra)), failure);
    }

    fn http(&self) -> reqwest::Client {
        let ca = std::fs::read(self.data.join("jlis/institution-ca.der")).unwrap();
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_der(&ca).unwrap())
            .build()
            .unwrap()
    }

    fn start_center(&mut self) {
        self.server = None;
        let s = start(&[
            "serve",
            "--database-url",
            &self.url,
            "--listen",
            self.center
                .strip_prefix("https://")
                .unwrap_or("127.0.0.1:0"),
            "--tls",
            "--data-dir",
            self.data.to_str().unwrap(),
            "--phone-issue-delay",
            DELAY,
        ]);
        self.center = s.base.clone();
        self.server = Some(s);
    }
}

fn failure_id(v: &Value) -> &str {
    assert_eq!(v["outcome"], "failed", "{v:#}");
    v["failure"]["id"].as_str().unwrap()
}

/// The ids of a reception's messages.
fn message_ids(r: &Value) -> Vec<&str> {
    r["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect()
}

/// The serial of a phone's user-authentication certificate, verified against J-LIS's
/// phone CA (and `crl` applied when given).
fn phone_serial(data: &Path, phone: &Path, crl: Option<&[u8]>) -> Result<String, String> {
    let f = onshi_card::phone::PhoneFile::load(phone).unwrap();
    let cert = f.auth_certificate().expect("issued").to_vec();
    let trust = onshi_pki::TrustStore::new(onshi_pki::TrustPolicy::default());
    let ca = std::fs::read(data.join("jlis/phone-auth-ca.der")).unwrap();
    trust.add_ca(onshi_pki::CaKind::PhoneAuth, &ca).unwrap();
    if let Some(crl) = crl {
        trust.load_crl(crl).unwrap();
    }
    trust
        .verify(&cert, chrono::Utc::now())
        .map(|v| v.serial().to_hex())
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_from_set_up_to_revocation() {
    let data = tempdir("phone-e2e");
    let url = onshi_store::testing::fresh_sqlite_url(&data);
    let today = onshi_center::today_jst();
    seed(&url, 400, 5, today, false);
    // A person insured in their own name, registered (利用登録) beforehand.
    let (person, institution) = {
        let store = onshi_store::Store::connect(&url).await.unwrap();
        let sample = store
            .sample_in_force(
                today,
                onshi_model::PersonalFamilyClassification::Insured,
                20,
            )
            .await
            .unwrap();
        let v = sample
            .into_iter()
            .find(|v| onshi_pki::age_on(v.person.birth_date, today) >= 20)
            .expect("an adult insured person");
        store.link_card(v.person.id, today).await.unwrap();
        let inst = store.institution_codes(1).await.unwrap().remove(0);
        store.close().await;
        (v.person.id, inst.to_string())
    };
    let mut w = World::started(&data, &url);
    w.terminal = enroll(&url, &data, &institution, "T01");
    let card = w.issue_card(person, "card.json");

    // Is my phone supported? The API, the page, and a refused set-up.
    let http = w.http();
    let v = get_json(
        &http,
        format!(
            "{}/v1/phone/compatibility/check?platform=iphone&model=iPhone%2015&os=18.4",
            w.center
        ),
    )
    .await;
    assert_eq!(v["supported"], false, "{v}");
    assert_eq!(v["reason"], "os_too_old");
    assert!(
        v["message_ja"].as_str().unwrap().contains("18.5 以降"),
        "{v}"
    );
    let page = http
        .get(format!(
            "{}/portal/phone?platform=iphone&model=iPhone+X&os=18.5",
            w.center
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("対応していません"), "{page}");
    assert!(page.contains("iPhone XS 以降"), "{page}");
    let old = w.new_phone(
        "old-android.json",
        &android_phone("Pixel 8", "13", "5678", "PHONE123"),
    );
    let err = w.phone_fails("setup", &setup_args(&old, &card));
    assert!(
        err.contains("phone_unsupported") && err.contains("14 以降"),
        "{err}"
    );

    // Android: set-up, the push, and the reception with the phone PIN relayed.
    let android = w.new_phone(
        "android.json",
        &android_phone("Pixel 8", "14", "5678", "PHONE123"),
    );
    let secs = w.setup_and_wait(&android, &card, &[]);
    eprintln!("set-up to installed credential: {secs:.2} s (issuance delay {DELAY})");
    assert!(
        (2.0..15.0).contains(&secs),
        "push after {secs} s with a 2 s delay"
    );
    let r = w.reception(&android, "android", &["--pin", "0000", "--pin", "5678"]);
    assert_eq!(r["outcome"], "done", "{r:#}");
    assert_eq!(r["method"], "android_pin");
    assert_eq!(r["result"]["validity"], "1", "{r:#}");
    let ids = message_ids(&r);
    assert!(ids.contains(&"phone_wrong_pin"), "{ids:?}");
    let checks: Vec<Value> = serde_json::from_value(
        get_json(
            &terminal_http(&w.terminal),
            format!("{}/v1/institutions/{institution}/checks?limit=5", w.center),
        )
        .await,
    )
    .unwrap();
    assert_eq!(
        checks[0]["method"], "4",
        "recorded as スマートフォン（Android）: {checks:?}"
    );

    // A lost phone suspended from the portal (login with the card), then found.
    let app = [
        "--card",
        card.to_str().unwrap(),
        "--pin",
        "1234",
        "--phone",
        android.to_str().unwrap(),
    ];
    let s = w.with_center("suspend", &app);
    assert!(s.contains("\"suspended\""), "{s}");
    let r = w.reception(&android, "android", &["--pin", "5678"]);
    assert_eq!(failure_id(&r), "phone_suspended");
    assert_eq!(r["problem"], "phone_suspended");
    let s = w.with_center("resume", &app);
    assert!(s.contains("\"issued\""), "{s}");
    w.reception_done(&android, "android", &["--pin", "5678"]);

    // A center killed with -9 while the next set-up's job waits: the job survives and
    // the restarted center issues it.
    let iphone = w.new_phone("iphone.json", &IPHONE_15);
    let mut a = setup_args(&iphone, &card);
    a.extend(["--input-pin", "1234"]);
    let out = w.with_center("setup", &a);
    assert!(out.contains("set-up requested"), "{out}");
    if let Some(s) = w.server.as_mut() {
        s.child.kill().unwrap(); // SIGKILL
        s.child.wait().unwrap();
    }
    w.start_center();
    wait_for_credential(&iphone, &data);

    // iPhone: no biometric first (the phone refuses to sign), then Face ID.
    let r = w.reception(
        &iphone,
        "iphone",
        &["--biometric", "mismatch", "--biometric", "match"],
    );
    assert_eq!(r["outcome"], "done", "{r:#}");
    assert_eq!(r["method"], "iphone_biometric");
    let ids = message_ids(&r);
    assert!(ids.contains(&"phone_biometric_failed"), "{ids:?}");
    let r = w.reception(
        &iphone,
        "iphone",
        &[
            "--biometric",
            "passcode",
            "--biometric",
            "passcode",
            "--biometric",
            "passcode",
        ],
    );
    assert_eq!(
        failure_id(&r),
        "phone_biometric_failed",
        "a passcode never unlocks"
    );

    // A new Android phone replaces the old one: a copy of the old phone is refused.
    let copy = data.join("android-copy.json");
    std::fs::copy(&android, &copy).unwrap();
    let android2 = w.new_phone(
        "android2.json",
        &android_phone("Pixel 9", "15", "4321", "PHONE456"),
    );
    let out = w.with_center(
        "replace",
        &[
            "--phone",
            android2.to_str().unwrap(),
            "--old",
            android.to_str().unwrap(),
            "--card",
            card.to_str().unwrap(),
            "--sign-password",
            "ONSHI2025",
            "--timeout",
            "60",
        ],
    );
    assert!(out.contains("credential installed"), "{out}");
    w.reception_fails(&copy, "android", &["--pin", "5678"], "phone_revoked");
    w.reception_done(&android2, "android", &["--pin", "4321"]);

    // The portal lists the holder's phones with their states.
    let list = w.with_center("list", &["--card", card.to_str().unwrap(), "--pin", "1234"]);
    let list: Value = serde_json::from_str(&list).unwrap();
    let states: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states.iter().filter(|s| **s == "issued").count(),
        2,
        "{list:#}"
    );
    assert!(states.contains(&"revoked"), "the replaced phone: {list:#}");

    // Revoking the card revokes its phones: refused at once, and listed in the phone CRL.
    let serial = phone_serial(&data, &android2, None).unwrap();
    run(&[
        "card",
        "revoke",
        "--database-url",
        &url,
        card.to_str().unwrap(),
        "--reason",
        "lost",
    ]);
    w.reception_fails(&android2, "android", &["--pin", "4321"], "phone_revoked");
    w.reception_fails(
        &iphone,
        "iphone",
        &["--biometric", "match"],
        "phone_revoked",
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let crl = http
            .get(format!("{}/crl/phone-auth.crl", w.center))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        match phone_serial(&data, &android2, Some(&crl)) {
            Err(e) if e.to_lowercase().contains("revoked") => break,
            other => assert!(
                Instant::now() < deadline,
                "phone {serial} not in the CRL: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // A renewed card (a new certificate for the same person) ends the phones of the old.
    let card2 = w.issue_card(person, "card2.json");
    let android3 = w.new_phone(
        "android3.json",
        &android_phone("Pixel 8", "14", "1111", "PHONE789"),
    );
    w.setup_and_wait(&android3, &card2, &[]);
    w.reception_done(&android3, "android", &["--pin", "1111"]);
    w.issue_card(person, "card3.json");
    w.reception_fails(&android3, "android", &["--pin", "1111"], "phone_revoked");
}

/// Two center processes on one PostgreSQL and one J-LIS directory: set-ups through either
/// center, each phone listening on the *other* center's push channel; every job is done
/// once (one claim), every phone gets its own certificate serials, every push arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_centers_on_postgresql_issue_each_phone_once() {
    let data = tempdir("phone-pg");
    let url = onshi_store::testing::fresh_postgres_url()
        .await
        .expect("PostgreSQL at ONSHI_TEST_POSTGRES");
    let today = onshi_center::today_jst();
    seed(&url, 300, 9, today, false);
    let persons: Vec<i64> = {
        let store = onshi_store::Store::connect(&url).await.unwrap();
        let sample = store
            .sample_in_force(
                today,
                onshi_model::PersonalFamilyClassification::Insured,
                40,
            )
            .await
            .unwrap();
        let mut ids = Vec::new();
        for v in sample {
            if onshi_pki::age_on(v.person.birth_date, today) >= 20 && ids.len() < 4 {
                store.link_card(v.person.id, today).await.unwrap();
                ids.push(v.person.id);
            }
        }
        store.close().await;
        ids
    };
    assert_eq!(persons.len(), 4);
    let a = World::started(&data, &url);
    let b = World::started(&data, &url);
    let mut phones = Vec::new();
    for (i, person) in persons.iter().enumerate() {
        let (via, other) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let card = via.issue_card(*person, &format!("card{i}.json"));
        let phone = via.new_phone(
            &format!("phone{i}.json"),
            &android_phone("Pixel 8", "14", "5678", "PHONE123"),
        );
        let out = via.with_center("setup", &setup_args(&phone, &card));
        assert!(out.contains("set-up requested"), "{out}");
        // The phone keeps its push channel on the other center.
        let st = PathBuf::from(format!("{}.portal.json", phone.display()));
        let text = std::fs::read_to_string(&st).unwrap();
        std::fs::write(&st, text.replace(&via.center, &other.center)).unwrap();
        let child = Command::new(BIN)
            .args(phone_wait_args(&phone, &data))
            .output();
        phones.push((phone, child));
    }
    let store = onshi_store::Store::connect(&url).await.unwrap();
    let mut serials = std::collections::HashSet::new();
    for (phone, out) in phones {
        let out = out.unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("push: ready"),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            serials.insert(phone_serial(&data, &phone, None).unwrap()),
            "serials are unique"
        );
        let st: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{}.portal.json", phone.display())).unwrap(),
        )
        .unwrap();
        let id: i64 = st["application_id"].as_str().unwrap().parse().unwrap();
        let job = store.phone_job_of(id).await.unwrap().unwrap();
        assert_eq!(
            (job.state.as_str(), job.attempts),
            ("done", 1),
            "claimed once: {job:?}"
        );
    }
    store.close().await;
}
