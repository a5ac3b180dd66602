//! The eligibility query and result: every field of the OQS `ResultOfQualificationConfirmation`
//! (docs/reference.md §5), typed.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::codes::*;
use crate::error::ModelError;
use crate::ids::{BranchNumber, InsuredCardSymbol, InsuredNumber, InsurerNumber};

/// 一部負担金の割合: the share of costs the patient pays at the counter, in percent.
///
/// Invariant: 10, 20 or 30.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct BurdenRatio(u8);

impl BurdenRatio {
    pub const TEN: BurdenRatio = BurdenRatio(10);
    pub const TWENTY: BurdenRatio = BurdenRatio(20);
    pub const THIRTY: BurdenRatio = BurdenRatio(30);

    pub fn percent(self) -> u8 {
        self.0
    }

    /// The statutory share by age: 2割 before school age, 3割 to 69, 2割 from 70 to 74,
    /// 1割 from 75; people with 現役並み所得 pay 3割 from 70, and 一般Ⅱ pays 2割 from 75.
    pub fn statutory(age: u32, preschool: bool, limit: Option<LimitCategory>) -> Self {
        use LimitCategory::*;
        let high_income = matches!(limit, Some(B01 | B02 | B03));
        match age {
            _ if preschool => Self::TWENTY,
            0..=69 => Self::THIRTY,
            70..=74 if high_income => Self::THIRTY,
            70..=74 => Self::TWENTY,
            _ if high_income => Self::THIRTY,
            _ if limit == Some(B09) => Self::TWENTY,
            _ => Self::TEN,
        }
    }

    /// `InsuredPartialContributionRatio` as the XML writes it: three digits of percent
    /// (`030` for 3割).
    pub fn oqs_code(self) -> String {
        format!("{:03}", self.0)
    }
}

impl TryFrom<u8> for BurdenRatio {
    type Error = ModelError;
    fn try_from(v: u8) -> Result<Self, ModelError> {
        match v {
            10 | 20 | 30 => Ok(Self(v)),
            _ => Err(ModelError::Range {
                what: "負担割合",
                detail: format!("{v}% is not 10, 20 or 30"),
            }),
        }
    }
}
impl From<BurdenRatio> for u8 {
    fn from(b: BurdenRatio) -> u8 {
        b.0
    }
}

/// An eligibility check by the data on an insurance card or 資格確認書 (the
/// `QualificationConfirmSearchInfo` of `OQSsiquc01`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsuranceDataQuery {
    pub insurer_number: InsurerNumber,
    /// 記号: absent on cards that print none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<InsuredCardSymbol>,
    pub number: InsuredNumber,
    /// 枝番: absent on documents issued before branch numbers existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<BranchNumber>,
    pub birth_date: NaiveDate,
    /// Whether the patient agreed to share the 限度額 category (LimitApplicationCertificateRelatedConsFlg).
    #[serde(default)]
    pub limit_consent: bool,
}

/// 高齢受給者証 information (people aged 70 to 74).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElderlyRecipientInfo {
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub ratio: BurdenRatio,
}

/// 限度額適用認定証 information, given only with the patient's consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitInfo {
    pub classification: LimitCertificateClassification,
    pub category: LimitCategory,
    pub valid_from: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
}

/// 特定疾病療養受療証 information.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecificDiseaseInfo {
    pub category: SpecificDiseaseCategory,
    /// 自己負担限度額 in yen a month (10,000 or 20,000).
    pub monthly_limit_yen: u32,
    pub valid_from: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
}

/// The state of one consent kind as the result reports it (…ConsFlg, …ConsTime,
/// …AvailableTime = ConsTime + 24 h).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentState {
    pub kind: ConsentKind,
    pub flag: ConsentFlag,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consented_at: Option<NaiveDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_until: Option<NaiveDateTime>,
}

