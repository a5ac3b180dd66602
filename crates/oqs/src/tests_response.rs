//! Responses: round trips, every code value, names outside Shift_JIS, the elements
//! public clients require, error responses, and parser robustness.

use proptest::prelude::*;

use super::*;

fn person(name: &str, kana: &str) -> Qualification {
    Qualification {
        card_classification: InsuredCardClassification::General,
        insurer_number: insurer6(),
        insurer_name: "東京都杉並区".into(),
        symbol: Some(InsuredCardSymbol::parse("杉並").unwrap()),
        number: InsuredNumber::parse("1234567").unwrap(),
        branch: Some(BranchNumber::new(0).unwrap()),
        personal_family: PersonalFamilyClassification::Insured,
        insured_name: name.into(),
        name: name.into(),
        name_of_other: None,
        name_kana: kana.into(),
        name_of_other_kana: None,
        sex1: OqsSex::Male,
        sex2: Some(OqsSex::Male),
        birth_date: d("19500401"),
        address: "東京都杉並区阿佐谷南１－１５－１ <&> 'x' \"y\"".into(),
        post_number: Some("166-8570".into()),
        qualification_date: d("20100401"),
        disqualification_date: Some(d("20260331")),
        reason_of_loss: Some(ReasonOfLoss::Other),
        card_valid_date: Some(d("20240801")),
        card_expiration_date: Some(d("20260731")),
        burden_ratio: Some(BurdenRatio::TWENTY),
        preschool: None,
        elderly_recipient: Some(ElderlyRecipientInfo {
            valid_from: d("20240801"),
            valid_until: d("20250731"),
            ratio: BurdenRatio::TWENTY,
        }),
        limit_consent: ConsentFlag::Consented,
        limit_consent_time: Some(t("20250602093000")),
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
        consents: vec![
            ConsentState {
                kind: ConsentKind::Checkups,
                flag: ConsentFlag::Consented,
                consented_at: Some(t("20250602093000")),
                available_until: Some(t("20250603093000")),
            },
            ConsentState {
                kind: ConsentKind::Medication,
                flag: ConsentFlag::Consented,
                consented_at: Some(t("20250602093000")),
                available_until: Some(t("20250603093000")),
            },
            ConsentState {
                kind: ConsentKind::Diagnoses,
                flag: ConsentFlag::NotConsented,
                consented_at: None,
                available_until: None,
            },
            ConsentState {
                kind: ConsentKind::Surgeries,
                flag: ConsentFlag::Consented,
                consented_at: Some(t("20250602093100")),
                available_until: Some(t("20250603093100")),
            },
        ],
        reference_number: Some("P-000123".into()),
    }
}

fn result_of(records: Vec<Qualification>) -> EligibilityResult {
    EligibilityResult {
        reference: ReferenceClassification::MyNumberCard,
        validity: QualificationValidity::Valid,
        processed_at: t("20250602093005"),
        as_of: d("20250602"),
        records,
    }
}

fn req_header() -> RequestHeader {
    RequestHeader {
        confirmation_date: Some(d("20250602")),
        institution: institution(),
        file_id: Some("受付-0001".into()),
    }
}

const BOTH: [Charset; 2] = [Charset::Utf8, Charset::ShiftJis];

fn round_trip(result: &EligibilityResult, cs: Charset) -> ParsedResponse {
    let bytes = eligibility_response(&req_header(), result, cs).unwrap();
    parse_response(&bytes).unwrap()
}

#[test]
fn responses_round_trip_in_both_encodings() {
    let result = result_of(vec![person("診療\u{3000}太郎", "ｼﾝﾘｮｳ ﾀﾛｳ")]);
    for cs in BOTH {
        let back = round_trip(&result, cs);
        assert_eq!(back.header.charset, cs);
        assert_eq!(back.header.processed_at, result.processed_at);
        assert_eq!(back.header.confirmation_date, result.as_of);
        assert_eq!(back.header.institution, Some(institution()));
        assert_eq!(back.header.file_id.as_deref(), Some("受付-0001"));
        assert_eq!(back.header.reference, ReferenceClassification::MyNumberCard);
        assert_eq!(back.header.segment, SegmentOfResult::Normal);
        assert_eq!(back.header.error, None);
        assert_eq!(back.body.status, ProcessingResultStatus::Normal);
        assert_eq!(back.body.validity, Some(QualificationValidity::Valid));
        assert_eq!(back.body.records, result.records, "{cs:?}");
    }
}

