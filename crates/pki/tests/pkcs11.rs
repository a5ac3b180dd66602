//! CA keys in a PKCS#11 token (SoftHSM 2). Needs `--features pkcs11` and
//! `/usr/lib/softhsm/libsofthsm2.so` (or `ONSHI_PKCS11_MODULE`); without the feature the
//! test says loudly that it did not run.
//!
//! SoftHSM reads its token directory from `SOFTHSM2_CONF`, so the test writes a private
//! configuration and runs its real body in a child process of this test binary with
//! that variable set, leaving the machine's token directory alone.

#[cfg(not(feature = "pkcs11"))]
#[test]
fn pkcs11_ca_keys_in_softhsm() {
    eprintln!(
        "!!! PKCS#11 test NOT RUN: build with `cargo test -p onshi-pki --features pkcs11` !!!"
    );
}

#[cfg(feature = "pkcs11")]
mod common;

#[cfg(feature = "pkcs11")]
mod hsm {
    use std::process::Command;

    use super::common::*;
    use onshi_pki::{CaKind, CertKind, Jlis, KeyStore, Pkcs11KeyStore, RsaKeyPair, TrustPolicy};

    const CHILD_ENV: &str = "ONSHI_PKI_SOFTHSM_CHILD";

    fn module() -> String {
        std::env::var("ONSHI_PKCS11_MODULE")
            .unwrap_or_else(|_| "/usr/lib/softhsm/libsofthsm2.so".into())
    }

    #[test]
    fn pkcs11_ca_keys_in_softhsm() {
        assert!(
            std::path::Path::new(&module()).exists(),
            "PKCS#11 module {} missing: install softhsm2",
            module()
        );
        let tmp = TempDir::new("softhsm");
        let tokens = tmp.0.join("tokens");
        std::fs::create_dir_all(&tokens).unwrap();
        let conf = tmp.0.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "hsm::softhsm_child", "--nocapture"])
            .env("SOFTHSM2_CONF", &conf)
            .env(CHILD_ENV, tmp.0.join("state"))
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        println!("{text}");
        assert!(out.status.success() && text.contains("1 passed"), "{text}");
    }

    /// The body, run only as the child of `pkcs11_ca_keys_in_softhsm`.
    #[test]
    #[ignore = "run by pkcs11_ca_keys_in_softhsm with a private SoftHSM configuration"]
    fn softhsm_child() {
        let Some(state) = std::env::var_os(CHILD_ENV) else {
            eprintln!("not started by pkcs11_ca_keys_in_softhsm: nothing to do");
            return;
        };
        let (label, so, pin) = ("onshi-jlis", "so-secret-1", "user-1234");
        let key = RsaKeyPair::generate().unwrap();
        let (ca_der, serial) = {
            let store = Pkcs11KeyStore::init_token(module(), label, so, pin).unwrap();
            let start = std::time::Instant::now();
            let mut jlis = Jlis::load_or_create_with(&state, &store, ca_created(), None).unwrap();
            println!(
                "five CAs with keys generated in the token: {:?}",
                start.elapsed()
            );
            // No key file was written: the keys live in the token.
            assert!(!std::path::Path::new(&state).join("keys").exists());
            let sign = jlis
                .issue_signing(
                    CaKind::CardSigning,
                    key.public_key_spki(),
                    &attributes(),
                    issued(),
                )
                .unwrap();
            let trust = jlis.trust_store(TrustPolicy::default()).unwrap();
            let v = trust.verify(&sign.der, t(2026, 1, 1)).unwrap();
            assert_eq!(v.kind(), CertKind::CardSigning);
            // A second init with the same label is refused.
            assert!(Pkcs11KeyStore::init_token(module(), label, so, pin).is_err());
            (
                jlis.ca(CaKind::CardSigning).cert_der().to_vec(),
                sign.serial,
            )
        };
        // Reopened by label: same keys, so the stored CA certificates still match.
        let store = Pkcs11KeyStore::open(module(), label, pin).unwrap();
        assert!(Pkcs11KeyStore::open(module(), "no-such-token", pin).is_err());
        let mut jlis = Jlis::load_or_create_with(&state, &store, t(2030, 1, 1), None).unwrap();
        assert_eq!(jlis.ca(CaKind::CardSigning).cert_der(), &ca_der[..]);
        let again = jlis
            .issue_auth(
                CaKind::CardAuth,
                key.public_key_spki(),
                date(1980, 6, 10),
                issued(),
            )
            .unwrap();
        let trust = jlis.trust_store(TrustPolicy::default()).unwrap();
        trust.verify(&again.der, t(2026, 1, 1)).unwrap();
        assert!(serial.to_hex().len() >= 16);
        // The token's signer produces signatures the software verifier accepts.
        let signer = store.load_or_generate("extra").unwrap();
        let sig = signer.sign_sha256(b"message").unwrap();
        onshi_pki::verify_signature(signer.public_key_spki(), b"message", &sig).unwrap();
    }
}
