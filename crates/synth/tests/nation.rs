//! Properties of generated nations: determinism, identifiers, record consistency,
//! coverage of places, characters and scenarios.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Days, NaiveDate};
use onshi_model::{
    BurdenRatio, FeeSchedule, InstitutionKind, InsurerKind, PersonalFamilyClassification,
    ReasonOfLoss, age_on,
};
use onshi_synth::{Config, Household, InsuredRecord, Nation, RARE_CHARACTERS, is_preschool};

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 10, 1).unwrap()
}

fn nation(seed: u64, persons: u64) -> Nation {
    Nation::new(Config {
        seed,
        persons,
        as_of: as_of(),
    })
}

fn all(n: &Nation) -> Vec<Household> {
    n.households().collect()
}

fn in_force(r: &InsuredRecord, on: NaiveDate) -> bool {
    r.qualification_date <= on && r.disqualification_date.is_none_or(|d| d > on)
}

#[test]
fn same_seed_same_nation_and_other_seed_other_nation() {
    let a = all(&nation(7, 3_000));
    let b = all(&nation(7, 3_000));
    assert_eq!(a, b);
    let c = all(&nation(8, 3_000));
    assert_ne!(a, c);
    let n = nation(7, 3_000);
    assert_eq!(n.insurers(), nation(7, 3_000).insurers());
    assert_eq!(n.institutions(), nation(7, 3_000).institutions());
}

#[test]
fn any_household_can_be_generated_alone_in_any_order() {
    let n = nation(3, 5_000);
    let seq = all(&n);
    for i in (0..n.household_count()).rev().step_by(7) {
        assert_eq!(n.household(i), seq[i as usize]);
    }
    for h in &seq {
        for p in &h.persons {
            assert_eq!(n.household_of_person(p.id), Some(h.id - 1));
        }
    }
    assert_eq!(n.household_of_person(0), None);
    assert_eq!(n.household_of_person(5_001), None);
}

#[test]
fn exactly_the_asked_persons_with_unique_ids() {
    for persons in [0, 1, 7, 2_000, 12_345] {
        let n = nation(1, persons);
        let hs = all(&n);
        let ids: Vec<u64> = hs
            .iter()
            .flat_map(|h| h.persons.iter().map(|p| p.id))
            .collect();
        assert_eq!(ids, (1..=persons).collect::<Vec<_>>());
        let records: HashSet<u64> = hs
            .iter()
            .flat_map(|h| h.records.iter().map(|r| r.id))
            .collect();
        assert_eq!(
            records.len(),
            hs.iter().map(|h| h.records.len()).sum::<usize>()
        );
        let my_numbers: HashSet<String> = hs
            .iter()
            .flat_map(|h| h.persons.iter().map(|p| p.my_number.as_str().to_owned()))
            .collect();
        assert_eq!(my_numbers.len() as u64, persons);
    }
}

#[test]
fn records_reference_their_own_household_and_unit() {
    let n = nation(2, 20_000);
    for h in all(&n) {
        let ids: HashSet<u64> = h.persons.iter().map(|p| p.id).collect();
        for p in &h.persons {
            assert_eq!(p.household_id, h.id);
        }
        for r in &h.records {
            assert!(ids.contains(&r.person_id), "{r:?}");
            assert!(ids.contains(&r.insured_person_id), "{r:?}");
            let kind = InsurerKind::of(&r.insurer_number).expect("known kind");
            match r.personal_family {
                PersonalFamilyClassification::Insured => {
                    assert_eq!(r.insured_person_id, r.person_id);
                    assert_eq!(r.branch.value(), 0);
                }
                PersonalFamilyClassification::Family => {
                    assert!(kind.has_dependants(), "{kind:?} has no dependants");
                    assert_ne!(r.insured_person_id, r.person_id);
                    assert_ne!(r.branch.value(), 0);
                    // The 本人 holds a record with the same insurer, 記号 and 番号.
                    assert!(h.records.iter().any(|o| o.person_id == r.insured_person_id
                        && o.insurer_number == r.insurer_number
                        && o.symbol == r.symbol
                        && o.number == r.number
                        && o.branch.value() == 0));
                }
            }
            assert!(
                kind.card_classification() == r.card_classification
                    || r.card_classification
                        == onshi_model::InsuredCardClassification::ShortTermGeneral,
                "{r:?}"
            );
            if kind == InsurerKind::LateStageElderly {
                assert!(r.symbol.is_none());
            }
        }
    }
}

#[test]
fn card_numbers_are_unique_among_records_in_force() {
    let n = nation(4, 30_000);
    let hs = all(&n);
    for on in [as_of(), as_of() - Days::new(400), as_of() - Days::new(1000)] {
        let mut seen = HashSet::new();
        for r in hs
            .iter()
            .flat_map(|h| &h.records)
            .filter(|r| in_force(r, on))
        {
            let key = (
                r.insurer_number.clone(),
                r.symbol.clone(),
                r.number.clone(),
                r.branch,
            );
            assert!(seen.insert(key), "duplicate in force on {on}: {r:?}");
        }
    }
}

