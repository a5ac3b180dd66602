//! 基本4情報 (the four basic attributes) carried by signing certificates, and the date
//! rules of JPKI certificates.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

use crate::PkiError;

/// 性別: sex as ISO/IEC 5218 codes, which the card and the JPKI certificate both use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Sex {
    /// 0: not known.
    NotKnown,
    /// 1: male (男).
    Male,
    /// 2: female (女).
    Female,
    /// 9: not applicable.
    NotApplicable,
}

impl Sex {
    /// The ISO 5218 digit.
    pub fn code(self) -> char {
        match self {
            Sex::NotKnown => '0',
            Sex::Male => '1',
            Sex::Female => '2',
            Sex::NotApplicable => '9',
        }
    }

    /// Parses an ISO 5218 digit.
    pub fn from_code(s: &str) -> Result<Self, PkiError> {
        match s {
            "0" => Ok(Sex::NotKnown),
            "1" => Ok(Sex::Male),
            "2" => Ok(Sex::Female),
            "9" => Ok(Sex::NotApplicable),
            _ => Err(PkiError::malformed("sex attribute", format!("{s:?}"))),
        }
    }
}

/// The holder's 基本4情報 as registered with J-LIS: what a signing certificate carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicAttributes {
    /// 氏名: name as registered.
    pub name: String,
    /// 氏名代替文字: the name with characters outside the JIS sets replaced, if any were.
    pub name_substitute: Option<String>,
    /// 性別.
    pub sex: Sex,
    /// 生年月日.
    pub birth_date: NaiveDate,
    /// 住所: address as registered.
    pub address: String,
    /// 住所代替文字: the address with substitute characters, if any were needed.
    pub address_substitute: Option<String>,
}

/// Minimum age for a signing certificate (docs/reference.md §2).
pub const SIGNING_MIN_AGE: u32 = 15;

/// Japanese eras with their first day and the digit JPKI uses in the birth-date
/// attribute (onshi's numbering: 1 明治, 2 大正, 3 昭和, 4 平成, 5 令和).
const ERAS: [(char, i32, u32, u32); 5] = [
    ('5', 2019, 5, 1),
    ('4', 1989, 1, 8),
    ('3', 1926, 12, 25),
    ('2', 1912, 7, 30),
    ('1', 1873, 1, 1),
];

/// Encodes a birth date as the JPKI attribute value: era digit + YYYYMMDD (Gregorian).
pub fn encode_birth_date(date: NaiveDate) -> Result<String, PkiError> {
    let era = ERAS
        .iter()
        .find(|(_, y, m, d)| NaiveDate::from_ymd_opt(*y, *m, *d).is_some_and(|s| date >= s))
        .ok_or_else(|| PkiError::InvalidInput {
            field: "birth date",
            reason: format!("{date} is before the Gregorian calendar in Japan"),
        })?;
    Ok(format!("{}{}", era.0, date.format("%Y%m%d")))
}

/// Decodes the JPKI birth-date attribute (era digit + YYYYMMDD) and checks the era.
pub fn decode_birth_date(s: &str) -> Result<NaiveDate, PkiError> {
    let bad = || PkiError::malformed("birth date attribute", format!("{s:?}"));
    if s.len() != 9 || !s.is_ascii() {
        return Err(bad());
    }
    let date = NaiveDate::parse_from_str(&s[1..], "%Y%m%d").map_err(|_| bad())?;
    if encode_birth_date(date)? != s {
        return Err(bad());
    }
    Ok(date)
}

/// Japan Standard Time (UTC+9), the calendar in which birthdays fall.
pub fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("constant offset")
}