#[test]
fn the_text_is_formatted_as_the_clients_read_it() {
    let result = result_of(vec![person("診療\u{3000}太郎", "ｼﾝﾘｮｳ ﾀﾛｳ")]);
    let utf8 =
        String::from_utf8(eligibility_response(&req_header(), &result, Charset::Utf8).unwrap())
            .unwrap();
    for needle in [
        "<?xml version=\"1.0\" encoding=\"UTF-8\"",
        &format!("<InsurerNumber>  {}</InsurerNumber>", insurer6()),
        "<Name>診療\u{3000}太郎</Name>",
        "<NameKana>ｼﾝﾘｮｳ ﾀﾛｳ</NameKana>",
        "<PostNumber>166-8570</PostNumber>",
        "<ProcessExecutionTime>20250602093005</ProcessExecutionTime>",
        "<InsuredPartialContributionRatio>020</InsuredPartialContributionRatio>",
        "<PharmacistsInfoAvailableTime>20250603093000</PharmacistsInfoAvailableTime>",
        "<SpecificHealthCheckupsInfoConsFlg>1</SpecificHealthCheckupsInfoConsFlg>",
        "<DiagnosisInfoConsFlg>0</DiagnosisInfoConsFlg>",
        "<OperationInfoConsTime>20250602093100</OperationInfoConsTime>",
        "<LimitApplicationCertificateClassificationFlag>B05</LimitApplicationCertificateClassificationFlag>",
        "<CharacterCodeIdentifier>0</CharacterCodeIdentifier>",
        "&lt;&amp;&gt;",
    ] {
        assert!(utf8.contains(needle), "missing {needle}\n{utf8}");
    }
    let sjis_bytes = eligibility_response(&req_header(), &result, Charset::ShiftJis).unwrap();
    let (text, _, bad) = SHIFT_JIS.decode(&sjis_bytes);
    assert!(!bad);
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"Shift_JIS\""));
    assert!(text.contains("<CharacterCodeIdentifier>1</CharacterCodeIdentifier>"));
    assert!(text.contains("<Name>診療\u{3000}太郎</Name>"));
    assert!(!text.contains("<NameOfOther>"), "no other name needed");
}

/// hangilc/myclinic-ts requires InsuredCardClassification, Name, Sex1, Birthdate and
/// InsurerName in every ResultOfQualificationConfirmation; this crate also always writes
/// InsurerNumber, InsuredIdentificationNumber, PersonalFamilyClassification, InsuredName,
/// NameKana, Address, QualificationDate and LimitApplicationCertificateRelatedConsFlg.
#[test]
fn every_result_carries_the_elements_public_clients_require() {
    let mut minimal = person("診療\u{3000}花子", "ｼﾝﾘｮｳ ﾊﾅｺ");
    minimal.symbol = None;
    minimal.branch = None;
    minimal.sex2 = None;
    minimal.post_number = None;
    minimal.disqualification_date = None;
    minimal.reason_of_loss = None;
    minimal.elderly_recipient = None;
    minimal.limit = None;
    minimal.limit_consent_time = None;
    minimal.specific_diseases.clear();
    minimal.consents.clear();
    minimal.reference_number = None;
    let result = result_of(vec![
        minimal.clone(),
        person("診療\u{3000}太郎", "ｼﾝﾘｮｳ ﾀﾛｳ"),
    ]);
    for cs in BOTH {
        let bytes = eligibility_response(&req_header(), &result, cs).unwrap();
        let (_, text) = charset::decode(&bytes).unwrap();
        let root = xml::parse(&text).unwrap();
        let list = root
            .require("MessageBody")
            .unwrap()
            .require("ResultList")
            .unwrap();
        let records: Vec<_> = list.all("ResultOfQualificationConfirmation").collect();
        assert_eq!(records.len(), 2);
        for r in records {
            for name in [
                "InsuredCardClassification",
                "Name",
                "Sex1",
                "Birthdate",
                "InsurerName",
                "InsurerNumber",
                "InsuredIdentificationNumber",
                "PersonalFamilyClassification",
                "InsuredName",
                "NameKana",
                "Address",
                "QualificationDate",
                "LimitApplicationCertificateRelatedConsFlg",
            ] {
                assert!(r.text_of(name).is_ok(), "{name} missing ({cs:?})");
            }
        }
        assert_eq!(parse_response(&bytes).unwrap().body.records[0], minimal);
    }
}

