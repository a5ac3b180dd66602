//! Element names of the OQS messages, each written once (docs/reference.md §5; the nested names of
//! the 高齢受給者証, 限度額 and 特定疾病 blocks as public clinic clients read them).

pub const XML_MSG: &str = "XmlMsg";
pub const MESSAGE_HEADER: &str = "MessageHeader";
pub const MESSAGE_BODY: &str = "MessageBody";

// Header.
pub const PROCESS_EXECUTION_TIME: &str = "ProcessExecutionTime";
pub const QUALIFICATION_CONFIRMATION_DATE: &str = "QualificationConfirmationDate";
pub const MEDICAL_INSTITUTION_CODE: &str = "MedicalInstitutionCode";
pub const ARBITRARY_FILE_IDENTIFIER: &str = "ArbitraryFileIdentifier";
pub const REFERENCE_CLASSIFICATION: &str = "ReferenceClassification";
pub const SEGMENT_OF_RESULT: &str = "SegmentOfResult";
pub const ERROR_CODE: &str = "ErrorCode";
pub const ERROR_MESSAGE: &str = "ErrorMessage";
pub const CHARACTER_CODE_IDENTIFIER: &str = "CharacterCodeIdentifier";

// Request bodies.
pub const SEARCH_INFO: &str = "QualificationConfirmSearchInfo";
pub const SEARCH_INFO_LIST: &str = "QualificationConfirmSearchInfoList";
pub const RECEPTION_NUMBER: &str = "ReceptionNumber";
pub const INSURER_NUMBER: &str = "InsurerNumber";
pub const INSURED_CARD_SYMBOL: &str = "InsuredCardSymbol";
pub const INSURED_IDENTIFICATION_NUMBER: &str = "InsuredIdentificationNumber";
pub const INSURED_BRANCH_NUMBER: &str = "InsuredBranchNumber";
pub const BIRTHDATE: &str = "Birthdate";
pub const LIMIT_CONS_FLG: &str = "LimitApplicationCertificateRelatedConsFlg";
pub const LIMIT_CONS_TIME: &str = "LimitApplicationCertificateRelatedConsTime";
pub const REFERENCE_NUMBER: &str = "ReferenceNumber";
pub const FILE_CATEGORY: &str = "FileCategory";
pub const PDF_FILE_NAME: &str = "PdfFileName";

