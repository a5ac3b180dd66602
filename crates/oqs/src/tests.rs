//! Round trips in both encodings, every code value, every error path, and the elements
//! public clinic clients require.

use chrono::{NaiveDate, NaiveDateTime};
use encoding_rs::SHIFT_JIS;
use onshi_model::*;

use crate::names::*;
use crate::xml;
use crate::*;

fn d(s: &str) -> NaiveDate {
    parse_yyyymmdd(s).unwrap()
}

fn t(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S").unwrap()
}

fn institution() -> InstitutionCode {
    InstitutionCode::from_parts(
        Prefecture::from_code(13).unwrap(),
        FeeSchedule::Medical,
        12,
        3456,
    )
    .unwrap()
}

/// A valid 8-digit 協会けんぽ-style number (法別 01, 東京).
fn insurer8() -> InsurerNumber {
    InsurerNumber::from_parts(Some(1), Prefecture::from_code(13).unwrap(), 16).unwrap()
}

/// A valid 6-digit 国保 number.
fn insurer6() -> InsurerNumber {
    InsurerNumber::from_parts(None, Prefecture::from_code(13).unwrap(), 805).unwrap()
}

/// `insurer8()` with a wrong check digit.
fn bad_insurer() -> String {
    let s = insurer8().to_string();
    let last = s.as_bytes()[7] - b'0';
    format!("{}{}", &s[..7], (last + 1) % 10)
}

fn single_request_text(encoding_label: &str, insurer: &str, symbol: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"{encoding_label}\"?>\n\
<XmlMsg>\n  <MessageHeader>\n    <QualificationConfirmationDate>20250602</QualificationConfirmationDate>\n\
    <MedicalInstitutionCode>{}</MedicalInstitutionCode>\n\
    <ArbitraryFileIdentifier>受付-0001</ArbitraryFileIdentifier>\n  </MessageHeader>\n\
  <MessageBody>\n    <QualificationConfirmSearchInfo>\n\
      <InsurerNumber>{insurer}</InsurerNumber>\n\
      <InsuredCardSymbol>{symbol}</InsuredCardSymbol>\n\
      <InsuredIdentificationNumber>1234567</InsuredIdentificationNumber>\n\
      <InsuredBranchNumber>01</InsuredBranchNumber>\n\
      <Birthdate>19800102</Birthdate>\n\
      <LimitApplicationCertificateRelatedConsFlg>1</LimitApplicationCertificateRelatedConsFlg>\n\
    </QualificationConfirmSearchInfo>\n  </MessageBody>\n</XmlMsg>\n",
        institution().as_str()
    )
}

fn sjis(text: &str) -> Vec<u8> {
    let (b, _, unmappable) = SHIFT_JIS.encode(text);
    assert!(!unmappable);
    b.into_owned()
}

fn single(bytes: &[u8]) -> Result<ParsedRequest, OqsError> {
    parse_request(MessageKind::SingleCheck, bytes)
}

#[test]
fn single_request_reads_the_same_in_both_encodings() {
    let insurer = format!("  {}", insurer6());
    let utf8 = single_request_text("UTF-8", &insurer, "札幌東");
    let a = single(utf8.as_bytes()).unwrap();
    let b = single(&sjis(&single_request_text("Shift_JIS", &insurer, "札幌東"))).unwrap();
    assert_eq!(a.charset, Charset::Utf8);
    assert_eq!(b.charset, Charset::ShiftJis);
    assert_eq!(a.header, b.header);
    assert_eq!(a.request, b.request);
    assert_eq!(a.header.confirmation_date, Some(d("20250602")));
    assert_eq!(a.header.institution, institution());
    assert_eq!(a.header.file_id.as_deref(), Some("受付-0001"));
    let Request::Single(s) = a.request else {
        panic!("not a single request")
    };
    assert_eq!(s.query.insurer_number, insurer6());
    assert_eq!(s.query.symbol.unwrap().as_str(), "札幌東");
    assert_eq!(s.query.number.as_str(), "1234567");
    assert_eq!(s.query.branch.unwrap().as_str(), "01");
    assert_eq!(s.query.birth_date, d("19800102"));
    assert!(s.query.limit_consent);
}

