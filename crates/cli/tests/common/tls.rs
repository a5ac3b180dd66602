//! Helpers for end-to-end tests of the card path over mutual TLS: start `onshi serve --tls`,
//! talk to it as an enrolled terminal, and put virtual cards in pcscd's vpcd reader.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
#[cfg(feature = "pcsc")]
use std::process::Stdio;
#[cfg(feature = "pcsc")]
use std::time::{Duration, Instant};

use super::BIN;
#[cfg(feature = "pcsc")]
use super::Running;

/// Runs `onshi ARGS` and returns (stdout, stderr) whatever the exit status, which must be
/// success.
pub fn run_both(args: &[&str]) -> (String, String) {
    let out = Command::new(BIN).args(args).output().expect("run onshi");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "onshi {args:?} failed: {stdout}\n{stderr}"
    );
    (stdout, stderr)
}

/// An HTTP client that authenticates as the terminal enrolled in `dir`.
pub fn terminal_http(dir: &Path) -> reqwest::Client {
    let creds = onshi_clinic::TerminalCredentials::load(dir).expect("terminal credentials");
    reqwest::Client::builder()
        .tls_backend_preconfigured(creds.client_config().expect("TLS config"))
        .build()
        .expect("client")
}

/// pcscd with the vpcd reader is ready; `false` (skip) when it cannot be had and
/// `ONSHI_REQUIRE_PCSC=1` is not set.
pub fn pcsc_ready() -> bool {
    let required = std::env::var("ONSHI_REQUIRE_PCSC").is_ok_and(|v| v == "1");
    if !cfg!(feature = "pcsc") {
        assert!(
            !required,
            "ONSHI_REQUIRE_PCSC=1 needs the `pcsc` feature (cargo test --features pcsc)"
        );
        eprintln!("NOTE: built without the `pcsc` feature; receptions run with --card-file only");
        return false;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../card/tests/pcsc-env.sh");
    let ok = Command::new("sh")
        .arg(&script)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok || !required,
        "pcsc-env.sh failed and ONSHI_REQUIRE_PCSC=1"
    );
    if !ok {
        eprintln!("NOTE: pcscd/vpcd not available; receptions run with --card-file only");
    }
    ok
}

/// The vpcd reader's name as pcscd lists it.
pub const VPCD_READER: &str = "Virtual PCD";

/// A card file served to vpcd by `onshi card attach` until dropped.
#[cfg(feature = "pcsc")]
pub struct Attached {
    attach: Option<Running>,
}

#[cfg(feature = "pcsc")]
impl Drop for Attached {
    fn drop(&mut self) {
        drop(self.attach.take());
        // Let pcscd notice the card is gone before the next one is attached.
        let deadline = Instant::now() + Duration::from_secs(5);
        while onshi_card::PcscChannel::connect(VPCD_READER).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(250));
        }
        std::thread::sleep(Duration::from_millis(600));
    }
}

/// Without PC/SC there is no reader to attach to ([`pcsc_ready`] is false).
#[cfg(not(feature = "pcsc"))]
pub struct Attached;

#[cfg(not(feature = "pcsc"))]
pub fn attach(card: &Path) -> Attached {
    panic!("attaching {} needs the `pcsc` feature", card.display())
}

/// Attaches `card` to vpcd and waits until pcscd shows that very card in the reader.
#[cfg(feature = "pcsc")]
pub fn attach(card: &Path) -> Attached {
    let expected = onshi_card::CardFile::load(card).unwrap().jpki.auth_cert;
    let child = Command::new(BIN)
        .args(["card", "attach", card.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("onshi card attach");
    let running = Running {
        child,
        base: String::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last;
    loop {
        match onshi_card::PcscChannel::connect(VPCD_READER) {
            Ok(ch) => {
                let mut client = onshi_card::JpkiClient::new(ch);
                match client.auth_certificate() {
                    Ok(c) if c == expected => break,
                    Ok(_) => last = "another card is in the reader".into(),
                    Err(e) => last = e.to_string(),
                }
            }
            Err(e) => last = e.to_string(),
        }
        assert!(
            Instant::now() < deadline,
            "{} did not appear in the vpcd reader: {last}",
            card.display()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    Attached {
        attach: Some(running),
    }
}

/// Where the card is for one reception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Through pcscd and the vpcd reader, the card served by `onshi card attach`.
    Reader,
    /// The card file read in the terminal's own process.
    File,
}

/// `onshi terminal reception` for `card` with `extra` arguments; returns the JSON result
/// and the screens shown on stderr. The card is attached to vpcd for the run when `via`
/// is [`Via::Reader`].
pub fn reception(
    center: &str,
    terminal: &Path,
    data: &Path,
    card: &Path,
    via: Via,
    extra: &[&str],
) -> (serde_json::Value, String) {
    let mut args: Vec<String> = [
        "terminal",
        "reception",
        "--center",
        center,
        "--cert",
        terminal.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]
    .map(str::to_owned)
    .to_vec();
    let _attached = match via {
        Via::Reader => {
            args.extend(["--reader".to_owned(), VPCD_READER.to_owned()]);
            Some(attach(card))
        }
        Via::File => {
            args.extend(["--card-file".to_owned(), card.to_str().unwrap().to_owned()]);
            None
        }
    };
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (stdout, stderr) = run_both(&refs);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    (json, stderr)
}

/// A fresh file path in `dir`.
pub fn path_in(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
