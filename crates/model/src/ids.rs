//! Identifiers printed on insurance documents and used by institutions.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::check_digit::{luhn_check_digit, my_number_check_digit};
use crate::error::ModelError;
use crate::prefecture::Prefecture;

fn ascii_digits(what: &'static str, s: &str) -> Result<(), ModelError> {
    match s.chars().find(|c| !c.is_ascii_digit()) {
        Some(found) => Err(ModelError::Character { what, found }),
        None => Ok(()),
    }
}

fn check(what: &'static str, actual: u8, expected: u8) -> Result<(), ModelError> {
    if actual == expected {
        Ok(())
    } else {
        Err(ModelError::CheckDigit {
            what,
            expected,
            actual,
        })
    }
}

macro_rules! string_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                <$t>::parse(&s).map_err(serde::de::Error::custom)
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for $t {
            type Err = ModelError;
            fn from_str(s: &str) -> Result<Self, ModelError> {
                <$t>::parse(s)
            }
        }
    };
}

/// 保険者番号: 法別番号 (2) + 都道府県番号 (2) + 保険者別番号 (3) + 検証番号 (1), or for a
/// municipal 国民健康保険 (and a 国保組合) 6 digits without 法別番号.
///
/// Invariant: 6 or 8 ASCII digits whose last digit is the check digit of the rest, and
/// whose 都道府県番号 is 01–47.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InsurerNumber(String);

impl InsurerNumber {
    const WHAT: &'static str = "保険者番号";

    /// Parses a number as printed. Surrounding spaces (the OQS files right-align 6-digit
    /// numbers in 8 characters) are ignored.
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        let s = s.trim_matches(|c| c == ' ' || c == '\u{3000}');
        if s.len() != 6 && s.len() != 8 {
            return Err(ModelError::Length {
                what: Self::WHAT,
                expected: "6 or 8",
                actual: s.chars().count(),
            });
        }
        ascii_digits(Self::WHAT, s)?;
        let b = s.as_bytes();
        let (payload, last) = b.split_at(b.len() - 1);
        check(Self::WHAT, last[0] - b'0', luhn_check_digit(payload))?;
        let number = Self(s.to_owned());
        Prefecture::from_code(number.prefecture_code()).map_err(|_| ModelError::Range {
            what: Self::WHAT,
            detail: format!("都道府県番号 {:02} is not 01–47", number.prefecture_code()),
        })?;
        Ok(number)
    }

    /// Builds a number from its parts, computing the check digit. `houbetsu` is `None`
    /// for a 6-digit 国保 number; `local` is the 3-digit 保険者別番号.
    pub fn from_parts(
        houbetsu: Option<u8>,
        prefecture: Prefecture,
        local: u16,
    ) -> Result<Self, ModelError> {
        if local > 999 {
            return Err(ModelError::Range {
                what: Self::WHAT,
                detail: format!("保険者別番号 {local} has more than 3 digits"),
            });
        }
        let mut payload = String::with_capacity(7);
        if let Some(h) = houbetsu {
            if h > 99 {
                return Err(ModelError::Range {
                    what: Self::WHAT,
                    detail: format!("法別番号 {h} has more than 2 digits"),
                });
            }
            payload.push_str(&format!("{h:02}"));
        }
        payload.push_str(&format!("{:02}{local:03}", prefecture.code()));
        let cd = luhn_check_digit(payload.as_bytes());
        payload.push(char::from(b'0' + cd));
        Ok(Self(payload))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for the 6-digit numbers of municipal 国保 and 国保組合.
    pub fn is_kokuho(&self) -> bool {
        self.0.len() == 6
    }

    /// 法別番号, absent for 6-digit 国保 numbers.
    pub fn houbetsu(&self) -> Option<u8> {
        (self.0.len() == 8).then(|| self.0[..2].parse().expect("digits"))
    }

    /// 都道府県番号 (1–47).
    pub fn prefecture_code(&self) -> u8 {
        let start = self.0.len() - 6;
        self.0[start..start + 2].parse().expect("digits")
    }

    /// The number right-aligned in 8 characters, space-padded, as the OQS XML carries it.
    pub fn padded8(&self) -> String {
        format!("{:>8}", self.0)
    }
}

impl fmt::Debug for InsurerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InsurerNumber({})", self.0)
    }
}
string_serde!(InsurerNumber);