#[test]
fn names_outside_shift_jis_are_never_lost() {
    let cases = [
        ("髙橋\u{3000}一郎", "ﾀｶﾊｼ ｲﾁﾛｳ", "高橋\u{3000}一郎"),
        ("𠮷田\u{3000}花子", "ﾖｼﾀﾞ ﾊﾅｺ", "吉田\u{3000}花子"),
        ("山﨑\u{3000}次郎", "ﾔﾏｻﾞｷ ｼﾞﾛｳ", "山崎\u{3000}次郎"),
        ("𩸽野\u{3000}三郎", "ﾎｯｹﾉ ｻﾌﾞﾛｳ", "ホッケノ\u{3000}三郎"),
    ];
    for (name, kana, portable) in cases {
        let result = result_of(vec![person(name, kana)]);
        // UTF-8: the exact name, nothing else.
        let back = round_trip(&result, Charset::Utf8);
        assert_eq!(back.body.records[0].name, name);
        assert_eq!(back.body.records[0].name_of_other, None);
        // Shift_JIS: a JIS X 0208 Name, the exact name in NameOfOther.
        let bytes = eligibility_response(&req_header(), &result, Charset::ShiftJis).unwrap();
        let (text, _, bad) = SHIFT_JIS.decode(&bytes);
        let after_declaration = &text[text.find("?>").unwrap() + 2..];
        assert!(!bad && !after_declaration.contains(['●', '?', '\u{FFFD}']));
        let back = parse_response(&bytes).unwrap();
        let r = &back.body.records[0];
        assert_eq!(r.name, portable, "{name}");
        assert!(r.name.chars().all(charset::is_jis_x0208));
        assert_eq!(r.name_of_other.as_deref(), Some(name));
        // InsuredName and the other fields stay exact.
        assert_eq!(r.insured_name, name);
    }
    // 𠮷 has no Windows-31J code: a character reference carries it.
    let bytes = eligibility_response(
        &req_header(),
        &result_of(vec![person("𠮷田\u{3000}花子", "ﾖｼﾀﾞ ﾊﾅｺ")]),
        Charset::ShiftJis,
    )
    .unwrap();
    let text = SHIFT_JIS.decode(&bytes).0;
    assert!(
        text.contains("<NameOfOther>&#x20BB7;田\u{3000}花子</NameOfOther>"),
        "{text}"
    );
    // 﨑 has a Windows-31J code (an IBM extension): NameOfOther carries it as bytes.
    let bytes = eligibility_response(
        &req_header(),
        &result_of(vec![person("山﨑\u{3000}次郎", "ﾔﾏｻﾞｷ ｼﾞﾛｳ")]),
        Charset::ShiftJis,
    )
    .unwrap();
    let tatsusaki = charset::sjis_bytes('\u{FA11}').unwrap();
    assert!(bytes.windows(2).any(|w| w == tatsusaki.as_slice()));
    assert!(!SHIFT_JIS.decode(&bytes).0.contains("&#x"));
    // 邊 is JIS X 0208: no substitute, no other name.
    let back = round_trip(
        &result_of(vec![person("渡邊\u{3000}花子", "ﾜﾀﾅﾍﾞ ﾊﾅｺ")]),
        Charset::ShiftJis,
    );
    assert_eq!(back.body.records[0].name, "渡邊\u{3000}花子");
    assert_eq!(back.body.records[0].name_of_other, None);
}

#[test]
fn an_alias_in_name_of_other_is_kept() {
    let mut q = person("髙橋\u{3000}一郎", "ﾀｶﾊｼ ｲﾁﾛｳ");
    q.name_of_other = Some("ジョン\u{3000}タカハシ".into());
    let back = round_trip(&result_of(vec![q.clone()]), Charset::ShiftJis);
    assert_eq!(back.body.records[0].name, "高橋\u{3000}一郎");
    assert_eq!(back.body.records[0].name_of_other, q.name_of_other);
}

