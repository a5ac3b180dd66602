//! Shared fixtures: a temporary state directory and a CA set issued at a fixed time.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use onshi_pki::{BasicAttributes, Jlis, Sex};

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("onshi-pki-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn t(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// When the fixture CAs are created.
pub fn ca_created() -> DateTime<Utc> {
    t(2024, 1, 1)
}

/// When fixture certificates are issued.
pub fn issued() -> DateTime<Utc> {
    t(2025, 4, 1)
}

pub fn jlis(dir: &TempDir) -> Jlis {
    Jlis::load_or_create(&dir.0, ca_created(), Some("http://127.0.0.1:8080/crl")).unwrap()
}

pub fn attributes() -> BasicAttributes {
    BasicAttributes {
        name: "診療　太郎".into(),
        name_substitute: None,
        sex: Sex::Male,
        birth_date: date(1980, 6, 10),
        address: "東京都千代田区霞が関１－２－２".into(),
        address_substitute: Some("東京都千代田区霞が関1-2-2".into()),
    }
}
