//! Cross-check with the `openssl` command-line tool: chains, purposes and CRLs built
//! here must mean to OpenSSL what they mean to onshi. Skipped (loudly) when `openssl`
//! is not on PATH.

mod common;

use std::path::Path;
use std::process::Command;

use chrono::Duration;
use common::*;
use onshi_pki::{CaKind, RevocationReason, RevokedEntry, RsaKeyPair, crl_pem, to_pem};

fn have_openssl() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("!!! openssl not on PATH: skipping the OpenSSL cross-check !!!");
    }
    ok
}

/// Runs `openssl verify` at 2026-01-01 and returns (success, combined output).
fn openssl_verify(dir: &Path, ca: &str, leaf: &str, extra: &[&str]) -> (bool, String) {
    let at = t(2026, 1, 1).timestamp().to_string();
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(["verify", "-attime", &at, "-CAfile", ca])
        .args(extra)
        .arg(leaf)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn openssl_agrees_on_chains_purposes_and_crls() {
    if !have_openssl() {
        return;
    }
    let tmp = TempDir::new("openssl");
    let mut j = jlis(&tmp);
    let d = &tmp.0;
    let write = |name: &str, pem: String| std::fs::write(d.join(name), pem).unwrap();
    for kind in CaKind::ALL {
        write(&format!("{}.pem", kind.label()), j.ca(kind).cert_pem());
    }
    let key = RsaKeyPair::generate().unwrap();
    let good = j
        .issue_auth(
            CaKind::CardAuth,
            key.public_key_spki(),
            date(1980, 6, 10),
            issued(),
        )
        .unwrap();
    let revoked = j
        .issue_auth(
            CaKind::CardAuth,
            key.public_key_spki(),
            date(1975, 2, 1),
            issued(),
        )
        .unwrap();
    let sign = j
        .issue_signing(
            CaKind::CardSigning,
            key.public_key_spki(),
            &attributes(),
            issued(),
        )
        .unwrap();
    let term = j
        .issue_terminal_with_key("1312345678", "desk-1", issued())
        .unwrap();
    let ip: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    let srv = j
        .issue_server_with_key(&["localhost"], &[ip], issued())
        .unwrap();
    write("good.pem", to_pem("CERTIFICATE", &good.der));
    write("revoked.pem", to_pem("CERTIFICATE", &revoked.der));
    write("signing-leaf.pem", to_pem("CERTIFICATE", &sign.der));
    write("term.pem", to_pem("CERTIFICATE", &term.cert.der));
    write("srv.pem", to_pem("CERTIFICATE", &srv.cert.der));
    let crl = j
        .build_crl(
            CaKind::CardAuth,
            &[RevokedEntry {
                serial: revoked.serial,
                revoked_at: t(2025, 12, 1),
                reason: RevocationReason::LostCard,
            }],
            t(2025, 12, 2),
            Duration::days(31),
        )
        .unwrap();
    write("auth.crl.pem", crl_pem(&crl));

    let (ok, out) = openssl_verify(d, "auth.pem", "good.pem", &[]);
    assert!(ok && out.contains("good.pem: OK"), "{out}");
    let (ok, out) = openssl_verify(
        d,
        "auth.pem",
        "good.pem",
        &["-crl_check", "-CRLfile", "auth.crl.pem"],
    );
    assert!(ok && out.contains("OK"), "{out}");
    let (ok, out) = openssl_verify(
        d,
        "auth.pem",
        "revoked.pem",
        &["-crl_check", "-CRLfile", "auth.crl.pem"],
    );
    assert!(!ok && out.contains("certificate revoked"), "{out}");
    let (ok, out) = openssl_verify(d, "sign.pem", "signing-leaf.pem", &[]);
    assert!(ok, "{out}");
    // Wrong CA: the signing CA did not issue the auth certificate.
    let (ok, out) = openssl_verify(d, "sign.pem", "good.pem", &[]);
    assert!(!ok, "{out}");
    let (ok, out) = openssl_verify(d, "institution.pem", "term.pem", &["-purpose", "sslclient"]);
    assert!(ok, "{out}");
    let (ok, out) = openssl_verify(
        d,
        "institution.pem",
        "srv.pem",
        &["-purpose", "sslserver", "-verify_hostname", "localhost"],
    );
    assert!(ok, "{out}");
    let (ok, out) = openssl_verify(d, "institution.pem", "term.pem", &["-purpose", "sslserver"]);
    assert!(
        !ok,
        "a terminal certificate is no server certificate: {out}"
    );

    // OpenSSL reads the CRL's reason and number as written.
    let out = Command::new("openssl")
        .current_dir(d)
        .args(["crl", "-noout", "-text", "-in", "auth.crl.pem"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Key Compromise"), "{text}");
    assert!(text.contains("X509v3 CRL Number"), "{text}");
    assert!(text.contains("Next Update: Jan  2"), "{text}");
}
