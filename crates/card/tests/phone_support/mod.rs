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
    )
    .unwrap();
    phone::install_certificates(&mut phone, certs).unwrap();
    phone
}
