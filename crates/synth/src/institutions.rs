//! 保険医療機関・保険薬局: clinics, hospitals, dental clinics and pharmacies spread over the
//! municipalities by population, in the national proportions (about 105,000 clinics,
//! 8,000 hospitals, 68,000 dental clinics and 62,000 pharmacies).

use std::collections::HashMap;

use onshi_model::{FeeSchedule, InstitutionCode, InstitutionKind, Prefecture};

use crate::Institution;
use crate::names::FAMILY;
use crate::places::Municipality;
use crate::rng::{Cumulative, Rng};
use crate::text::address;

const KINDS: &[(InstitutionKind, u32)] = &[
    (InstitutionKind::Clinic, 43),
    (InstitutionKind::Hospital, 4),
    (InstitutionKind::Dental, 28),
    (InstitutionKind::Pharmacy, 25),
];

fn schedule(kind: InstitutionKind) -> FeeSchedule {
    match kind {
        InstitutionKind::Dental => FeeSchedule::Dental,
        InstitutionKind::Pharmacy => FeeSchedule::Pharmacy,
        _ => FeeSchedule::Medical,
    }
}

/// A plausible name: `{姓}内科クリニック`, `{市}市民病院`, `{町}デンタルクリニック`, ….
fn name(rng: &mut Rng, kind: InstitutionKind, m: &Municipality, town: &str) -> String {
    let family = rng.pick(&FAMILY[..60]).0;
    let city = m.city.trim_end_matches(['市', '区', '町', '村']);
    match (kind, rng.below(4)) {
        (InstitutionKind::Clinic, 0) => format!("{family}内科クリニック"),
        (InstitutionKind::Clinic, 1) => format!("{family}医院"),
        (InstitutionKind::Clinic, 2) => format!("{town}こどもクリニック"),
        (InstitutionKind::Clinic, _) => format!("{family}整形外科"),
        (InstitutionKind::Hospital, 0) => format!("{city}市民病院"),
        (InstitutionKind::Hospital, 1) => format!("{family}記念病院"),
        (InstitutionKind::Hospital, 2) => format!("{town}中央病院"),
        (InstitutionKind::Hospital, _) => format!("医療法人{family}会{town}病院"),
        (InstitutionKind::Dental, 0 | 1) => format!("{family}歯科医院"),
        (InstitutionKind::Dental, _) => format!("{town}デンタルクリニック"),
        (_, 0) => format!("{town}薬局"),
        (_, 1) => format!("{family}調剤薬局"),
        (_, 2) => format!("あおば薬局{town}店"),
        (_, _) => format!("ひまわり薬局{town}店"),
    }
}

/// `count` institutions; the first four are one of each kind, so every kind exists.
pub fn build(
    rng: &mut Rng,
    places: &[(u8, &'static Municipality)],
    weights: &Cumulative,
    count: u64,
) -> Vec<Institution> {
    let mut next: HashMap<(u8, u8, u8), u16> = HashMap::new();
    let mut out = Vec::with_capacity(count as usize);
    for k in 0..count {
        let kind = match KINDS.get(k as usize) {
            Some((kind, _)) => *kind,
            None => *rng.pick(KINDS),
        };
        let place = weights.pick(rng);
        let (code, m) = places[place];
        let prefecture = Prefecture::from_code(code).expect("1–47");
        // 郡市区: the municipality's position within its prefecture.
        let district = places[..place].iter().filter(|(c, _)| *c == code).count() as u8 + 1;
        let fee = schedule(kind);
        let slot = next.entry((code, fee.digit(), district)).or_insert(0);
        *slot += 1;
        assert!(*slot <= 9999, "too many institutions in one district");
        let code =
            InstitutionCode::from_parts(prefecture, fee, district, *slot).expect("parts in range");
        let (address, post_number, town) = address(rng, prefecture, m);
        out.push(Institution {
            code,
            kind,
            name: name(rng, kind, m, town),
            prefecture,
            address,
            post_number,
        });
    }
    out
}
