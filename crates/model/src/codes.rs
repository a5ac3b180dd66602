//! The OQS code tables (OQSCD…) as public clinic clients use them: each code is named
//! once, with the code string of the XML interface and the Japanese label of the table.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ModelError;

/// Declares a code table: an enum whose variants carry the wire code and the Japanese
/// label; `code()`, `label()`, `parse()`, `ALL`, `Display` (the code) and serde as the
/// code string.
macro_rules! code_table {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($table:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, $label:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* #[doc = concat!("`", $code, "` ", $label)] $variant, )+
        }

        impl $name {
            /// Every value of the table, in code order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code as the XML interface writes it.
            pub const fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The table's Japanese label.
            pub const fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// Reads a code; unknown codes are refused with the table's name.
            pub fn parse(code: &str) -> Result<Self, ModelError> {
                match code {
                    $($code => Ok($name::$variant),)+
                    other => Err(ModelError::UnknownCode { table: $table, code: other.to_owned() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<str>::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

code_table! {
    /// ReferenceClassification: what the check was made with.
    pub enum ReferenceClassification ("ReferenceClassification") {
        MyNumberCard = "1", "マイナンバーカード";
        InsuranceData = "2", "被保険者証情報";
    }
}

code_table! {
    /// SegmentOfResult: how the processing of a request ended.
    pub enum SegmentOfResult ("SegmentOfResult") {
        Normal = "1", "正常終了";
        Processing = "2", "処理中";
        Abnormal = "9", "異常終了";
    }
}

code_table! {
    /// ProcessingResultStatus.
    pub enum ProcessingResultStatus ("ProcessingResultStatus") {
        Normal = "1", "正常終了";
        Error = "2", "エラー";
    }
}

code_table! {
    /// CharacterCodeIdentifier: the encoding of a request or response file.
    pub enum CharacterCodeIdentifier ("CharacterCodeIdentifier") {
        Utf8 = "0", "UTF-8";
        ShiftJis = "1", "Shift_JIS";
    }
}

code_table! {
    /// QualificationValidity: the outcome of an eligibility check.
    pub enum QualificationValidity ("QualificationValidity") {
        Valid = "1", "有効";
        Invalid = "2", "無効";
        InvalidNewerExists = "3", "無効（新しい資格あり）";
        NotFound = "4", "該当資格なし";
        Several = "5", "複数該当";
    }
}

code_table! {
    /// InsuredCardClassification: the kind of insurance document.
    pub enum InsuredCardClassification ("InsuredCardClassification") {
        General = "01", "被保険者証（一般）";
        Retired = "02", "被保険者証（退職）";
        ShortTermGeneral = "03", "短期被保険者証（一般）";
        ShortTermRetired = "04", "短期被保険者証（退職）";
        QualificationCertificate = "05", "被保険者資格証明書";
        SpecialRetired = "06", "特例退職被保険者証";
        SelfDefenseForces = "07", "自衛官診療証";
    }
}

code_table! {
    /// PersonalFamilyClassification: 本人 or 家族.
    pub enum PersonalFamilyClassification ("PersonalFamilyClassification") {
        Insured = "1", "本人";
        Family = "2", "家族";
    }
}

code_table! {
    /// Sex1 / Sex2 of the eligibility result.
    pub enum OqsSex ("Sex") {
        Male = "1", "男";
        Female = "2", "女";
        Unset = "3", "未設定";
    }
}

code_table! {
    /// PreschoolClassification.
    pub enum PreschoolClassification ("PreschoolClassification") {
        Preschool = "1", "未就学該当";
    }
}

code_table! {
    /// ReasonOfLoss: why a qualification ended (資格喪失事由).
    pub enum ReasonOfLoss ("ReasonOfLoss") {
        Death = "01", "死亡";
        Welfare = "02", "生活保護受給開始";
        OtherInsurance = "03", "医療保険等の資格取得";
        Other = "99", "その他";
    }
}

code_table! {
    /// PrescriptionIssueSelect.
    pub enum PrescriptionIssueSelect ("PrescriptionIssueSelect") {
        Electronic = "1", "電子処方箋";
        Paper = "2", "紙の処方箋";
    }
}

code_table! {
    /// LimitApplicationCertificateRelatedConsFlg and the other …ConsFlg of the result.
    pub enum ConsentFlag ("ConsFlg") {
        NotConsented = "0", "未同意";
        Consented = "1", "同意";
    }
}

code_table! {
    /// SpecificDiseasesCertificateRelatedConsFlg.
    pub enum SpecificDiseasesConsentFlag ("SpecificDiseasesCertificateRelatedConsFlg") {
        None = "0", "同意なし";
        Consented = "1", "同意あり";
        Expired = "2", "同意有効期限切れ";
    }
}

code_table! {
    /// LimitApplicationCertificateClassification: which 限度額 certificate applies.
    pub enum LimitCertificateClassification ("LimitApplicationCertificateClassification") {
        Limit = "01", "限度額適用認定証";
        LimitAndReduction = "02", "限度額適用・標準負担額減額認定証";
        Reduction = "03", "標準負担額減額認定証";
    }
}

code_table! {
    /// LimitApplicationCertificateClassificationFlag: the 限度額適用区分 (income category).
    /// A-codes apply under 70, B-codes from 70.
    pub enum LimitCategory ("LimitApplicationCertificateClassificationFlag") {
        A01 = "A01", "ア";
        A02 = "A02", "イ";
        A03 = "A03", "ウ";
        A04 = "A04", "エ";
        A05 = "A05", "オ";
        A06 = "A06", "オ（境）";
        B01 = "B01", "現役並みⅢ";
        B02 = "B02", "現役並みⅡ";
        B03 = "B03", "現役並みⅠ";
        B04 = "B04", "一般";
        B05 = "B05", "低所得Ⅱ";
        B06 = "B06", "低所得Ⅰ";
        B07 = "B07", "低所得Ⅰ（老福）";
        B08 = "B08", "低所得Ⅰ（境）";
        B09 = "B09", "一般Ⅱ";
        B10 = "B10", "一般Ⅰ";
    }
}

impl LimitCategory {
    /// True for the categories of people aged 70 and over (B-codes).
    pub fn is_seventy_plus(self) -> bool {
        self.code().starts_with('B')
    }
}

code_table! {
    /// SpecificDiseases DiseaseCategory (特定疾病療養受療証).
    pub enum SpecificDiseaseCategory ("DiseaseCategory") {
        ChronicRenalFailure = "1", "人工透析を要する慢性腎不全";
        CoagulationFactorDisorder = "2", "血漿分画製剤を投与している先天性血液凝固第Ⅷ因子障害又は先天性血液凝固第Ⅸ因子障害";
        HivFromCoagulationProducts = "3", "抗ウイルス剤を投与している後天性免疫不全症候群";
    }
}

code_table! {
    /// The five kinds of information a patient may agree to share at the reader.
    pub enum ConsentKind ("ConsentKind") {
        /// 薬剤情報: dispensed medication.
        Medication = "1", "薬剤情報";
        /// 特定健診等情報: specific health check-ups.
        Checkups = "2", "特定健診等情報";
        /// 診療情報: diagnoses and treatments.
        Diagnoses = "3", "診療情報";
        /// 手術情報: surgeries.
        Surgeries = "4", "手術情報";
        /// 限度額情報: the high-cost ceiling category.
        CostCeiling = "5", "限度額情報";
    }
}

code_table! {
    /// How the patient's identity was established for a check (recorded by the center).
    pub enum VerificationMethod ("VerificationMethod") {
        CardPin = "1", "暗証番号（カード）";
        CardFace = "2", "顔認証（カード）";
        CardVisual = "3", "目視確認（カード）";
        AndroidPin = "4", "スマートフォン（Android・暗証番号）";
        IphoneBiometric = "5", "スマートフォン（iPhone・生体認証）";
        InsuranceData = "6", "保険証・資格確認書の情報";
    }
}

code_table! {
    /// The kind of a medical institution (for statistics and synthetic data).
    pub enum InstitutionKind ("InstitutionKind") {
        Clinic = "1", "診療所";
        Hospital = "2", "病院";
        Dental = "3", "歯科";
        Pharmacy = "4", "薬局";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_serde_and_parse() {
        for v in QualificationValidity::ALL {
            assert_eq!(QualificationValidity::parse(v.code()).unwrap(), *v);
            let j = serde_json::to_string(v).unwrap();
            assert_eq!(
                serde_json::from_str::<QualificationValidity>(&j).unwrap(),
                *v
            );
        }
        assert_eq!(LimitCategory::ALL.len(), 16);
        assert!(LimitCategory::B10.is_seventy_plus());
        assert!(!LimitCategory::A06.is_seventy_plus());
    }

    #[test]
    fn unknown_codes_name_their_table() {
        let e = ReasonOfLoss::parse("04").unwrap_err();
        assert_eq!(e.to_string(), "ReasonOfLoss: unknown code \"04\"");
        assert!(serde_json::from_str::<OqsSex>("\"4\"").is_err());
    }
}
