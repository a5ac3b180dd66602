//! The J-LIS document signer as OpenSSL sees it: a self-signed P-256 certificate with the
//! mdlDS extended key usage, stable across reopenings of the J-LIS directory.

use chrono::{TimeZone, Utc};

#[test]
fn the_document_signer_certificate_verifies_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let now = Utc.with_ymd_and_hms(2025, 10, 1, 1, 0, 0).unwrap();
    let jlis = onshi_pki::Jlis::load_or_create(dir.path(), now, None).unwrap();
    let ds = jlis.document_signer(now).unwrap();
    let later = jlis
        .document_signer(now + chrono::Duration::days(1))
        .unwrap();
    assert_eq!(ds.certificate_der(), later.certificate_der());
    assert_eq!(ds.pkcs8_der(), later.pkcs8_der());
    let pem = dir.path().join("doc-signer.pem");
    assert_eq!(std::fs::read_to_string(&pem).unwrap(), ds.certificate_pem());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = dir.path().join("keys/doc-signer.pk8");
        assert_eq!(
            std::fs::metadata(key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let Ok(out) = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&pem)
        .output()
    else {
        eprintln!("SKIPPED: openssl not installed");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("ecdsa-with-SHA256"), "{text}");
    assert!(
        text.contains("prime256v1") || text.contains("P-256"),
        "{text}"
    );
    assert!(text.contains("1.0.18013.5.1.2"), "{text}");
    let verify = std::process::Command::new("openssl")
        .args(["verify", "-no_check_time", "-CAfile"])
        .arg(&pem)
        .arg(&pem)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}
