//! `ResultOfQualificationConfirmation`: one qualification, written from and read into
//! [`Qualification`].

use onshi_model::{
    BranchNumber, BurdenRatio, ConsentFlag, ConsentKind, ConsentState, ElderlyRecipientInfo,
    InsuredCardClassification, InsuredCardSymbol, InsuredNumber, InsurerNumber, LimitCategory,
    LimitCertificateClassification, LimitInfo, OqsSex, PersonalFamilyClassification,
    PreschoolClassification, Qualification, ReasonOfLoss, SpecificDiseaseCategory,
    SpecificDiseaseInfo, format_yyyymmdd,
};

use super::{format_time, opt_code, opt_date, parse_time, required};
use crate::charset::{self, Charset};
use crate::error::OqsError;
use crate::names::*;
use crate::xml::{Element, Writer};

/// The consent elements per information kind. 限度額情報 (`ConsentKind::CostCeiling`) is
/// not among them: it is `LimitApplicationCertificateRelatedConsFlg`, from
/// `Qualification::limit_consent`.
const CONSENT_ELEMENTS: [(ConsentKind, ConsentNames); 4] = [
    (ConsentKind::Checkups, CHECKUPS_CONSENT),
    (ConsentKind::Medication, MEDICATION_CONSENT),
    (ConsentKind::Diagnoses, DIAGNOSES_CONSENT),
    (ConsentKind::Surgeries, SURGERIES_CONSENT),
];

fn ratio(r: &str) -> Result<BurdenRatio, onshi_model::ModelError> {
    let n: u8 = r
        .parse()
        .map_err(|_| onshi_model::ModelError::UnknownCode {
            table: "ContributionRatio",
            code: r.to_owned(),
        })?;
    BurdenRatio::try_from(n)
}

fn date(d: chrono::NaiveDate) -> String {
    format_yyyymmdd(d)
}

