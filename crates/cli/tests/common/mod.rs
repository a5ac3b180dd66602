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
