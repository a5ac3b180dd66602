//! The iPhone: its JPKI applet unlocked only by Face ID / Touch ID on the phone, and the
//! card substitute record (ISO/IEC 18013-5 mdoc) read and verified over APDUs.

mod phone_support;

use std::time::{Duration, Instant};

use onshi_card::apdu::{Command, Response};
use onshi_card::layout::{Ap, CertRef};
use onshi_card::phone::mdoc_applet::AID_MDOC;
use onshi_card::phone::reader::{
    self, Holder, IphoneOutcome, PresentationError, RecordOutcome, read_card_record,
};
use onshi_card::phone::{
    self, BIOMETRIC_MAX_FAILURES, Biometric, BiometricOutcome, FileBackedPhone, PhoneError,
    PhoneFile, VirtualPhone,
};
use onshi_card::{CardChannel, ClientError, JpkiClient, StatusWord};
use onshi_mdoc::{DeviceRequest, MdocError};
use onshi_pki::{CertKind, TrustPolicy};
use phone_support::*;

fn at() -> chrono::DateTime<chrono::Utc> {
    now() + chrono::Duration::days(10)
}

fn verified(outcome: RecordOutcome) -> onshi_mdoc::VerifiedMdoc {
    match outcome {
        RecordOutcome::Verified(v) => *v,
        RecordOutcome::BiometricRequired => panic!("expected a verified record"),
    }
}

#[test]
fn iphone_jpki_needs_a_matching_biometric_and_refuses_a_passcode() {
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let mut client = JpkiClient::new(VirtualPhone::new(iphone(&mut jlis)));
    assert_eq!(reader::identify(&mut client).unwrap(), Holder::Iphone);
    assert!(client.select_ap(Ap::InputSupport).is_err());
    // No PIN EFs on an iPhone.
    client.select_ap(Ap::Jpki).unwrap();
    match client.select_ef(0x0018) {
        Err(ClientError::Status { sw, .. }) => assert_eq!(sw, StatusWord::FILE_NOT_FOUND),
        other => panic!("expected 6A82, got {other:?}"),
    }
    let msg = b"reception challenge";
    assert_eq!(
        reader::authenticate_iphone(&mut client, msg).unwrap(),
        IphoneOutcome::BiometricRequired
    );
    let phone = client.channel_mut();
    assert_eq!(phone.present_passcode(), BiometricOutcome::PasscodeRefused);
    assert_eq!(
        phone.present_biometric(Biometric::TouchId, true),
        BiometricOutcome::NotAvailable
    );
    assert_eq!(
        phone.present_biometric(Biometric::FaceId, false),
        BiometricOutcome::NoMatch {
            tries_left: BIOMETRIC_MAX_FAILURES - 1
        }
    );
    assert!(!phone.is_unlocked());
    assert_eq!(
        reader::authenticate_iphone(&mut client, msg).unwrap(),
        IphoneOutcome::BiometricRequired
    );
    assert_eq!(
        client
            .channel_mut()
            .present_biometric(Biometric::FaceId, true),
        BiometricOutcome::Unlocked
    );
    let IphoneOutcome::Authenticated(auth) = reader::authenticate_iphone(&mut client, msg).unwrap()
    else {
        panic!("expected authentication after Face ID");
    };
    let store = jlis.trust_store(TrustPolicy::default()).unwrap();
    store
        .verify_kind(&auth.certificate, now(), &[CertKind::PhoneAuth])
        .unwrap()
        .verify_signature(msg, &auth.signature)
        .unwrap();
    // The signing certificate is behind the same unlock; the CA certificates are free.
    client.select_ap(Ap::Jpki).unwrap();
    client.read_certificate(CertRef::Sign).unwrap();
    client.channel_mut().lock();
    client.select_ap(Ap::Jpki).unwrap();
    assert!(client.read_certificate(CertRef::Sign).is_err());
    client.read_certificate(CertRef::SignCa).unwrap();
}

#[test]
fn the_biometric_unlock_expires_and_locks_out_after_five_failures() {
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let mut phone = VirtualPhone::new(iphone(&mut jlis));
    let long_ago = Instant::now() - Duration::from_secs(61);
    assert_eq!(
        phone.present_biometric_at(Biometric::FaceId, true, long_ago),
        BiometricOutcome::Unlocked
    );
    assert!(!phone.is_unlocked());
    for left in (1..BIOMETRIC_MAX_FAILURES).rev() {
        assert_eq!(
            phone.present_biometric(Biometric::FaceId, false),
            BiometricOutcome::NoMatch { tries_left: left }
        );
    }
    assert_eq!(
        phone.present_biometric(Biometric::FaceId, false),
        BiometricOutcome::LockedOut
    );
    assert_eq!(
        phone.present_biometric(Biometric::FaceId, true),
        BiometricOutcome::LockedOut
    );
    phone.reenable_biometric();
    assert!(!phone.is_unlocked());
    assert_eq!(
        phone.present_biometric(Biometric::FaceId, true),
        BiometricOutcome::Unlocked
    );
    assert!(phone.is_unlocked());
}