#[test]
fn no_person_holds_two_records_at_once() {
    let n = nation(5, 30_000);
    for h in all(&n) {
        for p in &h.persons {
            let mut mine: Vec<&InsuredRecord> =
                h.records.iter().filter(|r| r.person_id == p.id).collect();
            mine.sort_by_key(|r| r.qualification_date);
            for w in mine.windows(2) {
                let end = w[0]
                    .disqualification_date
                    .expect("an earlier record has ended");
                assert!(end <= w[1].qualification_date, "{:?}", w);
            }
        }
    }
}

#[test]
fn dates_and_ratios_follow_the_rules() {
    let n = nation(6, 30_000);
    let on = as_of();
    for h in all(&n) {
        for r in &h.records {
            let p = h.persons.iter().find(|p| p.id == r.person_id).unwrap();
            assert!(
                r.qualification_date >= p.birth_date && r.qualification_date <= on,
                "{r:?}"
            );
            if let Some(d) = r.disqualification_date {
                assert!(d > r.qualification_date && d <= on, "{r:?}");
                assert!(r.reason_of_loss.is_some());
            }
            if r.reason_of_loss == Some(ReasonOfLoss::Death) {
                assert_eq!(
                    r.disqualification_date,
                    p.death_date.map(|d| d + Days::new(1))
                );
            }
            if let Some(death) = p.death_date {
                assert!(!in_force(r, on), "the dead hold no record in force");
                assert!(death < on && death >= p.birth_date);
            }
            let kind = InsurerKind::of(&r.insurer_number).unwrap();
            let reference = r.disqualification_date.map_or(on, |d| d - Days::new(1));
            let age = age_on(p.birth_date, reference);
            if kind == InsurerKind::LateStageElderly {
                let seventy_five = NaiveDate::from_ymd_opt(
                    p.birth_date.year() + 75,
                    p.birth_date.month(),
                    p.birth_date.day(),
                )
                .unwrap_or_else(|| {
                    NaiveDate::from_ymd_opt(p.birth_date.year() + 75, 3, 1).unwrap()
                });
                let start = NaiveDate::from_ymd_opt(2008, 4, 1).unwrap();
                assert_eq!(r.qualification_date, seventy_five.max(start));
                // 後期高齢者: 1割, 2割 for 一般Ⅱ, 3割 for 現役並み.
                if let Some(l) = &r.limit {
                    use onshi_model::LimitCategory::*;
                    let expected = match l.category {
                        B01 | B02 | B03 => BurdenRatio::THIRTY,
                        B09 => BurdenRatio::TWENTY,
                        _ => BurdenRatio::TEN,
                    };
                    assert_eq!(r.burden_ratio, expected, "{r:?}");
                }
            } else {
                assert!(age < 75, "{r:?}");
                if r.reason_of_loss == Some(ReasonOfLoss::OtherInsurance) {
                    let next = h.records.iter().find(|o| {
                        o.person_id == p.id && Some(o.qualification_date) == r.disqualification_date
                    });
                    if let Some(next) = next.filter(|n| {
                        InsurerKind::of(&n.insurer_number) == Some(InsurerKind::LateStageElderly)
                    }) {
                        // The previous record ends the day before the 75th birthday.
                        assert_eq!(age_on(p.birth_date, next.qualification_date), 75);
                        assert_eq!(age, 74);
                    }
                }
            }
            if is_preschool(p.birth_date, reference) {
                assert_eq!(r.burden_ratio, BurdenRatio::TWENTY);
            } else if age < 70 {
                assert_eq!(r.burden_ratio, BurdenRatio::THIRTY);
            }
            if let Some(e) = &r.elderly_recipient {
                assert!((70..=74).contains(&age));
                assert_eq!(e.ratio, r.burden_ratio);
                assert!(e.valid_from <= e.valid_until);
            }
            if let Some(l) = &r.limit {
                assert_eq!(l.category.is_seventy_plus(), age >= 70, "{r:?}");
            }
            if let Some(c) = p.card {
                assert!(c.issued_on >= p.birth_date && c.issued_on <= on);
                if let Some(l) = c.linked_on {
                    assert!(l >= c.issued_on && l <= on);
                }
            }
        }
    }
}

