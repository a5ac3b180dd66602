//! Medical histories (薬剤情報, 特定健診等情報, 診療情報, 手術情報): the three years of
//! dispensed medication, check-ups, diagnoses and surgeries the center keeps for each
//! person, generated from the nation's seed and the person's id alone.
//!
//! A history depends on the person (birth date, sex, death date, prefecture), their insured
//! records (who is an employee, who has a dialysis certificate) and the nation's
//! institutions, never on another person, so a loader can generate any subset in any
//! order. Chronic conditions are drawn first by age and sex; their drugs are refilled every
//! 2–4 weeks; acute episodes, check-ups and rare surgeries follow. Everything falls between
//! the birth date, three years before `as_of`, and the death date or `as_of`.

mod checkups;
#[rustfmt::skip]
mod tables;

use chrono::{Datelike, Months, NaiveDate};
use onshi_model::{InstitutionCode, InstitutionKind, Sex, SpecificDiseaseCategory, age_on};

pub use checkups::{Checkup, CheckupKind, Tenths, UrineTest};
use tables::{ACUTE, Amount, Chronic, Drug, OPERATIONS, Regimen};

use crate::dates::{days_after, days_before};
use crate::rng::{Rng, key};
use crate::{Household, Nation, Person};

/// Stream tag of the history streams (after those of `lib.rs`).
const HISTORY: u64 = 6;

/// Years of history before `as_of`.
pub const HISTORY_YEARS: u32 = 3;

/// A person's medical history over the [`HISTORY_YEARS`] before `as_of`, each list oldest
/// first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonHistory {
    pub medications: Vec<MedicationDispense>,
    pub checkups: Vec<Checkup>,
    pub diagnoses: Vec<Diagnosis>,
    pub surgeries: Vec<Surgery>,
}

/// One drug of one dispensing (調剤) at a pharmacy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MedicationDispense {
    /// 調剤年月日.
    pub dispensed_on: NaiveDate,
    /// 一般名コード-shaped drug code (12 characters, see the tables).
    pub drug_code: &'static str,
    /// 医薬品名.
    pub drug_name: &'static str,
    /// 用法・用量, e.g. `1回1錠 1日1回朝食後`.
    pub dose: &'static str,
    /// 調剤数量 in [`MedicationDispense::unit`].
    pub quantity: Tenths,
    /// 単位: 錠, カプセル, g, 包, 本, 枚, キット.
    pub unit: &'static str,
    /// 調剤日数 (for 外用 and 頓用, the days the amount is meant to last).
    pub days_supplied: u16,
    /// The clinic or hospital that prescribed it (処方医療機関).
    pub prescriber: InstitutionCode,
    /// The pharmacy that dispensed it (調剤薬局).
    pub pharmacy: InstitutionCode,
    /// ICD-10 code of the diagnosis it was given for: a synthetic aid for checks, which a
    /// real 薬剤情報 does not carry.
    pub indication: &'static str,
}

/// 転帰: how a diagnosis ended, or that it has not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// 継続.
    Continuing,
    /// 治癒.
    Cured,
    /// 中止.
    Discontinued,
    /// 死亡.
    Died,
}

impl Outcome {
    pub const fn name_ja(self) -> &'static str {
        match self {
            Self::Continuing => "継続",
            Self::Cured => "治癒",
            Self::Discontinued => "中止",
            Self::Died => "死亡",
        }
    }
}

/// A diagnosis (傷病名) made at an institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Diagnosis {
    /// ICD-10 code, e.g. `I10`.
    pub icd10: &'static str,
    /// 傷病名, e.g. 本態性高血圧症.
    pub name: &'static str,
    /// 診療開始日: may precede the three years for a long-standing condition.
    pub started_on: NaiveDate,
    pub outcome: Outcome,
    /// 転帰日: `None` while [`Outcome::Continuing`].
    pub ended_on: Option<NaiveDate>,
    pub institution: InstitutionCode,
}

