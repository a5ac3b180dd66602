//! FHIR R4 (JP Core) from the center, checked by an independent validator: a reception at
//! the reader with the medication and check-up consents, the clinic's 照会番号 registered
//! through the JSON API, then `GET /v1/receptions/{id}/fhir` over mutual TLS. Every
//! resource of the Bundle is validated by the `fhir.resources` package (its R4 models, in
//! the virtual environment of scripts/setup-python.sh, found through `ONSHI_PYTHON`), and
//! the Rust side checks the values against the synthetic nation.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use common::tls::*;
use common::*;
use onshi_synth::{Config, Nation, find_scenarios};
use serde_json::{Value, json};

const PERSONS: u64 = 3_000;
const SEED: u64 = 11;
const AS_OF: &str = "2025-06-02";

/// The Python of the checkers, or `None` (skip) when `ONSHI_PYTHON` is unset and
/// `ONSHI_REQUIRE_PYTHON=1` is not.
pub fn python() -> Option<PathBuf> {
    let required = std::env::var("ONSHI_REQUIRE_PYTHON").is_ok_and(|v| v == "1");
    match std::env::var_os("ONSHI_PYTHON") {
        Some(p) => {
            let ok = Command::new(&p)
                .args(["-c", "import fhir.resources"])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "ONSHI_PYTHON={p:?} cannot import fhir.resources");
            Some(PathBuf::from(p))
        }
        None => {
            assert!(
                !required,
                "ONSHI_REQUIRE_PYTHON=1 but ONSHI_PYTHON is not set (source scripts/setup-python.sh)"
            );
            eprintln!(
                "NOTE: ONSHI_PYTHON not set; the FHIR validation is skipped (source scripts/setup-python.sh)"
            );
            None
        }
    }
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/python")
        .join(name)
}

/// Runs the validator on `bundle`; returns its summary, or its message when it refuses.
fn validate(
    py: &Path,
    dir: &Path,
    name: &str,
    bundle: &Value,
    require: &[&str],
) -> Result<Value, String> {
    let file = dir.join(name);
    std::fs::write(&file, serde_json::to_vec_pretty(bundle).unwrap()).unwrap();
    let mut cmd = Command::new(py);
    cmd.arg(script("validate_fhir.py")).arg(&file);
    if !require.is_empty() {
        cmd.arg("--require").args(require);
    }
    let out = cmd.output().expect("run the validator");
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).expect("validator summary"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// `qpdf --check` passes and `pdftotext` finds every text of `expect`.
fn check_pdf(path: &Path, expect: &[&str]) {
    let out = Command::new("qpdf")
        .arg("--check")
        .arg(path)
        .output()
        .expect("qpdf (Debian's qpdf package, installed by scripts/setup-python.sh)");
    assert!(
        out.status.success(),
        "qpdf --check: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("pdftotext")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils, with poppler-data)");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).replace(['\n', ' '], "");
    for e in expect {
        let e = e.replace(' ', "");
        assert!(text.contains(&e), "{e} not in the PDF's text:\n{text}");
    }
}

/// `onshi terminal folder` on `dir`, killed when dropped.
struct Watcher(std::process::Child);

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_watcher(dir: &Path, center: &str, cert: &Path, log: &Path) -> Watcher {
    use std::io::{BufRead, BufReader};
    let log = std::fs::File::create(log).unwrap();
    let mut child = Command::new(BIN)
        .args([
            "terminal",
            "folder",
            "--dir",
            dir.to_str().unwrap(),
            "--center",
            center,
        ])
        .args(["--cert", cert.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("onshi terminal folder");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    loop {
        let line = lines
            .next()
            .expect("the watcher said it was watching")
            .unwrap();
        if line.starts_with("onshi terminal watching ") {
            break;
        }
    }
    // Keep reading, so that the watcher never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Watcher(child)
}

fn resources<'a>(b: &'a Value, kind: &str) -> Vec<&'a Value> {
    b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

fn ext<'a>(r: &'a Value, name: &str) -> Option<&'a str> {
    r["extension"].as_array()?.iter().find_map(|e| {
        e["url"]
            .as_str()?
            .ends_with(name)
            .then(|| e["valueString"].as_str())?
    })
}