#[test]
fn every_code_value_round_trips() {
    let base = person("診療\u{3000}太郎", "ｼﾝﾘｮｳ ﾀﾛｳ");
    let mut records = Vec::new();
    for v in InsuredCardClassification::ALL {
        records.push(Qualification {
            card_classification: *v,
            ..base.clone()
        });
    }
    for v in PersonalFamilyClassification::ALL {
        records.push(Qualification {
            personal_family: *v,
            ..base.clone()
        });
    }
    for v in OqsSex::ALL {
        records.push(Qualification {
            sex1: *v,
            sex2: Some(*v),
            ..base.clone()
        });
    }
    for v in ReasonOfLoss::ALL {
        records.push(Qualification {
            reason_of_loss: Some(*v),
            ..base.clone()
        });
    }
    for v in PreschoolClassification::ALL {
        records.push(Qualification {
            preschool: Some(*v),
            ..base.clone()
        });
    }
    for v in ConsentFlag::ALL {
        records.push(Qualification {
            limit_consent: *v,
            ..base.clone()
        });
    }
    for r in [BurdenRatio::TEN, BurdenRatio::TWENTY, BurdenRatio::THIRTY] {
        records.push(Qualification {
            burden_ratio: Some(r),
            ..base.clone()
        });
    }
    for c in LimitCertificateClassification::ALL {
        for cat in LimitCategory::ALL {
            let mut q = base.clone();
            q.limit = Some(LimitInfo {
                classification: *c,
                category: *cat,
                valid_from: d("20250101"),
                valid_until: None,
            });
            records.push(q);
        }
    }
    for c in SpecificDiseaseCategory::ALL {
        let mut q = base.clone();
        q.specific_diseases[0].category = *c;
        records.push(q);
    }
    records.push(Qualification {
        insurer_number: insurer8(),
        ..base.clone()
    });
    for cs in BOTH {
        for validity in QualificationValidity::ALL {
            for reference in ReferenceClassification::ALL {
                let result = EligibilityResult {
                    reference: *reference,
                    validity: *validity,
                    ..result_of(records.clone())
                };
                let back = round_trip(&result, cs);
                assert_eq!(back.header.reference, *reference);
                assert_eq!(back.body.validity, Some(*validity));
                assert_eq!(back.body.records, records);
            }
        }
    }
    // 該当資格なし carries no ResultList.
    let none = EligibilityResult {
        validity: QualificationValidity::NotFound,
        ..result_of(vec![])
    };
    let bytes = eligibility_response(&req_header(), &none, Charset::Utf8).unwrap();
    assert!(
        !String::from_utf8(bytes.clone())
            .unwrap()
            .contains("ResultList")
    );
    assert!(parse_response(&bytes).unwrap().body.records.is_empty());
}

#[test]
fn face_files_bulk_and_registration_answers() {
    let result = result_of(vec![person("診療\u{3000}太郎", "ｼﾝﾘｮｳ ﾀﾛｳ")]);
    for cs in BOTH {
        let face = parse_response(&face_result(institution(), &result, cs).unwrap()).unwrap();
        assert_eq!(face.header.file_id, None);
        assert_eq!(face.header.reference, ReferenceClassification::MyNumberCard);
        assert_eq!(face.body.records, result.records);

        let at = t("20250602100000");
        let bulk =
            parse_response(&bulk_accepted_response(&req_header(), "R-1", at, cs).unwrap()).unwrap();
        assert_eq!(bulk.header.segment, SegmentOfResult::Processing);
        assert_eq!(bulk.body.reception_number.as_deref(), Some("R-1"));

        let reg = parse_response(&registration_response(&req_header(), "患者-42", at, cs).unwrap())
            .unwrap();
        assert_eq!(reg.body.reference_number.as_deref(), Some("患者-42"));
        assert_eq!(reg.body.status, ProcessingResultStatus::Normal);
    }
}

#[test]
fn error_responses_carry_code_and_message() {
    let at = t("20250602100000");
    let e = OqsError::MissingElement("Birthdate");
    for cs in BOTH {
        for header in [None, Some(req_header())] {
            let back = parse_response(&error_response(header.as_ref(), &e, at, cs)).unwrap();
            assert_eq!(back.header.segment, SegmentOfResult::Abnormal);
            assert_eq!(back.header.charset, cs);
            let (code, message) = back.header.error.unwrap();
            assert_eq!(code, "E2002");
            assert_eq!(message, "必須項目「Birthdate」が設定されていません。");
            assert_eq!(back.body.status, ProcessingResultStatus::Error);
            assert_eq!(back.body.result_code.as_deref(), Some("E2002"));
            assert_eq!(
                back.header.institution,
                header.as_ref().map(|h| h.institution)
            );
            assert_eq!(back.header.file_id, header.and_then(|h| h.file_id));
        }
    }
    // The request's header and encoding are salvaged from a request refused for its body.
    let text = single_request_text("Shift_JIS", insurer8().as_str(), "A")
        .replace("<Birthdate>19800102</Birthdate>", "");
    let (cs, header) = salvage_header(&sjis(&text));
    assert_eq!(cs, Charset::ShiftJis);
    assert_eq!(header.unwrap().file_id.as_deref(), Some("受付-0001"));
    assert_eq!(salvage_header(b"\x00\x01"), (Charset::Utf8, None));
}