/// Checks a free-text field of an insurance card: non-empty, at most `max` characters, no
/// control characters, no leading or trailing white space.
fn card_text(what: &'static str, s: &str, max: usize) -> Result<String, ModelError> {
    let n = s.chars().count();
    if n == 0 || n > max {
        return Err(ModelError::Length {
            what,
            expected: if max == 20 { "1 to 20" } else { "1 to 38" },
            actual: n,
        });
    }
    if let Some(found) = s.chars().find(|c| c.is_control()) {
        return Err(ModelError::Character { what, found });
    }
    if s.trim() != s || s.trim_matches('\u{3000}') != s {
        return Err(ModelError::Range {
            what,
            detail: "leading or trailing space".into(),
        });
    }
    Ok(s.to_owned())
}

/// 被保険者証記号: the symbol printed on an insurance card (digits, kana, kanji or letters;
/// absent on some cards, which the caller models as `Option`).
///
/// Invariant: 1–38 characters, no control characters, no surrounding space.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InsuredCardSymbol(String);

impl InsuredCardSymbol {
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        card_text("記号", s, 38).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Debug for InsuredCardSymbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InsuredCardSymbol({})", self.0)
    }
}
string_serde!(InsuredCardSymbol);

/// 被保険者証番号: the insured person's number within the insurer (and symbol).
///
/// Invariant: 1–20 characters, no control characters, no surrounding space.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InsuredNumber(String);

impl InsuredNumber {
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        card_text("番号", s, 20).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Debug for InsuredNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InsuredNumber({})", self.0)
    }
}
string_serde!(InsuredNumber);

/// 枝番: the 2-digit branch number that tells the members of one household apart
/// (00 is usually the insured person, 01… the family).
///
/// Invariant: exactly two ASCII digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BranchNumber([u8; 2]);

impl BranchNumber {
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        if s.len() != 2 {
            return Err(ModelError::Length {
                what: "枝番",
                expected: "2",
                actual: s.chars().count(),
            });
        }
        ascii_digits("枝番", s)?;
        let b = s.as_bytes();
        Ok(Self([b[0], b[1]]))
    }
    pub fn new(n: u8) -> Result<Self, ModelError> {
        if n > 99 {
            return Err(ModelError::Range {
                what: "枝番",
                detail: format!("{n} has more than 2 digits"),
            });
        }
        Ok(Self([b'0' + n / 10, b'0' + n % 10]))
    }
    pub fn value(self) -> u8 {
        (self.0[0] - b'0') * 10 + (self.0[1] - b'0')
    }
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ascii digits")
    }
}
impl fmt::Debug for BranchNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BranchNumber({})", self.as_str())
    }
}
string_serde!(BranchNumber);

/// 点数表番号 of a 医療機関コード: which fee schedule the institution bills under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeSchedule {
    /// 1: 医科 (clinics and hospitals).
    Medical,
    /// 3: 歯科 (dental).
    Dental,
    /// 4: 調剤 (pharmacies).
    Pharmacy,
}

impl FeeSchedule {
    pub fn digit(self) -> u8 {
        match self {
            Self::Medical => 1,
            Self::Dental => 3,
            Self::Pharmacy => 4,
        }
    }
    pub fn from_digit(d: u8) -> Option<Self> {
        match d {
            1 => Some(Self::Medical),
            3 => Some(Self::Dental),
            4 => Some(Self::Pharmacy),
            _ => None,
        }
    }
}

/// 医療機関コード (10 digits): 都道府県 (2) + 点数表 (1) + 郡市区 (2) + 医療機関番号 (4) +
/// 検証番号 (1). The check digit is computed over the first nine digits with the same
/// mod-10 scheme as 保険者番号 (checked against published codes, see `docs/`).
///
/// Invariant: 10 ASCII digits, prefecture 01–47, 点数表 1, 3 or 4, valid check digit.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstitutionCode([u8; 10]);

impl InstitutionCode {
    const WHAT: &'static str = "医療機関コード";

