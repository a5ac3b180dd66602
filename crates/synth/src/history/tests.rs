//! Determinism and coherence of generated histories; `report` prints rates by age band.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{Datelike, NaiveDate};
use onshi_model::{InstitutionCode, InstitutionKind, age_on};

use super::*;
use crate::Config;

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

fn histories(n: &Nation) -> Vec<(Person, PersonHistory)> {
    n.households()
        .flat_map(|h| {
            h.persons
                .iter()
                .map(|p| (p.clone(), person_history(n, &h, p)))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn same_person_same_history_and_other_seed_other_history() {
    let a = histories(&nation(3, 2_000));
    let b = histories(&nation(3, 2_000));
    assert_eq!(a, b);
    // A household generated on its own gives the same histories as the full scan.
    let n = nation(3, 2_000);
    let h = n.household(17);
    for p in &h.persons {
        let i = a.iter().position(|(q, _)| q.id == p.id).unwrap();
        assert_eq!(person_history(&n, &h, p), a[i].1);
    }
    let c = histories(&nation(4, 2_000));
    assert_ne!(
        a.iter().map(|x| &x.1).collect::<Vec<_>>(),
        c.iter().map(|x| &x.1).collect::<Vec<_>>()
    );
}

#[test]
fn histories_are_coherent() {
    let n = nation(1, 6_000);
    let kinds: HashMap<InstitutionCode, InstitutionKind> =
        n.institutions().iter().map(|i| (i.code, i.kind)).collect();
    let start = history_start(as_of());
    let (mut with_meds, mut dead_with_meds) = (0, 0);
    for (p, h) in histories(&n) {
        let begin = start.max(p.birth_date);
        let end = p.death_date.unwrap_or(as_of());
        let within = |d: NaiveDate| begin <= d && d <= end;
        assert!(h.medications.len() < 10_000 && h.diagnoses.len() < 10_000);
        with_meds += usize::from(!h.medications.is_empty());
        dead_with_meds += usize::from(p.death_date.is_some() && !h.medications.is_empty());
        for m in &h.medications {
            assert!(within(m.dispensed_on), "{} {m:?}", p.id);
            assert_eq!(m.drug_code.len(), 12, "{}", m.drug_name);
            assert!(m.quantity.0 > 0 && m.days_supplied > 0);
            assert!(matches!(
                kinds[&m.prescriber],
                InstitutionKind::Clinic | InstitutionKind::Hospital
            ));
            assert_eq!(kinds[&m.pharmacy], InstitutionKind::Pharmacy);
            // Every drug has the diagnosis it treats, made on or before the dispensing.
            assert!(
                h.diagnoses
                    .iter()
                    .any(|d| d.icd10 == m.indication && d.started_on <= m.dispensed_on),
                "person {}: {} without {}",
                p.id,
                m.drug_name,
                m.indication
            );
        }
        assert!(h.medications.is_sorted_by_key(|m| m.dispensed_on));
        for d in &h.diagnoses {
            assert!(d.started_on >= p.birth_date && d.started_on <= end);
            assert_eq!(d.outcome == Outcome::Continuing, d.ended_on.is_none());
            if let Some(e) = d.ended_on {
                assert!(e >= d.started_on && e <= end, "{d:?}");
            }
            if p.death_date.is_none() {
                assert_ne!(d.outcome, Outcome::Died);
            }
        }
        for s in &h.surgeries {
            assert!(within(s.performed_on));
            assert!(h.diagnoses.iter().any(|d| d.icd10 == s.indication));
        }
        for c in &h.checkups {
            assert!(within(c.performed_on));
            let age = age_on(p.birth_date, c.performed_on);
            match c.kind {
                CheckupKind::Specific => assert!((40..=74).contains(&age), "{age}"),
                CheckupKind::Employer => assert!((35..=39).contains(&age), "{age}"),
                CheckupKind::LateElderly => assert!(age >= 75, "{age}"),
            }
            let h2 = (c.height_cm.value() / 100.0).powi(2);
            assert!(
                (c.bmi.value() - c.weight_kg.value() / h2).abs() <= 0.051,
                "{c:?}"
            );
            assert!(c.systolic_mmhg > c.diastolic_mmhg);
        }
        let years: Vec<i32> = h.checkups.iter().map(|c| c.performed_on.year()).collect();
        assert!(years.len() <= 4, "at most one check-up per fiscal year");
    }
    assert!(
        with_meds > 3_000,
        "{with_meds} of 6,000 persons had medication"
    );
    assert!(dead_with_meds > 0);
}

/// Chronic conditions come with their drugs; children get few of them.
#[test]
fn chronic_drugs_follow_age() {
    let n = nation(2, 6_000);
    let (mut kids, mut kid_chronic, mut old, mut old_chronic) = (0u64, 0u64, 0u64, 0u64);
    let chronic_codes = |h: &PersonHistory| {
        h.medications
            .iter()
            .filter(|m| m.days_supplied >= 14 && m.indication != "L30.9" && m.indication != "M54.5")
            .count() as u64
    };
    let mut treated_hypertension = 0;
    for (p, h) in histories(&n) {
        let age = age_on(p.birth_date, as_of());
        if age < 15 {
            kids += 1;
            kid_chronic += chronic_codes(&h);
        } else if age >= 65 {
            old += 1;
            old_chronic += chronic_codes(&h);
        }
        for d in h.diagnoses.iter().filter(|d| d.icd10 == "I10") {
            treated_hypertension += 1;
            assert!(age >= 30, "hypertension at {age}");
            // Under treatment for more than a refill interval: refilled at least once.
            if d.outcome == Outcome::Continuing && d.started_on < as_of() - chrono::Days::new(35) {
                assert!(
                    h.medications.iter().any(|m| m.indication == "I10"),
                    "{}",
                    p.id
                );
            }
        }
    }
    assert!(treated_hypertension > 300, "{treated_hypertension}");
    assert!(
        kid_chronic * old < old_chronic * kids / 5,
        "children {kid_chronic}/{kids}, elderly {old_chronic}/{old}"
    );
}

#[test]
#[ignore]
fn report() {
    let n = nation(1, 200_000);
    let t = Instant::now();
    let all = histories(&n);
    let elapsed = t.elapsed();
    let bands = [(0, 14), (15, 39), (40, 64), (65, 74), (75, 200)];
    println!(
        "{} persons in {elapsed:?} ({:.0} persons/s)",
        all.len(),
        all.len() as f64 / elapsed.as_secs_f64()
    );
    println!("ages     persons  meds/p  checkups/p  diagnoses/p  surgeries/p  %surgery  %checkup");
    for (lo, hi) in bands {
        let group: Vec<_> = all
            .iter()
            .filter(|(p, _)| (lo..=hi).contains(&age_on(p.birth_date, as_of())))
            .collect();
        let k = group.len() as f64;
        let sum = |f: &dyn Fn(&PersonHistory) -> usize| {
            group.iter().map(|(_, h)| f(h)).sum::<usize>() as f64 / k
        };
        println!(
            "{lo:>3}-{hi:<3} {:>9} {:>7.1} {:>11.2} {:>12.1} {:>12.3} {:>9.1} {:>9.1}",
            group.len(),
            sum(&|h| h.medications.len()),
            sum(&|h| h.checkups.len()),
            sum(&|h| h.diagnoses.len()),
            sum(&|h| h.surgeries.len()),
            100.0 * sum(&|h| usize::from(!h.surgeries.is_empty())),
            100.0 * sum(&|h| usize::from(!h.checkups.is_empty())),
        );
    }
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    for (_, h) in &all {
        for d in &h.diagnoses {
            *by_name.entry(d.name).or_default() += 1;
        }
        for s in &h.surgeries {
            *by_name.entry(s.name).or_default() += 1;
        }
    }
    let mut v: Vec<_> = by_name.into_iter().collect();
    v.sort_by_key(|x| std::cmp::Reverse(x.1));
    for (name, c) in v {
        println!("{c:>8}  {name}");
    }
}
