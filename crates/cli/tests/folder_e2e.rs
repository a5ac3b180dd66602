//! The folder interface end to end: `onshi serve --tls`, a terminal enrolled for one
//! institution, `onshi terminal folder` watching a directory, and request files written
//! as an EMR writes them (UTF-8 and Shift_JIS, directly or renamed into `req/`). Checks the
//! answers, malformed files, a restart with a request waiting, and measures the time from
//! a request written to its response present.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use common::*;
use onshi_model::{CharacterCodeIdentifier, QualificationValidity, SegmentOfResult};
use onshi_oqs::{ParsedResponse, parse_response};
use onshi_synth::{Case, Config, InsuredRecord, Nation, Person, find_scenarios};

const PERSONS: u64 = 3_000;
const SEED: u64 = 11;
const WAIT: Duration = Duration::from_secs(30);

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 2).unwrap()
}

/// `onshi terminal folder`, killed when dropped; its stderr goes to a log file.
struct Watcher {
    child: Child,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_watcher(dir: &Path, center: &str, cert: &Path, log: &Path) -> Watcher {
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let mut child = Command::new(BIN)
        .args([
            "terminal",
            "folder",
            "--dir",
            dir.to_str().unwrap(),
            "--center",
            center,
            "--cert",
            cert.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file))
        .spawn()
        .expect("onshi terminal folder");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("onshi terminal watching ") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the watcher did not say it was watching");
    Watcher { child }
}

/// A center over mutual TLS on a database seeded with the nation, a terminal enrolled
/// for its first institution, and a watcher on `emr/`; a valid and a lost record.
struct Folder {
    data: PathBuf,
    url: String,
    institution: String,
    cert: PathBuf,
    center: String,
    dir: PathBuf,
    log: PathBuf,
    valid: (InsuredRecord, Person),
    lost: (InsuredRecord, Person),
    _server: Running,
}

/// The record and the person of `case`.
fn record_of(n: &Nation, case: Case) -> (InsuredRecord, Person) {
    let h = n.household(case.household);
    let rec = h.records.iter().find(|r| r.id == case.record_id).unwrap();
    let person = h.persons.iter().find(|p| p.id == case.person_id).unwrap();
    (rec.clone(), person.clone())
}

impl Folder {
    /// Set up in `tempdir(tag)` with terminal `terminal_id`; the running watcher.
    fn start(tag: &str, terminal_id: &str) -> (Folder, Watcher) {
        let data = tempdir(tag);
        let url = onshi_store::testing::fresh_sqlite_url(&data);
        let n = Nation::new(Config {
            seed: SEED,
            persons: PERSONS,
            as_of: as_of(),
        });
        let sc = find_scenarios(&n, n.household_count());
        seed(&url, PERSONS, SEED, as_of(), false);
        let institution = n.institutions()[0].code.to_string();
        let cert = enroll(&url, &data, &institution, terminal_id);
        let server = serve_tls(&url, &data);
        let center = server
            .base
            .replace("https://", "https://localhost:")
            .replacen("localhost:127.0.0.1:", "localhost:", 1);
        let dir = data.join("emr");
        let log = data.join("watcher.log");
        let watcher = start_watcher(&dir, &center, &cert, &log);
        let folder = Folder {
            valid: record_of(&n, sc.valid[0]),
            lost: record_of(&n, sc.lost_other[0]),
            data,
            url,
            institution,
            cert,
            center,
            dir,
            log,
            _server: server,
        };
        (folder, watcher)
    }
}

/// `xml` as bytes, in Shift_JIS when `sjis`.
fn encode(xml: String, sjis: bool) -> Vec<u8> {
    if sjis {
        let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&xml);
        assert!(!unmappable, "request not encodable in Shift_JIS: {xml}");
        bytes.into_owned()
    } else {
        xml.into_bytes()
    }
}

