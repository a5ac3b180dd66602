//! The virtual card driven through the reader-side client, in process.

use super::*;
use crate::channel::{Recording, Replaying, Transcript};
use crate::client::{ClientError, JpkiClient, VerifyOutcome};
use crate::layout::CertRef;
use crate::onsign::sha256_digest_info;
use crate::secret::Pin;
use crate::test_support::{AUTH_PIN, INPUT_PIN, SIGN_PASSWORD, fixture, person};

fn client() -> JpkiClient<VirtualCard> {
    JpkiClient::new(VirtualCard::new(fixture().card.clone()))
}

fn raw(card: &mut VirtualCard, hex: &str) -> Response {
    Response::parse(&card.process_bytes(&crate::apdu::unhex(hex).unwrap())).unwrap()
}

#[test]
fn token_info_and_free_certificates() {
    let mut c = client();
    assert_eq!(c.token_info().unwrap(), "JPKIAPICCTOKEN2");
    assert_eq!(
        c.read_certificate(CertRef::Auth).unwrap(),
        fixture().card.jpki.auth_cert
    );
    assert_eq!(
        c.read_certificate(CertRef::AuthCa).unwrap(),
        fixture().card.jpki.auth_ca_cert
    );
    let signing = fixture().card.jpki.signing.as_ref().unwrap();
    assert_eq!(
        c.read_certificate(CertRef::SignCa).unwrap(),
        signing.ca_cert
    );
}

#[test]
fn token_info_is_32_bytes_space_padded() {
    let mut card = VirtualCard::new(fixture().card.clone());
    assert!(raw(&mut card, "00A4040C0AD392F000260100000001").sw.is_ok());
    assert!(raw(&mut card, "00A4020C020006").sw.is_ok());
    let r = raw(&mut card, "00B0000020");
    assert_eq!(r.sw, StatusWord::OK);
    assert_eq!(r.data, b"JPKIAPICCTOKEN2                 ");
}

#[test]
fn signing_certificate_needs_the_signing_password() {
    let mut c = client();
    c.select_ap(Ap::Jpki).unwrap();
    match c.read_certificate(CertRef::Sign) {
        Err(ClientError::Status { sw, .. }) => assert_eq!(sw, StatusWord::SECURITY_NOT_SATISFIED),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.verify(PinRef::Sign, &Pin::from(SIGN_PASSWORD)).unwrap(),
        VerifyOutcome::Ok
    );
    let signing = fixture().card.jpki.signing.as_ref().unwrap();
    assert_eq!(c.read_certificate(CertRef::Sign).unwrap(), signing.cert);
    // Selecting the application again clears the security state.
    c.select_ap(Ap::Jpki).unwrap();
    assert!(c.read_certificate(CertRef::Sign).is_err());
}

#[test]
fn retry_query_spends_nothing_and_wrong_pins_count_down_to_blocked() {
    let mut c = client();
    for _ in 0..5 {
        assert_eq!(c.tries_left(PinRef::Auth).unwrap(), 3);
    }
    c.select_ap(Ap::Jpki).unwrap();
    let wrong = Pin::from("9999");
    assert_eq!(
        c.verify(PinRef::Auth, &wrong).unwrap(),
        VerifyOutcome::WrongPin { tries_left: 2 }
    );
    assert_eq!(c.tries_left(PinRef::Auth).unwrap(), 2);
    // A correct entry restores the counter.
    assert_eq!(
        c.verify(PinRef::Auth, &Pin::from(AUTH_PIN)).unwrap(),
        VerifyOutcome::Ok
    );
    assert_eq!(c.tries_left(PinRef::Auth).unwrap(), 3);
    assert_eq!(
        c.verify(PinRef::Auth, &wrong).unwrap(),
        VerifyOutcome::WrongPin { tries_left: 2 }
    );
    assert_eq!(
        c.verify(PinRef::Auth, &wrong).unwrap(),
        VerifyOutcome::WrongPin { tries_left: 1 }
    );
    assert_eq!(
        c.verify(PinRef::Auth, &wrong).unwrap(),
        VerifyOutcome::Blocked
    );
    // Blocked: even the right PIN is refused, signing too.
    assert_eq!(
        c.verify(PinRef::Auth, &Pin::from(AUTH_PIN)).unwrap(),
        VerifyOutcome::Blocked
    );
    assert_eq!(c.tries_left(PinRef::Auth).unwrap(), 0);
    let (outcome, sig) = c.authenticate(&Pin::from(AUTH_PIN), b"challenge").unwrap();
    assert_eq!((outcome, sig), (VerifyOutcome::Blocked, None));
    let card = c.into_inner();
    assert_eq!(card.file().jpki.auth_pin.tries_left, 0);
    // The other PINs are untouched.
    assert_eq!(card.file().input_support.pin.tries_left, 3);
    // The municipal office resets it.
    let mut file = card.into_file();
    file.reset_pin(PinRef::Auth, Pin::from("4321")).unwrap();
    let mut c = JpkiClient::new(VirtualCard::new(file));
    let (outcome, sig) = c.authenticate(&Pin::from("4321"), b"challenge").unwrap();
    assert_eq!(outcome, VerifyOutcome::Ok);
    assert!(sig.is_some());
}

