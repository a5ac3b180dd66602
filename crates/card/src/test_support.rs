//! Fixtures for unit tests: one card issued by a throwaway J-LIS.

use std::sync::OnceLock;

use chrono::{NaiveDate, TimeZone, Utc};
use onshi_model::MyNumber;

use crate::cardfile::CardFile;
use crate::data::Sex;
use crate::issue::{CardPins, IssueOptions, Person, card_data_key, issue_card};
use crate::secret::Pin;

/// PINs of the fixture card.
pub const AUTH_PIN: &str = "1234";
pub const SIGN_PASSWORD: &str = "ABC123";
pub const INPUT_PIN: &str = "5678";

pub struct Fixture {
    pub card: CardFile,
    pub card_data_spki: Vec<u8>,
}

pub fn person() -> Person {
    Person {
        name: "診療　太郎".into(),
        name_kana: "シンリョウ　タロウ".into(),
        address: "東京都千代田区霞が関１－２－２".into(),
        birth_date: NaiveDate::from_ymd_opt(1980, 4, 1).unwrap(),
        sex: Sex::Male,
        my_number: MyNumber::from_payload(12_345_678_901).unwrap(),
    }
}

/// A card issued once per test binary.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc.with_ymd_and_hms(2025, 4, 1, 3, 0, 0).unwrap();
        let mut jlis = onshi_pki::Jlis::load_or_create(dir.path(), now, None).unwrap();
        let key = card_data_key(dir.path()).unwrap();
        let card = issue_card(
            &mut jlis,
            key.as_ref(),
            &person(),
            &CardPins {
                auth: Pin::from(AUTH_PIN),
                sign: Some(Pin::from(SIGN_PASSWORD)),
                input_support: Pin::from(INPUT_PIN),
            },
            &IssueOptions {
                issued_at: now,
                face_photo: vec![0xFF, 0x4F, 0xFF, 0x51, 1, 2, 3],
                security_code: Some("0042".into()),
            },
        )
        .unwrap();
        Fixture {
            card,
            card_data_spki: key.public_key_spki().to_vec(),
        }
    })
}