#[test]
fn places_names_and_characters() {
    let n = nation(1, 10_000);
    let hs = all(&n);
    let prefectures: HashSet<u8> = hs
        .iter()
        .flat_map(|h| h.persons.iter().map(|p| p.prefecture.code()))
        .collect();
    assert_eq!(prefectures.len(), 47);
    let mut rare = 0;
    for p in hs.iter().flat_map(|h| &h.persons) {
        assert!(p.address.starts_with(p.prefecture.name()), "{}", p.address);
        assert!(p.address.ends_with('号'));
        let b = p.post_number.as_bytes();
        assert!(
            b.len() == 8
                && b[3] == b'-'
                && b.iter()
                    .enumerate()
                    .all(|(i, c)| i == 3 || c.is_ascii_digit())
        );
        if p.name
            .family
            .chars()
            .chain(p.name.given.chars())
            .any(|c| RARE_CHARACTERS.contains(&c))
        {
            rare += 1;
        }
        let age = age_on(p.birth_date, as_of());
        assert!(age <= 105);
    }
    // Rare characters at a realistic low rate: present, but well under 5 %.
    assert!(
        rare > 10 && rare < 500,
        "{rare} persons with rare characters"
    );
}

#[test]
fn population_shape_and_card_rates() {
    let n = nation(9, 50_000);
    let hs = all(&n);
    let persons: Vec<_> = hs.iter().flat_map(|h| &h.persons).collect();
    let total = persons.len() as f64;
    let share = |f: &dyn Fn(u32) -> bool| {
        persons
            .iter()
            .filter(|p| f(age_on(p.birth_date, as_of())))
            .count() as f64
            / total
    };
    let children = share(&|a| a < 15);
    let elderly = share(&|a| a >= 65);
    let old_old = share(&|a| a >= 75);
    assert!((0.08..0.16).contains(&children), "0–14: {children}");
    assert!((0.22..0.36).contains(&elderly), "65+: {elderly}");
    assert!((0.11..0.22).contains(&old_old), "75+: {old_old}");
    assert!(persons.iter().any(|p| age_on(p.birth_date, as_of()) >= 100));
    assert!(persons.iter().any(|p| age_on(p.birth_date, as_of()) == 0));
    let holders = persons.iter().filter(|p| p.card.is_some()).count() as f64;
    let linked = persons
        .iter()
        .filter(|p| p.card.is_some_and(|c| c.linked_on.is_some()))
        .count() as f64;
    assert!(
        (0.78..0.88).contains(&(holders / total)),
        "holders {}",
        holders / total
    );
    assert!(
        (0.84..0.92).contains(&(linked / holders)),
        "linked {}",
        linked / holders
    );
    let per_household = total / hs.len() as f64;
    assert!((2.0..2.5).contains(&per_household), "{per_household}");
}

#[test]
fn insurers_of_every_kind_and_institutions_of_every_kind() {
    let n = nation(1, 40_000);
    let kinds: HashSet<InsurerKind> = n.insurers().iter().map(|i| i.kind).collect();
    for k in InsurerKind::ALL {
        assert!(kinds.contains(k), "{k:?}");
    }
    let numbers: HashSet<_> = n.insurers().iter().map(|i| i.number.clone()).collect();
    assert_eq!(numbers.len(), n.insurers().len());
    for i in n.insurers() {
        assert_eq!(InsurerKind::of(&i.number), Some(i.kind), "{i:?}");
        assert_eq!(i.number.prefecture_code(), i.prefecture.code());
        assert!(i.address.starts_with(i.prefecture.name()));
    }
    let count = |k| n.insurers().iter().filter(|i| i.kind == k).count();
    assert_eq!(count(InsurerKind::LateStageElderly), 47);
    assert!(count(InsurerKind::KumiaiKenpo) >= 200);
    assert!(n.institutions().len() == 80);
    assert!(nation(1, 100).institutions().len() == 40);
    let codes: HashSet<_> = n.institutions().iter().map(|i| i.code).collect();
    assert_eq!(codes.len(), n.institutions().len());
    for k in [
        InstitutionKind::Clinic,
        InstitutionKind::Hospital,
        InstitutionKind::Dental,
        InstitutionKind::Pharmacy,
    ] {
        assert!(n.institutions().iter().any(|i| i.kind == k), "{k:?}");
    }
    for i in n.institutions() {
        let expected = match i.kind {
            InstitutionKind::Dental => FeeSchedule::Dental,
            InstitutionKind::Pharmacy => FeeSchedule::Pharmacy,
            _ => FeeSchedule::Medical,
        };
        assert_eq!(i.code.fee_schedule(), expected);
        assert_eq!(i.code.prefecture_code(), i.prefecture.code());
    }
    // Records use only the nation's insurers, and many of them.
    let known: HashSet<_> = n.insurers().iter().map(|i| i.number.clone()).collect();
    let mut used = HashMap::new();
    for h in n.households() {
        for r in h.records {
            assert!(known.contains(&r.insurer_number));
            *used.entry(r.insurer_number).or_insert(0) += 1;
        }
    }
    assert!(used.len() > 300, "{} insurers used", used.len());
}
