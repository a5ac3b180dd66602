//! Issuance: the JPKI profile of each kind of certificate, validity rules and the
//! persistent CA set.

mod common;

use common::*;
use der::Decode;
use der::asn1::Utf8StringRef;
use onshi_pki::{CaKind, Jlis, PkiError, RsaKeyPair, oid};
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    BasicConstraints, CertificatePolicies, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage,
    KeyUsages, SubjectAltName,
};

fn parse(der_bytes: &[u8]) -> Certificate {
    Certificate::from_der(der_bytes).unwrap()
}

#[test]
fn ca_certificates_have_the_jlis_subjects() {
    let dir = TempDir::new("ca");
    let j = jlis(&dir);
    let auth = parse(j.ca(CaKind::CardAuth).cert_der());
    assert_eq!(
        auth.tbs_certificate().subject().to_string(),
        "OU=Japan Agency for Local Authority Information Systems,OU=JPKI for user authentication,O=JPKI,C=JP"
    );
    let (crit, bc) = auth
        .tbs_certificate()
        .get_extension::<BasicConstraints>()
        .unwrap()
        .unwrap();
    assert!(crit && bc.ca);
    let (_, ku) = auth
        .tbs_certificate()
        .get_extension::<KeyUsage>()
        .unwrap()
        .unwrap();
    assert!(ku.0.contains(KeyUsages::KeyCertSign) && ku.0.contains(KeyUsages::CRLSign));
    assert_eq!(auth.signature_algorithm().oid, oid::SHA256_WITH_RSA);
    let names: std::collections::HashSet<String> = CaKind::ALL
        .iter()
        .map(|k| {
            parse(j.ca(*k).cert_der())
                .tbs_certificate()
                .subject()
                .to_string()
        })
        .collect();
    assert_eq!(names.len(), 5, "every CA has its own name");
}

#[test]
fn auth_certificate_carries_no_personal_data() {
    let dir = TempDir::new("auth");
    let mut j = jlis(&dir);
    let key = RsaKeyPair::generate().unwrap();
    let c = j
        .issue_auth(
            CaKind::CardAuth,
            key.public_key_spki(),
            date(1980, 6, 10),
            issued(),
        )
        .unwrap();
    let cert = parse(&c.der);
    let tbs = cert.tbs_certificate();
    assert_eq!(
        tbs.subject().to_string(),
        format!("CN={},C=JP", c.serial.to_hex())
    );
    assert!(tbs.get_extension::<SubjectAltName>().unwrap().is_none());
    let (_, pol) = tbs.get_extension::<CertificatePolicies>().unwrap().unwrap();
    assert_eq!(pol.0[0].policy_identifier, oid::JPKI_POLICY_AUTH);
    let (_, dp) = tbs
        .get_extension::<CrlDistributionPoints>()
        .unwrap()
        .unwrap();
    let Some(DistributionPointName::FullName(names)) = &dp.0[0].distribution_point else {
        panic!("no full name")
    };
    let GeneralName::UniformResourceIdentifier(uri) = &names[0] else {
        panic!()
    };
    assert_eq!(uri.to_string(), "http://127.0.0.1:8080/crl/auth.crl");
    // 5th birthday after 2025-04-01 is 2029-06-10, end of day JST.
    assert_eq!(
        c.not_after,
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2029, 6, 10, 14, 59, 59).unwrap()
    );
    let na = tbs.validity().not_after.to_unix_duration().as_secs() as i64;
    assert_eq!(na, c.not_after.timestamp());
}

#[test]
fn signing_certificate_carries_the_four_attributes() {
    let dir = TempDir::new("sign");
    let mut j = jlis(&dir);
    let key = RsaKeyPair::generate().unwrap();
    let a = attributes();
    let c = j
        .issue_signing(CaKind::CardSigning, key.public_key_spki(), &a, issued())
        .unwrap();
    let cert = parse(&c.der);
    let (_, san) = cert
        .tbs_certificate()
        .get_extension::<SubjectAltName>()
        .unwrap()
        .unwrap();
    let mut got = vec![];
    for gn in &san.0 {
        let GeneralName::OtherName(on) = gn else {
            panic!("only otherNames")
        };
        let v: Utf8StringRef<'_> = on.value.decode_as().unwrap();
        got.push((on.type_id.to_string(), v.as_str().to_owned()));
    }
    assert_eq!(
        got,
        vec![
            ("1.2.392.200149.8.5.5.1".to_owned(), a.name.clone()),
            ("1.2.392.200149.8.5.5.3".to_owned(), "1".to_owned()),
            ("1.2.392.200149.8.5.5.4".to_owned(), "319800610".to_owned()),
            ("1.2.392.200149.8.5.5.5".to_owned(), a.address.clone()),
            (
                "1.2.392.200149.8.5.5.6".to_owned(),
                a.address_substitute.clone().unwrap()
            ),
        ]
    );
    let (_, pol) = cert
        .tbs_certificate()
        .get_extension::<CertificatePolicies>()
        .unwrap()
        .unwrap();
    assert_eq!(pol.0[0].policy_identifier, oid::JPKI_POLICY_SIGNING);
    let (crit, ku) = cert
        .tbs_certificate()
        .get_extension::<KeyUsage>()
        .unwrap()
        .unwrap();
    assert!(crit && ku.0.contains(KeyUsages::NonRepudiation));
}

