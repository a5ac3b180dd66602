//! The Android phone's JPKI applet through the reader code the card uses (`JpkiClient`),
//! in-process and from its file across "processes" (re-opened phone files).

mod phone_support;

use onshi_card::client::ClientError;
use onshi_card::layout::{Ap, CertRef, KeyRef, PinRef};
use onshi_card::onsign::sha256_digest_info;
use onshi_card::phone::reader::{self, Holder};
use onshi_card::phone::{
    self, FileBackedPhone, Handset, OsVersion, PHONE_ATR, PhoneError, PhoneFile, PhonePins,
    VirtualPhone,
};
use onshi_card::{CardChannel, JpkiClient, Pin, StatusWord, VerifyOutcome};
use onshi_pki::{CertKind, TrustPolicy};
use phone_support::*;

fn status(e: ClientError) -> StatusWord {
    match e {
        ClientError::Status { sw, .. } => sw,
        other => panic!("expected a status word, got {other}"),
    }
}

#[test]
fn android_phone_is_a_jpki_ap_only_with_the_gpse_token_and_its_own_atr() {
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let mut client = JpkiClient::new(VirtualPhone::new(android(&mut jlis)));
    assert_eq!(client.reset().unwrap(), PHONE_ATR.to_vec());
    assert_eq!(client.token_info().unwrap(), "JPKIAPGPSETOKEN");
    assert_eq!(reader::identify(&mut client).unwrap(), Holder::AndroidPhone);
    for ap in [Ap::InputSupport, Ap::CardFace] {
        let e = client.select_ap(ap).unwrap_err();
        assert_eq!(status(e), StatusWord::FILE_NOT_FOUND, "{ap:?}");
    }
    // The CA certificates are free; the user-auth certificate needs the phone PIN.
    client.select_ap(Ap::Jpki).unwrap();
    let ca = client.read_certificate(CertRef::AuthCa).unwrap();
    assert_eq!(ca, jlis.ca(onshi_pki::CaKind::PhoneAuth).cert_der());
    let e = client.read_certificate(CertRef::Auth).unwrap_err();
    assert_eq!(status(e), StatusWord::SECURITY_NOT_SATISFIED);
    // The card's one-call read therefore fails on a phone (documented difference).
    let e = client.auth_certificate().unwrap_err();
    assert_eq!(status(e), StatusWord::SECURITY_NOT_SATISFIED);
    // SIGN without VERIFY.
    let e = client
        .sign_digest_info(KeyRef::Auth, &sha256_digest_info(b"x"))
        .unwrap_err();
    assert_eq!(status(e), StatusWord::SECURITY_NOT_SATISFIED);
}

#[test]
fn android_user_authentication_verifies_with_the_phone_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let file = android(&mut jlis);
    let installed = file.auth_certificate().unwrap().to_vec();
    let mut client = JpkiClient::new(VirtualPhone::new(file));
    let message = b"onshi reception challenge 0001";
    let (outcome, auth) =
        reader::authenticate_android(&mut client, &Pin::from(PHONE_PIN), message).unwrap();
    assert_eq!(outcome, VerifyOutcome::Ok);
    let auth = auth.unwrap();
    assert_eq!(auth.certificate, installed);
    let store = jlis.trust_store(TrustPolicy::default()).unwrap();
    let cert = store
        .verify_kind(&auth.certificate, now(), &[CertKind::PhoneAuth])
        .unwrap();
    cert.verify_signature(message, &auth.signature).unwrap();
    assert!(
        cert.verify_signature(b"another message", &auth.signature)
            .is_err()
    );
    // The card's own call works unchanged for the signature part.
    let (outcome, sig) = client.authenticate(&Pin::from(PHONE_PIN), message).unwrap();
    assert_eq!(outcome, VerifyOutcome::Ok);
    cert.verify_signature(message, &sig.unwrap()).unwrap();
}

#[test]
fn android_signing_after_the_password_carries_the_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let mut client = JpkiClient::new(VirtualPhone::new(android(&mut jlis)));
    client.select_ap(Ap::Jpki).unwrap();
    let e = client.read_certificate(CertRef::Sign).unwrap_err();
    assert_eq!(status(e), StatusWord::SECURITY_NOT_SATISFIED);
    let outcome = client
        .verify(PinRef::Sign, &Pin::upper(PHONE_SIGN_PASSWORD))
        .unwrap();
    assert_eq!(outcome, VerifyOutcome::Ok);
    let cert_der = client.read_certificate(CertRef::Sign).unwrap();
    let document = "電子申請書".as_bytes();
    let sig = client
        .sign_digest_info(KeyRef::Sign, &sha256_digest_info(document))
        .unwrap();
    // The user-auth key stays locked: only the signing password was verified.
    let e = client
        .sign_digest_info(KeyRef::Auth, &sha256_digest_info(document))
        .unwrap_err();
    assert_eq!(status(e), StatusWord::SECURITY_NOT_SATISFIED);
    let store = jlis.trust_store(TrustPolicy::default()).unwrap();
    let cert = store
        .verify_kind(&cert_der, now(), &[CertKind::PhoneSigning])
        .unwrap();
    cert.verify_signature(document, &sig).unwrap();
    assert_eq!(cert.attributes().unwrap(), &attributes());
}

