//! Shared by the phone tests: a throwaway J-LIS and phones issued by it.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use onshi_card::Pin;
use onshi_card::phone::{
    self, Biometric, Handset, OsVersion, PhoneFile, PhonePins, issue_phone_certificates,
};
use onshi_pki::{BasicAttributes, Jlis, Sex};

pub const PHONE_PIN: &str = "2468";
pub const PHONE_SIGN_PASSWORD: &str = "PHONE2025";

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 1, 1, 0, 0).unwrap()
}

pub fn attributes() -> BasicAttributes {
    BasicAttributes {
        name: "診療　花子".into(),
        name_substitute: None,
        sex: Sex::Female,
        birth_date: NaiveDate::from_ymd_opt(1980, 6, 15).unwrap(),
        address: "大阪府大阪市北区中之島１－３－２０".into(),
        address_substitute: None,
    }
}

pub fn jlis(dir: &std::path::Path) -> Jlis {
    Jlis::load_or_create(dir.join("jlis"), now(), None).unwrap()
}

/// An Android phone with its certificates installed.
pub fn android(jlis: &mut Jlis) -> PhoneFile {
    let mut phone = phone::new_phone(
        Handset::android("Pixel 8", OsVersion::new(14, 0, 0)).unwrap(),
        Some(PhonePins {
            auth: Pin::from(PHONE_PIN),
            sign: Pin::upper(PHONE_SIGN_PASSWORD),
        }),
    )
    .unwrap();
    let certs = issue_phone_certificates(
        jlis,
        phone.auth_public_key(),
        phone.signing_public_key(),
        &attributes(),
        now(),
        None,
    )
    .unwrap();
    phone::install_certificates(&mut phone, certs).unwrap();
    phone
}

/// An iPhone (Face ID) with its JPKI certificates installed (no mdoc yet).
pub fn iphone(jlis: &mut Jlis) -> PhoneFile {
    let mut phone = phone::new_phone(
        Handset::iphone("iPhone 15", OsVersion::new(18, 5, 0), Biometric::FaceId).unwrap(),
        None,
    )
    .unwrap();
    let certs = issue_phone_certificates(
        jlis,
        phone.auth_public_key(),
        phone.signing_public_key(),
        &attributes(),
        now(),
        None,
    )
    .unwrap();
    phone::install_certificates(&mut phone, certs).unwrap();
    phone
}

/// The card substitute record of the fixture person.
pub fn record() -> onshi_mdoc::CardRecord {
    let a = attributes();
    onshi_mdoc::CardRecord {
        name: a.name,
        address: a.address,
        birth_date: a.birth_date,
        sex: 2,
        my_number: "987654321098".into(),
        portrait: (0..2000u32).map(|i| (i % 251) as u8).collect(),
    }
}

pub fn validity() -> onshi_mdoc::Validity {
    onshi_mdoc::Validity {
        signed: now(),
        valid_from: now(),
        valid_until: now() + chrono::Duration::days(5 * 365),
    }
}

/// An iPhone with JPKI certificates and the card substitute record installed; returns
/// it with the document-signer certificate readers trust.
pub fn iphone_with_record(jlis: &mut Jlis) -> (PhoneFile, Vec<u8>) {
    let mut phone = iphone(jlis);
    let signer = jlis.document_signer(now()).unwrap();
    let record = phone::issue_mdoc(
        &signer,
        &record(),
        phone.device_public_key().unwrap(),
        validity(),
    )
    .unwrap();
    phone::install_mdoc(&mut phone, record).unwrap();
    (phone, signer.certificate_der().to_vec())
}
