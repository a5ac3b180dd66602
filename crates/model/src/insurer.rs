//! Kinds of insurers (保険者の種別) and their 法別番号.

use serde::{Deserialize, Serialize};

use crate::codes::InsuredCardClassification;
use crate::ids::InsurerNumber;

/// The kind of an insurer, which fixes its 法別番号 and the form of its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InsurerKind {
    /// 全国健康保険協会（協会けんぽ）, 法別 01.
    KyokaiKenpo,
    /// 船員保険, 法別 02.
    SeninHoken,
    /// 健康保険組合（組合健保）, 法別 06.
    KumiaiKenpo,
    /// 自衛官等, 法別 07.
    SelfDefenseForces,
    /// 国家公務員共済組合, 法別 31.
    NationalPublicServantsMutualAid,
    /// 地方公務員等共済組合, 法別 32.
    LocalPublicServantsMutualAid,
    /// 警察共済組合, 法別 33.
    PoliceMutualAid,
    /// 公立学校共済組合・日本私立学校振興・共済事業団, 法別 34.
    SchoolMutualAid,
    /// 特定健康保険組合（特例退職）, 法別 63.
    SpecialRetiree,
    /// 後期高齢者医療広域連合, 法別 39: everyone from 75.
    LateStageElderly,
    /// 市町村国民健康保険: 6-digit numbers, 保険者別番号 001–299 in onshi's numbering.
    MunicipalKokuho,
    /// 国民健康保険組合: 6-digit numbers, 保険者別番号 300–399 in onshi's numbering.
    KokuhoAssociation,
}

impl InsurerKind {
    pub const ALL: &'static [InsurerKind] = &[
        Self::KyokaiKenpo,
        Self::SeninHoken,
        Self::KumiaiKenpo,
        Self::SelfDefenseForces,
        Self::NationalPublicServantsMutualAid,
        Self::LocalPublicServantsMutualAid,
        Self::PoliceMutualAid,
        Self::SchoolMutualAid,
        Self::SpecialRetiree,
        Self::LateStageElderly,
        Self::MunicipalKokuho,
        Self::KokuhoAssociation,
    ];

    /// 法別番号; `None` for the 6-digit 国保 numbers.
    pub const fn houbetsu(self) -> Option<u8> {
        Some(match self {
            Self::KyokaiKenpo => 1,
            Self::SeninHoken => 2,
            Self::KumiaiKenpo => 6,
            Self::SelfDefenseForces => 7,
            Self::NationalPublicServantsMutualAid => 31,
            Self::LocalPublicServantsMutualAid => 32,
            Self::PoliceMutualAid => 33,
            Self::SchoolMutualAid => 34,
            Self::SpecialRetiree => 63,
            Self::LateStageElderly => 39,
            Self::MunicipalKokuho | Self::KokuhoAssociation => return None,
        })
    }

    /// The Japanese name of the kind.
    pub const fn name_ja(self) -> &'static str {
        match self {
            Self::KyokaiKenpo => "全国健康保険協会",
            Self::SeninHoken => "船員保険",
            Self::KumiaiKenpo => "健康保険組合",
            Self::SelfDefenseForces => "自衛官等",
            Self::NationalPublicServantsMutualAid => "国家公務員共済組合",
            Self::LocalPublicServantsMutualAid => "地方公務員等共済組合",
            Self::PoliceMutualAid => "警察共済組合",
            Self::SchoolMutualAid => "公立学校共済組合・私学共済",
            Self::SpecialRetiree => "特定健康保険組合",
            Self::LateStageElderly => "後期高齢者医療広域連合",
            Self::MunicipalKokuho => "市町村国民健康保険",
            Self::KokuhoAssociation => "国民健康保険組合",
        }
    }

    /// True where family members are covered as 被扶養者 (家族); 国保 and 後期高齢者医療
    /// insure every person individually.
    pub const fn has_dependants(self) -> bool {
        !matches!(
            self,
            Self::MunicipalKokuho | Self::KokuhoAssociation | Self::LateStageElderly
        )
    }

    /// The document class the insurer issues.
    pub const fn card_classification(self) -> InsuredCardClassification {
        match self {
            Self::SelfDefenseForces => InsuredCardClassification::SelfDefenseForces,
            Self::SpecialRetiree => InsuredCardClassification::SpecialRetired,
            _ => InsuredCardClassification::General,
        }
    }

    /// The kind an insurer number belongs to, from its 法別番号 (and for 6-digit numbers
    /// from onshi's 保険者別番号 ranges).
    pub fn of(number: &InsurerNumber) -> Option<Self> {
        match number.houbetsu() {
            None => {
                let local: u16 = number.as_str()[2..5].parse().ok()?;
                Some(if local >= 300 {
                    Self::KokuhoAssociation
                } else {
                    Self::MunicipalKokuho
                })
            }
            Some(h) => Self::ALL.iter().copied().find(|k| k.houbetsu() == Some(h)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Prefecture;

    #[test]
    fn kind_from_number() {
        for k in InsurerKind::ALL {
            let local = if *k == InsurerKind::KokuhoAssociation {
                301
            } else {
                12
            };
            let n =
                InsurerNumber::from_parts(k.houbetsu(), Prefecture::from_code(13).unwrap(), local)
                    .unwrap();
            assert_eq!(InsurerKind::of(&n), Some(*k), "{n}");
        }
    }
}
