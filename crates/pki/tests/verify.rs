//! The center's verifier with real generated certificates: every outcome, the grace
//! period, revocation through the cache, and CRLs.

mod common;

use std::time::Instant;

use chrono::Duration;
use common::*;
use onshi_pki::{
    CaKind, CertKind, Jlis, PkiError, RevocationReason, RevokedEntry, RsaKeyPair, TrustPolicy,
    TrustStore, digest_info_sha256,
};

struct Fixture {
    _dir: TempDir,
    jlis: Jlis,
    store: TrustStore,
    key: RsaKeyPair,
    auth: onshi_pki::IssuedCert,
}

fn fixture() -> Fixture {
    let dir = TempDir::new("verify");
    let mut jlis = jlis(&dir);
    let key = RsaKeyPair::generate().unwrap();
    let auth = jlis
        .issue_auth(
            CaKind::CardAuth,
            key.public_key_spki(),
            date(1980, 6, 10),
            issued(),
        )
        .unwrap();
    let store = jlis.trust_store(TrustPolicy::default()).unwrap();
    Fixture {
        _dir: dir,
        jlis,
        store,
        key,
        auth,
    }
}

#[test]
fn valid_card_auth_certificate_and_challenge_signature() {
    let f = fixture();
    let v = f.store.verify(&f.auth.der, t(2026, 1, 1)).unwrap();
    assert_eq!(v.kind(), CertKind::CardAuth);
    assert_eq!(v.issuer(), CaKind::CardAuth);
    assert_eq!(v.serial(), f.auth.serial);
    assert!(!v.in_grace());
    let challenge = b"challenge|1312345678|20260101000000";
    let sig = f
        .key
        .sign_digest_info(&digest_info_sha256(challenge))
        .unwrap();
    v.verify_signature(challenge, &sig).unwrap();
    v.verify_digest_info_signature(&digest_info_sha256(challenge), &sig)
        .unwrap();
    let e = v.verify_signature(b"another challenge", &sig).unwrap_err();
    assert!(matches!(e, PkiError::BadSignature { what: "message" }));
}

#[test]
fn not_yet_valid_and_expired() {
    let f = fixture();
    let e = f.store.verify(&f.auth.der, t(2025, 3, 31)).unwrap_err();
    assert!(
        matches!(e, PkiError::NotYetValid { not_before } if not_before == issued()),
        "{e}"
    );
    // Expires 2029-06-10T14:59:59Z; card auth certificates get 3 months of grace.
    let within = f.auth.not_after + Duration::days(60);
    let v = f.store.verify(&f.auth.der, within).unwrap();
    assert!(v.in_grace());
    let beyond = f.auth.not_after + Duration::days(93);
    let e = f.store.verify(&f.auth.der, beyond).unwrap_err();
    match e {
        PkiError::Expired {
            not_after,
            accepted_until,
        } => {
            assert_eq!(not_after, f.auth.not_after);
            assert_eq!(
                accepted_until,
                t(2029, 9, 10) + Duration::seconds(14 * 3600 + 3599)
            );
        }
        other => panic!("{other}"),
    }
}

#[test]
fn smartphone_certificates_get_no_grace() {
    let mut f = fixture();
    let phone = f
        .jlis
        .issue_auth(
            CaKind::PhoneAuth,
            f.key.public_key_spki(),
            date(1980, 6, 10),
            issued(),
        )
        .unwrap();
    let v = f.store.verify(&phone.der, t(2026, 1, 1)).unwrap();
    assert_eq!(v.kind(), CertKind::PhoneAuth);
    let e = f
        .store
        .verify(&phone.der, phone.not_after + Duration::seconds(1))
        .unwrap_err();
    assert!(
        matches!(e, PkiError::Expired { not_after, accepted_until } if not_after == accepted_until)
    );
    // And no grace with a policy of zero months for cards either.
    let strict = f
        .jlis
        .trust_store(TrustPolicy {
            card_auth_grace: chrono::Months::new(0),
            ..TrustPolicy::default()
        })
        .unwrap();
    assert!(
        strict
            .verify(&f.auth.der, f.auth.not_after + Duration::days(1))
            .is_err()
    );
}