    pub fn parse(s: &str) -> Result<Self, ModelError> {
        if s.len() != 10 {
            return Err(ModelError::Length {
                what: Self::WHAT,
                expected: "10",
                actual: s.chars().count(),
            });
        }
        ascii_digits(Self::WHAT, s)?;
        let b: [u8; 10] = s.as_bytes().try_into().expect("length checked");
        check(Self::WHAT, b[9] - b'0', luhn_check_digit(&b[..9]))?;
        let code = Self(b);
        Prefecture::from_code(code.prefecture_code()).map_err(|_| ModelError::Range {
            what: Self::WHAT,
            detail: format!("都道府県番号 {:02} is not 01–47", code.prefecture_code()),
        })?;
        if FeeSchedule::from_digit(b[2] - b'0').is_none() {
            return Err(ModelError::Range {
                what: Self::WHAT,
                detail: format!("点数表番号 {} is not 1, 3 or 4", char::from(b[2])),
            });
        }
        Ok(code)
    }

    /// Builds a code from its parts, computing the check digit.
    pub fn from_parts(
        prefecture: Prefecture,
        schedule: FeeSchedule,
        district: u8,
        number: u16,
    ) -> Result<Self, ModelError> {
        if district > 99 || number > 9999 {
            return Err(ModelError::Range {
                what: Self::WHAT,
                detail: format!("郡市区 {district} or 医療機関番号 {number} too long"),
            });
        }
        let payload = format!(
            "{:02}{}{district:02}{number:04}",
            prefecture.code(),
            schedule.digit()
        );
        let cd = luhn_check_digit(payload.as_bytes());
        Self::parse(&format!("{payload}{cd}"))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ascii digits")
    }
    pub fn prefecture_code(&self) -> u8 {
        (self.0[0] - b'0') * 10 + (self.0[1] - b'0')
    }
    pub fn fee_schedule(&self) -> FeeSchedule {
        FeeSchedule::from_digit(self.0[2] - b'0').expect("validated")
    }
}
impl fmt::Debug for InstitutionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InstitutionCode({})", self.as_str())
    }
}
string_serde!(InstitutionCode);

/// 個人番号 (My Number): 12 digits, the last a check digit. onshi never uses it to look a
/// person up in the center; it lives on the card and in the registry.
///
/// Invariant: 12 ASCII digits with a valid check digit. `Debug` masks all but the last
/// four digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MyNumber([u8; 12]);

impl MyNumber {
    const WHAT: &'static str = "個人番号";

    pub fn parse(s: &str) -> Result<Self, ModelError> {
        if s.len() != 12 {
            return Err(ModelError::Length {
                what: Self::WHAT,
                expected: "12",
                actual: s.chars().count(),
            });
        }
        ascii_digits(Self::WHAT, s)?;
        let b: [u8; 12] = s.as_bytes().try_into().expect("length checked");
        check(Self::WHAT, b[11] - b'0', my_number_check_digit(&b[..11]))?;
        Ok(Self(b))
    }