#[test]
fn android_wrong_pin_counts_down_blocks_and_stays_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let mut client = JpkiClient::new(VirtualPhone::new(android(&mut jlis)));
    assert_eq!(client.tries_left(PinRef::Auth).unwrap(), 3);
    let wrong = Pin::from("0000");
    let msg = b"m";
    for left in [2u8, 1] {
        let (outcome, auth) = reader::authenticate_android(&mut client, &wrong, msg).unwrap();
        assert_eq!(outcome, VerifyOutcome::WrongPin { tries_left: left });
        assert!(auth.is_none());
        assert_eq!(client.tries_left(PinRef::Auth).unwrap(), left);
    }
    // A right PIN in between would reset the counter; here the third wrong one blocks.
    let (outcome, _) = reader::authenticate_android(&mut client, &wrong, msg).unwrap();
    assert_eq!(outcome, VerifyOutcome::Blocked);
    let (outcome, auth) =
        reader::authenticate_android(&mut client, &Pin::from(PHONE_PIN), msg).unwrap();
    assert_eq!(outcome, VerifyOutcome::Blocked);
    assert!(auth.is_none());
    assert_eq!(client.tries_left(PinRef::Auth).unwrap(), 0);
    // SIGN with a blocked PIN: 6984.
    client.select_ap(Ap::Jpki).unwrap();
    let e = client
        .sign_digest_info(KeyRef::Auth, &sha256_digest_info(msg))
        .unwrap_err();
    assert_eq!(status(e), StatusWord::BLOCKED);
    // A malformed PIN is refused before anything is sent.
    assert!(matches!(
        client.verify(PinRef::Auth, &Pin::from("12345")),
        Err(ClientError::PinFormat(PinRef::Auth))
    ));
}

#[test]
fn a_right_pin_resets_the_counter_and_the_pin_can_be_changed() {
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let mut client = JpkiClient::new(VirtualPhone::new(android(&mut jlis)));
    let (o, _) = reader::authenticate_android(&mut client, &Pin::from("1111"), b"m").unwrap();
    assert_eq!(o, VerifyOutcome::WrongPin { tries_left: 2 });
    let (o, _) = reader::authenticate_android(&mut client, &Pin::from(PHONE_PIN), b"m").unwrap();
    assert_eq!(o, VerifyOutcome::Ok);
    assert_eq!(client.tries_left(PinRef::Auth).unwrap(), 3);
    client.select_ap(Ap::Jpki).unwrap();
    client.verify(PinRef::Auth, &Pin::from(PHONE_PIN)).unwrap();
    client.change_pin(PinRef::Auth, &Pin::from("9753")).unwrap();
    let (o, _) = reader::authenticate_android(&mut client, &Pin::from("9753"), b"m").unwrap();
    assert_eq!(o, VerifyOutcome::Ok);
}

#[test]
fn android_phone_keys_are_its_own_and_foreign_certificates_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let a = android(&mut jlis);
    let mut b = android(&mut jlis);
    assert_ne!(a.auth_public_key(), b.auth_public_key());
    assert_ne!(a.auth_public_key(), a.signing_public_key());
    assert_ne!(a.id, b.id);
    let foreign = a.jpki.certificates.clone().unwrap();
    match phone::install_certificates(&mut b, foreign) {
        Err(PhoneError::NotThisPhone { .. }) => {}
        other => panic!("expected NotThisPhone, got {other:?}"),
    }
    // An iPhone takes no PINs; an Android phone needs both, by their rules.
    let android = Handset::android("Pixel 8", OsVersion::new(14, 0, 0)).unwrap();
    assert!(phone::new_phone(android.clone(), None).is_err());
    let bad = PhonePins {
        auth: Pin::from("12"),
        sign: Pin::from("PASSWORD1"),
    };
    assert!(matches!(
        phone::new_phone(android, Some(bad)),
        Err(PhoneError::Invalid { .. })
    ));
}