#[test]
fn no_signing_certificate_under_15() {
    let dir = TempDir::new("young");
    let mut j = jlis(&dir);
    let key = RsaKeyPair::generate().unwrap();
    let mut a = attributes();
    a.birth_date = date(2010, 4, 2); // 14 on 2025-04-01
    let e = j
        .issue_signing(CaKind::CardSigning, key.public_key_spki(), &a, issued())
        .unwrap_err();
    assert!(
        matches!(
            e,
            PkiError::TooYoungForSigning {
                age: 14,
                minimum: 15
            }
        ),
        "{e}"
    );
    // The user-authentication certificate has no age limit.
    j.issue_auth(
        CaKind::CardAuth,
        key.public_key_spki(),
        a.birth_date,
        issued(),
    )
    .unwrap();
}

#[test]
fn a_ca_issues_only_its_own_kind() {
    let dir = TempDir::new("kind");
    let mut j = jlis(&dir);
    let key = RsaKeyPair::generate().unwrap();
    let e = j
        .issue_auth(
            CaKind::CardSigning,
            key.public_key_spki(),
            date(1980, 1, 1),
            issued(),
        )
        .unwrap_err();
    assert!(matches!(e, PkiError::InvalidInput { .. }), "{e}");
}

#[test]
fn terminal_and_server_certificates() {
    let dir = TempDir::new("tls");
    let mut j = jlis(&dir);
    let t = j
        .issue_terminal_with_key("1312345678", "reception-1", issued())
        .unwrap();
    let cert = parse(&t.cert.der);
    assert_eq!(
        cert.tbs_certificate().subject().to_string(),
        "CN=reception-1,OU=1312345678,O=onshi,C=JP"
    );
    let (_, eku) = cert
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .unwrap()
        .unwrap();
    assert_eq!(eku.0, vec![oid::KP_CLIENT_AUTH]);
    assert!(
        j.issue_terminal_with_key("131234567", "x", issued())
            .is_err()
    );
    assert!(
        j.issue_terminal_with_key("1312345678", "bad,id", issued())
            .is_err()
    );

    let ip: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    let s = j
        .issue_server_with_key(&["center.onshi.test"], &[ip], issued())
        .unwrap();
    let cert = parse(&s.cert.der);
    let (_, san) = cert
        .tbs_certificate()
        .get_extension::<SubjectAltName>()
        .unwrap()
        .unwrap();
    assert_eq!(san.0.len(), 2);
    let (_, eku) = cert
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .unwrap()
        .unwrap();
    assert_eq!(eku.0, vec![oid::KP_SERVER_AUTH]);
    // The generated key is the certified one.
    assert_eq!(
        der::Encode::to_der(cert.tbs_certificate().subject_public_key_info()).unwrap(),
        s.key.public_key_spki()
    );
}

#[test]
fn state_directory_survives_a_restart() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("state");
    let key = RsaKeyPair::generate().unwrap();
    let (first, ca_der) = {
        let mut j = jlis(&dir);
        let c = j
            .issue_auth(
                CaKind::CardAuth,
                key.public_key_spki(),
                date(1980, 6, 10),
                issued(),
            )
            .unwrap();
        (c.serial, j.ca(CaKind::CardAuth).cert_der().to_vec())
    };
    let mode = std::fs::metadata(dir.0.join("keys/auth-ca.pk8"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Reopened later: same CA certificate, serials continue.
    let mut j = Jlis::load_or_create(&dir.0, t(2030, 1, 1), None).unwrap();
    assert_eq!(j.ca(CaKind::CardAuth).cert_der(), &ca_der[..]);
    let c = j
        .issue_auth(
            CaKind::CardAuth,
            key.public_key_spki(),
            date(1980, 6, 10),
            issued(),
        )
        .unwrap();
    assert!(c.serial > first, "{:?} after {:?}", c.serial, first);
    // A key that does not match the stored certificate is refused.
    std::fs::remove_file(dir.0.join("keys/sign-ca.pk8")).unwrap();
    let e = Jlis::load_or_create(&dir.0, t(2030, 1, 1), None).unwrap_err();
    assert!(matches!(e, PkiError::Key(_)), "{e}");
}

#[test]
fn keys_other_than_rsa_2048_are_refused() {
    let dir = TempDir::new("rsa");
    let mut j = jlis(&dir);
    let k = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa3072).unwrap();
    let spki = aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::PublicKeyX509Der>::as_der(
        aws_lc_rs::signature::KeyPair::public_key(&k),
    )
    .unwrap();
    let e = j
        .issue_auth(CaKind::CardAuth, spki.as_ref(), date(1980, 1, 1), issued())
        .unwrap_err();
    assert!(matches!(e, PkiError::UnsupportedAlgorithm(_)), "{e}");
}
