use thiserror::Error;

/// Why a value was refused by a constructor of this crate.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The value has the wrong number of characters.
    #[error("{what}: expected {expected} characters, got {actual}")]
    Length {
        what: &'static str,
        expected: &'static str,
        actual: usize,
    },
    /// A character outside the allowed set.
    #[error("{what}: character {found:?} is not allowed")]
    Character { what: &'static str, found: char },
    /// The check digit does not match the rest of the number.
    #[error("{what}: check digit is {actual}, expected {expected}")]
    CheckDigit {
        what: &'static str,
        expected: u8,
        actual: u8,
    },
    /// A part of the number is outside its range (a prefecture 48, a 点数表 2, …).
    #[error("{what}: {detail}")]
    Range { what: &'static str, detail: String },
    /// A code that the OQS code table does not list.
    #[error("{table}: unknown code {code:?}")]
    UnknownCode { table: &'static str, code: String },
    /// A date that is not a calendar date in `YYYYMMDD`.
    #[error("date {0:?} is not a valid YYYYMMDD date")]
    Date(String),
}
