//! Helpers shared by the end-to-end tests: run the real `onshi` binary.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_onshi");

/// A running `onshi` process, killed when dropped.
pub struct Running {
    pub child: Child,
    pub base: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `onshi ARGS` to completion and returns its stdout; panics with stderr on failure.
pub fn run(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().expect("run onshi");
    assert!(
        out.status.success(),
        "onshi {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Starts `onshi ARGS` and waits for the line announcing `http://ADDR`.
pub fn start(args: &[&str]) -> Running {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start onshi");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if !sent && let Some(i) = line.find("https://").or_else(|| line.find("http://")) {
                let url: String = line[i..]
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches('/')
                    .to_owned();
                let _ = tx.send(url);
                sent = true;
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("onshi did not announce its address");
    Running { child, base }
}

/// Seeds the database at `url` with the nation of `seed` and `persons` observed on
/// `as_of`, through the real binary, histories included when asked.
pub fn seed(url: &str, persons: u64, seed: u64, as_of: chrono::NaiveDate, histories: bool) {
    let (persons_s, seed_s, as_of_s) = (persons.to_string(), seed.to_string(), as_of.to_string());
    let mut args = vec![
        "seed",
        "--database-url",
        url,
        "--persons",
        &persons_s,
        "--seed",
        &seed_s,
        "--as-of",
        &as_of_s,
        "--quiet",
    ];
    if histories {
        args.push("--histories");
    }
    let out = run(&args);
    assert!(out.contains(&format!("seeded {persons} persons")), "{out}");
}

/// Enrols terminal `id` of `institution` with the center at `url` (J-LIS state in `data`);
/// returns the directory holding its certificate, key and CA.
pub fn enroll(
    url: &str,
    data: &std::path::Path,
    institution: &str,
    id: &str,
) -> std::path::PathBuf {
    let out = data.join(format!("terminal-{institution}-{id}"));
    run(&[
        "terminal-enroll",
        "--data-dir",
        data.to_str().unwrap(),
        "--database-url",
        url,
        "--institution",
        institution,
        "--terminal-id",
        id,
        "--out",
        out.to_str().unwrap(),
    ]);
    out
}

/// Starts `onshi serve --tls` on the database at `url` with the J-LIS state in `data`.
pub fn serve_tls(url: &str, data: &std::path::Path) -> Running {
    let server = start(&[
        "serve",
        "--database-url",
        url,
        "--listen",
        "127.0.0.1:0",
        "--tls",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(server.base.starts_with("https://"), "{}", server.base);
    server
}

pub fn tempdir(tag: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!(
        "onshi-{tag}-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&p).unwrap();
    p
}

pub mod tls;

/// Issues a card (PIN 1234) to `person` as `out`, through `onshi card issue-for`.
pub fn issue_card(url: &str, data: &std::path::Path, person: &str, out: &std::path::Path) {
    run(&[
        "card",
        "issue-for",
        "--database-url",
        url,
        "--data-dir",
        data.to_str().unwrap(),
        "--person",
        person,
        "--out",
        out.to_str().unwrap(),
        "--pin",
        "1234",
    ]);
}

/// The `onshi phone new` arguments of an Android phone.
pub fn android_phone<'a>(
    model: &'a str,
    os: &'a str,
    pin: &'a str,
    sign_password: &'a str,
) -> [&'a str; 10] {
    [
        "--platform",
        "android",
        "--model",
        model,
        "--os",
        os,
        "--pin",
        pin,
        "--sign-password",
        sign_password,
    ]
}

/// The `onshi phone new` arguments of an iPhone 15 on iOS 18.5 with Face ID.
pub const IPHONE_15: [&str; 8] = [
    "--platform",
    "iphone",
    "--model",
    "iPhone 15",
    "--os",
    "18.5",
    "--biometric",
    "face-id",
];

/// `onshi phone new --out OUT ARGS`: a new virtual phone, not set up.
pub fn new_phone(out: &std::path::Path, args: &[&str]) {
    let mut a = vec!["phone", "new", "--out", out.to_str().unwrap()];
    a.extend_from_slice(args);
    run(&a);
}

/// `onshi phone SUB ARGS --center CENTER --data-dir DATA`, run to completion; its stdout.
pub fn phone_at(center: &str, data: &std::path::Path, sub: &str, args: &[&str]) -> String {
    let mut a = vec!["phone", sub];
    a.extend_from_slice(args);
    a.extend(["--center", center, "--data-dir", data.to_str().unwrap()]);
    run(&a)
}

/// The portal app's set-up arguments: `phone` signed for with `card` (password ONSHI2025).
pub fn setup_args<'a>(phone: &'a std::path::Path, card: &'a std::path::Path) -> Vec<&'a str> {
    vec![
        "--phone",
        phone.to_str().unwrap(),
        "--card",
        card.to_str().unwrap(),
        "--sign-password",
        "ONSHI2025",
    ]
}

/// `onshi phone wait` for `phone` (J-LIS state in `data`), at most 60 s.
pub fn phone_wait_args<'a>(phone: &'a std::path::Path, data: &'a std::path::Path) -> [&'a str; 8] {
    [
        "phone",
        "wait",
        "--phone",
        phone.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--timeout",
        "60",
    ]
}

/// The phone waits on its push channel; checks the push arrived and the credential is
/// installed.
pub fn wait_for_credential(phone: &std::path::Path, data: &std::path::Path) {
    let waited = run(&phone_wait_args(phone, data));
    assert!(
        waited.contains("push: ready") && waited.contains("credential installed"),
        "{waited}"
    );
}

/// Set-up from the portal app with `card` (`extra` arguments added) at `center`, then the
/// phone waits for its push and its credential.
pub fn set_up_phone(
    center: &str,
    data: &std::path::Path,
    phone: &std::path::Path,
    card: &std::path::Path,
    extra: &[&str],
) {
    let mut a = setup_args(phone, card);
    a.extend_from_slice(extra);
    let out = phone_at(center, data, "setup", &a);
    assert!(out.contains("set-up requested"), "{out}");
    wait_for_credential(phone, data);
}

/// GET `url` with `client`; the JSON answer.
pub async fn get_json(client: &reqwest::Client, url: String) -> serde_json::Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}
