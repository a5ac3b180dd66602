//! The reader's verification of a presented card substitute record: it accepts the
//! genuine presentation and names the part that fails when any signed part is altered.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use ciborium::Value;
use onshi_mdoc::cbor::{self, tag24, untag24};
use onshi_mdoc::{
    CardRecord, DOC_TYPE, DeviceRequest, DocumentSigner, IssuerSigned, MdocError, NAMESPACE,
    PrivateKey, SessionTranscript, Validity, device_engagement, device_response, issue,
    verify_device_response,
};

struct Fixture {
    _dir: tempfile::TempDir,
    signer_cert: Vec<u8>,
    issuer_signed: IssuerSigned,
    device_key: PrivateKey,
    transcript: SessionTranscript,
    response: Vec<u8>,
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 1, 1, 0, 0).unwrap()
}

fn at() -> DateTime<Utc> {
    t0() + Duration::days(30)
}

fn record() -> CardRecord {
    CardRecord {
        name: "診療　花子".into(),
        address: "大阪府大阪市北区中之島１－３－２０".into(),
        birth_date: NaiveDate::from_ymd_opt(1980, 6, 15).unwrap(),
        sex: 2,
        my_number: "987654321098".into(),
        portrait: vec![0xFF, 0x4F, 0xFF, 0x51, 9, 8, 7, 6],
    }
}

fn validity() -> Validity {
    Validity {
        signed: t0(),
        valid_from: t0(),
        valid_until: t0() + Duration::days(365),
    }
}

/// A J-LIS document signer in a temporary state directory.
fn signer(dir: &std::path::Path) -> DocumentSigner {
    let jlis = onshi_pki::Jlis::load_or_create(dir, t0(), None).unwrap();
    let ds = jlis.document_signer(t0()).unwrap();
    DocumentSigner::new(ds.pkcs8_der(), ds.certificate_der().to_vec()).unwrap()
}

/// A fresh session: the phone's engagement and the reader's ephemeral key.
fn session() -> SessionTranscript {
    let e_device = PrivateKey::generate().unwrap().public_key();
    let e_reader = PrivateKey::generate().unwrap().public_key();
    SessionTranscript::new(&device_engagement(&e_device), &e_reader)
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let signer = signer(dir.path());
    let device_key = PrivateKey::generate().unwrap();
    let device_spki = spki_of(&device_key);
    let issuer_signed = issue(&record(), &device_spki, &signer, validity()).unwrap();
    let transcript = session();
    let response = device_response(
        &issuer_signed,
        &device_key,
        &transcript,
        &DeviceRequest::all(),
    )
    .unwrap();
    Fixture {
        _dir: dir,
        signer_cert: signer.certificate().to_vec(),
        issuer_signed,
        device_key,
        transcript,
        response,
    }
}

/// SubjectPublicKeyInfo DER of a P-256 key (fixed prefix + point).
fn spki_of(key: &PrivateKey) -> Vec<u8> {
    let mut out = vec![
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    out.extend_from_slice(key.public_key().point());
    out
}

fn verify(f: &Fixture, response: &[u8]) -> Result<onshi_mdoc::VerifiedMdoc, MdocError> {
    verify_device_response(
        response,
        &f.transcript,
        std::slice::from_ref(&f.signer_cert),
        at(),
    )
}

// --- CBOR surgery -----------------------------------------------------------------------

fn entry<'a>(v: &'a mut Value, key: &str) -> &'a mut Value {
    let Value::Map(m) = v else {
        panic!("not a map")
    };
    &mut m
        .iter_mut()
        .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
        .unwrap_or_else(|| panic!("no {key}"))
        .1
}

fn index(v: &mut Value, i: usize) -> &mut Value {
    let Value::Array(a) = v else {
        panic!("not an array")
    };
    &mut a[i]
}

fn document(resp: &mut Value) -> &mut Value {
    index(entry(resp, "documents"), 0)
}

fn edit(response: &[u8], f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = cbor::decode("test", response).unwrap();
    f(&mut v);
    cbor::encode(&v)
}