/// A surgery (手術).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Surgery {
    /// 診療報酬の区分番号, e.g. `K282`.
    pub code: &'static str,
    /// 手術名.
    pub name: &'static str,
    /// 手術日.
    pub performed_on: NaiveDate,
    pub institution: InstitutionCode,
    /// ICD-10 code of the diagnosis it treated.
    pub indication: &'static str,
}

/// One chronic condition of a person, as drawn.
struct Condition {
    chronic: Chronic,
    onset: NaiveDate,
    /// The day treatment stopped, with why; `None` while it goes on.
    stop: Option<(NaiveDate, Outcome)>,
    regimen: &'static [Drug],
    prescriber: InstitutionCode,
}

/// The institutions a person goes to, picked once each when first needed.
struct Places<'a> {
    nation: &'a Nation,
    person: &'a Person,
    home: Option<InstitutionCode>,
    other: Option<InstitutionCode>,
    hospital: Option<InstitutionCode>,
    pharmacy: Option<InstitutionCode>,
    other_pharmacy: Option<InstitutionCode>,
}

/// Institutions scanned for one of the person's prefecture before settling for any.
const MAX_SCAN: usize = 4096;

impl Places<'_> {
    /// An institution of `kind`, preferably in the person's prefecture: a scan from a random
    /// start, so no index of the institutions is needed.
    fn pick(&self, rng: &mut Rng, kind: InstitutionKind) -> InstitutionCode {
        let all = self.nation.institutions();
        let start = rng.below(all.len() as u64) as usize;
        let mut fallback = None;
        for step in 0..all.len().min(MAX_SCAN) {
            let i = &all[(start + step) % all.len()];
            if i.kind == kind {
                if i.prefecture == self.person.prefecture {
                    return i.code;
                }
                fallback.get_or_insert(i.code);
            }
        }
        // The first four institutions are one of each kind.
        fallback.unwrap_or_else(|| {
            all.iter()
                .find(|i| i.kind == kind)
                .expect("every kind exists")
                .code
        })
    }

    fn get(&mut self, rng: &mut Rng, which: Which) -> InstitutionCode {
        let (slot, kind) = match which {
            Which::Home => (self.home, InstitutionKind::Clinic),
            Which::Other => (self.other, InstitutionKind::Clinic),
            Which::Hospital => (self.hospital, InstitutionKind::Hospital),
            Which::Pharmacy => (self.pharmacy, InstitutionKind::Pharmacy),
            Which::OtherPharmacy => (self.other_pharmacy, InstitutionKind::Pharmacy),
        };
        if let Some(code) = slot {
            return code;
        }
        let code = self.pick(rng, kind);
        match which {
            Which::Home => self.home = Some(code),
            Which::Other => self.other = Some(code),
            Which::Hospital => self.hospital = Some(code),
            Which::Pharmacy => self.pharmacy = Some(code),
            Which::OtherPharmacy => self.other_pharmacy = Some(code),
        }
        code
    }
}

#[derive(Clone, Copy)]
enum Which {
    Home,
    Other,
    Hospital,
    Pharmacy,
    OtherPharmacy,
}

/// The first day of the history window of a nation observed on `as_of`.
pub fn history_start(as_of: NaiveDate) -> NaiveDate {
    as_of
        .checked_sub_months(Months::new(12 * HISTORY_YEARS))
        .expect("date in range")
}