/// A single eligibility request for `rec` and `birth`, in UTF-8 or Shift_JIS bytes.
fn request(
    institution: &str,
    rec: &InsuredRecord,
    birth: NaiveDate,
    file_id: &str,
    sjis: bool,
) -> Vec<u8> {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"{}\"?>\r\n<XmlMsg>\r\n<MessageHeader>\
         <QualificationConfirmationDate>{}</QualificationConfirmationDate>\
         <MedicalInstitutionCode>{institution}</MedicalInstitutionCode>\
         <ArbitraryFileIdentifier>{file_id}</ArbitraryFileIdentifier></MessageHeader>\r\n\
         <MessageBody><QualificationConfirmSearchInfo>\
         <InsurerNumber>{:>8}</InsurerNumber>{}\
         <InsuredIdentificationNumber>{}</InsuredIdentificationNumber>\
         <InsuredBranchNumber>{}</InsuredBranchNumber>\
         <Birthdate>{}</Birthdate>\
         <LimitApplicationCertificateRelatedConsFlg>1</LimitApplicationCertificateRelatedConsFlg>\
         </QualificationConfirmSearchInfo></MessageBody>\r\n</XmlMsg>\r\n",
        if sjis { "Shift_JIS" } else { "UTF-8" },
        as_of().format("%Y%m%d"),
        rec.insurer_number.as_str(),
        rec.symbol.as_ref().map_or(String::new(), |s| format!(
            "<InsuredCardSymbol>{}</InsuredCardSymbol>",
            s.as_str()
        )),
        rec.number.as_str(),
        rec.branch.as_str(),
        birth.format("%Y%m%d"),
    );
    encode(xml, sjis)
}

/// Writes a request as an EMR does: directly, or to a hidden file renamed into place.
fn drop_request(dir: &Path, name: &str, bytes: &[u8], rename: bool) {
    let req = dir.join("req");
    if rename {
        let tmp = req.join(format!(".{name}.part"));
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, req.join(name)).unwrap();
    } else {
        std::fs::write(req.join(name), bytes).unwrap();
    }
}

