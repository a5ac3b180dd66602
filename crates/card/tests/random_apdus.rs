//! Any sequence of APDUs: the card never panics, and retry counters change only through
//! VERIFY (by one try down, or back to the maximum).

use chrono::{NaiveDate, TimeZone, Utc};
use onshi_card::layout::{AID_CARD_FACE, AID_INPUT_SUPPORT, AID_JPKI, PinRef};
use onshi_card::{CardFile, CardPins, IssueOptions, Person, Pin, Sex, VirtualCard};
use onshi_model::MyNumber;
use proptest::prelude::*;
use std::sync::OnceLock;

fn card() -> &'static CardFile {
    static CARD: OnceLock<CardFile> = OnceLock::new();
    CARD.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc.with_ymd_and_hms(2025, 4, 1, 3, 0, 0).unwrap();
        let mut jlis = onshi_pki::Jlis::load_or_create(dir.path(), now, None).unwrap();
        let key = onshi_card::card_data_key(dir.path()).unwrap();
        onshi_card::issue_card(
            &mut jlis,
            key.as_ref(),
            &Person {
                name: "試験　一郎".into(),
                name_kana: "シケン　イチロウ".into(),
                address: "北海道札幌市中央区北１条西２丁目".into(),
                birth_date: NaiveDate::from_ymd_opt(1990, 1, 31).unwrap(),
                sex: Sex::Male,
                my_number: MyNumber::from_payload(11_111_111_111).unwrap(),
            },
            &CardPins {
                auth: Pin::from("1234"),
                sign: Some(Pin::from("PASS99")),
                input_support: Pin::from("1234"),
            },
            &IssueOptions {
                issued_at: now,
                face_photo: vec![1, 2, 3],
                security_code: Some("1111".into()),
            },
        )
        .unwrap()
    })
}

fn counters(c: &CardFile) -> Vec<u8> {
    [PinRef::Auth, PinRef::Sign, PinRef::InputSupport]
        .iter()
        .map(|p| c.pin_record(*p).unwrap().tries_left)
        .collect()
}

/// Mostly well-formed commands the card knows, with random parameters, plus raw noise.
fn apdu() -> impl Strategy<Value = Vec<u8>> {
    let aid = prop_oneof![
        Just(AID_JPKI.to_vec()),
        Just(AID_INPUT_SUPPORT.to_vec()),
        Just(AID_CARD_FACE.to_vec()),
        proptest::collection::vec(any::<u8>(), 0..12),
    ];
    let fid = prop_oneof![
        prop::sample::select(vec![
            0x0001u16, 0x0002, 0x0003, 0x0006, 0x000A, 0x000B, 0x0011, 0x0012, 0x0013, 0x0017,
            0x0018, 0x001A, 0x001B
        ]),
        any::<u16>(),
    ];
    let pin = prop_oneof![
        Just(b"1234".to_vec()),
        Just(b"PASS99".to_vec()),
        Just(b"0000".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..20),
    ];
    let with_lc = |head: [u8; 4], data: Vec<u8>| {
        let mut v = head.to_vec();
        v.push(data.len() as u8);
        v.extend(data);
        v
    };
    prop_oneof![
        aid.prop_map(move |a| with_lc([0x00, 0xA4, 0x04, 0x0C], a)),
        fid.prop_map(move |f| with_lc([0x00, 0xA4, 0x02, 0x0C], f.to_be_bytes().to_vec())),
        (any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(p1, p2, le)| vec![0x00, 0xB0, p1, p2, le]),
        pin.clone().prop_map(move |p| if p.is_empty() {
            vec![0x00, 0x20, 0x00, 0x80]
        } else {
            with_lc([0x00, 0x20, 0x00, 0x80], p)
        }),
        pin.prop_map(move |p| with_lc([0x00, 0x24, 0x01, 0x80], p)),
        proptest::collection::vec(any::<u8>(), 1..60).prop_map(move |d| {
            let mut v = with_lc([0x80, 0x2A, 0x00, 0x80], d);
            v.push(0);
            v
        }),
        proptest::collection::vec(any::<u8>(), 0..300),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_apdus_never_panic_and_only_verify_moves_counters(
        seq in proptest::collection::vec((apdu(), any::<bool>()), 1..40)
    ) {
        let mut card = VirtualCard::new(card().clone());
        for (raw, reset) in seq {
            if reset {
                card.reset();
            }
            let before = counters(card.file());
            let response = card.process_bytes(&raw);
            prop_assert!(response.len() >= 2);
            let after = counters(card.file());
            let is_verify = raw.len() > 4 && raw[0] == 0x00 && raw[1] == 0x20;
            for ((b, a), max) in before.iter().zip(&after).zip([3u8, 5, 3]) {
                if !is_verify {
                    prop_assert_eq!(b, a, "counter moved by {:02X?}", raw);
                } else {
                    prop_assert!(*a == *b || *a + 1 == *b || *a == max, "{} -> {}", b, a);
                }
            }
        }
    }
}
