//! `onshi demo` as a newcomer meets it: the banner prints the kiosk and desk URLs and the
//! demo cards, and a reception with the first card completes in a real browser.

mod browser_support;
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use browser_support::*;
use common::*;

#[test]
fn a_reception_in_the_demo() {
    if !browser_ready() {
        return;
    }
    let dir = tempdir("browser-demo");
    let child = Command::new(BIN)
        .args([
            "demo",
            "--data-dir",
            dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--persons",
            "800",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // Killed on drop if the test fails half-way.
    let mut demo = Running {
        child,
        base: String::new(),
    };
    let stdout = demo.child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(180);
    while Instant::now() < deadline && !lines.iter().any(|l: &String| l.starts_with("Ctrl-C")) {
        if let Ok(l) = rx.recv_timeout(Duration::from_secs(1)) {
            lines.push(l);
        }
    }
    let url_after = |label: &str| {
        lines
            .iter()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split_whitespace().find(|w| w.starts_with("http://")))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no {label} URL in the banner: {lines:#?}"))
    };
    let kiosk = url_after("kiosk");
    let desk = url_after("desk");
    let base = kiosk.trim_end_matches("/kiosk").to_owned();
    assert_eq!(desk, format!("{base}/desk"));
    assert!(
        lines.iter().any(|l| l.contains("patient-1.card")),
        "the demo cards are listed: {lines:#?}"
    );
    let out = node(
        "kiosk-demo.mjs",
        &[
            ("ONSHI_TERMINAL_URL", base),
            (
                "ONSHI_SCREENSHOTS",
                screenshots("demo").to_str().unwrap().to_owned(),
            ),
        ],
    );
    let _ = Command::new("kill")
        .args(["-INT", &demo.child.id().to_string()])
        .status();
    let stopped = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = demo.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < stopped, "the demo did not stop on Ctrl-C");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(status.success(), "clean exit: {status:?}");
    assert!(out.contains("\"ok\":true"), "{out}");
}