#[test]
fn verify_changes_are_reported_for_saving() {
    let mut card = VirtualCard::new(fixture().card.clone());
    assert!(!card.take_changed());
    raw(&mut card, "00A4040C0AD392F000260100000001");
    raw(&mut card, "00A4020C020018");
    assert_eq!(raw(&mut card, "00200080").sw, StatusWord(0x63C3));
    assert!(!card.take_changed(), "a retry query changes nothing");
    assert_eq!(raw(&mut card, "002000800430303030").sw, StatusWord(0x63C2));
    assert!(card.take_changed());
    assert!(!card.take_changed());
}

#[test]
fn sign_needs_verify_and_equals_a_pkcs1_sha256_signature() {
    let mut c = client();
    c.select_ap(Ap::Jpki).unwrap();
    let di = sha256_digest_info(b"challenge");
    match c.sign_digest_info(KeyRef::Auth, &di) {
        Err(ClientError::Status { sw, .. }) => assert_eq!(sw, StatusWord::SECURITY_NOT_SATISFIED),
        other => panic!("{other:?}"),
    }
    // The auth PIN does not unlock the signing key.
    c.verify(PinRef::Auth, &Pin::from(AUTH_PIN)).unwrap();
    assert!(c.sign_digest_info(KeyRef::Sign, &di).is_err());
    let sig = c.sign_digest_info(KeyRef::Auth, &di).unwrap();
    let key =
        onshi_pki::RsaKeyPair::from_pkcs8(fixture().card.jpki.auth_key_pkcs8.expose()).unwrap();
    assert_eq!(sig, key.sign(b"challenge").unwrap());
    onshi_pki::verify_signature(key.public_key_spki(), b"challenge", &sig).unwrap();
    // Signing again in the same session works; a reset ends the session.
    assert!(c.sign_digest_info(KeyRef::Auth, &di).is_ok());
    c.reset().unwrap();
    c.select_ap(Ap::Jpki).unwrap();
    assert!(c.sign_digest_info(KeyRef::Auth, &di).is_err());
}

#[test]
fn sign_refuses_oversized_input_and_non_key_files() {
    let mut card = VirtualCard::new(fixture().card.clone());
    raw(&mut card, "00A4040C0AD392F000260100000001");
    raw(&mut card, "00A4020C020018");
    assert!(raw(&mut card, "002000800431323334").sw.is_ok());
    raw(&mut card, "00A4020C02000A");
    assert_eq!(
        raw(&mut card, "802A00800130").sw,
        StatusWord::INCOMPATIBLE_FILE
    );
    raw(&mut card, "00A4020C020017");
    let big = format!("802A0080F6{}00", "00".repeat(246));
    assert_eq!(raw(&mut card, &big).sw, StatusWord::WRONG_LENGTH);
    let ok = format!("802A0080F5{}00", "00".repeat(245));
    let r = raw(&mut card, &ok);
    assert_eq!((r.sw, r.data.len()), (StatusWord::OK, 256));
}

#[test]
fn read_binary_offsets_and_errors() {
    let mut card = VirtualCard::new(fixture().card.clone());
    let cert = fixture().card.jpki.auth_cert.clone();
    raw(&mut card, "00A4040C0AD392F000260100000001");
    raw(&mut card, "00A4020C02000A");
    let head = raw(&mut card, "00B0000004");
    assert_eq!(head.data, &cert[..4]);
    let r = raw(&mut card, "00B0010010");
    assert_eq!(r.data, &cert[0x100..0x110]);
    let past = format!("00B0{:04X}10", cert.len());
    assert_eq!(raw(&mut card, &past).sw, StatusWord::OFFSET_OUTSIDE_EF);
    let tail = format!("00B0{:04X}10", cert.len() - 3);
    let r = raw(&mut card, &tail);
    assert_eq!((r.sw, r.data.len()), (StatusWord::END_OF_FILE, 3));
    raw(&mut card, "00A4020C020017");
    assert_eq!(
        raw(&mut card, "00B0000004").sw,
        StatusWord::INCOMPATIBLE_FILE
    );
    assert_eq!(
        raw(&mut card, "00A4020C020099").sw,
        StatusWord::FILE_NOT_FOUND
    );
    assert_eq!(
        raw(&mut card, "00A4040C03010203").sw,
        StatusWord::FILE_NOT_FOUND
    );
    assert_eq!(
        raw(&mut card, "00CA000000").sw,
        StatusWord::INS_NOT_SUPPORTED
    );
    assert_eq!(
        raw(&mut card, "A0A4040C00").sw,
        StatusWord::CLA_NOT_SUPPORTED
    );
    assert_eq!(raw(&mut card, "00A40400").sw, StatusWord::WRONG_P1P2);
    assert_eq!(raw(&mut card, "00B0").sw, StatusWord::WRONG_LENGTH);
}