#[test]
fn the_card_substitute_record_is_read_and_verified_after_face_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let (file, trusted) = iphone_with_record(&mut jlis);
    let mut phone = VirtualPhone::new(file);
    let trusted = vec![trusted];
    let outcome = read_card_record(&mut phone, &DeviceRequest::all(), &trusted, at()).unwrap();
    assert!(matches!(outcome, RecordOutcome::BiometricRequired));
    phone.present_biometric(Biometric::FaceId, true);
    let started = Instant::now();
    let v = verified(read_card_record(&mut phone, &DeviceRequest::all(), &trusted, at()).unwrap());
    eprintln!(
        "record read and verified in-process: {:?}",
        started.elapsed()
    );
    let r = record();
    assert_eq!(v.disclosed.name.as_deref(), Some(r.name.as_str()));
    assert_eq!(v.disclosed.address.as_deref(), Some(r.address.as_str()));
    assert_eq!(v.disclosed.birth_date, Some(r.birth_date));
    assert_eq!(v.disclosed.sex, Some(2));
    assert_eq!(v.disclosed.my_number.as_deref(), Some(r.my_number.as_str()));
    assert_eq!(v.disclosed.portrait.as_deref(), Some(&r.portrait[..]));
    assert_eq!(
        v.device_key,
        onshi_mdoc::PublicKey::from_spki(phone.file().device_public_key().unwrap()).unwrap()
    );
    // Only what is asked for leaves the phone.
    let some = DeviceRequest {
        elements: vec!["name".into(), "birth_date".into()],
    };
    let v = verified(read_card_record(&mut phone, &some, &trusted, at()).unwrap());
    assert!(v.disclosed.my_number.is_none() && v.disclosed.portrait.is_none());
    // A reader that does not trust the signer, or reads after expiry, refuses.
    assert!(matches!(
        read_card_record(&mut phone, &some, &[], at()),
        Err(PresentationError::Mdoc(MdocError::UntrustedIssuer))
    ));
    assert!(matches!(
        read_card_record(
            &mut phone,
            &some,
            &trusted,
            now() + chrono::Duration::days(6 * 365)
        ),
        Err(PresentationError::Mdoc(MdocError::Expired { .. }))
    ));
}

/// Records the commands a reader sends.
struct Tap<'a> {
    phone: &'a mut VirtualPhone,
    commands: Vec<Command>,
    responses: Vec<Response>,
}

impl CardChannel for Tap<'_> {
    type Error = std::convert::Infallible;
    fn transmit(&mut self, c: &Command) -> Result<Response, Self::Error> {
        self.commands.push(c.clone());
        let r = self.phone.process(c);
        self.responses.push(r.clone());
        Ok(r)
    }
    fn reset(&mut self) -> Result<Vec<u8>, Self::Error> {
        self.phone.reset();
        Ok(self.phone.atr().to_vec())
    }
}

#[test]
fn a_recorded_session_cannot_be_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let (file, trusted) = iphone_with_record(&mut jlis);
    let mut phone = VirtualPhone::new(file);
    phone.present_biometric(Biometric::FaceId, true);
    let mut tap = Tap {
        phone: &mut phone,
        commands: Vec::new(),
        responses: Vec::new(),
    };
    // A reader limited to short APDUs: the response comes in 61xx pieces.
    verified(
        reader::read_card_record_with_ne(&mut tap, &DeviceRequest::all(), &[trusted], at(), 256)
            .unwrap(),
    );
    let (commands, responses) = (tap.commands, tap.responses);
    assert!(
        responses.iter().any(|r| r.sw.sw1() == 0x61),
        "chunked response expected"
    );
    // The reader's recorded request, sent again: the phone's new session key does not
    // open it, and it says so with SessionData status 10.
    let mut last = None;
    for c in commands.iter().take_while(|c| c.ins != 0xC0) {
        last = Some(phone.process(c));
    }
    let last = last.unwrap();
    assert_eq!(last.sw, StatusWord::OK);
    let inner = &last.data[2..];
    let (data, status) = onshi_mdoc::parse_session_data(inner).unwrap();
    assert!(data.is_none());
    assert_eq!(status, Some(onshi_mdoc::STATUS_SESSION_ENCRYPTION_ERROR));
}

