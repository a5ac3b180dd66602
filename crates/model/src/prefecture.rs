//! The 47 都道府県 with their JIS X 0401 codes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ModelError;

/// 都道府県 by JIS X 0401 code (01 北海道 … 47 沖縄県), the 都道府県番号 of insurer numbers
/// and institution codes.
///
/// Invariant: code 1–47.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Prefecture(u8);

/// Names in JIS X 0401 order.
const NAMES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

impl Prefecture {
    pub fn from_code(code: u8) -> Result<Self, ModelError> {
        if (1..=47).contains(&code) {
            Ok(Self(code))
        } else {
            Err(ModelError::Range {
                what: "都道府県番号",
                detail: format!("{code} is not 1–47"),
            })
        }
    }
    pub fn code(self) -> u8 {
        self.0
    }
    pub fn name(self) -> &'static str {
        NAMES[usize::from(self.0 - 1)]
    }
    pub fn all() -> impl Iterator<Item = Prefecture> {
        (1..=47).map(Prefecture)
    }
}

impl TryFrom<u8> for Prefecture {
    type Error = ModelError;
    fn try_from(v: u8) -> Result<Self, ModelError> {
        Self::from_code(v)
    }
}
impl From<Prefecture> for u8 {
    fn from(p: Prefecture) -> u8 {
        p.0
    }
}
impl fmt::Debug for Prefecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Prefecture({:02} {})", self.0, self.name())
    }
}
impl fmt::Display for Prefecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
