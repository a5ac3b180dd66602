//! Helpers of the browser tests: is Chromium here, a fake camera file for it, a whole
//! terminal (center over mutual TLS, enrolled terminal, issued cards, `onshi terminal
//! kiosk`), and running a node script of web-tests/ against it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use onshi_synth::{Case, Config, Nation};

use crate::common::*;

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chromium() -> PathBuf {
    std::env::var_os("ONSHI_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Chromium, node and playwright-core are here; `false` (skip, with a notice) when one is
/// missing and `ONSHI_REQUIRE_BROWSER=1` is not set; a failure when it is.
pub fn browser_ready() -> bool {
    let required = std::env::var("ONSHI_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let mut missing = Vec::new();
    if !chromium().exists() {
        missing.push(format!("Chromium ({})", chromium().display()));
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
        missing.push("web-tests/node_modules/playwright-core (npm ci in web-tests)".to_owned());
    }
    if missing.is_empty() {
        return true;
    }
    assert!(
        !required,
        "ONSHI_REQUIRE_BROWSER=1 but missing: {}",
        missing.join(", ")
    );
    eprintln!(
        "NOTE: browser test skipped, missing: {} (set ONSHI_REQUIRE_BROWSER=1 to fail instead)",
        missing.join(", ")
    );
    false
}

/// Writes `frames` as a YUV4MPEG2 file (4:2:0, BT.601 studio range), the format Chromium's
/// fake camera plays in a loop.
pub fn write_y4m(path: &Path, frames: &[onshi_face::FaceImage]) {
    let (w, h) = (frames[0].width() as usize, frames[0].height() as usize);
    let mut out = format!("YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n").into_bytes();
    for f in frames {
        assert_eq!((f.width() as usize, f.height() as usize), (w, h));
        out.extend_from_slice(b"FRAME\n");
        let (y, u, v) = i420(f.as_rgb8(), w, h);
        out.extend(y);
        out.extend(u);
        out.extend(v);
    }
    std::fs::write(path, out).unwrap();
}

/// RGB → I420 (BT.601, studio range), chroma averaged over 2×2.
pub fn i420(rgb: &[u8], w: usize, h: usize) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let px = |x: usize, y: usize| {
        let i = (y * w + x) * 3;
        (
            f32::from(rgb[i]),
            f32::from(rgb[i + 1]),
            f32::from(rgb[i + 2]),
        )
    };
    let clamp = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    let mut ys = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let (r, g, b) = px(x, y);
            ys.push(clamp(16.0 + 0.257 * r + 0.504 * g + 0.098 * b));
        }
    }
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let (mut us, mut vs) = (Vec::with_capacity(cw * ch), Vec::with_capacity(cw * ch));
    for cy in 0..ch {
        for cx in 0..cw {
            let (mut r, mut g, mut b, mut n) = (0.0, 0.0, 0.0, 0.0);
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let (x, y) = ((cx * 2 + dx).min(w - 1), (cy * 2 + dy).min(h - 1));
                let p = px(x, y);
                r += p.0;
                g += p.1;
                b += p.2;
                n += 1.0;
            }
            let (r, g, b) = (r / n, g / n, b / n);
            us.push(clamp(128.0 - 0.148 * r - 0.291 * g + 0.439 * b));
            vs.push(clamp(128.0 + 0.439 * r - 0.368 * g - 0.071 * b));
        }
    }
    (ys, us, vs)
}

/// I420 → RGB, the way the page sees the fake camera's frame.
pub fn rgb_of_i420(y: &[u8], u: &[u8], v: &[u8], w: usize, h: usize) -> Vec<u8> {
    let cw = w.div_ceil(2);
    let mut out = Vec::with_capacity(w * h * 3);
    for row in 0..h {
        for col in 0..w {
            let yy = 1.164 * (f32::from(y[row * w + col]) - 16.0);
            let ci = (row / 2) * cw + col / 2;
            let (uu, vv) = (f32::from(u[ci]) - 128.0, f32::from(v[ci]) - 128.0);
            let c = |x: f32| x.round().clamp(0.0, 255.0) as u8;
            out.push(c(yy + 1.596 * vv));
            out.push(c(yy - 0.392 * uu - 0.813 * vv));
            out.push(c(yy + 2.017 * uu));
        }
    }
    out
}