#[test]
fn before_issuance_the_certificates_are_absent_but_the_key_signs_after_the_pin() {
    let phone = phone::new_phone(
        Handset::android("Pixel 8", OsVersion::new(14, 0, 0)).unwrap(),
        Some(PhonePins {
            auth: Pin::from(PHONE_PIN),
            sign: Pin::from(PHONE_SIGN_PASSWORD),
        }),
    )
    .unwrap();
    let spki = phone.auth_public_key().to_vec();
    let mut client = JpkiClient::new(VirtualPhone::new(phone));
    client.select_ap(Ap::Jpki).unwrap();
    assert_eq!(
        client.verify(PinRef::Auth, &Pin::from(PHONE_PIN)).unwrap(),
        VerifyOutcome::Ok
    );
    let e = client.read_certificate(CertRef::Auth).unwrap_err();
    assert_eq!(status(e), StatusWord::FILE_NOT_FOUND);
    // Proof of possession for the issuance request: a signature by the phone key.
    let sig = client
        .sign_digest_info(KeyRef::Auth, &sha256_digest_info(b"request"))
        .unwrap();
    onshi_pki::verify_signature(&spki, b"request", &sig).unwrap();
}

#[test]
fn the_phone_file_keeps_counters_across_processes_and_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let path = dir.path().join("phone.json");
    android(&mut jlis).save(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    {
        let mut client = JpkiClient::new(FileBackedPhone::open(&path).unwrap());
        let (o, _) = reader::authenticate_android(&mut client, &Pin::from("0000"), b"m").unwrap();
        assert_eq!(o, VerifyOutcome::WrongPin { tries_left: 2 });
    }
    let reopened = PhoneFile::load(&path).unwrap();
    assert_eq!(reopened.pin_record(PinRef::Auth).unwrap().tries_left, 2);
    assert_eq!(reopened.handset.model(), "Pixel 8");
    assert_eq!(reopened.handset.os_version(), OsVersion::new(14, 0, 0));
    let mut client = JpkiClient::new(FileBackedPhone::open(&path).unwrap());
    let (o, auth) = reader::authenticate_android(&mut client, &Pin::from(PHONE_PIN), b"m").unwrap();
    assert_eq!(o, VerifyOutcome::Ok);
    assert!(auth.is_some());
    assert_eq!(
        PhoneFile::load(&path)
            .unwrap()
            .pin_record(PinRef::Auth)
            .unwrap()
            .tries_left,
        3
    );
    // A file that is not a phone is refused with a clear error.
    std::fs::write(dir.path().join("bad.json"), b"{\"format\":\"x\"}").unwrap();
    assert!(PhoneFile::load(&dir.path().join("bad.json")).is_err());
    // The Debug form shows no key or PIN.
    let shown = format!("{reopened:?}");
    assert!(!shown.contains(PHONE_PIN), "{shown}");
}

#[test]
fn malformed_apdus_get_status_words_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let mut phone = VirtualPhone::new(android(&mut jlis));
    for raw in [
        &[][..],
        &[0x00],
        &[0x00, 0xA4, 0x04],
        &[0x00, 0xB0, 0x00, 0x00],
        &[0x80, 0x2A, 0x00, 0x80, 0x05, 1, 2],
        &[0xFF, 0xFF, 0xFF, 0xFF],
    ] {
        let out = phone.process_bytes(raw);
        assert!(out.len() >= 2, "{raw:02X?}");
    }
    let cmd = onshi_card::Command::new(0x00, 0xB0, 0, 0, vec![], Some(4)).unwrap();
    let r = phone.transmit(&cmd).unwrap();
    assert_ne!(r.sw, StatusWord::OK);
}

#[test]
fn phone_certificates_end_with_the_card_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let phone = phone::new_phone(
        Handset::android("Pixel 8", OsVersion::new(14, 0, 0)).unwrap(),
        Some(PhonePins {
            auth: Pin::from(PHONE_PIN),
            sign: Pin::from(PHONE_SIGN_PASSWORD),
        }),
    )
    .unwrap();
    let card_not_after = now() + chrono::Duration::days(400);
    let certs = phone::issue_phone_certificates(
        &mut jlis,
        phone.auth_public_key(),
        phone.signing_public_key(),
        &attributes(),
        now(),
        Some(card_not_after),
    )
    .unwrap();
    let store = jlis.trust_store(TrustPolicy::default()).unwrap();
    for der in [&certs.auth_cert, &certs.sign_cert] {
        let v = store.verify(der, now()).unwrap();
        assert_eq!(v.not_after(), card_not_after);
        // No grace period for a phone certificate.
        assert!(
            store
                .verify(der, card_not_after + chrono::Duration::days(1))
                .is_err()
        );
    }
    // A card certificate that has already expired: nothing is issued.
    assert!(
        phone::issue_phone_certificates(
            &mut jlis,
            phone.auth_public_key(),
            phone.signing_public_key(),
            &attributes(),
            now(),
            Some(now() - chrono::Duration::days(1)),
        )
        .is_err()
    );
}