/// The medical history of `person`, a member of `household`: the same on every call.
pub fn person_history(nation: &Nation, household: &Household, person: &Person) -> PersonHistory {
    let as_of = nation.config().as_of;
    let mut rng = Rng::new(key(nation.config().seed, HISTORY, person.id));
    let begin = history_start(as_of).max(person.birth_date);
    let end = person.death_date.unwrap_or(as_of).min(as_of);
    let mut out = PersonHistory::default();
    if end < begin {
        return out;
    }
    let male = person.sex == Sex::Male;
    let age = age_on(person.birth_date, end);
    let mut places = Places {
        nation,
        person,
        home: None,
        other: None,
        hospital: None,
        pharmacy: None,
        other_pharmacy: None,
    };
    let dead = person.death_date.is_some();
    let mut conditions = draw_conditions(&mut rng, &mut places, person, household, begin, end);

    // Surgeries, which may start a condition (a stent starts antiplatelet therapy).
    for op in OPERATIONS {
        if !rng.ppm(op.rate(age, male) * 100) {
            continue;
        }
        let day = rng.date(begin, end);
        let institution = if rng.percent(op.at_clinic) {
            places.get(&mut rng, Which::Other)
        } else {
            places.get(&mut rng, Which::Hospital)
        };
        out.surgeries.push(Surgery {
            code: op.code,
            name: op.name,
            performed_on: day,
            institution,
            indication: op.icd10,
        });
        if op.icd10 == Chronic::Angina.info().icd10 {
            if !conditions.iter().any(|c| c.chronic == Chronic::Angina) {
                let home = places.get(&mut rng, Which::Home);
                conditions.push(Condition {
                    chronic: Chronic::Angina,
                    onset: day,
                    stop: dead.then_some((end, Outcome::Died)),
                    regimen: Chronic::Angina.info().adult[1].0,
                    prescriber: home,
                });
            }
            continue;
        }
        let started = days_before(day, rng.range(7, 120)).max(person.birth_date);
        out.diagnoses.push(Diagnosis {
            icd10: op.icd10,
            name: op.diagnosis,
            started_on: started,
            outcome: Outcome::Cured,
            ended_on: Some(days_after(day, rng.range(7, 60)).min(end)),
            institution,
        });
        if !op.after.is_empty() {
            let pharmacy = places.get(&mut rng, Which::OtherPharmacy);
            for d in op.after {
                out.medications.push(dispense(
                    d,
                    days_after(day, 1).min(end),
                    14,
                    institution,
                    pharmacy,
                    op.icd10,
                ));
            }
        }
    }

    for c in &conditions {
        let info = c.chronic.info();
        let (outcome, ended_on) = match c.stop {
            Some((d, o)) => (o, Some(d)),
            None => (Outcome::Continuing, None),
        };
        out.diagnoses.push(Diagnosis {
            icd10: info.icd10,
            name: info.name,
            started_on: c.onset,
            outcome,
            ended_on,
            institution: c.prescriber,
        });
    }
    refills(
        &mut rng,
        &mut places,
        &conditions,
        begin,
        end,
        &mut out.medications,
    );
    acute_episodes(&mut rng, &mut places, person, begin, end, &mut out);
    out.checkups = checkups::generate(
        &mut rng,
        &mut places,
        household,
        conditions_summary(&conditions),
        begin,
        end,
    );

    out.medications.sort_by_key(|m| m.dispensed_on);
    out.diagnoses.sort_by_key(|d| d.started_on);
    out.surgeries.sort_by_key(|s| s.performed_on);
    out
}

/// What the check-up values depend on.
fn conditions_summary(conditions: &[Condition]) -> checkups::Treated {
    let has = |c: Chronic| conditions.iter().any(|x| x.chronic == c);
    checkups::Treated {
        hypertension: has(Chronic::Hypertension),
        diabetes: has(Chronic::Diabetes),
        dyslipidemia: has(Chronic::Dyslipidemia),
        renal: has(Chronic::RenalFailure),
    }
}

fn pick_regimen(rng: &mut Rng, info: &'static tables::ChronicInfo, age: u32) -> &'static [Drug] {
    let table: &'static [Regimen] = if age < 15 && !info.child.is_empty() {
        info.child
    } else {
        info.adult
    };
    rng.pick::<&'static [Drug]>(table)
}