    /// Completes an 11-digit payload with its check digit.
    pub fn from_payload(payload: u64) -> Result<Self, ModelError> {
        if payload > 99_999_999_999 {
            return Err(ModelError::Range {
                what: Self::WHAT,
                detail: "payload has more than 11 digits".into(),
            });
        }
        let p = format!("{payload:011}");
        let cd = my_number_check_digit(p.as_bytes());
        Self::parse(&format!("{p}{cd}"))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ascii digits")
    }
}
impl fmt::Debug for MyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MyNumber(********{})", &self.as_str()[8..])
    }
}
string_serde!(MyNumber);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn insurer_numbers() {
        let n = InsurerNumber::parse("33120015").unwrap();
        assert_eq!(n.houbetsu(), Some(33));
        assert_eq!(n.prefecture_code(), 12);
        assert!(InsurerNumber::parse("33120016").is_err());
        assert!(InsurerNumber::parse("3312001").is_err());
        let k = InsurerNumber::from_parts(None, Prefecture::from_code(13).unwrap(), 101).unwrap();
        assert!(k.is_kokuho());
        assert_eq!(k.padded8().len(), 8);
        assert_eq!(InsurerNumber::parse(&k.padded8()).unwrap(), k);
        assert!(matches!(
            InsurerNumber::parse("01480010"),
            Err(ModelError::CheckDigit { .. }) | Err(ModelError::Range { .. })
        ));
    }

    #[test]
    fn prefecture_out_of_range_is_refused() {
        // 法別 01, 都道府県 48: compute a valid check digit so only the range fails.
        let payload = "0148001";
        let cd = luhn_check_digit(payload.as_bytes());
        let s = format!("{payload}{cd}");
        assert!(matches!(
            InsurerNumber::parse(&s),
            Err(ModelError::Range { .. })
        ));
    }

    #[test]
    fn institution_codes() {
        let c = InstitutionCode::parse("0110113719").unwrap();
        assert_eq!(c.prefecture_code(), 1);
        assert_eq!(c.fee_schedule(), FeeSchedule::Medical);
        assert!(InstitutionCode::parse("0110113718").is_err());
        assert!(InstitutionCode::parse("011011371").is_err());
        assert!(InstitutionCode::parse("01101137１9").is_err());
    }

    #[test]
    fn my_number_debug_masks() {
        let m = MyNumber::from_payload(12345678901).unwrap();
        assert_eq!(m.as_str(), "123456789018");
        assert_eq!(format!("{m:?}"), "MyNumber(********9018)");
    }

    #[test]
    fn card_text_fields() {
        assert!(InsuredCardSymbol::parse("東京あ１２").is_ok());
        assert!(InsuredCardSymbol::parse("").is_err());
        assert!(InsuredNumber::parse(" 12").is_err());
        assert!(InsuredNumber::parse("12\n").is_err());
        assert_eq!(BranchNumber::parse("01").unwrap().value(), 1);
        assert!(BranchNumber::parse("1").is_err());
        assert_eq!(BranchNumber::new(7).unwrap().as_str(), "07");
    }

    fn mutate_each_digit(s: &str) -> Vec<String> {
        let mut out = Vec::new();
        for i in 0..s.len() {
            for d in b'0'..=b'9' {
                let mut b = s.as_bytes().to_vec();
                if b[i] != d {
                    b[i] = d;
                    out.push(String::from_utf8(b).unwrap());
                }
            }
        }
        out
    }

    proptest! {
        #[test]
        fn generated_insurer_numbers_validate_and_single_digit_changes_fail(
            houbetsu in proptest::option::of(1u8..=99), pref in 1u8..=47, local in 0u16..=999
        ) {
            let n = InsurerNumber::from_parts(houbetsu, Prefecture::from_code(pref).unwrap(), local).unwrap();
            prop_assert_eq!(InsurerNumber::parse(n.as_str()).unwrap(), n.clone());
            for m in mutate_each_digit(n.as_str()) {
                prop_assert!(InsurerNumber::parse(&m).is_err(), "{} accepted", m);
            }
        }

        #[test]
        fn generated_institution_codes_validate_and_single_digit_changes_fail(
            pref in 1u8..=47, sched in prop_oneof![Just(FeeSchedule::Medical), Just(FeeSchedule::Dental), Just(FeeSchedule::Pharmacy)],
            district in 0u8..=99, number in 0u16..=9999
        ) {
            let c = InstitutionCode::from_parts(Prefecture::from_code(pref).unwrap(), sched, district, number).unwrap();
            prop_assert_eq!(InstitutionCode::parse(c.as_str()).unwrap(), c);
            for m in mutate_each_digit(c.as_str()) {
                prop_assert!(InstitutionCode::parse(&m).is_err(), "{} accepted", m);
            }
        }

        #[test]
        fn generated_my_numbers_validate_and_single_digit_changes_fail(payload in 0u64..=99_999_999_999) {
            let m = MyNumber::from_payload(payload).unwrap();
            prop_assert_eq!(MyNumber::parse(m.as_str()).unwrap(), m.clone());
            for x in mutate_each_digit(m.as_str()) {
                // The statutory scheme maps remainders 0 and 1 both to check digit 0, so a
                // change that moves the remainder between 0 and 1 cannot be detected; every
                // other single-digit change must be.
                let r = |s: &str| -> u32 {
                    s.as_bytes()[..11].iter().rev().enumerate().map(|(i, d)| {
                        let n = i as u32 + 1;
                        u32::from(d - b'0') * if n <= 6 { n + 1 } else { n - 5 }
                    }).sum::<u32>() % 11
                };
                let undetectable = m.as_str().as_bytes()[11] == x.as_bytes()[11]
                    && r(m.as_str()) <= 1 && r(&x) <= 1;
                prop_assert_eq!(MyNumber::parse(&x).is_err(), !undetectable, "{}", x);
            }
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,16}") {
            let _ = InsurerNumber::parse(&s);
            let _ = InstitutionCode::parse(&s);
            let _ = MyNumber::parse(&s);
            let _ = BranchNumber::parse(&s);
            let _ = InsuredCardSymbol::parse(&s);
        }
    }
}
