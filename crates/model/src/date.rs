//! Dates as the OQS interface writes them (`YYYYMMDD`).

use chrono::{Datelike, NaiveDate};

use crate::error::ModelError;

/// Parses `YYYYMMDD`.
pub fn parse_yyyymmdd(s: &str) -> Result<NaiveDate, ModelError> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ModelError::Date(s.to_owned()));
    }
    NaiveDate::parse_from_str(s, "%Y%m%d").map_err(|_| ModelError::Date(s.to_owned()))
}

/// Formats as `YYYYMMDD`.
pub fn format_yyyymmdd(d: NaiveDate) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

/// Age in whole years on `on`, counted from the birthday anniversary (a 29 February
/// birthday is reached on 1 March in common years).
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    if on < birth {
        return 0;
    }
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let d = parse_yyyymmdd("19560229").unwrap();
        assert_eq!(format_yyyymmdd(d), "19560229");
        assert!(parse_yyyymmdd("19570229").is_err());
        assert!(parse_yyyymmdd("2024-01-01").is_err());
        assert!(parse_yyyymmdd("２０２４０１０１").is_err());
    }

    #[test]
    fn ages() {
        let b = parse_yyyymmdd("19500401").unwrap();
        assert_eq!(age_on(b, parse_yyyymmdd("20250331").unwrap()), 74);
        assert_eq!(age_on(b, parse_yyyymmdd("20250401").unwrap()), 75);
    }
}
