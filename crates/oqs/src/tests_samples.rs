//! The response files of docs/samples, written by this crate: one of every message the
//! terminal writes (`res/` answers to the sample requests beside them, and a `face/` reader
//! result), in both encodings. The times are fixed, so the files are the same on every run;
//! the test fails when the code would now write something else, and
//! `ONSHI_WRITE_SAMPLES=1 cargo test -p onshi-oqs samples` writes them again.

use std::path::{Path, PathBuf};

use super::*;

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/samples")
}

/// The 照会番号 registered by the `OQSsiimm01` sample and returned by the bulk result.
const REFERENCE: &str = "患者-000123";
/// The reception of the `face/` sample.
const RECEPTION: &str = "1748824200000001";
/// The 受付番号 of the 訪問診療 search samples.
const HOME_CARE_RECEPTION: &str = "B7C3E1D2A4F5061728394A5B6";
/// The 受付番号 of the bulk samples.
const BULK_RECEPTION: &str = "B5F0C2A9E14D7B3368A1C0D2E";

fn consent(kind: ConsentKind, at: &str, until: &str) -> ConsentState {
    ConsentState {
        kind,
        flag: ConsentFlag::Consented,
        consented_at: Some(t(at)),
        available_until: Some(t(until)),
    }
}

/// The patient of the sample requests, as the insurer registered them.
fn basic() -> Qualification {
    Qualification {
        card_classification: InsuredCardClassification::General,
        insurer_number: insurer6(),
        insurer_name: "東京都杉並区".into(),
        symbol: Some(InsuredCardSymbol::parse("杉並").unwrap()),
        number: InsuredNumber::parse("1234567").unwrap(),
        branch: Some(BranchNumber::new(0).unwrap()),
        personal_family: PersonalFamilyClassification::Insured,
        insured_name: "髙橋\u{3000}一郎".into(),
        name: "髙橋\u{3000}一郎".into(),
        name_of_other: None,
        name_kana: "ﾀｶﾊｼ ｲﾁﾛｳ".into(),
        name_of_other_kana: None,
        sex1: OqsSex::Male,
        sex2: None,
        birth_date: d("19500401"),
        address: "東京都杉並区阿佐谷南１－１５－１".into(),
        post_number: Some("166-8570".into()),
        qualification_date: d("20100401"),
        disqualification_date: None,
        reason_of_loss: None,
        card_valid_date: Some(d("20240801")),
        card_expiration_date: None,
        burden_ratio: Some(BurdenRatio::TWENTY),
        preschool: None,
        elderly_recipient: None,
        limit_consent: ConsentFlag::NotConsented,
        limit_consent_time: None,
        limit: None,
        specific_diseases: Vec::new(),
        consents: Vec::new(),
        reference_number: None,
    }
}

/// The single check's record: every optional block the model carries (高齢受給者証,
/// 限度額 with consent, 特定疾病).
fn full() -> Qualification {
    Qualification {
        sex2: Some(OqsSex::Male),
        card_expiration_date: Some(d("20260731")),
        elderly_recipient: Some(ElderlyRecipientInfo {
            valid_from: d("20240801"),
            valid_until: d("20250731"),
            ratio: BurdenRatio::TWENTY,
        }),
        limit_consent: ConsentFlag::Consented,
        limit_consent_time: Some(t("20250602093004")),
        limit: Some(LimitInfo {
            classification: LimitCertificateClassification::LimitAndReduction,
            category: LimitCategory::B05,
            valid_from: d("20240801"),
            valid_until: Some(d("20250731")),
        }),
        specific_diseases: vec![SpecificDiseaseInfo {
            category: SpecificDiseaseCategory::ChronicRenalFailure,
            monthly_limit_yen: 10_000,
            valid_from: d("20200101"),
            valid_until: None,
        }],
        ..basic()
    }
}

/// The reader's record: the consents given at the reception (medication, check-ups and
/// the 限度額 information).
fn at_reader() -> Qualification {
    Qualification {
        limit_consent: ConsentFlag::Consented,
        limit_consent_time: Some(t("20250602093000")),
        limit: full().limit,
        consents: vec![
            consent(ConsentKind::Checkups, "20250602093000", "20250603093000"),
            consent(ConsentKind::Medication, "20250602093000", "20250603093000"),
            ConsentState {
                kind: ConsentKind::Diagnoses,
                flag: ConsentFlag::NotConsented,
                consented_at: None,
                available_until: None,
            },
        ],
        ..basic()
    }
}