/// Edits the decoded IssuerSignedItem number `i` and re-wraps it.
fn edit_item(doc: &mut Value, i: usize, f: impl FnOnce(&mut Value)) {
    let items = entry(entry(entry(doc, "issuerSigned"), "nameSpaces"), NAMESPACE);
    let slot = index(items, i);
    let mut item = cbor::decode("item", untag24("item", slot).unwrap()).unwrap();
    f(&mut item);
    *slot = tag24(&item);
}

fn issuer_auth(doc: &mut Value) -> &mut Value {
    entry(entry(doc, "issuerSigned"), "issuerAuth")
}

/// Edits the MSO inside issuerAuth's payload without re-signing.
fn edit_mso(doc: &mut Value, f: impl FnOnce(&mut Value)) {
    let payload = index(issuer_auth(doc), 2);
    let Value::Bytes(bytes) = payload else {
        panic!("payload")
    };
    let tagged = cbor::decode("mso", bytes).unwrap();
    let mut mso = cbor::decode("mso", untag24("mso", &tagged).unwrap()).unwrap();
    f(&mut mso);
    *payload = Value::Bytes(cbor::encode(&tag24(&mso)));
}

fn flip_last(v: &mut Value) {
    let Value::Bytes(b) = v else {
        panic!("not bytes")
    };
    let n = b.len() - 1;
    b[n] ^= 0x01;
}

fn device_signature(doc: &mut Value) -> &mut Value {
    entry(
        entry(entry(doc, "deviceSigned"), "deviceAuth"),
        "deviceSignature",
    )
}

// --- Tests ----------------------------------------------------------------------------

#[test]
fn the_genuine_presentation_verifies_with_every_element() {
    let f = fixture();
    let v = verify(&f, &f.response).unwrap();
    let r = record();
    assert_eq!(v.disclosed.name.as_deref(), Some(r.name.as_str()));
    assert_eq!(v.disclosed.address.as_deref(), Some(r.address.as_str()));
    assert_eq!(v.disclosed.birth_date, Some(r.birth_date));
    assert_eq!(v.disclosed.sex, Some(2));
    assert_eq!(v.disclosed.my_number.as_deref(), Some("987654321098"));
    assert_eq!(v.disclosed.portrait.as_deref(), Some(&r.portrait[..]));
    assert_eq!(v.valid_until, validity().valid_until);
    assert_eq!(v.device_key, f.device_key.public_key());
    assert_eq!(v.signer_certificate, f.signer_cert);
    assert!(!format!("{:?}", v.disclosed).contains("987654321098"));
    // Salts are random: two issuances of the same record differ item by item.
    let dir = tempfile::tempdir().unwrap();
    let again = issue(
        &record(),
        &spki_of(&f.device_key),
        &signer(dir.path()),
        validity(),
    )
    .unwrap();
    assert_ne!(again.to_bytes(), f.issuer_signed.to_bytes());
    // The stored form round-trips.
    assert_eq!(
        IssuerSigned::from_bytes(&f.issuer_signed.to_bytes()).unwrap(),
        f.issuer_signed
    );
}

#[test]
fn selective_disclosure_sends_only_the_requested_items() {
    let f = fixture();
    let request = DeviceRequest {
        elements: vec!["name".into(), "birth_date".into()],
    };
    let bytes = DeviceRequest::from_bytes(&request.to_bytes()).unwrap();
    assert_eq!(bytes, request);
    let response =
        device_response(&f.issuer_signed, &f.device_key, &f.transcript, &request).unwrap();
    let v = verify(&f, &response).unwrap();
    assert!(v.disclosed.name.is_some() && v.disclosed.birth_date.is_some());
    assert!(v.disclosed.my_number.is_none() && v.disclosed.portrait.is_none());
}