#[test]
fn nothing_selected_means_no_current_ef() {
    let mut card = VirtualCard::new(fixture().card.clone());
    assert_eq!(
        raw(&mut card, "00A4020C02000A").sw,
        StatusWord::FILE_NOT_FOUND
    );
    assert_eq!(raw(&mut card, "00B0000004").sw, StatusWord::NO_CURRENT_EF);
    assert_eq!(raw(&mut card, "00200080").sw, StatusWord::NO_CURRENT_EF);
}

#[test]
fn change_reference_data_after_verify() {
    let mut c = client();
    c.select_ap(Ap::Jpki).unwrap();
    assert!(c.change_pin(PinRef::Auth, &Pin::from("2468")).is_err());
    c.verify(PinRef::Auth, &Pin::from(AUTH_PIN)).unwrap();
    assert!(matches!(
        c.change_pin(PinRef::Auth, &Pin::from("12345")),
        Err(ClientError::PinFormat(_))
    ));
    c.change_pin(PinRef::Auth, &Pin::from("2468")).unwrap();
    c.select_ap(Ap::Jpki).unwrap();
    assert_eq!(
        c.verify(PinRef::Auth, &Pin::from(AUTH_PIN)).unwrap(),
        VerifyOutcome::WrongPin { tries_left: 2 }
    );
    assert_eq!(
        c.verify(PinRef::Auth, &Pin::from("2468")).unwrap(),
        VerifyOutcome::Ok
    );
}

#[test]
fn signing_password_has_five_tries() {
    let mut c = client();
    assert_eq!(c.tries_left(PinRef::Sign).unwrap(), 5);
    c.select_ap(Ap::Jpki).unwrap();
    for left in (1..5).rev() {
        assert_eq!(
            c.verify(PinRef::Sign, &Pin::from("WRONG1")).unwrap(),
            VerifyOutcome::WrongPin { tries_left: left }
        );
    }
    assert_eq!(
        c.verify(PinRef::Sign, &Pin::from("WRONG1")).unwrap(),
        VerifyOutcome::Blocked
    );
    // The auth PIN is independent.
    assert_eq!(c.tries_left(PinRef::Auth).unwrap(), 3);
}

#[test]
fn input_support_attributes_and_signature() {
    let mut c = client();
    let spki = &fixture().card_data_spki;
    let (o, data) = c.read_input_support(&Pin::from(INPUT_PIN), spki).unwrap();
    assert_eq!(o, VerifyOutcome::Ok);
    let (my_number, attrs) = data.unwrap();
    let p = person();
    assert_eq!(my_number, p.my_number.as_str());
    assert_eq!(
        (attrs.name, attrs.address, attrs.birth_date, attrs.sex),
        (p.name, p.address, p.birth_date, p.sex)
    );
    let (o, data) = c.read_input_support(&Pin::from("0000"), spki).unwrap();
    assert_eq!(
        (o, data.is_none()),
        (VerifyOutcome::WrongPin { tries_left: 2 }, true)
    );
    // Without VERIFY the files are closed.
    c.select_ap(Ap::InputSupport).unwrap();
    c.select_ef(crate::layout::input_support::EF_ATTRIBUTES)
        .unwrap();
    assert!(c.read_element().is_err());
}