#[test]
fn records_for_other_phones_and_android_phones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let (a, trusted) = iphone_with_record(&mut jlis);
    let mut b = iphone(&mut jlis);
    let record_of_a = a.mdoc.as_ref().unwrap().issuer_signed.clone().unwrap();
    assert!(matches!(
        phone::install_mdoc(&mut b, record_of_a.clone()),
        Err(PhoneError::NotThisPhone { .. })
    ));
    let mut android = android(&mut jlis);
    assert!(matches!(
        phone::install_mdoc(&mut android, record_of_a),
        Err(PhoneError::WrongPlatform { .. })
    ));
    // An Android phone has no mdoc applet.
    let mut phone = VirtualPhone::new(android);
    match read_card_record(
        &mut phone,
        &DeviceRequest::all(),
        std::slice::from_ref(&trusted),
        at(),
    ) {
        Err(PresentationError::Status { sw, .. }) => assert_eq!(sw, StatusWord::FILE_NOT_FOUND),
        other => panic!("expected 6A82, got {other:?}"),
    }
    // An iPhone set up but not yet issued: no record to present.
    let mut pending = VirtualPhone::new(iphone(&mut jlis));
    pending.present_biometric(Biometric::FaceId, true);
    match read_card_record(&mut pending, &DeviceRequest::all(), &[trusted], at()) {
        Err(PresentationError::Status { sw, .. }) => assert_eq!(sw, StatusWord::FILE_NOT_FOUND),
        other => panic!("expected 6A82, got {other:?}"),
    }
    let _ = AID_MDOC;
}

#[test]
fn the_iphone_file_round_trips_and_presents_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let (file, trusted) = iphone_with_record(&mut jlis);
    let path = dir.path().join("iphone.json");
    file.save(&path).unwrap();
    let loaded = PhoneFile::load(&path).unwrap();
    assert_eq!(loaded.handset.biometric(), Some(Biometric::FaceId));
    assert!(
        loaded
            .pin_record(onshi_card::layout::PinRef::Auth)
            .is_none()
    );
    let mut backed = FileBackedPhone::open(&path).unwrap();
    backed
        .phone_mut()
        .present_biometric(Biometric::FaceId, true);
    let v =
        verified(read_card_record(&mut backed, &DeviceRequest::all(), &[trusted], at()).unwrap());
    assert!(v.disclosed.portrait.is_some());
    // The document signer is the same from any process using the J-LIS directory.
    let again = onshi_pki::Jlis::load_or_create(dir.path().join("jlis"), now(), None)
        .unwrap()
        .document_signer(now())
        .unwrap();
    assert_eq!(again.certificate_der(), v.signer_certificate.as_slice());
}

#[test]
fn the_record_carries_what_the_set_up_read_from_the_card() {
    use onshi_card::{CardPins, IssueOptions, Person, Pin, Sex};
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let key = onshi_card::card_data_key(&dir.path().join("jlis")).unwrap();
    let photo = vec![0xFF, 0x4F, 0xFF, 0x51, 42, 43, 44];
    let card = onshi_card::issue_card(
        &mut jlis,
        key.as_ref(),
        &Person {
            name: "診療　次郎".into(),
            name_kana: "シンリョウ　ジロウ".into(),
            address: "福岡県福岡市中央区天神１－８－１".into(),
            birth_date: chrono::NaiveDate::from_ymd_opt(1975, 2, 3).unwrap(),
            sex: Sex::Male,
            my_number: onshi_model::MyNumber::from_payload(12_345_678_901).unwrap(),
        },
        &CardPins {
            auth: Pin::from("1234"),
            sign: Some(Pin::from("SIGN2025")),
            input_support: Pin::from("5678"),
        },
        &IssueOptions {
            issued_at: now(),
            face_photo: photo.clone(),
            security_code: None,
        },
    )
    .unwrap();
    let matching_b = Pin::from(card.printed.matching_number_b().as_str());
    // The set-up reads the card (input-support PIN on iPhone) and its face photo.
    let mut reader = JpkiClient::new(onshi_card::VirtualCard::new(card));
    let (_, read) = reader
        .read_input_support(&Pin::from("5678"), key.public_key_spki())
        .unwrap();
    let (my_number, attributes) = read.unwrap();
    let face = reader
        .read_card_face(&matching_b, key.public_key_spki())
        .unwrap()
        .unwrap();
    let record = phone::card_record(&attributes, &my_number, face.face.face_photo.clone());
    let mut file = iphone(&mut jlis);
    let signer = jlis.document_signer(now()).unwrap();
    let issued = phone::issue_mdoc(
        &signer,
        &record,
        file.device_public_key().unwrap(),
        validity(),
    )
    .unwrap();
    phone::install_mdoc(&mut file, issued).unwrap();
    let mut phone = VirtualPhone::new(file);
    phone.present_biometric(Biometric::FaceId, true);
    let v = verified(
        read_card_record(
            &mut phone,
            &DeviceRequest::all(),
            &[signer.certificate_der().to_vec()],
            at(),
        )
        .unwrap(),
    );
    assert_eq!(v.disclosed.name.as_deref(), Some("診療　次郎"));
    assert_eq!(v.disclosed.sex, Some(1));
    assert_eq!(v.disclosed.birth_date, Some(attributes.birth_date));
    assert_eq!(v.disclosed.my_number, Some(my_number));
    assert_eq!(v.disclosed.portrait, Some(photo));
}
