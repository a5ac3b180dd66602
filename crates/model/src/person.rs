//! A person's name and sex as the registry and the insurers hold them.

use serde::{Deserialize, Serialize};

use crate::codes::OqsSex;
use crate::error::ModelError;

/// Sex as ISO/IEC 5218 codes it on the card (1 male, 2 female, 9 not applicable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
    NotApplicable,
}

impl Sex {
    /// The ISO/IEC 5218 digit written on the card.
    pub const fn iso5218(self) -> u8 {
        match self {
            Self::Male => 1,
            Self::Female => 2,
            Self::NotApplicable => 9,
        }
    }
    pub fn from_iso5218(d: u8) -> Result<Self, ModelError> {
        match d {
            1 => Ok(Self::Male),
            2 => Ok(Self::Female),
            9 => Ok(Self::NotApplicable),
            _ => Err(ModelError::UnknownCode {
                table: "ISO/IEC 5218",
                code: d.to_string(),
            }),
        }
    }
    /// The code of the OQS result (3 未設定 stands for "not applicable").
    pub const fn oqs(self) -> OqsSex {
        match self {
            Self::Male => OqsSex::Male,
            Self::Female => OqsSex::Female,
            Self::NotApplicable => OqsSex::Unset,
        }
    }
    pub const fn label(self) -> &'static str {
        match self {
            Self::Male => "男",
            Self::Female => "女",
            Self::NotApplicable => "未設定",
        }
    }
}

/// A name in kanji (family and given, written with a full-width space between them as
/// the OQS `Name` element does) and its reading in full-width katakana.
///
/// Invariant: both parts non-empty, no control characters, and the reading is katakana
/// (with the long-vowel mark and middle dot).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersonName {
    pub family: String,
    pub given: String,
    pub family_kana: String,
    pub given_kana: String,
}

impl PersonName {
    pub fn new(
        family: &str,
        given: &str,
        family_kana: &str,
        given_kana: &str,
    ) -> Result<Self, ModelError> {
        for (what, s) in [
            ("姓", family),
            ("名", given),
            ("姓カナ", family_kana),
            ("名カナ", given_kana),
        ] {
            if s.is_empty() || s.chars().count() > 50 {
                return Err(ModelError::Length {
                    what,
                    expected: "1 to 50",
                    actual: s.chars().count(),
                });
            }
            if let Some(found) = s.chars().find(|c| c.is_control() || c.is_whitespace()) {
                return Err(ModelError::Character { what, found });
            }
        }
        for (what, s) in [("姓カナ", family_kana), ("名カナ", given_kana)] {
            if let Some(found) = s.chars().find(|c| !is_katakana(*c)) {
                return Err(ModelError::Character { what, found });
            }
        }
        Ok(Self {
            family: family.into(),
            given: given.into(),
            family_kana: family_kana.into(),
            given_kana: given_kana.into(),
        })
    }

    /// `姓　名` with a full-width space, as the OQS `Name` element.
    pub fn full(&self) -> String {
        format!("{}\u{3000}{}", self.family, self.given)
    }

    /// The reading with a full-width space.
    pub fn full_kana(&self) -> String {
        format!("{}\u{3000}{}", self.family_kana, self.given_kana)
    }

    /// The reading in half-width katakana with a half-width space, as the OQS
    /// `NameKana` element (`ｼﾝﾘｮｳ ﾀﾛｳ`).
    pub fn kana_halfwidth(&self) -> String {
        format!(
            "{} {}",
            to_halfwidth_katakana(&self.family_kana),
            to_halfwidth_katakana(&self.given_kana)
        )
    }
}

fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | 'ー' | '・')
}

/// Full-width katakana → half-width (JIS X 0201) katakana, splitting voiced and
/// semi-voiced sounds into base + ﾞ/ﾟ. Characters without a half-width form are kept.
pub fn to_halfwidth_katakana(s: &str) -> String {
    const BASE: &str =
        "ｧｱｨｲｩｳｪｴｫｵｶｶｷｷｸｸｹｹｺｺｻｻｼｼｽｽｾｾｿｿﾀﾀﾁﾁｯﾂﾂﾃﾃﾄﾄﾅﾆﾇﾈﾉﾊﾊﾊﾋﾋﾋﾌﾌﾌﾍﾍﾍﾎﾎﾎﾏﾐﾑﾒﾓｬﾔｭﾕｮﾖﾗﾘﾙﾚﾛﾜﾜｲｴｦﾝｳ";
    // Marks for ァ (U+30A1) … ヴ (U+30F4): 0 none, 1 dakuten, 2 handakuten.
    const MARK: [u8; 84] = [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // ァアィイゥウェエォオ
        0, 1, 0, 1, 0, 1, 0, 1, 0, 1, // カガキギクグケゲコゴ
        0, 1, 0, 1, 0, 1, 0, 1, 0, 1, // サザシジスズセゼソゾ
        0, 1, 0, 1, 0, 0, 1, 0, 1, 0, // タダチヂッツヅテデト
        1, 0, 0, 0, 0, 0, 0, 1, 2, 0, // ドナニヌネノハバパヒ
        1, 2, 0, 1, 2, 0, 1, 2, 0, 1, // ビピフブプヘベペホボ
        2, 0, 0, 0, 0, 0, 0, 0, 0, 0, // ポマミムメモャヤュユ
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // ョヨラリルレロヮワヰ
        0, 0, 0, 1, // ヱヲンヴ
    ];
    let base: Vec<char> = BASE.chars().collect();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let cp = c as u32;
        match c {
            '\u{30A1}'..='\u{30F4}' => {
                let i = (cp - 0x30A1) as usize;
                out.push(base[i]);
                match MARK[i] {
                    1 => out.push('ﾞ'),
                    2 => out.push('ﾟ'),
                    _ => {}
                }
            }
            'ー' => out.push('ｰ'),
            '・' => out.push('･'),
            '\u{3000}' => out.push(' '),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halfwidth_kana_as_the_oqs_files_write_it() {
        let n = PersonName::new("診療", "太郎", "シンリョウ", "タロウ").unwrap();
        assert_eq!(n.kana_halfwidth(), "ｼﾝﾘｮｳ ﾀﾛｳ");
        assert_eq!(n.full(), "診療\u{3000}太郎");
        assert_eq!(
            to_halfwidth_katakana("ガッコウ・パンダ・ヴィーナス"),
            "ｶﾞｯｺｳ･ﾊﾟﾝﾀﾞ･ｳﾞｨｰﾅｽ"
        );
        assert_eq!(to_halfwidth_katakana("ヰヱヲン"), "ｲｴｦﾝ");
    }

    #[test]
    fn names_are_checked() {
        assert!(PersonName::new("髙橋", "𠮷男", "タカハシ", "ヨシオ").is_ok());
        assert!(PersonName::new("", "太郎", "シンリョウ", "タロウ").is_err());
        assert!(PersonName::new("診療", "太郎", "しんりょう", "タロウ").is_err());
    }
}