#[test]
fn revocation_is_checked_on_every_call_even_when_cached() {
    let f = fixture();
    let at = t(2026, 1, 1);
    f.store.verify(&f.auth.der, at).unwrap();
    assert_eq!(f.store.cached(), 1);
    let entry = RevokedEntry {
        serial: f.auth.serial,
        revoked_at: t(2025, 12, 1),
        reason: RevocationReason::LostCard,
    };
    f.store.revoke(CaKind::CardAuth, entry).unwrap();
    let e = f.store.verify(&f.auth.der, at).unwrap_err();
    assert!(
        matches!(e, PkiError::Revoked { reason: RevocationReason::LostCard, revoked_at } if revoked_at == t(2025, 12, 1)),
        "{e}"
    );
    // Still valid for a time before the revocation (an older signature).
    f.store.verify(&f.auth.der, t(2025, 11, 1)).unwrap();
    // Revoking the same serial under another CA does not touch this certificate.
    assert!(f.store.unrevoke(CaKind::CardAuth, f.auth.serial).unwrap());
    f.store.revoke(CaKind::PhoneAuth, entry).unwrap();
    f.store.verify(&f.auth.der, at).unwrap();
    assert_eq!(f.store.cached(), 1);
}

#[test]
fn crl_loading_revokes_and_replaces() {
    let mut f = fixture();
    let at = t(2026, 1, 1);
    let entry = RevokedEntry {
        serial: f.auth.serial,
        revoked_at: t(2025, 12, 1),
        reason: RevocationReason::KeyCompromise,
    };
    let crl1 = f
        .jlis
        .build_crl(
            CaKind::CardAuth,
            &[entry],
            t(2025, 12, 2),
            Duration::days(1),
        )
        .unwrap();
    assert_eq!(f.store.load_crl(&crl1).unwrap(), 1);
    let e = f.store.verify(&f.auth.der, at).unwrap_err();
    assert!(
        matches!(
            e,
            PkiError::Revoked {
                reason: RevocationReason::KeyCompromise,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        f.store.crl_next_update(CaKind::CardAuth),
        Some(t(2025, 12, 3))
    );
    // A newer CRL without the entry (a lifted hold) makes it valid again.
    let crl2 = f
        .jlis
        .build_crl(CaKind::CardAuth, &[], t(2025, 12, 3), Duration::days(1))
        .unwrap();
    assert_eq!(f.store.load_crl(&crl2).unwrap(), 0);
    f.store.verify(&f.auth.der, at).unwrap();
    // Replaying the older CRL is refused.
    assert!(matches!(
        f.store.load_crl(&crl1),
        Err(PkiError::Malformed { .. })
    ));
    // A CRL with a flipped signature byte is refused.
    let mut bad = crl2.clone();
    let n = bad.len();
    bad[n - 5] ^= 1;
    assert!(matches!(
        f.store.load_crl(&bad),
        Err(PkiError::BadSignature { what: "crl" })
    ));
    // A CRL of an untrusted CA is refused.
    let other_dir = TempDir::new("other-crl");
    let mut other = jlis(&other_dir);
    let foreign = other
        .build_crl(
            CaKind::CardAuth,
            &[entry],
            t(2025, 12, 4),
            Duration::days(1),
        )
        .unwrap();
    assert!(matches!(
        f.store.load_crl(&foreign),
        Err(PkiError::BadSignature { .. })
    ));
}

#[test]
fn unknown_issuer_and_foreign_ca_with_the_same_name() {
    let f = fixture();
    // A CA set created elsewhere: same names, other keys.
    let other_dir = TempDir::new("other");
    let mut other = jlis(&other_dir);
    let foreign = other
        .issue_auth(
            CaKind::CardAuth,
            f.key.public_key_spki(),
            date(1980, 6, 10),
            issued(),
        )
        .unwrap();
    let e = f.store.verify(&foreign.der, t(2026, 1, 1)).unwrap_err();
    assert!(
        matches!(
            e,
            PkiError::BadSignature {
                what: "certificate"
            }
        ),
        "{e}"
    );
    // A store that trusts only the signing CA does not know the auth CA.
    let only_sign = TrustStore::new(TrustPolicy::default());
    only_sign
        .add_ca(
            CaKind::CardSigning,
            f.jlis.ca(CaKind::CardSigning).cert_der(),
        )
        .unwrap();
    let e = only_sign.verify(&f.auth.der, t(2026, 1, 1)).unwrap_err();
    assert!(
        matches!(&e, PkiError::UnknownIssuer { issuer } if issuer.contains("user authentication")),
        "{e}"
    );
    // A CA certificate under the wrong kind is refused.
    assert!(
        only_sign
            .add_ca(CaKind::CardAuth, f.jlis.ca(CaKind::PhoneAuth).cert_der())
            .is_err()
    );
}

#[test]
fn tampered_certificates_are_rejected() {
    let f = fixture();
    let der = &f.auth.der;
    // One byte of the subject CN inside the TBS (the serial-based CN is ASCII hex).
    let cn = f.auth.serial.to_hex();
    let pos = der
        .windows(cn.len())
        .position(|w| w == cn.as_bytes())
        .unwrap();
    let mut tbs_flip = der.clone();
    tbs_flip[pos + cn.len() - 1] ^= 0x01;
    let e = f.store.verify(&tbs_flip, t(2026, 1, 1)).unwrap_err();
    assert!(
        matches!(
            e,
            PkiError::BadSignature {
                what: "certificate"
            }
        ),
        "{e}"
    );
    // One byte of the signature.
    let mut sig_flip = der.clone();
    let n = sig_flip.len();
    sig_flip[n - 10] ^= 0x80;
    let e = f.store.verify(&sig_flip, t(2026, 1, 1)).unwrap_err();
    assert!(
        matches!(
            e,
            PkiError::BadSignature {
                what: "certificate"
            }
        ),
        "{e}"
    );
    // Truncated DER.
    let e = f
        .store
        .verify(&der[..der.len() - 1], t(2026, 1, 1))
        .unwrap_err();
    assert!(matches!(e, PkiError::Malformed { .. }), "{e}");
    // Failures are not cached; the genuine certificate still verifies.
    assert_eq!(f.store.cached(), 0);
    f.store.verify(der, t(2026, 1, 1)).unwrap();
}

#[test]
fn kinds_and_wrong_kind() {
    let mut f = fixture();
    let sign = f
        .jlis
        .issue_signing(
            CaKind::CardSigning,
            f.key.public_key_spki(),
            &attributes(),
            issued(),
        )
        .unwrap();
    let v = f.store.verify(&sign.der, t(2026, 1, 1)).unwrap();
    assert_eq!(v.kind(), CertKind::CardSigning);
    assert_eq!(v.attributes(), Some(&attributes()));
    let term = f
        .jlis
        .issue_terminal_with_key("1312345678", "desk-2", issued())
        .unwrap();
    let v = f.store.verify(&term.cert.der, t(2026, 1, 1)).unwrap();
    assert_eq!(v.kind(), CertKind::Terminal);
    assert_eq!(v.institution_code(), Some("1312345678"));
    assert_eq!(v.terminal_id(), Some("desk-2"));
    let srv = f
        .jlis
        .issue_server_with_key(&["localhost"], &[], issued())
        .unwrap();
    assert_eq!(
        f.store.verify(&srv.cert.der, t(2026, 1, 1)).unwrap().kind(),
        CertKind::Server
    );
    let accept = [CertKind::CardAuth, CertKind::PhoneAuth];
    f.store
        .verify_kind(&f.auth.der, t(2026, 1, 1), &accept)
        .unwrap();
    let e = f
        .store
        .verify_kind(&sign.der, t(2026, 1, 1), &accept)
        .unwrap_err();
    assert!(
        matches!(
            e,
            PkiError::WrongKind {
                actual: CertKind::CardSigning,
                ..
            }
        ),
        "{e}"
    );
    // A CA certificate is not an end entity, though its signature is valid.
    let e = f
        .store
        .verify(f.jlis.ca(CaKind::CardAuth).cert_der(), t(2026, 1, 1))
        .unwrap_err();
    assert!(matches!(e, PkiError::Malformed { .. }), "{e}");
}

#[test]
fn cache_generations_stay_bounded() {
    let mut f = fixture();
    let small = f
        .jlis
        .trust_store(TrustPolicy {
            cache_capacity: 2,
            ..TrustPolicy::default()
        })
        .unwrap();
    let mut certs = vec![f.auth.der.clone()];
    for _ in 0..4 {
        certs.push(
            f.jlis
                .issue_auth(
                    CaKind::CardAuth,
                    f.key.public_key_spki(),
                    date(1990, 1, 1),
                    issued(),
                )
                .unwrap()
                .der,
        );
    }
    for c in &certs {
        small.verify(c, t(2026, 1, 1)).unwrap();
    }
    assert!(small.cached() <= 4, "{}", small.cached());
    for c in &certs {
        small.verify(c, t(2026, 1, 1)).unwrap();
    }
}

#[test]
fn timings_cached_and_uncached() {
    let f = fixture();
    let at = t(2026, 1, 1);
    let n = 200;
    // Uncached: the cache disabled, so every call parses and checks the CA signature.
    let nocache = f
        .jlis
        .trust_store(TrustPolicy {
            cache_capacity: 0,
            ..TrustPolicy::default()
        })
        .unwrap();
    let s = Instant::now();
    for _ in 0..n {
        nocache.verify(&f.auth.der, at).unwrap();
    }
    let uncached = s.elapsed() / n;
    f.store.verify(&f.auth.der, at).unwrap();
    let m = 20_000;
    let s = Instant::now();
    for _ in 0..m {
        f.store.verify(&f.auth.der, at).unwrap();
    }
    let cached = s.elapsed() / m;
    println!("verify: uncached {uncached:?}/call, cached {cached:?}/call");
    assert!(
        cached < uncached,
        "the cache must pay: {cached:?} vs {uncached:?}"
    );
}
