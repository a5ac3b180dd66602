//! Any sequence of APDUs to either phone: no panic, every answer ends in a status word,
//! and the Android phone's PIN counters change only by one try down or back to full.

mod phone_support;

use std::sync::OnceLock;

use onshi_card::layout::{AID_CARD_FACE, AID_JPKI, PinRef};
use onshi_card::phone::mdoc_applet::AID_MDOC;
use onshi_card::phone::{Biometric, PhoneFile, VirtualPhone};
use phone_support::*;
use proptest::prelude::*;

fn phones() -> &'static (PhoneFile, PhoneFile) {
    static P: OnceLock<(PhoneFile, PhoneFile)> = OnceLock::new();
    P.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut jlis = jlis(dir.path());
        (android(&mut jlis), iphone_with_record(&mut jlis).0)
    })
}

/// Commands the phones know with random parameters and data, plus raw noise.
fn apdu() -> impl Strategy<Value = Vec<u8>> {
    let aid = prop_oneof![
        Just(AID_JPKI.to_vec()),
        Just(AID_MDOC.to_vec()),
        Just(AID_CARD_FACE.to_vec()),
        proptest::collection::vec(any::<u8>(), 0..12),
    ];
    let select = (aid, prop::sample::select(vec![0x00u8, 0x0C, 0x04])).prop_map(|(aid, p2)| {
        let mut v = vec![0x00, 0xA4, 0x04, p2, aid.len() as u8];
        v.extend(aid);
        v.push(0x00);
        v
    });
    let fid = prop::sample::select(vec![
        0x0001u16, 0x0002, 0x0006, 0x000A, 0x000B, 0x0017, 0x0018, 0x001A, 0x001B, 0x1234,
    ]);
    let select_ef = fid.prop_map(|f| {
        let [h, l] = f.to_be_bytes();
        vec![0x00, 0xA4, 0x02, 0x0C, 0x02, h, l]
    });
    let pin = proptest::collection::vec(prop::sample::select(b"0123456789AZ".to_vec()), 0..18)
        .prop_map(|p| {
            let mut v = vec![0x00, 0x20, 0x00, 0x80, p.len() as u8];
            v.extend(p);
            v
        });
    let cla_ins = (
        prop::sample::select(vec![0x00u8, 0x10, 0x80, 0x90]),
        prop::sample::select(vec![0xB0u8, 0xC3, 0xC0, 0x2A, 0x24, 0x20]),
        any::<u8>(),
        any::<u8>(),
        proptest::collection::vec(any::<u8>(), 0..300),
        any::<bool>(),
    )
        .prop_map(|(cla, ins, p1, p2, data, le)| {
            let mut v = vec![cla, ins, p1, p2];
            if !data.is_empty() {
                if data.len() > 255 {
                    v.push(0);
                    v.extend_from_slice(&(data.len() as u16).to_be_bytes());
                } else {
                    v.push(data.len() as u8);
                }
                v.extend(data);
            }
            if le {
                v.push(0x00);
            }
            v
        });
    let noise = proptest::collection::vec(any::<u8>(), 0..40);
    prop_oneof![select, select_ef, pin, cla_ins, noise]
}

fn counters(p: &PhoneFile) -> Vec<u8> {
    [PinRef::Auth, PinRef::Sign]
        .iter()
        .filter_map(|r| p.pin_record(*r).map(|c| c.tries_left))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn phones_answer_every_apdu_with_a_status_word(
        seq in proptest::collection::vec(apdu(), 1..40),
        unlocked in any::<bool>(),
    ) {
        let (a, i) = phones();
        for file in [a, i] {
            let mut phone = VirtualPhone::new(file.clone());
            if unlocked {
                phone.present_biometric(Biometric::FaceId, true);
            }
            let mut before = counters(phone.file());
            for raw in &seq {
                let out = phone.process_bytes(raw);
                prop_assert!(out.len() >= 2);
                let after = counters(phone.file());
                for (b, n) in before.iter().zip(&after) {
                    prop_assert!(*n == *b || *n + 1 == *b || *n == 3 || *n == 5);
                }
                before = after;
            }
        }
    }
}
