//! The center keeps Japan's calendar: eligibility is decided on the date in Japan, and
//! ProcessExecutionTime is Japan time, whatever the server's time zone.

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, Utc};

const JST_SECONDS: i32 = 9 * 3600;

/// The current time in Japan (JST, UTC+9, no daylight saving).
pub fn now_jst() -> NaiveDateTime {
    Utc::now()
        .with_timezone(&FixedOffset::east_opt(JST_SECONDS).expect("valid offset"))
        .naive_local()
}

/// Today's date in Japan.
pub fn today_jst() -> NaiveDate {
    now_jst().date()
}

/// An instant as Japan wall-clock time, the form every stored instant takes.
pub fn to_jst(t: chrono::DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&FixedOffset::east_opt(JST_SECONDS).expect("valid offset"))
        .naive_local()
}
