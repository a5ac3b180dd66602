//! `onshi demo`: seeds on first start, prints working URLs and a working example, stops
//! cleanly on Ctrl-C (SIGINT), and reuses its data on the next start.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Runs the demo until it has printed its banner; returns the lines and the child.
fn start_demo(dir: &std::path::Path) -> (std::process::Child, Vec<String>) {
    let mut child = Command::new(BIN)
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
    let stdout = child.stdout.take().unwrap();
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
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(l) => {
                let done = l.starts_with("Ctrl-C");
                lines.push(l);
                if done {
                    return (child, lines);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the demo did not print its banner: {lines:#?}");
}

fn interrupt(child: &mut std::process::Child) -> std::process::ExitStatus {
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the demo did not stop on Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn demo_seeds_once_serves_and_stops_cleanly() {
    let dir = tempdir("demo");
    let (mut child, lines) = start_demo(&dir);
    let text = lines.join("\n");
    assert!(text.contains("first start"), "{text}");
    assert!(text.contains("seeded 800 persons"), "{text}");
    let url = |label: &str| {
        let l = lines
            .iter()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label} line: {text}"));
        l.split_whitespace().last().unwrap().to_owned()
    };
    let http = reqwest::Client::new();
    for label in ["OpenAPI", "health", "institution"] {
        let r = http.get(url(label)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{label}");
    }
    // The printed example is a working request.
    let curl = lines
        .iter()
        .position(|l| l.trim_start().starts_with("curl"))
        .expect("an example");
    let endpoint = lines[curl].split_whitespace().nth(2).unwrap().to_owned();
    let body = lines[curl + 2]
        .trim()
        .trim_start_matches("-d '")
        .trim_end_matches('\'')
        .to_owned();
    let r = http
        .post(endpoint)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["validity"], "1", "{v}");

    // The demo's phones are set up through the center's smartphone service on first
    // start: an Android phone and an iPhone, each with its credential installed.
    for phone in ["patient-1-android.phone", "patient-2-iphone.phone"] {
        assert!(text.contains(phone), "{phone} listed: {text}");
        let path = dir.join("cards").join(phone);
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let issued = onshi_card::phone::PhoneFile::load(&path).is_ok_and(|p| p.is_issued());
            if issued {
                break;
            }
            assert!(Instant::now() < deadline, "{phone} was not set up in time");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    let status = interrupt(&mut child);
    assert!(status.success(), "clean exit on Ctrl-C: {status:?}");
    assert!(dir.join("center.db").exists());

    // A second start reuses the data: no seeding.
    let (mut child, lines) = start_demo(&dir);
    let text = lines.join("\n");
    assert!(!text.contains("first start"), "{text}");
    assert!(text.contains("800 persons"), "{text}");
    assert!(interrupt(&mut child).success());
}
