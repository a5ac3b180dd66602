//! Properties of the date rules and encodings over many inputs.

use chrono::{Datelike, Days, NaiveDate};
use onshi_pki::{Serial, age_on, decode_birth_date, encode_birth_date, fifth_birthday_after};
use proptest::prelude::*;

fn any_date(from: i32, to: i32) -> impl Strategy<Value = NaiveDate> {
    let start = NaiveDate::from_ymd_opt(from, 1, 1).unwrap();
    let days = (NaiveDate::from_ymd_opt(to, 12, 31).unwrap() - start).num_days() as u64;
    (0..=days).prop_map(move |d| start.checked_add_days(Days::new(d)).unwrap())
}

proptest! {
    #[test]
    fn birth_date_attribute_round_trips(d in any_date(1900, 2100)) {
        let s = encode_birth_date(d).unwrap();
        prop_assert_eq!(s.len(), 9);
        prop_assert_eq!(decode_birth_date(&s).unwrap(), d);
    }

    #[test]
    fn fifth_birthday_is_a_birthday_4_to_5_years_ahead(
        birth in any_date(1920, 2024),
        offset in 0u64..40_000,
    ) {
        let issue = birth.checked_add_days(Days::new(offset)).unwrap();
        let fifth = fifth_birthday_after(birth, issue);
        let years = fifth.year() - issue.year();
        prop_assert!((4..=5).contains(&years), "{birth} {issue} {fifth}");
        prop_assert!(fifth > issue.checked_add_days(Days::new(4 * 365)).unwrap());
        prop_assert!(fifth <= issue.checked_add_days(Days::new(5 * 366)).unwrap());
        if (birth.month(), birth.day()) == (2, 29) {
            prop_assert!(fifth.month() == 2 && fifth.day() >= 28);
        } else {
            prop_assert_eq!((fifth.month(), fifth.day()), (birth.month(), birth.day()));
        }
        // The day after the fifth birthday the holder is at least five years older.
        let next = fifth.succ_opt().unwrap();
        prop_assert!(age_on(birth, next) >= age_on(birth, issue) + 5);
    }

    #[test]
    fn serial_round_trips(v in 1u64..) {
        let s = Serial::from_u64(v).unwrap();
        prop_assert_eq!(Serial::from_bytes(s.as_bytes()).unwrap(), s);
        prop_assert_eq!(u64::from_str_radix(&s.to_hex(), 16).unwrap(), v);
    }
}