#[test]
fn error_codes_are_distinct_and_messages_japanese() {
    let mut codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), ErrorCode::ALL.len());
}

#[test]
fn a_control_character_cannot_be_written() {
    let mut q = person("診療\u{3000}太郎", "ｼﾝﾘｮｳ ﾀﾛｳ");
    q.address = "東京都\u{7}".into();
    let e = eligibility_response(&req_header(), &result_of(vec![q]), Charset::Utf8).unwrap_err();
    assert_eq!(e.code(), ErrorCode::UNENCODABLE);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for kind in MessageKind::ALL {
            let _ = parse_request(*kind, &bytes);
        }
        let _ = parse_response(&bytes);
        let _ = salvage_header(&bytes);
    }

    #[test]
    fn damaged_requests_never_panic(
        cut in 0usize..2000,
        flips in proptest::collection::vec((0usize..2000, any::<u8>()), 0..8),
        cs in prop_oneof![Just(Charset::Utf8), Just(Charset::ShiftJis)],
    ) {
        let text = single_request_text(charset::label(cs), insurer8().as_str(), "札幌");
        let mut bytes = match cs {
            Charset::Utf8 => text.into_bytes(),
            Charset::ShiftJis => sjis(&text),
        };
        for (at, b) in flips {
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = b;
            }
        }
        bytes.truncate(cut.min(bytes.len()));
        let _ = single(&bytes);
        let _ = parse_response(&bytes);
    }

    #[test]
    fn any_text_value_round_trips(address in "\\PC{1,40}", cs in prop_oneof![Just(Charset::Utf8), Just(Charset::ShiftJis)]) {
        let mut q = person("診療\u{3000}太郎", "ｼﾝﾘｮｳ ﾀﾛｳ");
        let address = address.trim().to_owned();
        prop_assume!(!address.is_empty());
        q.address = address;
        let result = result_of(vec![q.clone()]);
        let back = parse_response(&eligibility_response(&req_header(), &result, cs).unwrap()).unwrap();
        prop_assert_eq!(&back.body.records[0].address, &q.address);
    }
}

#[test]
fn medication_consent_is_read_under_either_public_name() {
    let result = result_of(vec![person("診療\u{3000}太郎", "ｼﾝﾘｮｳ ﾀﾛｳ")]);
    let text =
        String::from_utf8(eligibility_response(&req_header(), &result, Charset::Utf8).unwrap())
            .unwrap()
            .replace("PharmacistsInfo", "PharmaceuticalInfo");
    let back = parse_response(text.as_bytes()).unwrap();
    assert_eq!(back.body.records[0].consents, result.records[0].consents);
}

/// The result shown in `docs/emr-interface.md`.
fn documented_result() -> EligibilityResult {
    let mut q = person("髙橋\u{3000}一郎", "ﾀｶﾊｼ ｲﾁﾛｳ");
    q.consents.truncate(2);
    q.specific_diseases.clear();
    q.address = "東京都杉並区阿佐谷南１－１５－１".into();
    result_of(vec![q])
}

/// The ```xml blocks of the vendor's guide, in order.
fn documented_samples() -> Vec<String> {
    let doc = include_str!("../../../docs/emr-interface.md");
    doc.split("```xml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap().to_owned())
        .collect()
}

/// The samples in the guide are what this crate reads and writes today.
#[test]
fn the_guide_shows_the_current_messages() {
    let samples = documented_samples();
    assert_eq!(samples.len(), 5);
    // Requests: UTF-8 as is, Shift_JIS as its text encoded.
    let a = single(samples[0].as_bytes()).unwrap();
    let b = single(&sjis(&samples[1])).unwrap();
    assert_eq!((a.charset, b.charset), (Charset::Utf8, Charset::ShiftJis));
    assert_eq!(a.request, b.request);
    let result = documented_result();
    let utf8 = eligibility_response(&a.header, &result, a.charset).unwrap();
    assert_eq!(String::from_utf8(utf8).unwrap(), samples[2]);
    let shift_jis = eligibility_response(&b.header, &result, b.charset).unwrap();
    assert_eq!(SHIFT_JIS.decode(&shift_jis).0, samples[3]);
    let error = error_response(
        Some(&a.header),
        &OqsError::MissingElement("Birthdate"),
        t("20250602093005"),
        Charset::Utf8,
    );
    assert_eq!(String::from_utf8(error).unwrap(), samples[4]);
}
