//! The words of オンライン資格確認: validated identifiers (保険者番号, 記号・番号・枝番,
//! 医療機関コード, My Number), the OQS code tables, consent kinds, and the eligibility
//! result with every field the clinic interface carries.
//!
//! A value of one of these types is valid by construction: constructors check formats and
//! check digits, and the rest of onshi trusts the type. This crate does no I/O of any
//! kind — no files, no HTTP, no SQL — and knows nothing of cards or certificates.

mod check_digit;
pub mod codes;
mod date;
pub mod eligibility;
mod error;
mod ids;
mod insurer;
mod person;
mod prefecture;

pub use check_digit::{luhn_check_digit, my_number_check_digit};
pub use codes::*;
pub use date::{age_on, format_yyyymmdd, parse_yyyymmdd};
pub use eligibility::*;
pub use error::ModelError;
pub use ids::{
    BranchNumber, FeeSchedule, InstitutionCode, InsuredCardSymbol, InsuredNumber, InsurerNumber,
    MyNumber,
};
pub use insurer::InsurerKind;
pub use person::{PersonName, Sex, to_halfwidth_katakana};
pub use prefecture::Prefecture;