/// The patient of the medication and check-up answers: the samples' patient.
fn history_patient() -> HistoryPatient {
    let q = basic();
    HistoryPatient {
        name: q.name,
        kana: q.name_kana,
        birth_date: q.birth_date,
        sex: q.sex1,
    }
}

fn medication() -> HistoryAnswer {
    let drug =
        |code: &str, name: &str, usage: &str, quantity_x10: i64, days: u32| MedicationEntry {
            dispensed_on: d("20250512"),
            drug_code: code.into(),
            drug_name: name.into(),
            usage: usage.into(),
            quantity_x10,
            unit: "錠".into(),
            days_supplied: days,
            prescriber: institution(),
            prescriber_name: "杉並中央クリニック".into(),
            pharmacy: InstitutionCode::from_parts(
                Prefecture::from_code(13).unwrap(),
                FeeSchedule::Pharmacy,
                12,
                3456,
            )
            .unwrap(),
            pharmacy_name: "阿佐谷薬局".into(),
        };
    HistoryAnswer {
        patient: history_patient(),
        period: Some(MonthRange::new(d("20250201"), d("20250531")).unwrap()),
        category: FileCategory::Pdf,
        content: HistoryContent::Medications(vec![
            drug(
                "2149039F1020",
                "アムロジピン錠５ｍｇ",
                "１日１回朝食後",
                280,
                28,
            ),
            drug(
                "3969007F1020",
                "メトホルミン塩酸塩錠２５０ｍｇ",
                "１日２回朝夕食後",
                560,
                28,
            ),
            drug(
                "1149019F1020",
                "ロキソプロフェンＮａ錠６０ｍｇ",
                "疼痛時",
                100,
                5,
            ),
        ]),
        treatments: Vec::new(),
    }
}

fn checkups() -> HistoryAnswer {
    use CheckupItem::*;
    let q = |item, v: &str| (item, CheckupValue::Quantity(v.into()));
    HistoryAnswer {
        patient: history_patient(),
        period: None,
        category: FileCategory::Xml,
        content: HistoryContent::Checkups(vec![CheckupEntry {
            performed_on: d("20241015"),
            institution: Some(institution()),
            results: vec![
                q(Height, "165.2"),
                q(Weight, "63.4"),
                q(Bmi, "23.2"),
                q(Waist, "84"),
                q(Systolic, "132"),
                q(Diastolic, "84"),
                q(FastingGlucose, "112"),
                q(HbA1c, "6.1"),
                q(Triglycerides, "148"),
                q(Hdl, "52"),
                q(Ldl, "138"),
                q(Ast, "24"),
                q(Alt, "22"),
                q(Ggt, "38"),
                (UrineGlucose, CheckupValue::Urine(UrineLevel::Negative)),
                (UrineProtein, CheckupValue::Urine(UrineLevel::Trace)),
            ],
        }]),
        treatments: Vec::new(),
    }
}

