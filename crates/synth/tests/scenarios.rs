//! The scenario catalogue: a small nation holds every scenario, and each example is what
//! its name says.

use std::time::Instant;

use chrono::NaiveDate;
use onshi_model::{InsurerKind, PersonalFamilyClassification, ReasonOfLoss};
use onshi_synth::{Config, Household, InsuredRecord, Nation, find_scenarios, is_preschool};

fn nation(seed: u64, persons: u64) -> Nation {
    Nation::new(Config {
        seed,
        persons,
        as_of: NaiveDate::from_ymd_opt(2025, 10, 1).unwrap(),
    })
}

fn record(h: &Household, id: u64) -> &InsuredRecord {
    h.records
        .iter()
        .find(|r| r.id == id)
        .expect("record in its household")
}

fn in_force(n: &Nation, r: &InsuredRecord) -> bool {
    r.disqualification_date.is_none_or(|d| d > n.config().as_of)
}

#[test]
fn a_small_nation_holds_every_scenario() {
    let n = nation(1, 2_000);
    let s = find_scenarios(&n, n.household_count());
    assert!(s.missing().is_empty(), "missing: {:?}", s.missing());
    let person = |h: &Household, id: u64| h.persons.iter().find(|p| p.id == id).unwrap().clone();
    for c in &s.valid {
        let h = n.household(c.household);
        assert!(in_force(&n, record(&h, c.record_id)));
        assert_eq!(record(&h, c.record_id).person_id, c.person_id);
    }
    for c in &s.lost_death {
        let h = n.household(c.household);
        assert_eq!(
            record(&h, c.record_id).reason_of_loss,
            Some(ReasonOfLoss::Death)
        );
        assert!(person(&h, c.person_id).death_date.is_some());
    }
    for c in &s.job_change_unregistered {
        let h = n.household(c.household);
        assert_eq!(
            record(&h, c.record_id).reason_of_loss,
            Some(ReasonOfLoss::OtherInsurance)
        );
        assert!(
            !h.records
                .iter()
                .any(|r| r.person_id == c.person_id && in_force(&n, r))
        );
    }
    for c in &s.job_change_registered {
        let h = n.household(c.household);
        let (old, new) = (record(&h, c.lost_record_id), record(&h, c.new_record_id));
        assert_ne!(old.insurer_number, new.insurer_number);
        assert_eq!(old.disqualification_date, Some(new.qualification_date));
    }
    for c in &s.several_found {
        let h = n.household(c.household);
        let (a, b) = (record(&h, c.record_ids[0]), record(&h, c.record_ids[1]));
        assert_eq!(
            (&a.insurer_number, &a.symbol, &a.number),
            (&b.insurer_number, &b.symbol, &b.number)
        );
        assert_ne!(a.branch, b.branch);
        assert_eq!(
            person(&h, c.person_ids[0]).birth_date,
            person(&h, c.person_ids[1]).birth_date
        );
        assert!(in_force(&n, a) && in_force(&n, b));
    }
    for c in &s.late_elderly {
        let h = n.household(c.household);
        assert_eq!(
            InsurerKind::of(&record(&h, c.record_id).insurer_number),
            Some(InsurerKind::LateStageElderly)
        );
    }
    for c in &s.family_member {
        let h = n.household(c.household);
        assert_eq!(
            record(&h, c.record_id).personal_family,
            PersonalFamilyClassification::Family
        );
    }
    for c in &s.preschool {
        let h = n.household(c.household);
        assert!(is_preschool(
            person(&h, c.person_id).birth_date,
            n.config().as_of
        ));
        assert_eq!(record(&h, c.record_id).burden_ratio.percent(), 20);
    }
    for c in &s.without_card {
        assert!(
            person(&n.household(c.household), c.person_id)
                .card
                .is_none()
        );
    }
    for c in &s.card_not_linked {
        let card = person(&n.household(c.household), c.person_id).card.unwrap();
        assert!(card.linked_on.is_none());
    }
}

#[test]
fn scenarios_are_found_in_small_nations_of_other_seeds() {
    let mut incomplete = Vec::new();
    for seed in 2..=11 {
        let n = nation(seed, 2_000);
        let missing = find_scenarios(&n, n.household_count()).missing();
        if !missing.is_empty() {
            incomplete.push((seed, missing));
        }
    }
    // Rare scenarios may be absent by chance in a few seeds, not in most.
    assert!(incomplete.len() <= 3, "{incomplete:?}");
}

/// Generation speed; run with
/// `cargo test -p onshi-synth --release --test scenarios -- --ignored --nocapture`.
#[test]
#[ignore]
fn generation_speed() {
    let persons = 1_000_000;
    let start = Instant::now();
    let n = nation(1, persons);
    let built = start.elapsed();
    let records: usize = n.households().map(|h| h.records.len()).sum();
    let total = start.elapsed();
    println!(
        "{persons} persons, {records} records, {} households: layout {:.3} s, total {:.2} s, {:.0} persons/s on one thread",
        n.household_count(),
        built.as_secs_f64(),
        total.as_secs_f64(),
        persons as f64 / total.as_secs_f64()
    );
}