/// One qualification of the result (`ResultOfQualificationConfirmation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Qualification {
    pub card_classification: InsuredCardClassification,
    pub insurer_number: InsurerNumber,
    pub insurer_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<InsuredCardSymbol>,
    pub number: InsuredNumber,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<BranchNumber>,
    pub personal_family: PersonalFamilyClassification,
    /// 被保険者氏名: the insured person's name (the head of household for a family member).
    pub insured_name: String,
    /// 氏名 with a full-width space.
    pub name: String,
    /// 氏名（その他）: a name in other characters (for example an alias or a name outside
    /// JIS X 0208 written another way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_of_other: Option<String>,
    /// 氏名カナ in half-width katakana.
    pub name_kana: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_of_other_kana: Option<String>,
    pub sex1: OqsSex,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex2: Option<OqsSex>,
    pub birth_date: NaiveDate,
    pub address: String,
    /// 郵便番号 as `123-4567`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_number: Option<String>,
    pub qualification_date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disqualification_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_of_loss: Option<ReasonOfLoss>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_valid_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_expiration_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burden_ratio: Option<BurdenRatio>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preschool: Option<PreschoolClassification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elderly_recipient: Option<ElderlyRecipientInfo>,
    pub limit_consent: ConsentFlag,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_consent_time: Option<NaiveDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<LimitInfo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub specific_diseases: Vec<SpecificDiseaseInfo>,
    /// The per-kind consent states (reader receptions only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consents: Vec<ConsentState>,
    /// 照会番号: the clinic's own patient id registered with OQSsiimm01 (≤ 50 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_number: Option<String>,
}

/// The outcome of an eligibility check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibilityResult {
    pub reference: ReferenceClassification,
    pub validity: QualificationValidity,
    /// ProcessExecutionTime.
    pub processed_at: NaiveDateTime,
    /// The date the qualification was evaluated on (QualificationConfirmationDate).
    pub as_of: NaiveDate,
    /// Zero records for 該当資格なし; one for 有効 / 無効 / 無効（新しい資格あり）; several
    /// for 複数該当. For 無効（新しい資格あり） the lost record comes first.
    pub records: Vec<Qualification>,
}

/// The rule the center applies to the records matching a query on a date: `current` counts
/// records in force that day (acquired on or before it, not lost on or before it), `lost`
/// the others, and `newer_exists` says whether the same person holds a qualification in
/// force elsewhere (a job change).
pub fn decide_validity(current: usize, lost: usize, newer_exists: bool) -> QualificationValidity {
    match (current, lost) {
        (0, 0) => QualificationValidity::NotFound,
        (1, _) => QualificationValidity::Valid,
        (n, _) if n > 1 => QualificationValidity::Several,
        (_, _) if newer_exists => QualificationValidity::InvalidNewerExists,
        _ => QualificationValidity::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statutory_burden() {
        use LimitCategory::*;
        assert_eq!(BurdenRatio::statutory(4, true, None), BurdenRatio::TWENTY);
        assert_eq!(BurdenRatio::statutory(40, false, None), BurdenRatio::THIRTY);
        assert_eq!(BurdenRatio::statutory(72, false, None), BurdenRatio::TWENTY);
        assert_eq!(
            BurdenRatio::statutory(72, false, Some(B02)),
            BurdenRatio::THIRTY
        );
        assert_eq!(BurdenRatio::statutory(80, false, None), BurdenRatio::TEN);
        assert_eq!(
            BurdenRatio::statutory(80, false, Some(B09)),
            BurdenRatio::TWENTY
        );
        assert_eq!(BurdenRatio::THIRTY.oqs_code(), "030");
        assert!(BurdenRatio::try_from(15).is_err());
    }

    #[test]
    fn validity_rule() {
        assert_eq!(
            decide_validity(0, 0, false),
            QualificationValidity::NotFound
        );
        assert_eq!(decide_validity(1, 1, false), QualificationValidity::Valid);
        assert_eq!(decide_validity(2, 0, false), QualificationValidity::Several);
        assert_eq!(
            decide_validity(0, 1, true),
            QualificationValidity::InvalidNewerExists
        );
        assert_eq!(decide_validity(0, 1, false), QualificationValidity::Invalid);
    }
}