#[test]
fn shift_jis_labels_and_a_utf8_bom_are_accepted() {
    let ins = insurer8().to_string();
    for label in [
        "Shift_JIS",
        "shift_jis",
        "Windows-31J",
        "CP932",
        "MS932",
        "SJIS",
    ] {
        let r = single(&sjis(&single_request_text(label, &ins, "記号"))).unwrap();
        assert_eq!(r.charset, Charset::ShiftJis, "{label}");
    }
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(single_request_text("UTF-8", &ins, "記号").as_bytes());
    assert_eq!(single(&bom).unwrap().charset, Charset::Utf8);
}

#[test]
fn optional_search_fields_may_be_empty_or_absent() {
    let text = single_request_text("UTF-8", insurer8().as_str(), "")
        .replace("<InsuredBranchNumber>01</InsuredBranchNumber>", "")
        .replace(
            "<LimitApplicationCertificateRelatedConsFlg>1</LimitApplicationCertificateRelatedConsFlg>",
            "",
        );
    let Request::Single(s) = single(text.as_bytes()).unwrap().request else {
        panic!()
    };
    assert_eq!(s.query.symbol, None);
    assert_eq!(s.query.branch, None);
    assert!(!s.query.limit_consent);
}

fn err(text: &str) -> OqsError {
    single(text.as_bytes()).unwrap_err()
}