/// The camera frame of `face_seed` as the kiosk receives it: through I420 and JPEG.
pub fn as_browser_sends(frame: &onshi_face::FaceImage) -> onshi_face::FaceImage {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let (y, u, v) = i420(frame.as_rgb8(), w, h);
    let rgb = rgb_of_i420(&y, &u, &v, w, h);
    let img = onshi_face::FaceImage::from_rgb8(frame.width(), frame.height(), rgb).unwrap();
    let jpeg = img
        .encode(onshi_face::ImageFormat::Jpeg { quality: 90 })
        .unwrap();
    onshi_face::FaceImage::decode(&jpeg).unwrap()
}

/// Where the screenshots of `scenario` go (under target/, not committed).
pub fn screenshots(scenario: &str) -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("browser-screenshots")
        .join(scenario);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `node web-tests/SCRIPT` with `env`; returns its stdout, panics with its output on
/// failure.
pub fn node(script: &str, env: &[(&str, String)]) -> String {
    let mut cmd = Command::new("node");
    cmd.arg(root().join("web-tests").join(script))
        .current_dir(root().join("web-tests"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "node {script} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    eprintln!("node {script}: {stdout}");
    stdout
}

/// A center over mutual TLS with an enrolled terminal, and the terminal's pages serving
/// the card files of `cards` to the simulation panel.
pub struct Clinic {
    pub nation: Nation,
    pub data: PathBuf,
    pub url: String,
    pub cards: PathBuf,
    pub institution: String,
    pub center: Running,
    pub terminal: Option<Running>,
    pub cert: PathBuf,
}

pub const PERSONS: u64 = 1_500;
pub const SEED: u64 = 38;
/// The date the nation is observed and the receptions are evaluated on (fixed, so that
/// the chosen patients and their histories do not depend on the day the test runs).
pub const AS_OF: &str = "2025-06-02";

impl Clinic {
    /// Seeds a nation (with histories) observed today, enrols terminal T01 of its first
    /// institution, and starts the center.
    pub fn new(tag: &str) -> Self {
        let data = tempdir(tag);
        let url = onshi_store::testing::fresh_sqlite_url(&data);
        let as_of: NaiveDate = AS_OF.parse().unwrap();
        seed(&url, PERSONS, SEED, as_of, true);
        let nation = Nation::new(Config {
            seed: SEED,
            persons: PERSONS,
            as_of,
        });
        let institution = nation.institutions()[0].code.to_string();
        let cert = enroll(&url, &data, &institution, "T01");
        let center = serve_tls(&url, &data);
        let cards = data.join("cards");
        std::fs::create_dir_all(&cards).unwrap();
        Self {
            nation,
            data,
            url,
            cards,
            institution,
            center,
            terminal: None,
            cert,
        }
    }

    /// Issues a card (PIN 1234) to `case`'s person as `cards/NAME`.
    pub fn issue(&self, case: &Case, name: &str) -> PathBuf {
        let out = self.cards.join(name);
        run(&[
            "card",
            "issue-for",
            "--database-url",
            &self.url,
            "--data-dir",
            self.data.to_str().unwrap(),
            "--person",
            &case.person_id.to_string(),
            "--out",
            out.to_str().unwrap(),
            "--pin",
            "1234",
        ]);
        out
    }

    /// Starts `onshi terminal kiosk`; returns its base URL.
    pub fn start_terminal(&mut self) -> String {
        self.start_terminal_with(&[])
    }

    /// Starts `onshi terminal kiosk` with `extra` arguments; returns its base URL.
    pub fn start_terminal_with(&mut self, extra: &[&str]) -> String {
        let mut args = vec![
            "terminal",
            "kiosk",
            "--center",
            &self.center.base,
            "--cert",
            self.cert.to_str().unwrap(),
            "--data-dir",
            self.data.to_str().unwrap(),
            "--cards",
            self.cards.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--as-of",
            AS_OF,
        ];
        args.extend_from_slice(extra);
        let running = start(&args);
        let base = running.base.clone();
        self.terminal = Some(running);
        base
    }

    pub fn person(&self, case: &Case) -> onshi_synth::Person {
        self.nation
            .household(case.household)
            .persons
            .into_iter()
            .find(|p| p.id == case.person_id)
            .unwrap()
    }

    pub fn history(&self, case: &Case) -> onshi_synth::history::PersonHistory {
        let h = self.nation.household(case.household);
        let p = h.persons.iter().find(|p| p.id == case.person_id).unwrap();
        onshi_synth::history::person_history(&self.nation, &h, p)
    }
}