/// A fresh SQLite database seeded with the test nation (with or without histories), the
/// nation itself and its scenarios.
fn seeded_nation(
    tag: &str,
    histories: bool,
) -> (PathBuf, String, NaiveDate, Nation, onshi_synth::Scenarios) {
    let data = tempdir(tag);
    let url = onshi_store::testing::fresh_sqlite_url(&data);
    let as_of = NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap();
    seed(&url, PERSONS, SEED, as_of, histories);
    let n = Nation::new(Config {
        seed: SEED,
        persons: PERSONS,
        as_of,
    });
    let sc = find_scenarios(&n, n.household_count());
    (data, url, as_of, n, sc)
}

#[tokio::test(flavor = "multi_thread")]
async fn reception_as_fhir_r4_passes_an_independent_validator() {
    let Some(py) = python() else { return };
    let (data, url, as_of, n, sc) = seeded_nation("fhir", true);
    // A linked person with both medications and check-ups in their history.
    let (case, history) = sc
        .card_linked
        .iter()
        .find_map(|c| {
            let h = n.household(c.household);
            let p = h.persons.iter().find(|p| p.id == c.person_id)?;
            let hist = onshi_synth::history::person_history(&n, &h, p);
            (!hist.medications.is_empty() && !hist.checkups.is_empty()).then_some((*c, hist))
        })
        .expect("a linked person with medications and check-ups");
    let institution = n.institutions()[0].code.to_string();
    let other = n.institutions()[1].code.to_string();
    let terminal = enroll(&url, &data, &institution, "T01");
    let other_terminal = enroll(&url, &data, &other, "T02");
    let server = serve_tls(&url, &data);
    let card = data.join("p.card");
    issue_card(&url, &data, &case.person_id.to_string(), &card);
    let recept_with = |card: &Path, consent: &str| {
        let (v, _) = reception(
            &server.base,
            &terminal,
            &data,
            card,
            Via::File,
            &[
                "--as-of",
                AS_OF,
                "--method",
                "pin",
                "--pin",
                "1234",
                "--consent",
                consent,
            ],
        );
        assert_eq!(v["outcome"], "done", "{v:#}");
        v
    };
    let recept = |consent: &str| recept_with(&card, consent);

    // The first reception has no 照会番号; the clinic registers its own id (OQSsiimm01 as
    // JSON) for the person of the record, and the next reception carries it.
    let first = recept("cost_ceiling");
    let rec = &first["result"]["records"][0];
    assert!(rec.get("reference_number").is_none(), "{rec:#}");
    let http = terminal_http(&terminal);
    let body = json!({
        "institution_code": institution,
        "insurer_number": rec["insurer_number"],
        "symbol": rec["symbol"],
        "number": rec["number"],
        "branch": rec["branch"],
        "birth_date": rec["birth_date"],
        "as_of": AS_OF,
        "reference_number": "カルテ-000123",
    });
    let resp = http
        .post(format!("{}/v1/reference-numbers", server.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let registered: Value = resp.json().await.unwrap();
    assert_eq!(registered["reference_number"], "カルテ-000123");
    // Another institution's terminal may not register for this one.
    let resp = terminal_http(&other_terminal)
        .post(format!("{}/v1/reference-numbers", server.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);

    let v = recept("medication,checkups");
    let rec = &v["result"]["records"][0];
    assert_eq!(rec["reference_number"], "カルテ-000123", "{rec:#}");
    let reception_id = v["result"]["reception_id"].as_str().unwrap().to_owned();

    let fhir_url = format!("{}/v1/receptions/{reception_id}/fhir", server.base);
    let resp = http.get(&fhir_url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/fhir+json")
    );
    let bundle: Value = resp.json().await.unwrap();
    let summary = validate(
        &py,
        &data,
        "bundle.json",
        &bundle,
        &[
            "Patient",
            "Coverage",
            "Organization",
            "Consent",
            "MedicationDispense",
            "Observation",
        ],
    )
    .unwrap_or_else(|e| panic!("the validator refused the Bundle: {e}"));
    assert_eq!(summary["fhir_version"], "4.0.1");
    let counts = &summary["resource_types"];
    assert_eq!(counts["Patient"], 1);
    assert_eq!(counts["Coverage"], 1);
    assert_eq!(counts["Organization"], 1);
    assert_eq!(counts["Consent"], 2);
    assert_eq!(counts["MedicationDispense"], history.medications.len());
    assert_eq!(counts["Observation"], 16 * history.checkups.len());

    // The values, against the record and the synthetic person.
    let h = n.household(case.household);
    let person = h.persons.iter().find(|p| p.id == case.person_id).unwrap();
    let patient = resources(&bundle, "Patient")[0];
    assert_eq!(patient["birthDate"], person.birth_date.to_string());
    assert_eq!(patient["name"][0]["family"], person.name.family);
    assert_eq!(patient["identifier"][0]["value"], "カルテ-000123");
    assert!(
        patient["identifier"][0]["system"]
            .as_str()
            .unwrap()
            .ends_with(&institution)
    );
    let text = serde_json::to_string(&bundle).unwrap();
    assert!(
        !text.contains(person.my_number.as_str()),
        "the My Number is never written"
    );
    let coverage = resources(&bundle, "Coverage")[0];
    assert_eq!(coverage["status"], "active");
    assert_eq!(
        ext(coverage, "JP_Coverage_InsuredPersonNumber"),
        rec["number"].as_str()
    );
    assert_eq!(
        ext(coverage, "JP_Coverage_InsuredPersonSubNumber"),
        rec["branch"].as_str()
    );
    assert_eq!(
        ext(coverage, "JP_Coverage_InsuredPersonSymbol"),
        rec["symbol"].as_str()
    );
    let org = resources(&bundle, "Organization")[0];
    assert_eq!(
        org["identifier"][0]["value"].as_str().unwrap(),
        rec["insurer_number"].as_str().unwrap().trim()
    );
    assert_eq!(
        coverage["payor"][0]["reference"],
        bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["resource"]["resourceType"] == "Organization")
            .unwrap()["fullUrl"]
    );
    let mut dispensed: Vec<String> = resources(&bundle, "MedicationDispense")
        .iter()
        .map(|m| {
            m["medicationCodeableConcept"]["coding"][0]["code"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut expected: Vec<String> = history
        .medications
        .iter()
        .map(|m| m.drug_code.to_owned())
        .collect();
    dispensed.sort();
    expected.sort();
    assert_eq!(dispensed, expected);
    assert!(
        resources(&bundle, "Consent")
            .iter()
            .all(|c| c["status"] == "active")
    );

    // Without the history consents: the qualification only, still valid FHIR.
    let plain = recept("diagnoses");
    let id = plain["result"]["reception_id"].as_str().unwrap();
    let b: Value = http
        .get(format!("{}/v1/receptions/{id}/fhir", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let s = validate(
        &py,
        &data,
        "plain.json",
        &b,
        &["Patient", "Coverage", "Consent"],
    )
    .unwrap_or_else(|e| panic!("the validator refused the Bundle: {e}"));
    assert!(s["resource_types"].get("MedicationDispense").is_none());
    assert!(s["resource_types"].get("Observation").is_none());

    // Another institution's terminal does not see the reception; a client without a
    // terminal certificate is refused.
    let resp = terminal_http(&other_terminal)
        .get(&fhir_url)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // The same information by the data of the insurance card, as JSON: the patient, the
    // period and the items; another institution, where the patient gave no consent, is
    // refused, and so is a card that matches nobody.
    let card_body = json!({
        "insurer_number": rec["insurer_number"].as_str().unwrap().trim(),
        "symbol": rec["symbol"],
        "number": rec["number"],
        "branch": rec["branch"],
    });
    let resp = http
        .post(format!("{}/v1/history/medications", server.base))
        .json(&card_body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let by_card: Value = resp.json().await.unwrap();
    assert_eq!(
        by_card["patient"]["birth_date"],
        person.birth_date.to_string()
    );
    assert_eq!(by_card["reception"], reception_id.as_str());
    assert_eq!(
        by_card["items"].as_array().unwrap().len(),
        history.medications.len()
    );
    assert!(
        by_card["items"][0]["pharmacy_name"]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
        "{by_card:#}"
    );
    let resp = terminal_http(&other_terminal)
        .post(format!("{}/v1/history/medications", server.base))
        .json(&card_body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let problem: Value = resp.json().await.unwrap();
    assert_eq!(problem["code"], "consent_missing");
    let mut nobody = card_body.clone();
    nobody["number"] = json!("99999999");
    let resp = http
        .post(format!("{}/v1/history/checkups", server.base))
        .json(&nobody)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // And through the folder interface, as a public clinic client writes its requests:
    // the patient by insurance data in MessageHeader, a period in yyyyMM, FileCategory
    // 1 (PDF) or 2 (XML); medication as XML (UTF-8), check-ups and medication as PDF
    // (Shift_JIS and UTF-8), and the refusals as error answers with ResultCode 2.
    let center = server
        .base
        .replace("https://", "https://localhost:")
        .replacen("localhost:127.0.0.1:", "localhost:", 1);
    let emr = data.join("emr");
    let _watcher = start_watcher(&emr, &center, &terminal, &data.join("watcher.log"));
    let other_emr = data.join("emr-other");
    let _other_watcher = start_watcher(
        &other_emr,
        &center,
        &other_terminal,
        &data.join("watcher-other.log"),
    );
    let ask = |dir: &Path, code: &str, name: &str, card: &Value, body: &str, sjis: bool| {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"{}\" standalone=\"no\"?>\n<XmlMsg>\n  <MessageHeader>\n\
             <MedicalInstitutionCode>{code}</MedicalInstitutionCode>\n\
             <InsurerNumber>{}</InsurerNumber>\n\
             <InsuranceCardSymbol>{}</InsuranceCardSymbol>\n\
             <InsuredPersonIdentificationNumber>{}</InsuredPersonIdentificationNumber>\n\
             <BranchNumber>{}</BranchNumber>\n\
             <ArbitraryFileIdentifier>123451</ArbitraryFileIdentifier>\n  </MessageHeader>\n\
             <MessageBody>{body}<PrDiInfClassification>1</PrDiInfClassification>\
             <MedicalTreatmentFlag>1</MedicalTreatmentFlag></MessageBody>\n</XmlMsg>\n",
            if sjis { "Shift_JIS" } else { "UTF-8" },
            card["insurer_number"].as_str().unwrap().trim(),
            card["symbol"].as_str().unwrap_or(""),
            card["number"].as_str().unwrap(),
            card["branch"].as_str().unwrap_or(""),
        );
        let bytes = if sjis {
            encoding_rs::SHIFT_JIS.encode(&xml).0.into_owned()
        } else {
            xml.into_bytes()
        };
        let tmp = dir.join("req").join(format!(".{name}.part"));
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, dir.join("req").join(name)).unwrap();
        let res = dir.join("res").join(name.replace("req_", "res_"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !res.exists() {
            assert!(std::time::Instant::now() < deadline, "no answer to {name}");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        std::fs::read(&res).unwrap()
    };
    let bytes = ask(
        &emr,
        &institution,
        "YZKsiquc01req_022506020930123451.xml",
        rec,
        "<StartDate>202206</StartDate><EndDate>202506</EndDate><FileCategory>2</FileCategory>",
        false,
    );
    let r = onshi_oqs::parse_history_response(&bytes).unwrap();
    assert_eq!(r.segment, onshi_model::SegmentOfResult::Normal, "{r:?}");
    assert_eq!(r.result_code, "1");
    assert_eq!(r.file_id.as_deref(), Some("123451"));
    assert!(r.pdf_file_name.is_none());
    let answer = r.answer.expect("an answer");
    assert_eq!(answer.patient.birth_date, person.birth_date);
    assert_eq!(answer.patient.name, person.name.full());
    let onshi_oqs::HistoryContent::Medications(meds) = &answer.content else {
        panic!("{answer:?}")
    };
    assert_eq!(meds.len(), history.medications.len());
    let mut codes: Vec<String> = meds.iter().map(|m| m.drug_code.clone()).collect();
    codes.sort();
    assert_eq!(codes, expected);
    for (m, want) in meds.iter().zip(&by_card["items"].as_array().unwrap()[..]) {
        assert_eq!(m.drug_code, want["drug_code"].as_str().unwrap());
        assert_eq!(m.pharmacy_name, want["pharmacy_name"].as_str().unwrap());
    }
    // A period narrower than the history gives fewer records, all inside it.
    let bytes = ask(
        &emr,
        &institution,
        "YZKsiquc01req_022506020931123451.xml",
        rec,
        "<StartDate>202501</StartDate><EndDate>202503</EndDate><FileCategory>2</FileCategory>",
        true,
    );
    let r = onshi_oqs::parse_history_response(&bytes).unwrap();
    let answer = r.answer.expect("an answer");
    let onshi_oqs::HistoryContent::Medications(narrow) = &answer.content else {
        panic!("{answer:?}")
    };
    let in_period = history
        .medications
        .iter()
        .filter(|m| {
            m.dispensed_on >= NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()
                && m.dispensed_on <= NaiveDate::from_ymd_opt(2025, 3, 31).unwrap()
        })
        .count();
    assert_eq!(narrow.len(), in_period);
    assert!(narrow.len() < meds.len());

    let bytes = ask(
        &emr,
        &institution,
        "TKKsiquc01req_012506020932123451.xml",
        rec,
        "<FileCategory>1</FileCategory>",
        true,
    );
    let r = onshi_oqs::parse_history_response(&bytes).unwrap();
    assert_eq!(r.charset, onshi_model::CharacterCodeIdentifier::ShiftJis);
    let answer = r.answer.expect("an answer");
    let onshi_oqs::HistoryContent::Checkups(checkups) = &answer.content else {
        panic!("{answer:?}")
    };
    assert_eq!(checkups.len(), history.checkups.len());
    assert!(checkups.iter().all(|c| c.results.len() == 16));
    let pdf_name = r.pdf_file_name.clone().expect("a PDF");
    assert_eq!(pdf_name, "TKKsiquc01res_012506020932123451.pdf");
    check_pdf(
        &emr.join("res").join(&pdf_name),
        &["特定健診等情報", "身長", "収縮期血圧", &person.name.family],
    );
    let _ = ask(
        &emr,
        &institution,
        "YZKsiquc01req_012506020933123451.xml",
        rec,
        "<StartDate>202206</StartDate><EndDate>202506</EndDate><FileCategory>1</FileCategory>",
        false,
    );
    check_pdf(
        &emr.join("res/YZKsiquc01res_012506020933123451.pdf"),
        &["薬剤情報", history.medications[0].drug_name],
    );

    // "With treatment information" (FileCategory 4): without a consent to share operations
    // the answer has the drugs only; after a reception with that consent, the operations
    // too, as treatment rows.
    let with_treatment = |name: &str| {
        let bytes = ask(
            &emr,
            &institution,
            name,
            rec,
            "<StartDate>202206</StartDate><EndDate>202506</EndDate><FileCategory>4</FileCategory>",
            true,
        );
        let r = onshi_oqs::parse_history_response(&bytes).unwrap();
        assert_eq!(r.result_code, "1", "{r:?}");
        r.answer.expect("an answer")
    };
    let answer = with_treatment("YZKsiquc01req_042506020936123451.xml");
    assert!(answer.treatments.is_empty());
    assert_eq!(answer.content.len(), history.medications.len());
    recept("medication,surgeries");
    let answer = with_treatment("YZKsiquc01req_042506020937123451.xml");
    assert_eq!(answer.content.len(), history.medications.len());
    let mut operations: Vec<(String, String)> = answer
        .treatments
        .iter()
        .map(|t| (t.performed_on.to_string(), t.code.clone()))
        .collect();
    let mut want: Vec<(String, String)> = history
        .surgeries
        .iter()
        .filter(|s| s.performed_on >= NaiveDate::from_ymd_opt(2022, 6, 2).unwrap())
        .map(|s| (s.performed_on.to_string(), s.code.to_owned()))
        .collect();
    operations.sort();
    want.sort();
    assert_eq!(operations, want);
    // A patient with operations in the three years: after a reception with the consent to
    // share them, their medication file with treatment information carries every one.
    let since = NaiveDate::from_ymd_opt(2022, 6, 2).unwrap();
    // (Operations are rare: every household is looked at, not only the scenario lists.)
    let (op_person, op_history) = (0..n.household_count())
        .find_map(|i| {
            let h = n.household(i);
            h.persons.iter().find_map(|p| {
                let linked = p
                    .card
                    .is_some_and(|c| c.linked_on.is_some_and(|d| d <= as_of));
                let insured = h.records.iter().any(|r| {
                    r.person_id == p.id
                        && r.qualification_date <= as_of
                        && r.disqualification_date.is_none_or(|d| d > as_of)
                });
                if !linked || !insured || p.death_date.is_some() {
                    return None;
                }
                let hist = onshi_synth::history::person_history(&n, &h, p);
                hist.surgeries
                    .iter()
                    .any(|s| s.performed_on >= since)
                    .then_some((p.id, hist))
            })
        })
        .expect("a linked person with operations");
    let op_card = data.join("op.card");
    issue_card(&url, &data, &op_person.to_string(), &op_card);
    let v = recept_with(&op_card, "medication,surgeries");
    let op_rec = &v["result"]["records"][0];
    let bytes = ask(
        &emr,
        &institution,
        "YZKsiquc01req_042506020939123452.xml",
        op_rec,
        "<StartDate>202206</StartDate><EndDate>202506</EndDate><FileCategory>4</FileCategory>",
        true,
    );
    let answer = onshi_oqs::parse_history_response(&bytes)
        .unwrap()
        .answer
        .expect("an answer");
    let mut operations: Vec<(NaiveDate, String)> = answer
        .treatments
        .iter()
        .map(|t| (t.performed_on, t.code.clone()))
        .collect();
    let mut want: Vec<(NaiveDate, String)> = op_history
        .surgeries
        .iter()
        .filter(|s| s.performed_on >= since)
        .map(|s| (s.performed_on, s.code.to_owned()))
        .collect();
    operations.sort();
    want.sort();
    assert!(!want.is_empty());
    assert_eq!(operations, want);
    assert_eq!(
        answer.content.len(),
        op_history
            .medications
            .iter()
            .filter(|m| m.dispensed_on >= since)
            .count()
    );

    // Refusals: a card matching nobody, another clinic without the patient's consent, and
    // a family's card without the branch number (several persons match: a family
    // member's consent never answers for another).
    let mut nobody_card = rec.clone();
    nobody_card["number"] = json!("99999999");
    let family = sc.family_member[0];
    let family_rec = n
        .household(family.household)
        .records
        .iter()
        .find(|r| r.id == family.record_id)
        .unwrap()
        .clone();
    let family_card = json!({
        "insurer_number": family_rec.insurer_number.as_str(),
        "symbol": family_rec.symbol.as_ref().map(|s| s.as_str()),
        "number": family_rec.number.as_str(),
    });
    for (dir, code, name, card, want) in [
        (
            &emr,
            &institution,
            "YZKsiquc01req_022506020934000001.xml",
            &nobody_card,
            "該当する資格がありません",
        ),
        (
            &other_emr,
            &other,
            "TKKsiquc01req_022506020935123451.xml",
            rec,
            "同意がありません",
        ),
        (
            &emr,
            &institution,
            "YZKsiquc01req_022506020938000002.xml",
            &family_card,
            "枝番を指定してください",
        ),
    ] {
        let bytes = ask(
            dir,
            code,
            name,
            card,
            "<FileCategory>2</FileCategory>",
            true,
        );
        let r = onshi_oqs::parse_response(&bytes).unwrap();
        assert_eq!(r.header.segment, onshi_model::SegmentOfResult::Abnormal);
        let (_, msg) = r.header.error.unwrap();
        assert!(msg.contains(want), "{msg}");
        let text = encoding_rs::SHIFT_JIS.decode(&bytes).0.into_owned();
        assert!(text.contains("<ResultCode>2</ResultCode>"), "{text}");
        assert!(text.contains(&format!("<MessageContents>{msg}")), "{text}");
        assert!(
            !dir.join("res")
                .join(name.replace("req_", "res_").replace(".xml", ".pdf"))
                .exists()
        );
    }

    // The validator is not a rubber stamp: a Consent without its scope is refused.
    let mut broken = bundle.clone();
    for e in broken["entry"].as_array_mut().unwrap() {
        if e["resource"]["resourceType"] == "Consent" {
            e["resource"].as_object_mut().unwrap().remove("scope");
        }
    }
    let err = validate(&py, &data, "broken.json", &broken, &[]).unwrap_err();
    assert!(err.contains("scope"), "{err}");
}

/// The 訪問診療 and オンライン診療 bulk searches, as a public clinic client runs them:
/// patients consent at home in the portal app with their card, the clinic's EMR writes
/// `OQSmuhvq01` / `OQSmuonq01` (Shift_JIS, CRLF), gets a 受付番号, asks with `…02` until
/// the answer is done, and finds exactly the patients who consented to it, on the days
/// asked, one `BulkConfirmUnit` each.
#[test]
fn home_care_searches_find_the_patients_who_consented_at_home() {
    let (data, url, _, n, sc) = seeded_nation("home-care", false);
    let (a, b) = (sc.card_linked[0], sc.card_linked[1]);
    let institution = n.institutions()[0].code.to_string();
    let other = n.institutions()[1].code.to_string();
    let terminal = enroll(&url, &data, &institution, "T01");
    let server = serve_tls(&url, &data);
    let (card_a, card_b) = (data.join("a.card"), data.join("b.card"));
    issue_card(&url, &data, &a.person_id.to_string(), &card_a);
    issue_card(&url, &data, &b.person_id.to_string(), &card_b);
    let consent = |card: &Path, inst: &str, kind: &str, extra: &[&str]| {
        let mut args = vec![
            "--card",
            card.to_str().unwrap(),
            "--pin",
            "1234",
            "--institution",
            inst,
            "--kind",
            kind,
        ];
        args.extend_from_slice(extra);
        let out = phone_at(&server.base, &data, "home-consent", &args);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["institution_code"], inst, "{v:#}");
        v
    };
    // A consents to home visits by this clinic; B to an online examination on a given
    // day here, and to home visits by another clinic.
    consent(&card_a, &institution, "home-visit", &[]);
    let v = consent(
        &card_b,
        &institution,
        "online",
        &["--examination-date", "2026-12-01"],
    );
    assert_eq!(v["examination_date"], "2026-12-01");
    consent(&card_b, &other, "home-visit", &[]);
    // A home-visit consent with an examination day is refused.
    let mut bad = Command::new(BIN);
    bad.args([
        "phone",
        "home-consent",
        "--card",
        card_a.to_str().unwrap(),
        "--pin",
        "1234",
        "--institution",
        &institution,
        "--kind",
        "home-visit",
        "--examination-date",
        "2026-12-01",
        "--center",
        &server.base,
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let out = bad.output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("診察日"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The search as JSON refuses what it cannot answer, naming the field.
    let http = terminal_http(&terminal);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for (body, field) in [
        (
            json!({"kind": "home_visit", "consented_from": "2026-05-14", "consented_to": "2026-05-12"}),
            "consented_to",
        ),
        (
            json!({"kind": "online", "examination_from": "2025-01-01", "examination_to": "2026-03-01"}),
            "examination_to",
        ),
        (
            json!({"kind": "home_visit", "examination_from": "2026-05-12", "examination_to": "2026-05-14"}),
            "examination_from",
        ),
        (
            json!({"kind": "online", "consented_from": "2026-05-12", "consented_to": "2026-05-14",
                   "examination_from": "2026-05-12", "examination_to": "2026-05-14"}),
            "consented_from",
        ),
        (
            json!({"kind": "dental", "consented_from": "2026-05-12", "consented_to": "2026-05-14"}),
            "kind",
        ),
    ] {
        let mut body = body;
        body["institution_code"] = json!(institution);
        let (status, problem) = runtime.block_on(async {
            let resp = http
                .post(format!("{}/v1/eligibility/home-consents", server.base))
                .json(&body)
                .send()
                .await
                .unwrap();
            (resp.status(), resp.json::<Value>().await.unwrap())
        });
        assert_eq!(status, 400, "{body} {problem}");
        assert_eq!(problem["field"], field, "{body} {problem}");
    }

    let center = server
        .base
        .replace("https://", "https://localhost:")
        .replacen("localhost:127.0.0.1:", "localhost:", 1);
    let emr = data.join("emr");
    let _watcher = start_watcher(&emr, &center, &terminal, &data.join("watcher.log"));
    let write = |name: &str, body: &str| {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"Shift_JIS\" standalone=\"no\"?>\r\n<XmlMsg>\r\n  \
             <MessageHeader>\r\n    <MedicalInstitutionCode>{institution}</MedicalInstitutionCode>\r\n  \
             </MessageHeader>\r\n  <MessageBody>\r\n    {body}\r\n  </MessageBody>\r\n</XmlMsg>"
        );
        let tmp = emr.join("req").join(format!(".{name}.part"));
        std::fs::write(&tmp, encoding_rs::SHIFT_JIS.encode(&xml).0.as_ref()).unwrap();
        std::fs::rename(&tmp, emr.join("req").join(name)).unwrap();
        let res = emr.join("res").join(name.replace("req_", "res_"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !res.exists() {
            assert!(std::time::Instant::now() < deadline, "no answer to {name}");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let bytes = std::fs::read(&res).unwrap();
        (
            onshi_oqs::parse_response(&bytes).unwrap(),
            encoding_rs::SHIFT_JIS.decode(&bytes).0.into_owned(),
        )
    };
    let today = chrono::Utc::now()
        .with_timezone(&onshi_pki::jst())
        .date_naive();
    let day = |d: NaiveDate| d.format("%Y%m%d").to_string();
    let mut counter = 0;
    // Search, then fetch until done: the persons found, by birth date.
    let mut search = |prefix: &str, criteria: String| -> Vec<(NaiveDate, String)> {
        counter += 1;
        let (r, _) = write(
            &format!("{prefix}01req_20261129{counter:04}.xml"),
            &format!("<QualificationConfirmSearchInfo>{criteria}</QualificationConfirmSearchInfo>"),
        );
        assert_eq!(r.header.segment, onshi_model::SegmentOfResult::Processing);
        let reception = r.body.reception_number.expect("a ReceptionNumber");
        for _ in 0..50 {
            counter += 1;
            let (r, text) = write(
                &format!("{prefix}02req_20261129{counter:04}.xml"),
                &format!("<ReceptionNumber>{reception}</ReceptionNumber>"),
            );
            if r.header.segment == onshi_model::SegmentOfResult::Processing {
                std::thread::sleep(std::time::Duration::from_millis(100));
                continue;
            }
            assert_eq!(
                r.header.segment,
                onshi_model::SegmentOfResult::Normal,
                "{r:?}"
            );
            assert_eq!(
                r.header.charset,
                onshi_model::CharacterCodeIdentifier::ShiftJis
            );
            // One BulkConfirmUnit per patient, directly in the body, no namespace.
            assert_eq!(
                text.matches("<BulkConfirmUnit>").count(),
                r.body.bulk_units.len()
            );
            assert!(!text.contains("xmlns"));
            return r
                .body
                .bulk_units
                .iter()
                .map(|u| {
                    assert_eq!(u.validity, Some(onshi_model::QualificationValidity::Valid));
                    let q = &u.records[0];
                    (q.birth_date, q.name.clone())
                })
                .collect();
        }
        panic!("the search never finished");
    };
    let person = |id: u64| {
        let h = n.household(
            sc.card_linked
                .iter()
                .find(|c| c.person_id == id)
                .unwrap()
                .household,
        );
        let p = h.persons.iter().find(|p| p.id == id).unwrap();
        (p.birth_date, p.name.full())
    };
    let consented = format!(
        "<ConsentDateFrom>{}</ConsentDateFrom><ConsentDateTo>{}</ConsentDateTo>",
        day(today.pred_opt().unwrap()),
        day(today)
    );
    assert_eq!(
        search(
            "OQSmuhvq",
            format!("{consented}<MedicalTreatmentFlag>2</MedicalTreatmentFlag>")
        ),
        vec![person(a.person_id)]
    );
    assert_eq!(
        search(
            "OQSmuonq",
            format!("{consented}<MedicalTreatmentFlag>3</MedicalTreatmentFlag>")
        ),
        vec![person(b.person_id)]
    );
    assert_eq!(
        search(
            "OQSmuonq",
            "<ExaminationDateFrom>20261201</ExaminationDateFrom>\
             <ExaminationDateTo>20261201</ExaminationDateTo><MedicalTreatmentFlag>3</MedicalTreatmentFlag>"
                .into()
        ),
        vec![person(b.person_id)]
    );
    // Days without consents find nobody.
    assert_eq!(
        search(
            "OQSmuhvq",
            "<ConsentDateFrom>20250101</ConsentDateFrom><ConsentDateTo>20250131</ConsentDateTo>\
             <MedicalTreatmentFlag>2</MedicalTreatmentFlag>"
                .into()
        ),
        vec![]
    );
}