/// Writes one qualification. In Shift_JIS, `Name` is kept within JIS X 0208 and the exact
/// name goes to `NameOfOther` when the record has no other name of its own (see
/// [`crate::charset`]).
pub(super) fn write(w: &mut Writer, q: &Qualification, cs: Charset) {
    w.open(RESULT);
    w.leaf(INSURED_CARD_CLASSIFICATION, q.card_classification.code());
    w.leaf(INSURER_NUMBER, &q.insurer_number.padded8());
    w.leaf_opt(INSURED_CARD_SYMBOL, q.symbol.as_ref().map(|s| s.as_str()));
    w.leaf(INSURED_IDENTIFICATION_NUMBER, q.number.as_str());
    w.leaf_opt(INSURED_BRANCH_NUMBER, q.branch.as_ref().map(|b| b.as_str()));
    w.leaf(PERSONAL_FAMILY_CLASSIFICATION, q.personal_family.code());
    w.leaf(INSURED_NAME, &q.insured_name);
    let substitute = match cs {
        Charset::ShiftJis => charset::substitute_name(&q.name, &q.name_kana),
        Charset::Utf8 => None,
    };
    match &substitute {
        Some(portable) => {
            w.leaf(NAME, portable);
            w.leaf(NAME_OF_OTHER, q.name_of_other.as_deref().unwrap_or(&q.name));
        }
        None => {
            w.leaf(NAME, &q.name);
            w.leaf_opt(NAME_OF_OTHER, q.name_of_other.as_deref());
        }
    }
    w.leaf(NAME_KANA, &q.name_kana);
    w.leaf_opt(NAME_OF_OTHER_KANA, q.name_of_other_kana.as_deref());
    w.leaf(SEX1, q.sex1.code());
    w.leaf_opt(SEX2, q.sex2.map(|s| s.code()));
    w.leaf(BIRTHDATE, &date(q.birth_date));
    w.leaf(ADDRESS, &q.address);
    w.leaf_opt(POST_NUMBER, q.post_number.as_deref());
    w.leaf(QUALIFICATION_DATE, &date(q.qualification_date));
    w.leaf_opt(
        DISQUALIFICATION_DATE,
        q.disqualification_date.map(date).as_deref(),
    );
    w.leaf_opt(
        INSURED_CARD_VALID_DATE,
        q.card_valid_date.map(date).as_deref(),
    );
    w.leaf_opt(
        INSURED_CARD_EXPIRATION_DATE,
        q.card_expiration_date.map(date).as_deref(),
    );
    w.leaf_opt(
        INSURED_PARTIAL_CONTRIBUTION_RATIO,
        q.burden_ratio.map(|r| r.oqs_code()).as_deref(),
    );
    w.leaf_opt(PRESCHOOL_CLASSIFICATION, q.preschool.map(|p| p.code()));
    w.leaf_opt(REASON_OF_LOSS, q.reason_of_loss.map(|r| r.code()));
    w.leaf(INSURER_NAME, &q.insurer_name);
    if let Some(e) = &q.elderly_recipient {
        w.open(ELDERLY_INFO);
        w.leaf(ELDERLY_VALID_START, &date(e.valid_from));
        w.leaf(ELDERLY_VALID_END, &date(e.valid_until));
        w.leaf(ELDERLY_RATIO, &e.ratio.oqs_code());
        w.close(ELDERLY_INFO);
    }
    w.leaf(LIMIT_CONS_FLG, q.limit_consent.code());
    w.leaf_opt(
        LIMIT_CONS_TIME,
        q.limit_consent_time.map(format_time).as_deref(),
    );
    if let Some(l) = &q.limit {
        w.open(LIMIT_INFO);
        w.leaf(LIMIT_CLASSIFICATION, l.classification.code());
        w.leaf(LIMIT_CLASSIFICATION_FLAG, l.category.code());
        w.leaf(LIMIT_VALID_START, &date(l.valid_from));
        w.leaf_opt(LIMIT_VALID_END, l.valid_until.map(date).as_deref());
        w.close(LIMIT_INFO);
    }
    if !q.specific_diseases.is_empty() {
        w.open(DISEASES_LIST);
        for d in &q.specific_diseases {
            w.open(DISEASES_INFO);
            w.leaf(DISEASES_CATEGORY, d.category.code());
            w.leaf(DISEASES_VALID_START, &date(d.valid_from));
            w.leaf_opt(DISEASES_VALID_END, d.valid_until.map(date).as_deref());
            w.leaf(DISEASES_SELF_PAY, &d.monthly_limit_yen.to_string());
            w.close(DISEASES_INFO);
        }
        w.close(DISEASES_LIST);
    }
    for (kind, names) in &CONSENT_ELEMENTS {
        if let Some(c) = q.consents.iter().find(|c| c.kind == *kind) {
            w.leaf(names.flag, c.flag.code());
            w.leaf_opt(names.time, c.consented_at.map(format_time).as_deref());
            w.leaf_opt(
                names.available,
                c.available_until.map(format_time).as_deref(),
            );
        }
    }
    w.leaf_opt(REFERENCE_NUMBER, q.reference_number.as_deref());
    w.close(RESULT);
}

fn text(e: &Element, name: &'static str) -> Result<String, OqsError> {
    e.text_of(name).map(str::to_owned)
}

fn opt_string(e: &Element, name: &'static str) -> Result<Option<String>, OqsError> {
    Ok(e.opt_text(name)?.map(str::to_owned))
}