fn draw_conditions(
    rng: &mut Rng,
    places: &mut Places<'_>,
    person: &Person,
    household: &Household,
    begin: NaiveDate,
    end: NaiveDate,
) -> Vec<Condition> {
    let age = age_on(person.birth_date, end);
    let male = person.sex == Sex::Male;
    let mut out = Vec::new();
    let mut diabetic = false;
    let dialysis = household
        .records
        .iter()
        .filter(|r| r.person_id == person.id)
        .find_map(|r| {
            r.specific_diseases
                .iter()
                .find(|s| s.category == SpecificDiseaseCategory::ChronicRenalFailure)
                .map(|s| s.valid_from)
        });
    let mut wanted: [(Chronic, Option<NaiveDate>); 17] = [(Chronic::RenalFailure, None); 17];
    let mut n = 0;
    if let Some(from) = dialysis {
        wanted[n] = (Chronic::RenalFailure, Some(from.max(person.birth_date)));
        n += 1;
    }
    for &c in Chronic::DRAWN {
        let mut p = c.per_mille(age, male);
        if diabetic && matches!(c, Chronic::Hypertension | Chronic::Dyslipidemia) {
            p = p * 17 / 10;
        }
        if p == 0 || rng.below(1000) >= u64::from(p) {
            continue;
        }
        diabetic |= c == Chronic::Diabetes;
        wanted[n] = (c, None);
        n += 1;
    }
    let prefer_hospital = age >= 75 && rng.percent(20);
    for &(c, given_onset) in &wanted[..n] {
        let info = c.info();
        // Most conditions began before the window; the rest within it.
        let earliest = history_start(begin).max(days_after(person.birth_date, 60));
        let onset = given_onset.unwrap_or_else(|| {
            if rng.percent(75) && earliest < begin {
                rng.date(earliest, days_before(begin, 1))
            } else {
                rng.date(begin.max(earliest), end)
            }
        });
        if onset > end {
            continue;
        }
        let stop = if person.death_date.is_some() {
            Some((end, Outcome::Died))
        } else if rng.percent(5) {
            let d = rng.date(onset.max(begin), end);
            Some((
                d,
                if age < 15 {
                    Outcome::Cured
                } else {
                    Outcome::Discontinued
                },
            ))
        } else {
            None
        };
        let prescriber = if info.specialist {
            places.get(rng, Which::Other)
        } else if prefer_hospital || c == Chronic::RenalFailure {
            places.get(rng, Which::Hospital)
        } else {
            places.get(rng, Which::Home)
        };
        out.push(Condition {
            chronic: c,
            onset,
            stop,
            regimen: pick_regimen(rng, info, age),
            prescriber,
        });
    }
    out
}

fn dispense(
    d: &Drug,
    on: NaiveDate,
    days: u32,
    prescriber: InstitutionCode,
    pharmacy: InstitutionCode,
    indication: &'static str,
) -> MedicationDispense {
    let quantity = match d.amount {
        Amount::Daily(x) => x * days,
        Amount::Weekly(x) => x * days.div_ceil(7),
        Amount::Fixed(x) => x,
    };
    MedicationDispense {
        dispensed_on: on,
        drug_code: d.code,
        drug_name: d.name,
        dose: d.dose,
        quantity: Tenths(quantity),
        unit: d.unit,
        days_supplied: days as u16,
        prescriber,
        pharmacy,
        indication,
    }
}

/// Visits for the chronic conditions: every 14, 28 or 30 days (a few days early or late),
/// each refilling the drugs of every condition under treatment that day.
fn refills(
    rng: &mut Rng,
    places: &mut Places<'_>,
    conditions: &[Condition],
    begin: NaiveDate,
    end: NaiveDate,
    out: &mut Vec<MedicationDispense>,
) {
    if conditions.is_empty() {
        return;
    }
    let interval = *rng.pick(&[(28u32, 65), (30, 30), (14, 5)]);
    let pharmacy = places.get(rng, Which::Pharmacy);
    let mut day = days_after(begin, rng.below(u64::from(interval)));
    while day <= end {
        for c in conditions {
            let info = c.chronic.info();
            let active = c.onset <= day && c.stop.is_none_or(|(s, _)| day < s);
            if !active || (info.seasonal && !(2..=4).contains(&day.month())) {
                continue;
            }
            for d in c.regimen {
                out.push(dispense(
                    d,
                    day,
                    interval,
                    c.prescriber,
                    pharmacy,
                    info.icd10,
                ));
            }
        }
        day = days_after(day, u64::from(interval) + rng.below(6) - 2);
    }
}