/// Every response sample of one encoding: (file name, bytes), from the request samples of
/// the same folder.
fn responses(folder: &Path, charset: Charset) -> Vec<(String, Vec<u8>)> {
    let request = |name: &str| {
        let bytes = std::fs::read(folder.join(name)).unwrap();
        let kind = MessageKind::from_request_file_name(name).unwrap();
        let r = parse_request(kind, &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.charset, charset, "{name}");
        (response_file_name(name).unwrap(), r.header)
    };
    let mut out = Vec::new();

    let (name, header) = request("OQSsiquc01req_202506020001.xml");
    let single = EligibilityResult {
        reference: ReferenceClassification::InsuranceData,
        validity: QualificationValidity::Valid,
        processed_at: t("20250602093005"),
        as_of: d("20250602"),
        records: vec![full()],
    };
    out.push((
        name,
        eligibility_response(&header, &single, charset).unwrap(),
    ));

    let (name, header) = request("OQSsiimm01req_202506020002.xml");
    out.push((
        name,
        registration_response(&header, REFERENCE, t("20250602093008"), charset).unwrap(),
    ));

    let (name, header) = request("OQSmuquc01req_202506020003.xml");
    out.push((
        name,
        bulk_accepted_response(&header, BULK_RECEPTION, t("20250602093010"), charset).unwrap(),
    ));

    let (name, header) = request("OQSmuquc02req_202506020004.xml");
    let found = Qualification {
        reference_number: Some(REFERENCE.into()),
        ..basic()
    };
    let bulk = vec![
        BulkResult {
            sequence: 1,
            status: ProcessingResultStatus::Normal,
            error: None,
            validity: Some(QualificationValidity::Valid),
            records: vec![found],
        },
        BulkResult {
            sequence: 2,
            status: ProcessingResultStatus::Normal,
            error: None,
            validity: Some(QualificationValidity::NotFound),
            records: Vec::new(),
        },
    ];
    out.push((
        name,
        bulk_result_response(
            &header,
            BULK_RECEPTION,
            d("20250602"),
            bulk,
            BulkLayout::ResultList,
            t("20250602093500"),
            charset,
        )
        .unwrap(),
    ));

    // FileCategory 1: the PDF beside the XML that names it.
    let (name, header) = request("YZKsiquc01req_202506020005.xml");
    let answer = medication();
    let pdf_name = name.replace(".xml", ".pdf");
    out.push((
        pdf_name.clone(),
        answer.to_pdf("医療機関コード 1311234569　作成 2025-06-02 09:36"),
    ));
    out.push((
        name,
        history_response(
            &header,
            &answer,
            Some(&pdf_name),
            t("20250602093600"),
            charset,
        )
        .unwrap(),
    ));

    let (name, header) = request("TKKsiquc01req_202506020006.xml");
    out.push((
        name,
        history_response(&header, &checkups(), None, t("20250602093700"), charset).unwrap(),
    ));

    // 訪問診療の一括照会: accepted with a 受付番号, then one BulkConfirmUnit per patient
    // who consented at home (with the clinic's 照会番号).
    let (name, header) = request("OQSmuhvq01req_202506020007.xml");
    out.push((
        name,
        bulk_accepted_response(&header, HOME_CARE_RECEPTION, t("20250602094013"), charset).unwrap(),
    ));
    let (name, header) = request("OQSmuhvq02req_202506020008.xml");
    let unit = BulkResult {
        sequence: 1,
        status: ProcessingResultStatus::Normal,
        error: None,
        validity: Some(QualificationValidity::Valid),
        records: vec![Qualification {
            reference_number: Some(REFERENCE.into()),
            ..basic()
        }],
    };
    out.push((
        name,
        bulk_result_response(
            &header,
            HOME_CARE_RECEPTION,
            d("20250602"),
            vec![unit],
            BulkLayout::ConfirmUnits,
            t("20250602094100"),
            charset,
        )
        .unwrap(),
    ));

    let at = t("20250602093000");
    let reader = EligibilityResult {
        reference: ReferenceClassification::MyNumberCard,
        validity: QualificationValidity::Valid,
        processed_at: at,
        as_of: at.date(),
        records: vec![at_reader()],
    };
    out.push((
        face_file_name(RECEPTION, at).unwrap(),
        face_result(institution(), &reader, charset).unwrap(),
    ));
    out
}

#[test]
fn the_sample_responses_are_what_this_crate_writes() {
    let write = std::env::var_os("ONSHI_WRITE_SAMPLES").is_some();
    for (sub, charset) in [("utf8", Charset::Utf8), ("shift_jis", Charset::ShiftJis)] {
        let folder = samples_dir().join(sub);
        for (name, bytes) in responses(&folder, charset) {
            let path = folder.join(&name);
            if write {
                std::fs::write(&path, &bytes).unwrap();
                continue;
            }
            let on_disk = std::fs::read(&path).unwrap_or_default();
            assert!(
                on_disk == bytes,
                "docs/samples/{sub}/{name} is not what the code writes; \
                 run ONSHI_WRITE_SAMPLES=1 cargo test -p onshi-oqs samples"
            );
            if name.starts_with("YZK") || name.starts_with("TKK") {
                if name.ends_with(".xml") {
                    let r = parse_history_response(&bytes)
                        .unwrap_or_else(|e| panic!("{sub}/{name}: {e}"));
                    assert_eq!(r.charset, charset, "{name}");
                    let want = if name.starts_with("YZK") {
                        medication()
                    } else {
                        checkups()
                    };
                    assert_eq!(r.answer, Some(want), "{name}");
                }
            } else if name.ends_with(".xml") {
                // Each reads back to what it says.
                let r = parse_response(&bytes).unwrap_or_else(|e| panic!("{sub}/{name}: {e}"));
                assert_eq!(r.header.charset, charset, "{name}");
            }
        }
    }
}