/// Reads one qualification. The elements the model requires are required here; the
/// rest are optional.
pub(super) fn read(e: &Element) -> Result<Qualification, OqsError> {
    let elderly_recipient = match e.child(ELDERLY_INFO)? {
        Some(x) => Some(ElderlyRecipientInfo {
            valid_from: required(x, ELDERLY_VALID_START, onshi_model::parse_yyyymmdd)?,
            valid_until: required(x, ELDERLY_VALID_END, onshi_model::parse_yyyymmdd)?,
            ratio: required(x, ELDERLY_RATIO, ratio)?,
        }),
        None => None,
    };
    let limit = match e.child(LIMIT_INFO)? {
        Some(x) => Some(LimitInfo {
            classification: required(
                x,
                LIMIT_CLASSIFICATION,
                LimitCertificateClassification::parse,
            )?,
            category: required(x, LIMIT_CLASSIFICATION_FLAG, LimitCategory::parse)?,
            valid_from: required(x, LIMIT_VALID_START, onshi_model::parse_yyyymmdd)?,
            valid_until: opt_date(x, LIMIT_VALID_END)?,
        }),
        None => None,
    };
    let specific_diseases = match e.child(DISEASES_LIST)? {
        Some(list) => list
            .all(DISEASES_INFO)
            .map(|x| {
                Ok(SpecificDiseaseInfo {
                    category: required(x, DISEASES_CATEGORY, SpecificDiseaseCategory::parse)?,
                    monthly_limit_yen: x.text_of(DISEASES_SELF_PAY)?.parse().map_err(|_| {
                        OqsError::InvalidValue {
                            element: DISEASES_SELF_PAY,
                            detail: "金額ではありません".into(),
                        }
                    })?,
                    valid_from: required(x, DISEASES_VALID_START, onshi_model::parse_yyyymmdd)?,
                    valid_until: opt_date(x, DISEASES_VALID_END)?,
                })
            })
            .collect::<Result<Vec<_>, OqsError>>()?,
        None => Vec::new(),
    };
    let mut consents = Vec::new();
    let alias = (ConsentKind::Medication, MEDICATION_CONSENT_ALIAS);
    for (kind, names) in CONSENT_ELEMENTS.iter().chain([&alias]) {
        if consents.iter().any(|c: &ConsentState| c.kind == *kind) {
            continue;
        }
        if let Some(flag) = opt_code(e, names.flag, ConsentFlag::parse)? {
            consents.push(ConsentState {
                kind: *kind,
                flag,
                consented_at: parse_time(e, names.time)?,
                available_until: parse_time(e, names.available)?,
            });
        }
    }
    consents.sort_by_key(|c| CONSENT_ELEMENTS.iter().position(|(k, _)| *k == c.kind));
    Ok(Qualification {
        card_classification: required(
            e,
            INSURED_CARD_CLASSIFICATION,
            InsuredCardClassification::parse,
        )?,
        insurer_number: required(e, INSURER_NUMBER, InsurerNumber::parse)?,
        insurer_name: text(e, INSURER_NAME)?,
        symbol: opt_code(e, INSURED_CARD_SYMBOL, InsuredCardSymbol::parse)?,
        number: required(e, INSURED_IDENTIFICATION_NUMBER, InsuredNumber::parse)?,
        branch: opt_code(e, INSURED_BRANCH_NUMBER, BranchNumber::parse)?,
        personal_family: required(
            e,
            PERSONAL_FAMILY_CLASSIFICATION,
            PersonalFamilyClassification::parse,
        )?,
        insured_name: text(e, INSURED_NAME)?,
        name: text(e, NAME)?,
        name_of_other: opt_string(e, NAME_OF_OTHER)?,
        name_kana: text(e, NAME_KANA)?,
        name_of_other_kana: opt_string(e, NAME_OF_OTHER_KANA)?,
        sex1: required(e, SEX1, OqsSex::parse)?,
        sex2: opt_code(e, SEX2, OqsSex::parse)?,
        birth_date: required(e, BIRTHDATE, onshi_model::parse_yyyymmdd)?,
        address: text(e, ADDRESS)?,
        post_number: opt_string(e, POST_NUMBER)?,
        qualification_date: required(e, QUALIFICATION_DATE, onshi_model::parse_yyyymmdd)?,
        disqualification_date: opt_date(e, DISQUALIFICATION_DATE)?,
        reason_of_loss: opt_code(e, REASON_OF_LOSS, ReasonOfLoss::parse)?,
        card_valid_date: opt_date(e, INSURED_CARD_VALID_DATE)?,
        card_expiration_date: opt_date(e, INSURED_CARD_EXPIRATION_DATE)?,
        burden_ratio: opt_code(e, INSURED_PARTIAL_CONTRIBUTION_RATIO, ratio)?,
        preschool: opt_code(e, PRESCHOOL_CLASSIFICATION, PreschoolClassification::parse)?,
        elderly_recipient,
        limit_consent: required(e, LIMIT_CONS_FLG, ConsentFlag::parse)?,
        limit_consent_time: parse_time(e, LIMIT_CONS_TIME)?,
        limit,
        specific_diseases,
        consents,
        reference_number: opt_string(e, REFERENCE_NUMBER)?,
    })
}
