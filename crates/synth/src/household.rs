//! Who lives in a household: its composition (single, couple, parents and children,
//! three generations), ages following the 2025 age pyramid, twins, names, deaths, and the
//! My Number Card each member holds.

use chrono::{Datelike, NaiveDate};
use onshi_model::{PersonName, Prefecture, Sex, age_on};

use crate::CardHolding;
use crate::dates::{birth_for_age, days_before, next_day, ymd};
use crate::names::{self, FAMILY, Name, OKINAWA_FAMILY};
use crate::rng::Rng;

/// Persons per 5-year age band (thousands, Japan 2024 estimates): 0–4, 5–9, … 95–99, 100+.
const PYRAMID: [u32; 21] = [
    4000, 4700, 5200, 5400, 6100, 6300, 6300, 7000, 7800, 9300, 9500, 8200, 7400, 7400, 9000, 8100,
    6000, 4000, 2000, 600, 90,
];

/// The oldest age generated.
pub const MAX_AGE: u32 = 105;

/// A member's place in the household.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// 世帯主.
    Head,
    /// The head's spouse.
    Spouse,
    /// A child of the head (or of the couple).
    Child,
    /// A parent of the head or the spouse living with them.
    Elder,
}

/// One member as composed, before identifiers and records.
#[derive(Debug, Clone)]
pub struct Member {
    pub role: Role,
    pub sex: Sex,
    pub birth: NaiveDate,
    pub death: Option<NaiveDate>,
    pub name: PersonName,
}

impl Member {
    /// The last day the person is observed alive: the death date or the nation's date.
    pub fn last_day(&self, as_of: NaiveDate) -> NaiveDate {
        self.death.unwrap_or(as_of)
    }
}

/// An age in `lo..=hi` drawn from the national pyramid.
fn age_in(rng: &mut Rng, lo: u32, hi: u32) -> u32 {
    let w = |a: u32| PYRAMID[(a / 5).min(20) as usize];
    let total: u32 = (lo..=hi).map(w).sum();
    let mut r = rng.below(u64::from(total)) as u32;
    for a in lo..=hi {
        if r < w(a) {
            return a;
        }
        r -= w(a);
    }
    hi
}

fn other(sex: Sex) -> Sex {
    if sex == Sex::Male {
        Sex::Female
    } else {
        Sex::Male
    }
}

/// Ages and roles for a household of `size` persons; the last flag marks the second of a
/// pair of twins (born on the same day as the member before it).
fn compose(rng: &mut Rng, size: usize) -> Vec<(Role, u32, Sex, bool)> {
    let mut out = Vec::with_capacity(size);
    let female_if = |rng: &mut Rng, p: u32| {
        if rng.percent(p) {
            Sex::Female
        } else {
            Sex::Male
        }
    };
    match size {
        1 => {
            if rng.percent(52) {
                let s = female_if(rng, 62);
                out.push((Role::Head, age_in(rng, 65, MAX_AGE), s, false));
            } else {
                let s = female_if(rng, 45);
                out.push((Role::Head, age_in(rng, 20, 64), s, false));
            }
        }
        2 => {
            let r = rng.below(100);
            if r < 60 {
                let head = age_in(rng, 22, 100);
                let spouse = (head as i64 + rng.range(0, 9) as i64 - 6).clamp(20, MAX_AGE as i64);
                let s = female_if(rng, 10);
                out.push((Role::Head, head, s, false));
                out.push((Role::Spouse, spouse as u32, other(s), false));
            } else if r < 72 {
                let parent = age_in(rng, 26, 60);
                let s = female_if(rng, 85);
                out.push((Role::Head, parent, s, false));
                let child = rng.range(0, u64::from((parent - 21).min(25))) as u32;
                out.push((Role::Child, child, female_if(rng, 49), false));
            } else {
                let elder = age_in(rng, 70, 100);
                let child = elder - rng.range(24, 40) as u32;
                out.push((Role::Head, child, female_if(rng, 45), false));
                out.push((Role::Elder, elder, female_if(rng, 70), false));
            }
        }
        _ => {
            let three_gen = rng.percent(match size {
                3 => 20,
                4 => 22,
                5 => 50,
                _ => 75,
            });
            let elders = if three_gen {
                if size >= 5 && rng.percent(50) { 2 } else { 1 }
            } else {
                0
            };
            let adults = if size - elders >= 3 && !(elders == 0 && rng.percent(12)) {
                2
            } else {
                1
            };
            let kids = size - elders - adults;
            // Parents up to their early seventies: many adult children live with them.
            let head = age_in(rng, 24 + 2 * kids as u32, 72);
            let s = if adults == 2 {
                female_if(rng, 10)
            } else {
                female_if(rng, 85)
            };
            out.push((Role::Head, head, s, false));
            if adults == 2 {
                let spouse = (head as i64 + rng.range(0, 9) as i64 - 6).max(20);
                out.push((Role::Spouse, spouse as u32, other(s), false));
            }
            // Children, oldest first, 1–4 years apart; the youngest two are twins in 5 % of
            // families with two or more children.
            let twins = kids >= 2 && rng.percent(5);
            let hi = head.saturating_sub(22).min(45);
            let lo = (2 * kids as u32).min(hi);
            let mut age = age_in(rng, lo, hi);
            for k in 0..kids {
                let twin = twins && k == kids - 1;
                if k > 0 && !twin {
                    age = age.saturating_sub(rng.range(1, 4) as u32);
                }
                out.push((Role::Child, age, female_if(rng, 49), twin));
            }
            let first = age_in(rng, head + 22, (head + 40).min(MAX_AGE));
            for e in 0..elders {
                let age = if e == 0 {
                    first
                } else {
                    (first as i64 + rng.range(0, 6) as i64 - 3).clamp(50, MAX_AGE as i64) as u32
                };
                let sex = if elders == 2 {
                    if e == 0 { Sex::Male } else { Sex::Female }
                } else {
                    female_if(rng, 70)
                };
                out.push((Role::Elder, age, sex, false));
            }
        }
    }
    out
}