/// Age in completed years on `date`. Someone born on 29 February becomes a year older
/// on 1 March in common years (年齢計算ニ関スル法律: at the end of 28 February).
pub fn age_on(birth: NaiveDate, date: NaiveDate) -> u32 {
    let mut years = date.year() - birth.year();
    if (date.month(), date.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

/// The birthday in `year`; 29 February becomes 28 February in common years.
fn birthday_in(birth: NaiveDate, year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, birth.month(), birth.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
        .expect("valid month")
}

/// The holder's 5th birthday strictly after `issue_date` (an issue on the birthday does
/// not count that birthday).
pub fn fifth_birthday_after(birth: NaiveDate, issue_date: NaiveDate) -> NaiveDate {
    let this_year = birthday_in(birth, issue_date.year());
    let first = if this_year > issue_date {
        issue_date.year()
    } else {
        issue_date.year() + 1
    };
    birthday_in(birth, first + 4)
}

/// notAfter of a JPKI certificate issued at `issued_at`: the end (23:59:59 JST) of the
/// holder's 5th birthday after the issue date (JST).
pub fn jpki_not_after(
    birth: NaiveDate,
    issued_at: DateTime<Utc>,
) -> Result<DateTime<Utc>, PkiError> {
    let issue_date = issued_at.with_timezone(&jst()).date_naive();
    if birth > issue_date {
        return Err(PkiError::InvalidInput {
            field: "birth date",
            reason: format!("{birth} is after the issue date {issue_date}"),
        });
    }
    let last_day = fifth_birthday_after(birth, issue_date);
    let end = last_day.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("valid time"));
    Ok(jst()
        .from_local_datetime(&end)
        .single()
        .expect("fixed offset")
        .with_timezone(&Utc))
}

/// Checks the signing-certificate age rule on the issue date (JST).
pub fn check_signing_age(birth: NaiveDate, issued_at: DateTime<Utc>) -> Result<(), PkiError> {
    let age = age_on(birth, issued_at.with_timezone(&jst()).date_naive());
    if age < SIGNING_MIN_AGE {
        return Err(PkiError::TooYoungForSigning {
            age,
            minimum: SIGNING_MIN_AGE,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn fifth_birthday_counts_from_the_next_birthday() {
        assert_eq!(
            fifth_birthday_after(d(1980, 6, 10), d(2025, 1, 5)),
            d(2029, 6, 10)
        );
        assert_eq!(
            fifth_birthday_after(d(1980, 6, 10), d(2025, 6, 10)),
            d(2030, 6, 10)
        );
        assert_eq!(
            fifth_birthday_after(d(1980, 6, 10), d(2025, 6, 11)),
            d(2030, 6, 10)
        );
    }

    #[test]
    fn leap_day_birthday_falls_back_to_28_february() {
        // Born 2000-02-29, issued 2025-03-01: birthdays 2026..2030; 2030 is common.
        assert_eq!(
            fifth_birthday_after(d(2000, 2, 29), d(2025, 3, 1)),
            d(2030, 2, 28)
        );
        // Issued 2023-03-01: 5th birthday in 2028, a leap year.
        assert_eq!(
            fifth_birthday_after(d(2000, 2, 29), d(2023, 3, 1)),
            d(2028, 2, 29)
        );
        assert_eq!(age_on(d(2000, 2, 29), d(2015, 2, 28)), 14);
        assert_eq!(age_on(d(2000, 2, 29), d(2015, 3, 1)), 15);
    }

    #[test]
    fn not_after_is_end_of_day_jst() {
        let issued = Utc.with_ymd_and_hms(2025, 1, 5, 3, 0, 0).unwrap();
        let na = jpki_not_after(d(1980, 6, 10), issued).unwrap();
        assert_eq!(na, Utc.with_ymd_and_hms(2029, 6, 10, 14, 59, 59).unwrap());
    }

    #[test]
    fn signing_age_rule() {
        let at = Utc.with_ymd_and_hms(2025, 4, 1, 0, 0, 0).unwrap();
        assert!(check_signing_age(d(2010, 4, 1), at).is_ok());
        assert!(matches!(
            check_signing_age(d(2010, 4, 2), at),
            Err(PkiError::TooYoungForSigning {
                age: 14,
                minimum: 15
            })
        ));
    }

    #[test]
    fn birth_date_era_encoding() {
        assert_eq!(encode_birth_date(d(1980, 1, 2)).unwrap(), "319800102");
        assert_eq!(encode_birth_date(d(1989, 1, 7)).unwrap(), "319890107");
        assert_eq!(encode_birth_date(d(1989, 1, 8)).unwrap(), "419890108");
        assert_eq!(encode_birth_date(d(2019, 5, 1)).unwrap(), "520190501");
        assert_eq!(decode_birth_date("420000229").unwrap(), d(2000, 2, 29));
        assert!(decode_birth_date("520000229").is_err());
        assert!(decode_birth_date("42000022").is_err());
    }
}
