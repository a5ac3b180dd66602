//! A printed summary of a nation (age pyramid, household sizes, rates), for tuning; run with
//! `cargo test -p onshi-synth --release --test report -- --ignored --nocapture`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use onshi_model::{InsurerKind, PersonalFamilyClassification, ReasonOfLoss, age_on};
use onshi_synth::{Config, Nation, find_scenarios};

#[test]
#[ignore]
fn report() {
    let as_of = NaiveDate::from_ymd_opt(2025, 10, 1).unwrap();
    let n = Nation::new(Config {
        seed: 1,
        persons: 200_000,
        as_of,
    });
    let mut bands = [0u64; 22];
    let mut sizes = BTreeMap::new();
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    let (mut persons, mut holders, mut linked, mut dead, mut family, mut records) =
        (0, 0, 0, 0, 0, 0);
    let (mut self_employed, mut unregistered) = (0u64, 0u64);
    for h in n.households() {
        *sizes.entry(h.persons.len()).or_insert(0u64) += 1;
        for p in &h.persons {
            persons += 1;
            bands[(age_on(p.birth_date, as_of) / 5).min(21) as usize] += 1;
            holders += u64::from(p.card.is_some());
            linked += u64::from(p.card.is_some_and(|c| c.linked_on.is_some()));
            dead += u64::from(p.death_date.is_some());
            let mine: Vec<_> = h.records.iter().filter(|r| r.person_id == p.id).collect();
            let current = mine.iter().any(|r| r.disqualification_date.is_none());
            if !current
                && p.death_date.is_none()
                && mine.iter().any(|r| {
                    r.reason_of_loss == Some(ReasonOfLoss::OtherInsurance)
                        && r.personal_family == PersonalFamilyClassification::Insured
                })
            {
                unregistered += 1;
            }
        }
        for r in &h.records {
            records += 1;
            let kind = InsurerKind::of(&r.insurer_number).unwrap();
            if r.disqualification_date.is_none() {
                *kinds.entry(format!("{kind:?}")).or_insert(0) += 1;
                if r.personal_family == PersonalFamilyClassification::Insured
                    && kind.has_dependants()
                {
                    self_employed += 1;
                }
            }
            if !r.specific_diseases.is_empty() {
                *reasons.entry("specific disease".into()).or_insert(0) += 1;
            }
            if r.limit.is_some() {
                *reasons.entry("limit".into()).or_insert(0) += 1;
            }
            if r.elderly_recipient.is_some() {
                *reasons.entry("elderly recipient".into()).or_insert(0) += 1;
            }
            family += u64::from(r.personal_family == PersonalFamilyClassification::Family);
            if let Some(reason) = r.reason_of_loss {
                *reasons.entry(format!("{reason:?}")).or_insert(0) += 1;
            }
        }
    }
    let pct = |x: u64| 100.0 * x as f64 / persons as f64;
    println!(
        "persons {persons}, households {}, records {records}",
        n.household_count()
    );
    for (i, b) in bands.iter().enumerate() {
        println!("{:>3}–{:<3} {:5.2} %", i * 5, i * 5 + 4, pct(*b));
    }
    println!("sizes {sizes:?}");
    println!("in force by kind {kinds:?}");
    println!("losses {reasons:?}");
    println!(
        "card {:.1} %, linked {:.1} % of holders, dead {:.2} %, family records {family}",
        pct(holders),
        100.0 * linked as f64 / holders as f64,
        pct(dead)
    );
    println!(
        "employee 本人 in force {self_employed}, awaiting registration {unregistered} ({:.2} % of them)",
        100.0 * unregistered as f64 / self_employed as f64
    );
    println!(
        "insurers {}, institutions {}",
        n.insurers().len(),
        n.institutions().len()
    );
    println!("{:?}", find_scenarios(&n, 1_000).missing());
}