fn family_name(rng: &mut Rng, prefecture: Prefecture) -> Name {
    if prefecture.code() == 47 && rng.percent(60) {
        *rng.pick(OKINAWA_FAMILY)
    } else {
        *rng.pick(FAMILY)
    }
}

fn given_name(rng: &mut Rng, sex: Sex, birth: NaiveDate) -> Name {
    let era = names::era(birth.year());
    let table = if sex == Sex::Female {
        names::FEMALE[era]
    } else {
        names::MALE[era]
    };
    *rng.pick(table)
}

/// Probability of having died in the two years before the nation's date, in ppm, by age.
fn death_ppm(age: u32) -> u32 {
    match age {
        0..=39 => 400,
        40..=59 => 3_000,
        60..=69 => 12_000,
        70..=79 => 35_000,
        80..=89 => 100_000,
        _ => 250_000,
    }
}

/// Composes the members of a household of `size` living in `prefecture`.
pub fn members(
    rng: &mut Rng,
    size: usize,
    prefecture: Prefecture,
    as_of: NaiveDate,
) -> Vec<Member> {
    let plan = compose(rng, size);
    let family = family_name(rng, prefecture);
    // An elder is the wife's parent (another family name) in a share of households.
    let elder_family = if rng.percent(25) {
        family_name(rng, prefecture)
    } else {
        family
    };
    let mut out: Vec<Member> = Vec::with_capacity(size);
    for (role, age, sex, twin) in plan {
        let birth = match (twin, out.last()) {
            (true, Some(prev)) => prev.birth,
            _ => birth_for_age(rng, age, as_of),
        };
        let fam = if role == Role::Elder {
            elder_family
        } else {
            family
        };
        let mut given = given_name(rng, sex, birth);
        // Twins get different names.
        for _ in 0..8 {
            if !twin || out.last().is_none_or(|p| p.name.given != given.0) {
                break;
            }
            given = given_name(rng, sex, birth);
        }
        let name = PersonName::new(fam.0, given.0, fam.1, given.1).expect("table names are valid");
        let death = if rng.ppm(death_ppm(age)) {
            let lo = next_day(birth).max(days_before(as_of, 730));
            let hi = days_before(as_of, 1);
            (lo <= hi).then(|| rng.date(lo, hi))
        } else {
            None
        };
        out.push(Member {
            role,
            sex,
            birth,
            death,
            name,
        });
    }
    out
}

/// Whether and when a person holds a My Number Card and linked it to insurance (利用登録):
/// about 83 % hold one, about 88 % of holders linked it.
pub fn card(
    rng: &mut Rng,
    birth: NaiveDate,
    last_day: NaiveDate,
    as_of: NaiveDate,
) -> Option<CardHolding> {
    let age = age_on(birth, as_of);
    let holds = match age {
        0..=4 => 65,
        5..=14 => 78,
        15..=19 => 84,
        20..=74 => 86,
        75..=89 => 82,
        _ => 60,
    };
    if !rng.percent(holds) {
        return None;
    }
    let start = ymd(2016, 1, 4).max(birth + chrono::Days::new(14));
    if start > last_day {
        return None;
    }
    // Most cards were issued during the point campaign from mid-2022.
    let boom = ymd(2022, 6, 1).max(start);
    let issued_on = if boom <= last_day && rng.percent(55) {
        rng.date(boom, last_day)
    } else {
        rng.date(start, last_day)
    };
    let link_start = ymd(2021, 3, 1).max(issued_on);
    let linked_on =
        (link_start <= last_day && rng.percent(88)).then(|| rng.date(link_start, last_day));
    Some(CardHolding {
        issued_on,
        linked_on,
    })
}