#[test]
fn every_request_fault_is_a_typed_error_with_its_code() {
    let ok = single_request_text("UTF-8", insurer8().as_str(), "A");
    let cases: Vec<(String, ErrorCode)> = vec![
        (
            ok.replace("</MessageHeader>", "</MessageHeadr>"),
            ErrorCode::MALFORMED,
        ),
        (
            ok.replace("<Birthdate>19800102</Birthdate>", ""),
            ErrorCode::MISSING_ELEMENT,
        ),
        (ok.replace("19800102", "19800230"), ErrorCode::INVALID_VALUE),
        (
            ok.replace(insurer8().as_str(), &bad_insurer()),
            ErrorCode::INVALID_VALUE,
        ),
        (ok.replace(">01<", ">1<"), ErrorCode::INVALID_VALUE),
        (
            ok.replace("<Birthdate>", "<Birthdate>19800102</Birthdate><Birthdate>"),
            ErrorCode::DUPLICATE_ELEMENT,
        ),
        (ok.replace("XmlMsg", "Message"), ErrorCode::WRONG_MESSAGE),
        (
            ok.replace(
                "<XmlMsg>",
                "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><XmlMsg>",
            ),
            ErrorCode::FORBIDDEN_MARKUP,
        ),
        (
            ok.replace(">1234567<", ">&e;<"),
            ErrorCode::FORBIDDEN_MARKUP,
        ),
        (
            ok.replace("UTF-8", "EUC-JP"),
            ErrorCode::UNSUPPORTED_ENCODING,
        ),
        (ok[..ok.len() / 2].to_owned(), ErrorCode::TRUNCATED),
        (String::new(), ErrorCode::TRUNCATED),
        (
            ok.replace(
                "</MessageHeader>",
                "<CharacterCodeIdentifier>1</CharacterCodeIdentifier></MessageHeader>",
            ),
            ErrorCode::INVALID_VALUE,
        ),
        (
            ok.replace("<MedicalInstitutionCode>", "<MedicalInstitutionCode>9"),
            ErrorCode::INVALID_VALUE,
        ),
        (
            ok.replace("<MessageBody>", "<MessageBody><X>"),
            ErrorCode::MALFORMED,
        ),
    ];
    for (i, (text, code)) in cases.iter().enumerate() {
        let e = err(text);
        assert_eq!(e.code(), *code, "case {i}: {e}");
        assert!(!e.message_ja().is_empty());
    }
    // The element named in the error is the one at fault.
    let e = err(&ok.replace(insurer8().as_str(), &bad_insurer()));
    assert!(
        matches!(
            e,
            OqsError::InvalidValue {
                element: "InsurerNumber",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.message_ja().contains("InsurerNumber"));
    // A 医療機関コード with a wrong check digit.
    let code = institution().to_string();
    let last = code.as_bytes()[9] - b'0';
    let bad_code = format!("{}{}", &code[..9], (last + 1) % 10);
    let e = err(&ok.replace(&code, &bad_code));
    assert!(
        matches!(e, OqsError::InvalidValue { element: "MedicalInstitutionCode", ref detail } if detail.contains("check digit")),
        "{e}"
    );
    assert_eq!(
        err(&ok.replace("<Birthdate>19800102</Birthdate>", "<Birthdate/>")),
        OqsError::MissingElement("Birthdate")
    );
}

#[test]
fn bytes_not_valid_in_the_declared_encoding_are_refused() {
    let ins = insurer8().to_string();
    // Shift_JIS bytes declared as UTF-8.
    let mislabelled = sjis(&single_request_text("UTF-8", &ins, "記号"));
    assert_eq!(
        single(&mislabelled).unwrap_err().code(),
        ErrorCode::ENCODING
    );
    // A lead byte without its trail byte in Shift_JIS.
    let mut broken = sjis(&single_request_text("Shift_JIS", &ins, "X"));
    let at = broken.iter().position(|&b| b == b'X').unwrap();
    broken[at] = 0x81;
    broken.insert(at + 1, b'<');
    broken.remove(at + 2);
    assert!(matches!(
        single(&broken).unwrap_err(),
        OqsError::Encoding {
            encoding: "Shift_JIS",
            ..
        }
    ));
    // UTF-16 and a BOM that contradicts the declaration.
    assert_eq!(
        single(b"\xFF\xFE<\0?\0").unwrap_err().code(),
        ErrorCode::UNSUPPORTED_ENCODING
    );
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&sjis(&single_request_text("Shift_JIS", &ins, "X")));
    assert_eq!(single(&bom).unwrap_err().code(), ErrorCode::ENCODING);
}

#[test]
fn every_truncation_of_a_request_is_an_error() {
    let full = sjis(&single_request_text(
        "Shift_JIS",
        insurer8().as_str(),
        "記号",
    ));
    let end = full.len() - "</XmlMsg>\n".len();
    for cut in 0..end {
        assert!(single(&full[..cut]).is_err(), "cut at {cut}");
    }
    assert!(single(&full).is_ok());
}

fn bulk_text(infos: usize, wrapped: bool) -> String {
    let one = format!(
        "<QualificationConfirmSearchInfo><InsurerNumber>{}</InsurerNumber>\
         <InsuredIdentificationNumber>{{n}}</InsuredIdentificationNumber>\
         <Birthdate>19700101</Birthdate></QualificationConfirmSearchInfo>",
        insurer8()
    );
    let list: String = (0..infos)
        .map(|n| one.replace("{n}", &format!("{}", 100 + n)))
        .collect();
    let list = if wrapped {
        format!("<QualificationConfirmSearchInfoList>{list}</QualificationConfirmSearchInfoList>")
    } else {
        list
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><XmlMsg><MessageHeader>\
         <QualificationConfirmationDate>20250602</QualificationConfirmationDate>\
         <MedicalInstitutionCode>{}</MedicalInstitutionCode></MessageHeader>\
         <MessageBody>{list}</MessageBody></XmlMsg>",
        institution()
    )
}

#[test]
fn bulk_requests_and_the_fetch_by_reception_number() {
    for wrapped in [false, true] {
        let r = parse_request(MessageKind::BulkSubmit, bulk_text(3, wrapped).as_bytes()).unwrap();
        let Request::BulkSubmit(b) = r.request else {
            panic!()
        };
        let numbers: Vec<&str> = b.queries.iter().map(|q| q.number.as_str()).collect();
        assert_eq!(numbers, ["100", "101", "102"]);
        assert_eq!(r.header.file_id, None);
    }
    assert_eq!(
        parse_request(MessageKind::BulkSubmit, bulk_text(0, false).as_bytes()).unwrap_err(),
        OqsError::MissingElement("QualificationConfirmSearchInfo")
    );
    let fetch = bulk_text(0, false).replace(
        "<MessageBody>",
        "<MessageBody><ReceptionNumber>R-20250602-0001</ReceptionNumber>",
    );
    let Request::BulkFetch(f) = parse_request(MessageKind::BulkFetch, fetch.as_bytes())
        .unwrap()
        .request
    else {
        panic!()
    };
    assert_eq!(f.reception_number, "R-20250602-0001");
    let bad = fetch.replace("R-20250602-0001", "R 1");
    assert_eq!(
        parse_request(MessageKind::BulkFetch, bad.as_bytes())
            .unwrap_err()
            .code(),
        ErrorCode::INVALID_VALUE
    );
}

#[test]
fn reference_number_registration() {
    let base = single_request_text("UTF-8", insurer8().as_str(), "A");
    let with = |n: &str| {
        base.replace(
            "</QualificationConfirmSearchInfo>",
            &format!("</QualificationConfirmSearchInfo><ReferenceNumber>{n}</ReferenceNumber>"),
        )
    };
    let id50 = "患".repeat(50);
    let r = parse_request(MessageKind::RegisterReference, with(&id50).as_bytes()).unwrap();
    let Request::RegisterReference(reg) = r.request else {
        panic!()
    };
    assert_eq!(reg.reference_number, id50);
    assert_eq!(reg.query.number.as_str(), "1234567");
    let long = parse_request(
        MessageKind::RegisterReference,
        with(&"9".repeat(51)).as_bytes(),
    );
    assert_eq!(long.unwrap_err().code(), ErrorCode::INVALID_VALUE);
    assert_eq!(
        parse_request(MessageKind::RegisterReference, base.as_bytes()).unwrap_err(),
        OqsError::MissingElement("ReferenceNumber")
    );
}

#[test]
fn file_names() {
    assert_eq!(
        response_file_name("OQSsiquc01req_20250602-0001.xml").unwrap(),
        "OQSsiquc01res_20250602-0001.xml"
    );
    assert_eq!(
        MessageKind::from_request_file_name("OQSmuquc02req_9.xml").unwrap(),
        MessageKind::BulkFetch
    );
    for bad in [
        "OQSsiquc01res_1.xml",
        "OQSsiquc01req_.xml",
        "x.xml",
        "OQSsiimm01req_../a.txt",
    ] {
        assert_eq!(
            response_file_name(bad).unwrap_err().code(),
            ErrorCode::FILE_NAME,
            "{bad}"
        );
    }
    assert_eq!(
        face_file_name("reader01", t("20250602093005")).unwrap(),
        "OQSsiquc01res_face_reader01_20250602093005.xml"
    );
    assert!(face_file_name("../x", t("20250602093005")).is_err());
}

#[path = "tests_response.rs"]
mod response;

#[path = "tests_samples.rs"]
mod samples;

#[test]
fn a_bulk_header_may_omit_the_confirmation_date_a_single_one_may_not() {
    let text = bulk_text(0, false)
        .replace(
            "<QualificationConfirmationDate>20250602</QualificationConfirmationDate>",
            "",
        )
        .replace(
            "<MessageBody>",
            "<MessageBody><ReceptionNumber>42</ReceptionNumber>",
        );
    let r = parse_request(MessageKind::BulkFetch, text.as_bytes()).unwrap();
    assert_eq!(r.header.confirmation_date, None);
    let single_text = single_request_text("UTF-8", insurer8().as_str(), "A").replace(
        "<QualificationConfirmationDate>20250602</QualificationConfirmationDate>",
        "",
    );
    assert_eq!(
        err(&single_text),
        OqsError::MissingElement("QualificationConfirmationDate")
    );
}

#[test]
fn characters_beyond_shift_jis_arrive_as_references_and_extensions_as_bytes() {
    // 髙 is a Windows-31J extension (bytes); 𠮷 has no code (a character reference).
    let text = single_request_text("Shift_JIS", insurer8().as_str(), "髙&#x20BB7;&amp;1");
    let Request::Single(s) = single(&sjis(&text)).unwrap().request else {
        panic!()
    };
    assert_eq!(s.query.symbol.unwrap().as_str(), "髙𠮷&1");
    for bad in ["&#0;", "&#xD800;", "&#x110000;", "&#xZZ;"] {
        let text = single_request_text("UTF-8", insurer8().as_str(), bad);
        assert_eq!(err(&text).code(), ErrorCode::MALFORMED, "{bad}");
    }
}

/// The sample files of docs/samples (the vendor's guide) are read as the guide says.
#[test]
fn documented_samples_parse() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/samples");
    let mut seen = 0;
    for (sub, charset) in [
        ("utf8", crate::Charset::Utf8),
        ("shift_jis", crate::Charset::ShiftJis),
    ] {
        for entry in std::fs::read_dir(root.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let bytes = std::fs::read(&path).unwrap();
            if name.ends_with(".pdf") {
                assert!(bytes.starts_with(b"%PDF-"), "{name}");
            } else if name.contains("req_") {
                let kind = crate::MessageKind::from_request_file_name(&name).unwrap();
                let r = crate::parse_request(kind, &bytes)
                    .unwrap_or_else(|e| panic!("{sub}/{name}: {e}"));
                assert_eq!(r.charset, charset, "{name}");
            } else if name.starts_with("YZK") || name.starts_with("TKK") {
                let r = crate::parse_history_response(&bytes)
                    .unwrap_or_else(|e| panic!("{sub}/{name}: {e}"));
                assert_eq!(r.charset, charset, "{name}");
                assert_eq!(r.result_code, "1", "{name}");
                assert!(r.answer.is_some_and(|a| !a.content.is_empty()), "{name}");
            } else {
                let r =
                    crate::parse_response(&bytes).unwrap_or_else(|e| panic!("{sub}/{name}: {e}"));
                assert_eq!(r.header.charset, charset, "{name}");
                if name.starts_with("OQSmuhvq02") {
                    assert_eq!(r.body.bulk_units.len(), 1);
                    let q = &r.body.bulk_units[0].records[0];
                    assert_eq!(q.reference_number.as_deref(), Some("患者-000123"));
                    let text = String::from_utf8_lossy(&bytes);
                    assert!(text.contains("<BulkConfirmUnit>\n      <ReferenceNumber>"));
                }
                if name.starts_with("OQSmuquc02") {
                    assert_eq!(r.body.bulk_results.len(), 2);
                    let q = &r.body.bulk_results[0].records[0];
                    assert_eq!(q.reference_number.as_deref(), Some("患者-000123"));
                    // Written back, the sample reads the same.
                    let again = crate::write_response(&r).unwrap();
                    assert_eq!(crate::parse_response(&again).unwrap(), r);
                }
            }
            seen += 1;
        }
    }
    assert_eq!(seen, 36);
}