/// Waits (bounded) for `res/<name>` and reads it.
fn wait_response(dir: &Path, name: &str) -> (Vec<u8>, ParsedResponse) {
    let path = dir.join("res").join(name);
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(bytes) = std::fs::read(&path) {
            let parsed = parse_response(&bytes)
                .unwrap_or_else(|e| panic!("{name}: {e}\n{}", String::from_utf8_lossy(&bytes)));
            return (bytes, parsed);
        }
        assert!(
            Instant::now() < deadline,
            "no response {name} within {WAIT:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Writes request `name` (see [`drop_request`]) and waits for its response.
fn ask(dir: &Path, name: &str, bytes: &[u8], rename: bool) -> (Vec<u8>, ParsedResponse) {
    drop_request(dir, name, bytes, rename);
    wait_response(dir, &name.replace("req_", "res_"))
}

fn wait_for(path: &Path) {
    let deadline = Instant::now() + WAIT;
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} did not appear",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[test]
fn folder_interface_answers_requests_over_mutual_tls() {
    let (f, watcher) = Folder::start("folder", "F01");
    let (data, institution, cert, center) = (&f.data, &f.institution, &f.cert, &f.center);
    let (dir, log) = (&f.dir, &f.log);
    let ((rec, person), (lost, lost_person)) = (&f.valid, &f.lost);
    for sub in ["req", "res", "face"] {
        assert!(dir.join(sub).is_dir(), "{sub}/ created");
    }

    // 有効, UTF-8, written directly.
    let bytes = request(institution, rec, person.birth_date, "受付-0001", false);
    let (_, r) = ask(dir, "OQSsiquc01req_0001.xml", &bytes, false);
    assert_eq!(r.header.segment, SegmentOfResult::Normal, "{r:?}");
    assert_eq!(r.header.charset, CharacterCodeIdentifier::Utf8);
    assert_eq!(r.header.file_id.as_deref(), Some("受付-0001"));
    assert_eq!(
        r.header.institution.map(|c| c.to_string()),
        Some(institution.clone())
    );
    assert_eq!(r.header.confirmation_date, as_of());
    assert_eq!(r.body.validity, Some(QualificationValidity::Valid));
    assert_eq!(r.body.records.len(), 1);
    let q = &r.body.records[0];
    assert_eq!(q.insurer_number, rec.insurer_number);
    assert_eq!(q.number, rec.number);
    assert_eq!(q.birth_date, person.birth_date);
    assert_eq!(q.name, person.name.full());
    wait_for(&dir.join("req/done/OQSsiquc01req_0001.xml"));
    assert!(!dir.join("req/OQSsiquc01req_0001.xml").exists());

    // 無効 (lost), Shift_JIS, renamed into req/.
    let bytes = request(institution, lost, lost_person.birth_date, "受付-0002", true);
    let (raw, r) = ask(dir, "OQSsiquc01req_0002.xml", &bytes, true);
    assert!(
        String::from_utf8_lossy(&raw[..60]).contains("Shift_JIS"),
        "answered in the request's encoding"
    );
    assert_eq!(r.header.charset, CharacterCodeIdentifier::ShiftJis);
    assert_eq!(r.header.segment, SegmentOfResult::Normal);
    assert_eq!(r.header.file_id.as_deref(), Some("受付-0002"));
    assert_eq!(r.body.validity, Some(QualificationValidity::Invalid));
    let q = &r.body.records[0];
    assert_eq!(q.number, lost.number);
    assert_eq!(q.disqualification_date, lost.disqualification_date);
    assert!(q.disqualification_date.is_some());

    // Malformed: an error response, the file in req/error/, and the watcher goes on.
    let (_, r) = ask(
        dir,
        "OQSsiquc01req_0003.xml",
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><XmlMsg><MessageHeader></Oops></XmlMsg>",
        false,
    );
    assert_eq!(r.header.segment, SegmentOfResult::Abnormal);
    assert!(
        r.header.error.as_ref().is_some_and(|(c, _)| c == "E1003"),
        "{r:?}"
    );
    wait_for(&dir.join("req/error/OQSsiquc01req_0003.xml"));
    // A bulk fetch of a reception number the center never gave: an error from the center.
    let (_, r) = ask(
        dir,
        "OQSmuquc02req_0004.xml",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><XmlMsg><MessageHeader>\
             <MedicalInstitutionCode>{institution}</MedicalInstitutionCode></MessageHeader>\
             <MessageBody><ReceptionNumber>R1</ReceptionNumber></MessageBody></XmlMsg>"
        )
        .as_bytes(),
        false,
    );
    assert_eq!(r.header.segment, SegmentOfResult::Abnormal);
    assert!(
        r.header
            .error
            .as_ref()
            .is_some_and(|(c, _)| c == onshi_clinic::folder::CENTER_REFUSED),
        "{r:?}"
    );
    let bytes = request(institution, rec, person.birth_date, "受付-0005", false);
    let (_, r) = ask(dir, "OQSsiquc01req_0005.xml", &bytes, false);
    assert_eq!(r.body.validity, Some(QualificationValidity::Valid));

    // A writer that closes the file half-written and finishes it a moment later: the
    // truncated read is retried, and the request is answered with the result.
    let bytes = request(institution, rec, person.birth_date, "受付-0007", false);
    let (head, tail) = bytes.split_at(bytes.len() / 2);
    let path = dir.join("req/OQSsiquc01req_0007.xml");
    std::fs::write(&path, head).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(tail).unwrap();
    }
    let (_, r) = wait_response(dir, "OQSsiquc01res_0007.xml");
    assert_eq!(r.header.segment, SegmentOfResult::Normal, "{r:?}");
    assert_eq!(r.body.validity, Some(QualificationValidity::Valid));

    // Latency: request written → response present, one request at a time.
    let mut lat = Vec::new();
    for i in 0..50 {
        let (r, p) = if i % 2 == 0 {
            (rec, person)
        } else {
            (lost, lost_person)
        };
        let name = format!("OQSsiquc01req_lat{i:03}.xml");
        let bytes = request(institution, r, p.birth_date, &format!("L{i}"), i % 3 == 0);
        let t = Instant::now();
        let (_, resp) = ask(dir, &name, &bytes, i % 4 == 1);
        lat.push(t.elapsed());
        assert_eq!(resp.header.segment, SegmentOfResult::Normal);
        assert_eq!(resp.header.file_id, Some(format!("L{i}")));
    }
    lat.sort();
    println!(
        "folder latency over {} requests: p50 {:.1} ms, p99 {:.1} ms",
        lat.len(),
        percentile(&lat, 0.50).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3
    );

    // Restart: a request written while no watcher runs is answered exactly once.
    drop(watcher);
    let bytes = request(institution, rec, person.birth_date, "受付-0006", true);
    drop_request(dir, "OQSsiquc01req_0006.xml", &bytes, false);
    std::thread::sleep(Duration::from_millis(200));
    assert!(!dir.join("res/OQSsiquc01res_0006.xml").exists());
    let watcher = start_watcher(dir, center, cert, log);
    let (first, r) = wait_response(dir, "OQSsiquc01res_0006.xml");
    assert_eq!(r.body.validity, Some(QualificationValidity::Valid));
    wait_for(&dir.join("req/done/OQSsiquc01req_0006.xml"));
    drop(watcher);
    // Started again with the same request waiting and its response present: moved to
    // done/, not answered again.
    drop_request(dir, "OQSsiquc01req_0006.xml", &bytes, false);
    let watcher = start_watcher(dir, center, cert, log);
    let deadline = Instant::now() + WAIT;
    while dir.join("req/OQSsiquc01req_0006.xml").exists() {
        assert!(Instant::now() < deadline, "request left in req/");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The watcher logs the outcome just after moving the file: wait for the line before
    // stopping it.
    while !std::fs::read_to_string(log)
        .unwrap_or_default()
        .contains("OQSsiquc01req_0006.xml: already answered")
    {
        assert!(
            Instant::now() < deadline,
            "no log line for the second start"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(watcher);
    assert_eq!(
        std::fs::read(dir.join("res/OQSsiquc01res_0006.xml")).unwrap(),
        first,
        "the response is not rewritten"
    );
    let log_text = std::fs::read_to_string(log).unwrap();
    assert_eq!(
        log_text.matches("OQSsiquc01req_0006.xml: answered").count(),
        1,
        "{log_text}"
    );
    assert_eq!(
        log_text
            .matches("OQSsiquc01req_0006.xml: already answered")
            .count(),
        1,
        "{log_text}"
    );
    // A center that cannot be reached: an error response asking to retry, and the
    // watcher goes on.
    let offline = data.join("emr-offline");
    let _offline = start_watcher(&offline, "https://localhost:1", cert, &data.join("off.log"));
    for i in 0..2 {
        let bytes = request(institution, rec, person.birth_date, &format!("O{i}"), false);
        let (_, r) = ask(
            &offline,
            &format!("OQSsiquc01req_off{i}.xml"),
            &bytes,
            false,
        );
        assert_eq!(r.header.segment, SegmentOfResult::Abnormal);
        let (code, message) = r.header.error.clone().unwrap();
        assert_eq!(code, "E4001");
        assert!(message.contains("再度照会"), "{message}");
        assert_eq!(r.header.file_id, Some(format!("O{i}")));
    }

    let leftovers: Vec<_> = std::fs::read_dir(dir.join("res"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// `<QualificationConfirmSearchInfo>` of a record, with `number` in place of its own.
fn search_info(rec: &InsuredRecord, number: &str, birth: NaiveDate) -> String {
    format!(
        "<QualificationConfirmSearchInfo><InsurerNumber>{:>8}</InsurerNumber>{}\
         <InsuredIdentificationNumber>{number}</InsuredIdentificationNumber>\
         <InsuredBranchNumber>{}</InsuredBranchNumber><Birthdate>{}</Birthdate>\
         </QualificationConfirmSearchInfo>",
        rec.insurer_number.as_str(),
        rec.symbol.as_ref().map_or(String::new(), |s| format!(
            "<InsuredCardSymbol>{}</InsuredCardSymbol>",
            s.as_str()
        )),
        rec.branch.as_str(),
        birth.format("%Y%m%d"),
    )
}

/// A request document around `body` (the content of `MessageBody`), UTF-8 or Shift_JIS.
fn message(institution: &str, body: &str, with_date: bool, sjis: bool) -> Vec<u8> {
    let date = if with_date {
        format!(
            "<QualificationConfirmationDate>{}</QualificationConfirmationDate>",
            as_of().format("%Y%m%d")
        )
    } else {
        String::new()
    };
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"{}\"?>\r\n<XmlMsg><MessageHeader>{date}\
         <MedicalInstitutionCode>{institution}</MedicalInstitutionCode></MessageHeader>\
         <MessageBody>{body}</MessageBody></XmlMsg>\r\n",
        if sjis { "Shift_JIS" } else { "UTF-8" },
    );
    encode(xml, sjis)
}

#[test]
fn reference_numbers_and_bulk_checks_through_the_folder() {
    let (f, watcher) = Folder::start("folder-bulk", "F02");
    let (url, institution, cert, center) = (&f.url, &f.institution, &f.cert, &f.center);
    let (dir, log) = (&f.dir, &f.log);
    let ((rec, person), (lost, lost_person)) = (&f.valid, &f.lost);

    // OQSsiimm01 in Shift_JIS: the clinic's patient id for the valid record.
    let body = format!(
        "{}<ReferenceNumber>患者-0042</ReferenceNumber>",
        search_info(rec, rec.number.as_str(), person.birth_date)
    );
    let (_, r) = ask(
        dir,
        "OQSsiimm01req_0001.xml",
        &message(institution, &body, true, true),
        true,
    );
    assert_eq!(r.header.segment, SegmentOfResult::Normal, "{r:?}");
    assert_eq!(r.header.charset, CharacterCodeIdentifier::ShiftJis);
    assert_eq!(r.body.reference_number.as_deref(), Some("患者-0042"));
    wait_for(&dir.join("req/done/OQSsiimm01req_0001.xml"));

    // A later single check of the same person carries it.
    let bytes = request(institution, rec, person.birth_date, "受付-1", false);
    let (_, r) = ask(dir, "OQSsiquc01req_0001.xml", &bytes, false);
    assert_eq!(
        r.body.records[0].reference_number.as_deref(),
        Some("患者-0042")
    );

    // A registration for nobody: an error naming the fault, in req/error/.
    let body = format!(
        "{}<ReferenceNumber>P-1</ReferenceNumber>",
        search_info(rec, "99999999", person.birth_date)
    );
    let (_, r) = ask(
        dir,
        "OQSsiimm01req_0002.xml",
        &message(institution, &body, true, false),
        false,
    );
    assert_eq!(r.header.segment, SegmentOfResult::Abnormal);
    let (code, msg) = r.header.error.clone().unwrap();
    assert_eq!(code, onshi_clinic::folder::CENTER_REFUSED);
    assert!(msg.contains("該当する資格がありません"), "{msg}");
    wait_for(&dir.join("req/error/OQSsiimm01req_0002.xml"));

    // OQSmuquc01: three patients (valid, lost, unknown) in a list; accepted (SegmentOfResult
    // 2) with a reception number.
    let body = format!(
        "<QualificationConfirmSearchInfoList>{}{}{}</QualificationConfirmSearchInfoList>",
        search_info(rec, rec.number.as_str(), person.birth_date),
        search_info(lost, lost.number.as_str(), lost_person.birth_date),
        search_info(rec, "88888888", person.birth_date),
    );
    let (_, r) = ask(
        dir,
        "OQSmuquc01req_0001.xml",
        &message(institution, &body, true, false),
        true,
    );
    assert_eq!(r.header.segment, SegmentOfResult::Processing, "{r:?}");
    let reception = r.body.reception_number.clone().expect("a ReceptionNumber");

    // OQSmuquc02 (header without a date, as public clients write it), asked again with a
    // new file while the answer is SegmentOfResult 2.
    let fetch = |k: usize, sjis: bool| {
        let name = format!("OQSmuquc02req_{k:04}.xml");
        let body = format!("<ReceptionNumber>{reception}</ReceptionNumber>");
        ask(dir, &name, &message(institution, &body, false, sjis), true).1
    };
    let deadline = Instant::now() + WAIT;
    let mut k = 0;
    let done = loop {
        k += 1;
        let r = fetch(k, k % 2 == 0);
        assert_eq!(r.body.reception_number.as_deref(), Some(reception.as_str()));
        match r.header.segment {
            SegmentOfResult::Processing => {
                assert!(r.body.bulk_results.is_empty());
                assert!(Instant::now() < deadline, "bulk check still processing");
                std::thread::sleep(Duration::from_millis(100));
            }
            SegmentOfResult::Normal => break r,
            other => panic!("unexpected {other:?}: {r:?}"),
        }
    };
    let results = &done.body.bulk_results;
    assert_eq!(results.len(), 3, "{done:?}");
    assert_eq!(
        results.iter().map(|r| r.sequence).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(results[0].validity, Some(QualificationValidity::Valid));
    assert_eq!(results[0].records[0].number, rec.number);
    assert_eq!(
        results[0].records[0].reference_number.as_deref(),
        Some("患者-0042")
    );
    assert!(
        matches!(
            results[1].validity,
            Some(QualificationValidity::Invalid | QualificationValidity::InvalidNewerExists)
        ),
        "{:?}",
        results[1]
    );
    assert_eq!(results[1].records[0].number, lost.number);
    assert_eq!(results[2].validity, Some(QualificationValidity::NotFound));
    assert!(results[2].records.is_empty());

    // The benchmark command against this watcher: request written → response present.
    let out = run(&[
        "bench",
        "folder",
        "--dir",
        dir.to_str().unwrap(),
        "--database-url",
        url,
        "--institution",
        institution,
        "--requests",
        "60",
        "--as-of",
        "2025-06-02",
    ]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["requests"], 60, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    println!("onshi bench folder: {report}");

    // The result outlives the terminal: a fetch written while the watcher is stopped is
    // answered after its restart.
    drop(watcher);
    let name = "OQSmuquc02req_9000.xml";
    let body = format!("<ReceptionNumber>{reception}</ReceptionNumber>");
    drop_request(dir, name, &message(institution, &body, false, true), false);
    let _watcher = start_watcher(dir, center, cert, log);
    let (_, r) = wait_response(dir, "OQSmuquc02res_9000.xml");
    assert_eq!(r.header.segment, SegmentOfResult::Normal);
    assert_eq!(r.header.charset, CharacterCodeIdentifier::ShiftJis);
    assert_eq!(r.body.bulk_results, done.body.bulk_results);

    // An unknown reception number is an error, not a hang.
    let body = "<ReceptionNumber>B000000000000000000000000</ReceptionNumber>";
    let (_, r) = ask(
        dir,
        "OQSmuquc02req_9001.xml",
        &message(institution, body, false, false),
        false,
    );
    assert_eq!(r.header.segment, SegmentOfResult::Abnormal);
    wait_for(&dir.join("req/error/OQSmuquc02req_9001.xml"));
}