#[test]
fn card_face_with_matching_numbers() {
    let mut c = client();
    let spki = &fixture().card_data_spki;
    let printed = &fixture().card.printed;
    let b = Pin::new(printed.matching_number_b().into_bytes());
    assert_eq!(b.len(), 14);
    let face = c.read_card_face(&b, spki).unwrap().unwrap();
    assert_eq!(face.face.birth_date, printed.birth_date);
    assert_eq!(face.face.expiry, printed.expiry);
    assert_eq!(face.face.face_photo, fixture().card.card_face.face_photo);
    let a = Pin::from(printed.my_number.as_str());
    assert!(c.read_card_face(&a, spki).unwrap().is_some());
    let wrong = Pin::from("80040120350043");
    assert!(c.read_card_face(&wrong, spki).unwrap().is_none());
    // A reader trusting another key rejects the face.
    let other = onshi_pki::RsaKeyPair::generate().unwrap();
    assert!(matches!(
        c.read_card_face(&b, other.public_key_spki()),
        Err(ClientError::Data(_))
    ));
    // Without a matching code the EF is closed.
    c.select_ap(Ap::CardFace).unwrap();
    c.select_ef(crate::layout::card_face::EF_FACE).unwrap();
    assert!(c.read_element().is_err());
}

#[test]
fn transcript_replays_against_the_client_and_catches_deviations() {
    let mut rec = JpkiClient::new(Recording::new(VirtualCard::new(fixture().card.clone())));
    let (o, sig) = rec
        .authenticate(&Pin::from(AUTH_PIN), b"challenge")
        .unwrap();
    assert_eq!(o, VerifyOutcome::Ok);
    let cert = rec.auth_certificate().unwrap();
    let (_, transcript) = rec.into_inner().into_parts();
    let text = transcript.to_text();
    assert!(text.contains("> 00A4040C0AD392F000260100000001"), "{text}");
    assert!(text.contains("< 9000"));
    let parsed = Transcript::parse(&text).unwrap();
    assert_eq!(parsed, transcript);

    let mut replay = JpkiClient::new(Replaying::new(parsed.clone()));
    let (o2, sig2) = replay
        .authenticate(&Pin::from(AUTH_PIN), b"challenge")
        .unwrap();
    assert_eq!((o2, sig2), (o, sig));
    assert_eq!(replay.auth_certificate().unwrap(), cert);
    assert!(replay.into_inner().finished());

    // A client that signs something else deviates from the transcript.
    let mut replay = JpkiClient::new(Replaying::new(parsed));
    assert!(matches!(
        replay.authenticate(&Pin::from(AUTH_PIN), b"other challenge"),
        Err(ClientError::Transport(_))
    ));
}

#[test]
fn card_file_roundtrip_atomic_and_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("taro.onshi-card");
    fixture().card.save(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let loaded = CardFile::load(&path).unwrap();
    assert_eq!(
        serde_json::to_value(&loaded).unwrap(),
        serde_json::to_value(&fixture().card).unwrap()
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1);
    let shown = format!("{:?}", fixture().card);
    assert!(shown.contains("Pin(len=4)"), "{shown}");
    assert!(!shown.contains(SIGN_PASSWORD), "{shown}");
    assert!(
        !shown.contains(&fixture().card.printed.my_number),
        "{shown}"
    );
}

#[test]
fn a_child_card_has_no_usable_signing_key_but_enumerates() {
    use chrono::{NaiveDate, TimeZone, Utc};
    let dir = tempfile::tempdir().unwrap();
    let now = Utc.with_ymd_and_hms(2025, 4, 1, 3, 0, 0).unwrap();
    let mut jlis = onshi_pki::Jlis::load_or_create(dir.path(), now, None).unwrap();
    let key = crate::issue::card_data_key(dir.path()).unwrap();
    let mut child = person();
    child.birth_date = NaiveDate::from_ymd_opt(2015, 6, 1).unwrap();
    let file = crate::issue::issue_card(
        &mut jlis,
        key.as_ref(),
        &child,
        &crate::issue::CardPins {
            auth: Pin::from("1357"),
            sign: Some(Pin::from("IGNORED1")),
            input_support: Pin::from("1357"),
        },
        &crate::issue::IssueOptions {
            issued_at: now,
            face_photo: vec![],
            security_code: None,
        },
    )
    .unwrap();
    assert!(file.jpki.signing.is_none());
    // Under 18: the card expires on the 5th birthday after issue.
    assert_eq!(
        file.printed.expiry,
        NaiveDate::from_ymd_opt(2029, 6, 1).unwrap()
    );
    let mut c = JpkiClient::new(VirtualCard::new(file));
    assert_eq!(c.tries_left(PinRef::Sign).unwrap(), 0);
    c.select_ap(Ap::Jpki).unwrap();
    assert_eq!(
        c.verify(PinRef::Sign, &Pin::from("IGNORED1")).unwrap(),
        VerifyOutcome::Blocked
    );
    assert!(c.read_certificate(CertRef::SignCa).is_err());
    let (o, sig) = c.authenticate(&Pin::from("1357"), b"x").unwrap();
    assert_eq!(o, VerifyOutcome::Ok);
    assert!(sig.is_some());
}