// Medication (YZKsiquc01) and check-up (TKKsiquc01) messages, in the layout public
// clinic clients write and read (docs/emr-interface.md, "Medication and check-ups").
pub const HIST_INSURER_NUMBER: &str = "InsurerNumber";
pub const HIST_SYMBOL: &str = "InsuranceCardSymbol";
pub const HIST_NUMBER: &str = "InsuredPersonIdentificationNumber";
pub const HIST_BRANCH: &str = "BranchNumber";
pub const START_DATE: &str = "StartDate";
pub const END_DATE: &str = "EndDate";
pub const PR_DI_INF_CLASSIFICATION: &str = "PrDiInfClassification";
pub const MEDICAL_TREATMENT_FLAG: &str = "MedicalTreatmentFlag";
pub const RESULT_CODE: &str = "ResultCode";
pub const MESSAGE_CONTENTS: &str = "MessageContents";
/// The patient of a medication answer.
pub const QUA_INF: &str = "QuaInf";
pub const QUA_NAME: &str = "Name";
pub const QUA_NAME_OF_OTHER: &str = "NameOfOther";
pub const QUA_KANA_NAME: &str = "KanaName";
pub const QUA_BIRTH: &str = "Birth";
pub const QUA_SEX: &str = "AdmGendCode";
/// One month of claims of one dispensing institution (レセプト由来の薬剤情報).
pub const ME_TR_MONTH_INF: &str = "MeTrMonthInf";
pub const DI_ORG: &str = "DiOrg";
pub const ME_TR_DI_H_CD: &str = "MeTrDiHCd";
pub const ME_TR_DI_H_NM: &str = "MeTrDiHNm";
pub const PRLS_H_CD: &str = "PrlsHCd";
pub const PRLS_H_NM: &str = "PrlsHNm";
pub const ME_TR_MONTH: &str = "MeTrMonth";
pub const PR_IS_ORG: &str = "PrIsOrg";
pub const IN_OUT: &str = "InOut";
pub const DI_DATE_INFS: &str = "DiDateInfs";
pub const DI_DATE_INF: &str = "DiDateInf";
pub const DI_DATE: &str = "DiDate";
pub const DRUG_INFS: &str = "DrugInfs";
pub const DRUG_INF: &str = "DrugInf";
pub const DRUG_C: &str = "DrugC";
pub const DRUG_N: &str = "DrugN";
pub const QUA1: &str = "Qua1";
pub const UNIT: &str = "Unit";
pub const USAGE_N: &str = "UsageN";
pub const TIMES: &str = "Times";
/// Treatment (診療) rows under a day of a month of claims.
pub const ME_TR_INFS: &str = "MeTrInfs";
pub const ME_TR_INF: &str = "MeTrInf";
pub const SIN_INF_CD: &str = "SinInfCd";
pub const SIN_INF_N: &str = "SinInfN";
pub const ME_TR_ID_CL: &str = "MeTrIdCl";
/// onshi's additions to a drug: the whole dispensed amount and the days it covers.
pub const DISPENSED_QUANTITY: &str = "DispensedQuantity";
pub const DAYS_SUPPLIED: &str = "DaysSupplied";
/// The patient of a check-up answer.
pub const QUALIFICATIONS_INFO: &str = "QualificationsInfo";
pub const QI_NAME: &str = "Name";
pub const QI_NAME_OF_OTHER: &str = "NameOfOther";
pub const QI_KANA_NAME: &str = "KanasName";
pub const QI_BIRTHDAY: &str = "Birthday";
pub const QI_SEX: &str = "AdministrativeGenderCode";
pub const CHECKUP_INFO: &str = "SpecificHealthCheckupInfo";
pub const EFFECTIVE_TIME: &str = "EffectiveTime";
/// onshi's addition to a check-up: the institution that performed it.
pub const CHECKUP_INSTITUTION: &str = "ImplementationInstitutionCode";
pub const CHECKUP_ITEMS: &str = "HealthCheckupResultAndQuestionInfos";
pub const CHECKUP_ITEM: &str = "HealthCheckupResultAndQuestionInfo";
pub const ITEM_CODE: &str = "ItemCode";
pub const ITEM_NAME: &str = "ItemName";
pub const DATA_TYPE: &str = "DataType";
pub const DATA_VALUE: &str = "DataValue";
pub const DATA_UNIT: &str = "Unit";
pub const DATA_VALUE_NAME: &str = "DataValueName";