/// A medication or check-up request as a public clinic client writes it: the patient by
/// insurance data in the header, the months and the file category in the body.
fn history_text(header_extra: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"Shift_JIS\" standalone=\"no\"?>\n<XmlMsg>\n  <MessageHeader>\n    \
         <MedicalInstitutionCode>{}</MedicalInstitutionCode>\n    <InsurerNumber>{}</InsurerNumber>\n    \
         {header_extra}<ArbitraryFileIdentifier>123451</ArbitraryFileIdentifier>\n  </MessageHeader>\n  \
         <MessageBody>{body}</MessageBody>\n</XmlMsg>\n",
        institution().as_str(),
        insurer8().as_str(),
    )
}

fn history(kind: MessageKind, text: &str) -> Result<HistoryRequest, OqsError> {
    let r = parse_request(kind, &sjis(text))?;
    match r.request {
        Request::Medication(h) | Request::Checkups(h) => Ok(h),
        other => panic!("{other:?}"),
    }
}

#[test]
fn medication_and_checkup_requests_name_the_patient_by_insurance_data() {
    let card = "<InsuranceCardSymbol>記号１</InsuranceCardSymbol>\
                <InsuredPersonIdentificationNumber>1234</InsuredPersonIdentificationNumber>\
                <BranchNumber>1</BranchNumber>";
    let h = history(
        MessageKind::Medication,
        &history_text(
            card,
            "<StartDate>202407</StartDate><EndDate>202501</EndDate><FileCategory>2</FileCategory>\
             <PrDiInfClassification>1</PrDiInfClassification><MedicalTreatmentFlag>1</MedicalTreatmentFlag>",
        ),
    )
    .unwrap();
    assert_eq!(h.card.insurer_number, insurer8());
    assert_eq!(h.card.symbol.as_ref().unwrap().as_str(), "記号１");
    assert_eq!(h.card.number.as_str(), "1234");
    // A one-digit branch number, as clients keep it, is the two-digit one.
    assert_eq!(h.card.branch.unwrap().as_str(), "01");
    let p = h.period.unwrap();
    assert_eq!((p.start(), p.end()), (d("20240701"), d("20250131")));
    assert_eq!(h.category, FileCategory::Xml);
    assert!(!h.category.pdf());

    // Check-ups: no months, FileCategory 1 is a PDF; an empty symbol and branch are none.
    let h = history(
        MessageKind::Checkups,
        &history_text(
            "<InsuranceCardSymbol></InsuranceCardSymbol>\
             <InsuredPersonIdentificationNumber>1234</InsuredPersonIdentificationNumber>\
             <BranchNumber />",
            "<FileCategory>1</FileCategory>",
        ),
    )
    .unwrap();
    assert_eq!((h.card.symbol, h.card.branch, h.period), (None, None, None));
    assert!(h.category.pdf());
    for (code, pdf, treatment) in [
        ("1", true, false),
        ("2", false, false),
        ("3", true, true),
        ("4", false, true),
    ] {
        let c = FileCategory::parse(code).unwrap();
        assert_eq!(
            (c.pdf(), c.with_treatment(), c.code()),
            (pdf, treatment, code)
        );
    }
}

