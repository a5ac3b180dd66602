//! Calendar rules of the insurance system: anniversaries, 未就学, the July 31 renewal of
//! 国保 and 後期高齢者 documents.

use chrono::{Datelike, Days, Months, NaiveDate};
use onshi_model::age_on;

use crate::rng::Rng;

pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// The day a person born on `birth` reaches `years` of age: the anniversary, or 1 March for a
/// 29 February birthday in a common year (as [`onshi_model::age_on`] counts).
pub fn anniversary(birth: NaiveDate, years: u32) -> NaiveDate {
    let y = birth.year() + years as i32;
    NaiveDate::from_ymd_opt(y, birth.month(), birth.day()).unwrap_or_else(|| ymd(y, 3, 1))
}

pub fn next_day(d: NaiveDate) -> NaiveDate {
    d + Days::new(1)
}

pub fn prev_day(d: NaiveDate) -> NaiveDate {
    d - Days::new(1)
}

pub fn days_before(d: NaiveDate, n: u64) -> NaiveDate {
    d - Days::new(n)
}

pub fn days_after(d: NaiveDate, n: u64) -> NaiveDate {
    d + Days::new(n)
}

/// The first 31 July on or after `d` (国保 and 後期高齢者 documents are renewed on 1 August).
pub fn next_july31(d: NaiveDate) -> NaiveDate {
    let this = ymd(d.year(), 7, 31);
    if d <= this {
        this
    } else {
        ymd(d.year() + 1, 7, 31)
    }
}

/// The last 1 August on or before `d`: the start of the current 限度額 year.
pub fn last_august1(d: NaiveDate) -> NaiveDate {
    let this = ymd(d.year(), 8, 1);
    if d >= this {
        this
    } else {
        ymd(d.year() - 1, 8, 1)
    }
}

/// 未就学: until the first 31 March after the day before the sixth birthday
/// (6歳に達する日以後の最初の3月31日).
pub fn is_preschool(birth: NaiveDate, on: NaiveDate) -> bool {
    let reaches = prev_day(anniversary(birth, 6));
    let march = ymd(reaches.year(), 3, 31);
    let end = if reaches <= march {
        march
    } else {
        ymd(reaches.year() + 1, 3, 31)
    };
    on <= end
}

/// A uniformly random birth date of someone who is `age` on `on`.
pub fn birth_for_age(rng: &mut Rng, age: u32, on: NaiveDate) -> NaiveDate {
    let latest = on
        .checked_sub_months(Months::new(12 * age))
        .expect("date in range");
    let earliest = next_day(
        on.checked_sub_months(Months::new(12 * (age + 1)))
            .expect("date in range"),
    );
    let b = rng.date(earliest, latest);
    if age_on(b, on) == age { b } else { latest }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preschool_ends_on_the_first_march_31_after_turning_six() {
        let b = ymd(2019, 5, 10);
        assert!(is_preschool(b, ymd(2026, 3, 31)));
        assert!(!is_preschool(b, ymd(2026, 4, 1)));
        // Born on 1 April: reaches six on 31 March, so school starts a year earlier.
        let b = ymd(2019, 4, 1);
        assert!(is_preschool(b, ymd(2025, 3, 31)));
        assert!(!is_preschool(b, ymd(2025, 4, 1)));
    }

    #[test]
    fn births_have_the_asked_age() {
        let mut rng = Rng::new(1);
        let on = ymd(2024, 2, 29);
        for age in [0, 1, 4, 75, 105] {
            for _ in 0..200 {
                assert_eq!(age_on(birth_for_age(&mut rng, age, on), on), age);
            }
        }
    }

    #[test]
    fn leap_day_anniversary() {
        assert_eq!(anniversary(ymd(1952, 2, 29), 75), ymd(2027, 3, 1));
        assert_eq!(age_on(ymd(1952, 2, 29), ymd(2027, 2, 28)), 74);
        assert_eq!(next_july31(ymd(2025, 8, 1)), ymd(2026, 7, 31));
        assert_eq!(last_august1(ymd(2025, 7, 31)), ymd(2024, 8, 1));
    }
}