/// Mean acute episodes per year in tenths, by age.
fn acute_rate_x10(age: u32) -> u64 {
    match age {
        0..=5 => 35,
        6..=14 => 20,
        15..=64 => 8,
        _ => 9,
    }
}

fn acute_episodes(
    rng: &mut Rng,
    places: &mut Places<'_>,
    person: &Person,
    begin: NaiveDate,
    end: NaiveDate,
    out: &mut PersonHistory,
) {
    let male = person.sex == Sex::Male;
    // Some people see a doctor for everything, some for nothing.
    let frailty = rng.range(3, 20);
    let span = (end - begin).num_days().max(0) as u64;
    let mut weights = [0u32; 16];
    let mut day = begin;
    loop {
        let age = age_on(person.birth_date, day);
        // Expected episodes in the next year (or what is left of the window), in tenths.
        let left = (end - day).num_days().clamp(0, 365) as u64;
        let mean = acute_rate_x10(age) * frailty / 10 * left / 365;
        let count = mean / 10 + u64::from(rng.below(10) < mean % 10);
        let band = match age {
            0..=5 => 0,
            6..=14 => 1,
            15..=49 => 2,
            _ => 3,
        };
        for (w, a) in weights.iter_mut().zip(ACUTE) {
            *w = a.weights[band] * if male { a.male_factor } else { 100 };
        }
        for _ in 0..count {
            let k = pick_index(rng, &weights[..ACUTE.len()]);
            let a = &ACUTE[k];
            let regimens = if age < 15 && !a.child.is_empty() {
                a.child
            } else {
                a.adult
            };
            if regimens.is_empty() {
                continue;
            }
            let mut on = days_after(day, rng.below(left.max(1)));
            if a.winter {
                // Move the episode into the nearest influenza season (December to March).
                let m = on.month();
                if (4..=11).contains(&m) {
                    on = on
                        .with_month(if m < 8 { 3 } else { 12 })
                        .unwrap_or(on)
                        .min(end);
                }
            }
            let on = on.clamp(begin, end);
            let clinic = if age < 15 || rng.percent(40) {
                places.get(rng, Which::Other)
            } else {
                places.get(rng, Which::Home)
            };
            let pharmacy = if rng.percent(70) {
                places.get(rng, Which::Pharmacy)
            } else {
                places.get(rng, Which::OtherPharmacy)
            };
            let days = rng.range(u64::from(a.days.0), u64::from(a.days.1)) as u32;
            for d in *rng.pick::<&'static [Drug]>(regimens) {
                out.medications
                    .push(dispense(d, on, days, clinic, pharmacy, a.icd10));
            }
            let cured = rng.percent(92);
            out.diagnoses.push(Diagnosis {
                icd10: a.icd10,
                name: a.name,
                started_on: on,
                outcome: if cured {
                    Outcome::Cured
                } else {
                    Outcome::Discontinued
                },
                ended_on: Some(days_after(on, u64::from(days) + rng.range(0, 7)).min(end)),
                institution: clinic,
            });
        }
        if span == 0 || left < 365 {
            break;
        }
        day = days_after(day, 365);
    }
}

fn pick_index(rng: &mut Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut r = rng.below(u64::from(total.max(1))) as u32;
    for (i, w) in weights.iter().enumerate() {
        if r < *w {
            return i;
        }
        r -= *w;
    }
    weights.len() - 1
}

#[cfg(test)]
mod tests;