#[test]
fn a_bad_medication_request_is_refused_with_the_element_at_fault() {
    let card = "<InsuredPersonIdentificationNumber>1234</InsuredPersonIdentificationNumber>";
    let cases = [
        (card, "<FileCategory>5</FileCategory>", FILE_CATEGORY),
        (
            card,
            "<StartDate>202413</StartDate><EndDate>202501</EndDate>",
            START_DATE,
        ),
        (
            card,
            "<StartDate>2024-07</StartDate><EndDate>202501</EndDate>",
            START_DATE,
        ),
        (
            card,
            "<StartDate>202502</StartDate><EndDate>202501</EndDate>",
            START_DATE,
        ),
        (card, "<EndDate>202501</EndDate>", START_DATE),
        (card, "<StartDate>202501</StartDate>", END_DATE),
        (
            card,
            "<PrDiInfClassification>12</PrDiInfClassification>",
            PR_DI_INF_CLASSIFICATION,
        ),
        ("", "<FileCategory>2</FileCategory>", HIST_NUMBER),
        (
            "<InsuredPersonIdentificationNumber>1234</InsuredPersonIdentificationNumber><BranchNumber>123</BranchNumber>",
            "",
            HIST_BRANCH,
        ),
    ];
    for (header, body, element) in cases {
        let e = history(MessageKind::Medication, &history_text(header, body)).unwrap_err();
        let at = match &e {
            OqsError::InvalidValue { element, .. } | OqsError::MissingElement(element) => *element,
            other => panic!("{other:?}"),
        };
        assert_eq!(at, element, "{header} {body}: {e}");
        assert!(!e.message_ja().is_empty());
    }
    // A wrong insurer number (check digit) is refused too.
    let text = history_text(card, "").replace(insurer8().as_str(), "01130013");
    let e = history(MessageKind::Medication, &text).unwrap_err();
    assert!(
        matches!(
            e,
            OqsError::InvalidValue {
                element: HIST_INSURER_NUMBER,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn a_history_answer_reads_back_and_groups_by_month_and_day() {
    let header = RequestHeader {
        confirmation_date: None,
        institution: institution(),
        file_id: Some("123451".into()),
    };
    let pharmacy = InstitutionCode::from_parts(
        Prefecture::from_code(13).unwrap(),
        FeeSchedule::Pharmacy,
        1,
        1,
    )
    .unwrap();
    let drug = |on: &str, code: &str, q: i64, days: u32| MedicationEntry {
        dispensed_on: d(on),
        drug_code: code.into(),
        drug_name: format!("薬{code}"),
        usage: "1日1回".into(),
        quantity_x10: q,
        unit: "錠".into(),
        days_supplied: days,
        prescriber: institution(),
        prescriber_name: "診療所".into(),
        pharmacy,
        pharmacy_name: "薬局".into(),
    };
    let answer = HistoryAnswer {
        patient: HistoryPatient {
            name: "𠮷田\u{3000}花子".into(),
            kana: "ﾖｼﾀﾞ ﾊﾅｺ".into(),
            birth_date: d("19800101"),
            sex: OqsSex::Female,
        },
        period: Some(MonthRange::new(d("20250101"), d("20250301")).unwrap()),
        category: FileCategory::XmlWithTreatment,
        content: HistoryContent::Medications(vec![
            drug("20250310", "A", 140, 14),
            drug("20250310", "B", 16, 3),
            drug("20250305", "C", 10, 1),
            drug("20250120", "A", 140, 14),
        ]),
        treatments: vec![
            TreatmentEntry {
                performed_on: d("20250210"),
                code: "K282".into(),
                name: "水晶体再建術".into(),
                institution: pharmacy_free(),
                institution_name: "眼科病院".into(),
            },
            TreatmentEntry {
                performed_on: d("20250210"),
                code: "K284".into(),
                name: "硝子体置換術".into(),
                institution: pharmacy_free(),
                institution_name: "眼科病院".into(),
            },
        ],
    };
    for charset in [Charset::Utf8, Charset::ShiftJis] {
        let bytes = history_response(&header, &answer, None, t("20250602093600"), charset).unwrap();
        let r = parse_history_response(&bytes).unwrap();
        assert_eq!(r.answer.as_ref(), Some(&answer), "{charset:?}");
        assert_eq!(
            (r.result_code.as_str(), r.segment),
            ("1", SegmentOfResult::Normal)
        );
        let text = match charset {
            Charset::ShiftJis => SHIFT_JIS.decode(&bytes).0.into_owned(),
            _ => String::from_utf8(bytes).unwrap(),
        };
        // Two months, and in March two days: 14 tablets over 14 days is 1 a day, 1.6 over
        // 3 days does not divide and is written as one amount.
        // Two months of drugs, one of treatment: both operations of one day in MeTrInfs.
        assert_eq!(text.matches("<MeTrMonthInf>").count(), 3);
        assert_eq!(text.matches("<MeTrInf>").count(), 2);
        assert!(
            text.contains("<SinInfCd>K282</SinInfCd>") && text.contains("<MeTrIdCl>50</MeTrIdCl>")
        );
        assert_eq!(text.matches("<DiDateInf>").count(), 4);
        assert!(text.contains("<Qua1>1</Qua1>\n") && text.contains("<Times>14</Times>"));
        assert!(text.contains("<Qua1>1.6</Qua1>"), "{text}");
        if charset == Charset::ShiftJis {
            // 𠮷 has no Shift_JIS code: the portable name by its usual substitute, the exact
            // one beside it.
            assert!(text.contains("<Name>吉田　花子</Name>"), "{text}");
            assert!(
                text.contains("<NameOfOther>&#x20BB7;田　花子</NameOfOther>"),
                "{text}"
            );
        }
    }
}

/// A hospital (医科) of another institution, for treatment rows.
fn pharmacy_free() -> InstitutionCode {
    InstitutionCode::from_parts(
        Prefecture::from_code(27).unwrap(),
        FeeSchedule::Medical,
        5,
        4321,
    )
    .unwrap()
}

#[test]
fn messages_of_the_interface_that_onshi_lacks_are_named_not_ignored() {
    for (name, res, label) in [
        (
            "OQSmutic01req_202605140002.xml",
            "OQSmutic01res_202605140002.xml",
            "医療扶助",
        ),
        (
            "OQSmutic02req_202605140003.xml",
            "OQSmutic02res_202605140003.xml",
            "医療扶助",
        ),
        ("ABCdefgh01req_1.xml", "ABCdefgh01res_1.xml", ""),
    ] {
        let (prefix, r) = unsupported_request(name).unwrap();
        assert_eq!(r, res);
        let e = OqsError::UnsupportedMessage(prefix.clone());
        assert_eq!(e.code(), ErrorCode::UNSUPPORTED_MESSAGE);
        let msg = e.message_ja();
        assert!(msg.contains(&prefix) && msg.contains(label), "{msg}");
    }
    // Known messages and names of another shape are not "unsupported messages".
    for name in [
        "OQSsiquc01req_0001.xml",
        "YZKsiquc01req_0001.xml",
        "OQSmuhvq01req_202605140001.xml",
        "OQSmuonq02req_202605140001.xml",
        "notes.txt",
        "OQSmuhvq01req_.xml",
        "OQSMUHVQ01req_1.xml",
        "OQSmuhvq01req_a b.xml",
        "readme_req_1.xml",
    ] {
        assert_eq!(unsupported_request(name), None, "{name}");
    }
}

#[test]
fn home_care_searches_are_read_as_a_public_client_writes_them() {
    let text = |flag: &str, dates: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"Shift_JIS\" standalone=\"no\"?>\r\n<XmlMsg>\r\n  <MessageHeader>\r\n    \
             <MedicalInstitutionCode>{}</MedicalInstitutionCode>\r\n    \
             <ArbitraryFileIdentifier>20260514093012045C01</ArbitraryFileIdentifier>\r\n  </MessageHeader>\r\n  \
             <MessageBody>\r\n    <QualificationConfirmSearchInfo>{dates}{flag}</QualificationConfirmSearchInfo>\r\n  \
             </MessageBody>\r\n</XmlMsg>",
            institution().as_str()
        )
    };
    let consent =
        "<ConsentDateFrom>20260512</ConsentDateFrom><ConsentDateTo>20260514</ConsentDateTo>";
    let exam = "<ExaminationDateFrom>20260512</ExaminationDateFrom><ExaminationDateTo>20260514</ExaminationDateTo>";
    let read = |kind, t: &str| parse_request(kind, &sjis(t)).map(|r| r.request);
    let (from, to) = (d("20260512"), d("20260514"));
    assert_eq!(
        read(
            MessageKind::HomeVisitSearch,
            &text("<MedicalTreatmentFlag>2</MedicalTreatmentFlag>", consent)
        )
        .unwrap(),
        Request::HomeCareSearch(HomeCareSearch {
            care: HomeCare::HomeVisit,
            dates: SearchDates::Consented { from, to }
        })
    );
    assert_eq!(
        read(
            MessageKind::OnlineSearch,
            &text("<MedicalTreatmentFlag>3</MedicalTreatmentFlag>", exam)
        )
        .unwrap(),
        Request::HomeCareSearch(HomeCareSearch {
            care: HomeCare::Online,
            dates: SearchDates::Examination { from, to }
        })
    );
    // Refused: the other kind's flag, examination days for home visits, no dates, a
    // reversed range, both pairs.
    let bad = [
        (
            MessageKind::HomeVisitSearch,
            text("<MedicalTreatmentFlag>3</MedicalTreatmentFlag>", consent),
            MEDICAL_TREATMENT_FLAG,
        ),
        (
            MessageKind::HomeVisitSearch,
            text("", exam),
            EXAMINATION_DATE_FROM,
        ),
        (MessageKind::OnlineSearch, text("", ""), CONSENT_DATE_FROM),
        (
            MessageKind::OnlineSearch,
            text(
                "",
                "<ConsentDateFrom>20260515</ConsentDateFrom><ConsentDateTo>20260514</ConsentDateTo>",
            ),
            CONSENT_DATE_FROM,
        ),
        (
            MessageKind::OnlineSearch,
            text("", &format!("{consent}{exam}")),
            EXAMINATION_DATE_FROM,
        ),
    ];
    for (kind, t, element) in bad {
        let e = read(kind, &t).unwrap_err();
        let at = match &e {
            OqsError::InvalidValue { element, .. }
            | OqsError::MissingElement(element)
            | OqsError::DuplicateElement(element) => *element,
            other => panic!("{other:?}"),
        };
        assert_eq!(at, element, "{t}");
    }
    // The result fetch is the bulk fetch's body.
    let fetch = format!(
        "<XmlMsg><MessageHeader><MedicalInstitutionCode>{}</MedicalInstitutionCode></MessageHeader>\
         <MessageBody><ReceptionNumber>B12</ReceptionNumber></MessageBody></XmlMsg>",
        institution().as_str()
    );
    assert_eq!(
        read(MessageKind::OnlineFetch, &fetch).unwrap(),
        Request::BulkFetch(BulkFetchRequest {
            reception_number: "B12".into()
        })
    );
}