#[test]
fn an_altered_item_value_fails_its_digest() {
    let f = fixture();
    let bad = edit(&f.response, |r| {
        edit_item(document(r), 0, |item| {
            *entry(item, "elementValue") = Value::Text("偽造　太郎".into());
        })
    });
    match verify(&f, &bad) {
        Err(MdocError::DigestMismatch { element }) => assert_eq!(element, "name"),
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
}

#[test]
fn an_altered_salt_fails_its_digest() {
    let f = fixture();
    let bad = edit(&f.response, |r| {
        edit_item(document(r), 4, |item| flip_last(entry(item, "random")))
    });
    match verify(&f, &bad) {
        Err(MdocError::DigestMismatch { element }) => assert_eq!(element, "my_number"),
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
}

#[test]
fn an_item_with_a_digest_id_the_mso_lacks_is_refused() {
    let f = fixture();
    let bad = edit(&f.response, |r| {
        edit_item(document(r), 1, |item| {
            *entry(item, "digestID") = Value::Integer(99.into());
        })
    });
    match verify(&f, &bad) {
        Err(MdocError::MissingDigest { element, digest_id }) => {
            assert_eq!((element.as_str(), digest_id), ("address", 99));
        }
        other => panic!("expected MissingDigest, got {other:?}"),
    }
}

#[test]
fn an_altered_digest_in_the_mso_breaks_the_issuer_signature() {
    let f = fixture();
    let bad = edit(&f.response, |r| {
        edit_mso(document(r), |mso| {
            let digests = entry(entry(mso, "valueDigests"), NAMESPACE);
            let Value::Map(m) = digests else { panic!() };
            flip_last(&mut m[0].1);
        })
    });
    assert!(matches!(verify(&f, &bad), Err(MdocError::IssuerSignature)));
}

#[test]
fn an_altered_mso_signature_is_refused() {
    let f = fixture();
    let bad = edit(&f.response, |r| {
        flip_last(index(issuer_auth(document(r)), 3))
    });
    assert!(matches!(verify(&f, &bad), Err(MdocError::IssuerSignature)));
}

#[test]
fn validity_is_signed_and_enforced() {
    let f = fixture();
    let bad = edit(&f.response, |r| {
        edit_mso(document(r), |mso| {
            *entry(entry(mso, "validityInfo"), "validUntil") =
                cbor::tdate(t0() + Duration::days(3650));
        })
    });
    assert!(matches!(verify(&f, &bad), Err(MdocError::IssuerSignature)));
    let late = validity().valid_until;
    match verify_device_response(
        &f.response,
        &f.transcript,
        std::slice::from_ref(&f.signer_cert),
        late,
    ) {
        Err(MdocError::Expired { valid_until }) => assert_eq!(valid_until, late),
        other => panic!("expected Expired, got {other:?}"),
    }
    let early = t0() - Duration::seconds(1);
    // The signer certificate is dated t0 too: it is checked first.
    assert!(matches!(
        verify_device_response(
            &f.response,
            &f.transcript,
            std::slice::from_ref(&f.signer_cert),
            early
        ),
        Err(MdocError::SignerCertificateNotValid)
    ));
    let later = t0() + Duration::days(365 * 30);
    assert!(matches!(
        verify_device_response(
            &f.response,
            &f.transcript,
            std::slice::from_ref(&f.signer_cert),
            later
        ),
        Err(MdocError::SignerCertificateNotValid)
    ));
}

#[test]
fn a_record_not_yet_valid_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let signer = signer(dir.path());
    let device_key = PrivateKey::generate().unwrap();
    let future = Validity {
        signed: t0(),
        valid_from: at() + Duration::days(1),
        valid_until: at() + Duration::days(100),
    };
    let rec = issue(&record(), &spki_of(&device_key), &signer, future).unwrap();
    let transcript = session();
    let resp = device_response(&rec, &device_key, &transcript, &DeviceRequest::all()).unwrap();
    match verify_device_response(&resp, &transcript, &[signer.certificate().to_vec()], at()) {
        Err(MdocError::NotYetValid { valid_from }) => assert_eq!(valid_from, future.valid_from),
        other => panic!("expected NotYetValid, got {other:?}"),
    }
}

#[test]
fn a_swapped_device_key_in_the_mso_breaks_the_issuer_signature() {
    let f = fixture();
    let attacker = PrivateKey::generate().unwrap();
    let bad = edit(&f.response, |r| {
        edit_mso(document(r), |mso| {
            *entry(entry(mso, "deviceKeyInfo"), "deviceKey") = attacker.public_key().to_cose();
        })
    });
    assert!(matches!(verify(&f, &bad), Err(MdocError::IssuerSignature)));
}

#[test]
fn a_device_signature_by_another_key_is_refused() {
    let f = fixture();
    // Someone who copied the issuer-signed record but not the phone's device key.
    let thief = PrivateKey::generate().unwrap();
    assert!(matches!(
        device_response(
            &f.issuer_signed,
            &thief,
            &f.transcript,
            &DeviceRequest::all()
        ),
        Err(MdocError::DeviceKey(_))
    ));
    let dir = tempfile::tempdir().unwrap();
    let own = issue(&record(), &spki_of(&thief), &signer(dir.path()), validity()).unwrap();
    let theirs = device_response(&own, &thief, &f.transcript, &DeviceRequest::all()).unwrap();
    let stolen_sig = {
        let mut v = cbor::decode("t", &theirs).unwrap();
        device_signature(document(&mut v)).clone()
    };
    let bad = edit(&f.response, |r| *device_signature(document(r)) = stolen_sig);
    assert!(matches!(verify(&f, &bad), Err(MdocError::DeviceSignature)));
}

#[test]
fn an_altered_device_signature_is_refused() {
    let f = fixture();
    let bad = edit(&f.response, |r| {
        flip_last(index(device_signature(document(r)), 3))
    });
    assert!(matches!(verify(&f, &bad), Err(MdocError::DeviceSignature)));
}

#[test]
fn a_response_replayed_into_another_session_is_refused() {
    let f = fixture();
    let other = session();
    assert!(matches!(
        verify_device_response(
            &f.response,
            &other,
            std::slice::from_ref(&f.signer_cert),
            at()
        ),
        Err(MdocError::DeviceSignature)
    ));
}

#[test]
fn an_untrusted_or_resigned_issuer_is_refused() {
    let f = fixture();
    assert!(matches!(
        verify_device_response(&f.response, &f.transcript, &[], at()),
        Err(MdocError::UntrustedIssuer)
    ));
    // A whole record made by another signer, with its own certificate in x5chain.
    let dir = tempfile::tempdir().unwrap();
    let forger = signer(dir.path());
    let forged = issue(&record(), &spki_of(&f.device_key), &forger, validity()).unwrap();
    let resp =
        device_response(&forged, &f.device_key, &f.transcript, &DeviceRequest::all()).unwrap();
    assert!(matches!(verify(&f, &resp), Err(MdocError::UntrustedIssuer)));
}

#[test]
fn other_document_types_and_garbage_are_clear_errors() {
    let f = fixture();
    let bad = edit(&f.response, |r| {
        *entry(document(r), "docType") = Value::Text("org.iso.18013.5.1.mDL".into());
    });
    assert!(matches!(verify(&f, &bad), Err(MdocError::DocType { .. })));
    let status = edit(&f.response, |r| {
        *entry(r, "status") = Value::Integer(10.into())
    });
    assert!(matches!(
        verify(&f, &status),
        Err(MdocError::ResponseStatus(10))
    ));
    for garbage in [
        &[][..],
        &[0xA0],
        &[0xFF, 0xFF],
        &f.response[..f.response.len() / 2],
    ] {
        assert!(matches!(
            verify(&f, garbage),
            Err(MdocError::Malformed { .. })
        ));
    }
    assert_eq!(DOC_TYPE, NAMESPACE);
}

#[test]
fn issuance_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let signer = signer(dir.path());
    let key = PrivateKey::generate().unwrap();
    let mut bad = record();
    bad.my_number = "12345".into();
    assert!(matches!(
        issue(&bad, &spki_of(&key), &signer, validity()),
        Err(MdocError::Invalid { .. })
    ));
    let backwards = Validity {
        signed: t0(),
        valid_from: t0(),
        valid_until: t0(),
    };
    assert!(issue(&record(), &spki_of(&key), &signer, backwards).is_err());
    // An RSA key is not a device key.
    let rsa = onshi_pki::RsaKeyPair::generate().unwrap();
    assert!(matches!(
        issue(&record(), rsa.public_key_spki(), &signer, validity()),
        Err(MdocError::UnsupportedAlgorithm(_))
    ));
    // A signer whose certificate is not for its key.
    let other = PrivateKey::generate().unwrap();
    assert!(
        DocumentSigner::new(&other.to_pkcs8().unwrap(), signer.certificate().to_vec()).is_err()
    );
}