// Response body.
pub const PROCESSING_RESULT_STATUS: &str = "ProcessingResultStatus";
pub const PROCESSING_RESULT_CODE: &str = "ProcessingResultCode";
pub const PROCESSING_RESULT_MESSAGE: &str = "ProcessingResultMessage";
pub const QUALIFICATION_VALIDITY: &str = "QualificationValidity";
pub const RESULT_LIST: &str = "ResultList";
pub const RESULT: &str = "ResultOfQualificationConfirmation";
/// The per-patient results of a bulk check (onshi's design, see `BulkResult`).
pub const BULK_RESULT_LIST: &str = "QualificationConfirmResultList";
pub const BULK_RESULT: &str = "QualificationConfirmResult";
pub const SEQUENCE_NUMBER: &str = "SequenceNumber";
/// One patient of the answer to a 訪問診療 / オンライン診療 bulk search.
pub const BULK_CONFIRM_UNIT: &str = "BulkConfirmUnit";
pub const CONSENT_DATE_FROM: &str = "ConsentDateFrom";
pub const CONSENT_DATE_TO: &str = "ConsentDateTo";
pub const EXAMINATION_DATE_FROM: &str = "ExaminationDateFrom";
pub const EXAMINATION_DATE_TO: &str = "ExaminationDateTo";
pub const INSURED_CARD_CLASSIFICATION: &str = "InsuredCardClassification";
pub const PERSONAL_FAMILY_CLASSIFICATION: &str = "PersonalFamilyClassification";
pub const INSURED_NAME: &str = "InsuredName";
pub const NAME: &str = "Name";
pub const NAME_OF_OTHER: &str = "NameOfOther";
pub const NAME_KANA: &str = "NameKana";
pub const NAME_OF_OTHER_KANA: &str = "NameOfOtherKana";
pub const SEX1: &str = "Sex1";
pub const SEX2: &str = "Sex2";
pub const ADDRESS: &str = "Address";
pub const POST_NUMBER: &str = "PostNumber";
pub const QUALIFICATION_DATE: &str = "QualificationDate";
pub const DISQUALIFICATION_DATE: &str = "DisqualificationDate";
pub const INSURED_CARD_VALID_DATE: &str = "InsuredCardValidDate";
pub const INSURED_CARD_EXPIRATION_DATE: &str = "InsuredCardExpirationDate";
pub const INSURED_PARTIAL_CONTRIBUTION_RATIO: &str = "InsuredPartialContributionRatio";
pub const PRESCHOOL_CLASSIFICATION: &str = "PreschoolClassification";
pub const REASON_OF_LOSS: &str = "ReasonOfLoss";
pub const INSURER_NAME: &str = "InsurerName";
pub const ELDERLY_INFO: &str = "ElderlyRecipientCertificateInfo";
pub const ELDERLY_VALID_START: &str = "ElderlyRecipientValidStartDate";
pub const ELDERLY_VALID_END: &str = "ElderlyRecipientValidEndDate";
pub const ELDERLY_RATIO: &str = "ElderlyRecipientContributionRatio";
pub const LIMIT_INFO: &str = "LimitApplicationCertificateRelatedInfo";
pub const LIMIT_CLASSIFICATION: &str = "LimitApplicationCertificateClassification";
pub const LIMIT_CLASSIFICATION_FLAG: &str = "LimitApplicationCertificateClassificationFlag";
pub const LIMIT_VALID_START: &str = "LimitApplicationCertificateValidStartDate";
pub const LIMIT_VALID_END: &str = "LimitApplicationCertificateValidEndDate";
pub const DISEASES_LIST: &str = "SpecificDiseasesCertificateList";
pub const DISEASES_INFO: &str = "SpecificDiseasesCertificateInfo";
pub const DISEASES_CATEGORY: &str = "SpecificDiseasesDiseaseCategory";
pub const DISEASES_VALID_START: &str = "SpecificDiseasesValidStartDate";
pub const DISEASES_VALID_END: &str = "SpecificDiseasesValidEndDate";
pub const DISEASES_SELF_PAY: &str = "SpecificDiseasesSelfPay";

/// The consent elements of one information kind: (…ConsFlg, …ConsTime, …AvailableTime).
pub struct ConsentNames {
    pub flag: &'static str,
    pub time: &'static str,
    pub available: &'static str,
}

pub const CHECKUPS_CONSENT: ConsentNames = ConsentNames {
    flag: "SpecificHealthCheckupsInfoConsFlg",
    time: "SpecificHealthCheckupsInfoConsTime",
    available: "SpecificHealthCheckupsInfoAvailableTime",
};
pub const MEDICATION_CONSENT: ConsentNames = ConsentNames {
    flag: "PharmacistsInfoConsFlg",
    time: "PharmacistsInfoConsTime",
    available: "PharmacistsInfoAvailableTime",
};
/// The medication consent as another public client writes it (`PharmaceuticalInfo…`);
/// accepted when reading, never written.
pub const MEDICATION_CONSENT_ALIAS: ConsentNames = ConsentNames {
    flag: "PharmaceuticalInfoConsFlg",
    time: "PharmaceuticalInfoConsTime",
    available: "PharmaceuticalInfoAvailableTime",
};
pub const DIAGNOSES_CONSENT: ConsentNames = ConsentNames {
    flag: "DiagnosisInfoConsFlg",
    time: "DiagnosisInfoConsTime",
    available: "DiagnosisInfoAvailableTime",
};
pub const SURGERIES_CONSENT: ConsentNames = ConsentNames {
    flag: "OperationInfoConsFlg",
    time: "OperationInfoConsTime",
    available: "OperationInfoAvailableTime",
};
