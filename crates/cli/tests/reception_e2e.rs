//! The reception at the reader across processes: the center as `onshi serve --tls`, the
//! card served to pcscd's vpcd reader by `onshi card attach`, and the terminal as
//! `onshi terminal reception`. PIN, face, visual and every failure a patient meets, with
//! the result checked field by field against the synthetic nation and against what the
//! center recorded. Without pcscd/vpcd the receptions run with `--card-file` (the same
//! state machine in process) unless `ONSHI_REQUIRE_PCSC=1`.

mod common;

use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate, Utc};
use common::tls::*;
use common::*;
use onshi_synth::{Case, Config, Nation, find_scenarios};
use serde_json::{Value, json};

const PERSONS: u64 = 3_000;
const SEED: u64 = 11;
const AS_OF: &str = "2025-06-02";

fn nation() -> Nation {
    Nation::new(Config {
        seed: SEED,
        persons: PERSONS,
        as_of: NaiveDate::from_ymd_opt(2025, 6, 2).unwrap(),
    })
}

struct World {
    n: Nation,
    data: PathBuf,
    url: String,
    center: String,
    terminal: PathBuf,
    institution: String,
    via: Via,
    _server: Running,
}

impl World {
    fn issue(&self, case: &Case, name: &str) -> PathBuf {
        let out = self.data.join(name);
        run(&[
            "card",
            "issue-for",
            "--database-url",
            &self.url,
            "--data-dir",
            self.data.to_str().unwrap(),
            "--person",
            &case.person_id.to_string(),
            "--out",
            out.to_str().unwrap(),
            "--pin",
            "1234",
        ]);
        out
    }

    fn reception(&self, card: &Path, extra: &[&str]) -> (Value, String) {
        self.reception_via(self.via, card, extra)
    }

    fn reception_via(&self, via: Via, card: &Path, extra: &[&str]) -> (Value, String) {
        let mut args = vec!["--as-of", AS_OF];
        args.extend_from_slice(extra);
        reception(&self.center, &self.terminal, &self.data, card, via, &args)
    }

    fn person(&self, case: &Case) -> onshi_synth::Person {
        let h = self.n.household(case.household);
        h.persons
            .into_iter()
            .find(|p| p.id == case.person_id)
            .unwrap()
    }

    async fn checks(&self) -> Vec<Value> {
        terminal_http(&self.terminal)
            .get(format!(
                "{}/v1/institutions/{}/checks?limit=100",
                self.center, self.institution
            ))
            .send()
            .await
            .unwrap()
            .json::<Vec<Value>>()
            .await
            .unwrap()
    }
}

fn ids(v: &Value) -> Vec<String> {
    v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The text of the last message `id` shown.
fn text_of(v: &Value, id: &str) -> String {
    v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("no message {id}: {v:#}"))["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The history the terminal fetched after the reception: exactly the consented kinds, each
/// with every row of the person's synthetic history of the last three years.
fn assert_history(w: &World, case: &Case, v: &Value, kinds: &[&str]) {
    let h = w.n.household(case.household);
    let p = h.persons.iter().find(|p| p.id == case.person_id).unwrap();
    let expected = onshi_synth::history::person_history(&w.n, &h, p);
    let got = v["history"]
        .as_object()
        .unwrap_or_else(|| panic!("no history: {v:#}"));
    let mut keys: Vec<&str> = got.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut want = kinds.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want, "only the consented kinds are fetched");
    for kind in kinds {
        let n = match *kind {
            "medications" => expected.medications.len(),
            "checkups" => expected.checkups.len(),
            "diagnoses" => expected.diagnoses.len(),
            "surgeries" => expected.surgeries.len(),
            other => panic!("unknown kind {other}"),
        };
        assert_eq!(
            got[*kind].as_array().unwrap().len(),
            n,
            "{kind} of person {}",
            p.id
        );
    }
}

/// The result's record against the synthetic record it came from.
fn assert_record(w: &World, case: &Case, got: &Value) {
    let h = w.n.household(case.household);
    let r = h.records.iter().find(|r| r.id == case.record_id).unwrap();
    let p = h.persons.iter().find(|p| p.id == case.person_id).unwrap();
    let ctx = format!("{got:#}");
    assert_eq!(got["insurer_number"], r.insurer_number.as_str(), "{ctx}");
    assert_eq!(
        got["symbol"].as_str(),
        r.symbol.as_ref().map(|s| s.as_str()),
        "{ctx}"
    );
    assert_eq!(got["number"], r.number.as_str(), "{ctx}");
    assert_eq!(got["branch"], r.branch.as_str(), "{ctx}");
    assert_eq!(
        got["card_classification"],
        r.card_classification.code(),
        "{ctx}"
    );
    assert_eq!(got["personal_family"], r.personal_family.code(), "{ctx}");
    assert_eq!(got["name"], p.name.full(), "{ctx}");
    assert_eq!(got["birth_date"], p.birth_date.to_string(), "{ctx}");
    assert_eq!(got["address"], p.address, "{ctx}");
    assert_eq!(
        got["qualification_date"],
        r.qualification_date.to_string(),
        "{ctx}"
    );
    assert_eq!(
        got["disqualification_date"].as_str(),
        r.disqualification_date.map(|d| d.to_string()).as_deref(),
        "{ctx}"
    );
    assert_eq!(
        got["reason_of_loss"].as_str(),
        r.reason_of_loss.map(|x| x.code()),
        "{ctx}"
    );
}

/// The consent flags of a record, kinds 1..5.
fn flags(record: &Value) -> Vec<String> {
    let c = record["consents"].as_array().unwrap();
    (1..=5)
        .map(|k| {
            c.iter()
                .find(|s| s["kind"].as_str() == Some(k.to_string().as_str()))
                .unwrap()["flag"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Backdates the J-LIS CAs so that a card issued six years ago (certificate expired) can be
/// made; everything else is issued now by the CLI from the same state.
fn backdated_jlis(data: &Path) {
    let now = Utc::now() - Duration::days(7 * 365);
    onshi_pki::Jlis::load_or_create(data.join("jlis"), now, None).unwrap();
    onshi_card::card_data_key(&data.join("jlis")).unwrap();
}

/// A card whose user-authentication certificate expired a year ago.
fn expired_card(data: &Path, p: &onshi_synth::Person, out: &Path) {
    let jlis_dir = data.join("jlis");
    let mut jlis = onshi_pki::Jlis::load_or_create(&jlis_dir, Utc::now(), None).unwrap();
    let key = onshi_card::card_data_key(&jlis_dir).unwrap();
    let card = onshi_card::issue_card(
        &mut jlis,
        key.as_ref(),
        &onshi_card::Person {
            name: p.name.full(),
            name_kana: p.name.full_kana(),
            address: p.address.clone(),
            birth_date: p.birth_date,
            sex: p.sex,
            my_number: p.my_number.clone(),
        },
        &onshi_card::CardPins {
            auth: onshi_card::Pin::from("1234"),
            sign: Some(onshi_card::Pin::from("ONSHI2025")),
            input_support: onshi_card::Pin::from("1234"),
        },
        &onshi_card::IssueOptions {
            issued_at: Utc::now() - Duration::days(6 * 365 + 30),
            face_photo: Vec::new(),
            security_code: None,
        },
    )
    .unwrap();
    card.save(out).unwrap();
}

/// The first linked person whose card photo the built-in matcher accepts in the first
/// camera frame, and whose frames another person's card refuses: the face cases need a
/// decided pair, as a real reader's test bench would pick its volunteers.
fn face_pair(w: &World, linked: &[Case]) -> (Case, u64) {
    use onshi_face::FaceMatcher;
    let m = onshi_face::ClassicMatcher::default();
    for c in linked {
        let p = w.person(c);
        let photo = onshi_face::render_card_photo(p.face_seed);
        let frame = onshi_face::render_camera_frame(p.face_seed, 1);
        if m.compare(&photo, &frame).is_ok_and(|o| o.is_match()) {
            return (*c, p.face_seed);
        }
    }
    panic!("no linked person matched the first camera frame");
}

#[tokio::test(flavor = "multi_thread")]
async fn reception_across_processes() {
    let via = if pcsc_ready() { Via::Reader } else { Via::File };
    let data = tempdir("reception");
    let url = onshi_store::testing::fresh_sqlite_url(&data);
    backdated_jlis(&data);
    seed(
        &url,
        PERSONS,
        SEED,
        NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap(),
        true,
    );
    let n = nation();
    let sc = find_scenarios(&n, n.household_count());
    let institution = n.institutions()[0].code.to_string();
    let terminal = enroll(&url, &data, &institution, "T01");
    let server = serve_tls(&url, &data);
    let w = World {
        n,
        data: data.clone(),
        url: url.clone(),
        center: server.base.clone(),
        terminal,
        institution,
        via,
        _server: server,
    };
    let mut expected_methods: Vec<&str> = Vec::new();

    // PIN: a wrong entry first, then the right one; three consents.
    let linked = sc.card_linked[0];
    let card = w.issue(&linked, "linked.card");
    let (v, stderr) = w.reception(
        &card,
        &[
            "--method",
            "pin",
            "--pin",
            "9999",
            "--pin",
            "1234",
            "--consent",
            "medication,checkups,cost_ceiling",
        ],
    );
    assert_eq!(v["outcome"], "done", "{v:#}");
    assert_eq!(v["method"], "pin");
    assert_eq!(
        v["consents"],
        json!(["medication", "checkups", "cost_ceiling"])
    );
    assert_eq!(v["linked_on"], Value::Null);
    assert_eq!(v["notices"], json!([]));
    let r = &v["result"];
    assert_eq!(r["reference"], "1");
    assert_eq!(r["validity"], "1");
    assert_eq!(r["as_of"], AS_OF);
    assert!(!r["check_id"].as_str().unwrap().is_empty());
    assert!(!r["reception_id"].as_str().unwrap().is_empty());
    assert!(r["processed_at"].is_string());
    assert!(r["history_until"].is_string(), "history consented: {r:#}");
    assert_eq!(r["records"].as_array().unwrap().len(), 1);
    assert_record(&w, &linked, &r["records"][0]);
    assert_eq!(r["records"][0]["limit_consent"], "1");
    assert_eq!(flags(&r["records"][0]), ["1", "1", "0", "0", "1"]);
    assert_history(&w, &linked, &v, &["medications", "checkups"]);
    let shown = ids(&v);
    for id in [
        "place_card",
        "choose_method",
        "enter_pin",
        "wrong_pin",
        "done",
    ] {
        assert!(shown.iter().any(|s| s == id), "{id} not shown: {shown:?}");
    }
    assert_eq!(shown.iter().filter(|s| *s == "consent").count(), 5);
    assert!(text_of(&v, "wrong_pin").contains("あと2回"));
    assert!(
        stderr.contains("[ExpectPin] 暗証番号が違います。あと2回"),
        "{stderr}"
    );
    assert!(stderr.contains("薬剤情報") && stderr.contains("限度額情報"));
    expected_methods.push("1");

    // The same card in process: the same screens and result; the reception also reaches
    // the EMR's face/ folder, here in Shift_JIS.
    let emr = w.data.join("emr");
    let emr_s = emr.to_str().unwrap().to_owned();
    let (f, _) = w.reception_via(
        Via::File,
        &card,
        &[
            "--method",
            "pin",
            "--pin",
            "1234",
            "--consent",
            "medication",
            "--folder",
            &emr_s,
            "--folder-encoding",
            "shift-jis",
        ],
    );
    assert_eq!(f["outcome"], "done", "{f:#}");
    assert_eq!(f["result"]["records"][0]["name"], r["records"][0]["name"]);
    assert_eq!(flags(&f["result"]["records"][0]), ["1", "0", "0", "0", "0"]);
    let face_file = PathBuf::from(f["face_file"].as_str().expect("a face/ file"));
    assert_eq!(face_file.parent().unwrap(), emr.join("face"));
    let name = face_file.file_name().unwrap().to_str().unwrap();
    let reception_id = f["result"]["reception_id"].as_str().unwrap();
    assert!(
        name.starts_with(&format!("OQSsiquc01res_face_{reception_id}_")) && name.ends_with(".xml"),
        "{name}"
    );
    let parsed = onshi_oqs::parse_response(&std::fs::read(&face_file).unwrap()).unwrap();
    assert_eq!(
        parsed.header.charset,
        onshi_model::CharacterCodeIdentifier::ShiftJis
    );
    assert_eq!(
        parsed.header.reference,
        onshi_model::ReferenceClassification::MyNumberCard
    );
    assert_eq!(
        parsed.body.validity,
        Some(onshi_model::QualificationValidity::Valid)
    );
    assert_eq!(parsed.body.records.len(), 1);
    let rec = &parsed.body.records[0];
    assert_eq!(
        rec.insurer_number.as_str(),
        f["result"]["records"][0]["insurer_number"]
    );
    assert_eq!(
        rec.birth_date.to_string(),
        f["result"]["records"][0]["birth_date"]
    );
    expected_methods.push("1");

    // Face: the holder's camera frame matches; no PIN typed.
    let (face_case, seed) = face_pair(&w, &sc.card_linked[1..]);
    let face_card = w.issue(&face_case, "face.card");
    let code = onshi_card::CardFile::load(&face_card)
        .unwrap()
        .printed
        .matching_number_b();
    let seed_s = seed.to_string();
    let (v, _) = w.reception(
        &face_card,
        &[
            "--method",
            "face",
            "--face-seed",
            &seed_s,
            "--matching-code",
            &code,
            "--consent",
            "diagnoses,surgeries",
        ],
    );
    assert_eq!(v["outcome"], "done", "{v:#}");
    assert_eq!(v["method"], "face");
    assert_eq!(v["result"]["validity"], "1");
    assert_record(&w, &face_case, &v["result"]["records"][0]);
    assert_eq!(flags(&v["result"]["records"][0]), ["0", "0", "1", "1", "0"]);
    assert_history(&w, &face_case, &v, &["diagnoses", "surgeries"]);
    assert!(ids(&v).contains(&"look_at_camera".to_owned()));
    expected_methods.push("2");

    // Face of another person: not matched twice, then the PIN.
    let other_seed = (seed ^ 0x5EED).to_string();
    let (v, _) = w.reception(
        &face_card,
        &[
            "--method",
            "face",
            "--face-seed",
            &other_seed,
            "--matching-code",
            &code,
            "--pin",
            "1234",
        ],
    );
    assert_eq!(v["outcome"], "done", "{v:#}");
    assert_eq!(v["method"], "pin");
    let shown = ids(&v);
    assert!(
        shown
            .iter()
            .filter(|s| *s == "face_not_matched" || *s == "face_not_found")
            .count()
            == 2,
        "{shown:?}"
    );
    let last_face = shown
        .iter()
        .rfind(|s| s.starts_with("face_not"))
        .unwrap()
        .clone();
    assert!(text_of(&v, &last_face).contains("暗証番号"), "{v:#}");
    expected_methods.push("1");

    // Visual (目視確認モード).
    let (v, _) = w.reception(&card, &["--method", "visual", "--staff-id", "受付01"]);
    assert_eq!(v["outcome"], "done", "{v:#}");
    assert_eq!(v["method"], "visual");
    assert_eq!(v["consents"], json!([]));
    assert_eq!(v["result"]["records"][0]["limit_consent"], "0");
    assert_eq!(flags(&v["result"]["records"][0]), ["0", "0", "0", "0", "0"]);
    assert!(ids(&v).contains(&"staff_confirm".to_owned()));
    expected_methods.push("3");

    // PIN blocked: three wrong entries, then staff. The card file keeps the counter.
    let (v, _) = w.reception(
        &card,
        &[
            "--method",
            "pin",
            "--pin",
            "0000",
            "--pin",
            "0000",
            "--pin",
            "0000",
            "--staff-id",
            "受付02",
        ],
    );
    assert_eq!(v["outcome"], "done", "{v:#}");
    assert_eq!(v["method"], "visual");
    assert!(text_of(&v, "pin_blocked").contains(
        "暗証番号がロックされています。お住まいの市区町村の窓口で暗証番号の再設定を行ってください。"
    ));
    expected_methods.push("3");
    // Blocked for the next reception too, until the municipal office resets it.
    let (v, _) = w.reception(&card, &["--method", "pin", "--pin", "1234"]);
    assert_eq!(v["outcome"], "stopped", "{v:#}");
    assert!(ids(&v).contains(&"pin_blocked".to_owned()));
    run(&[
        "card",
        "reset-pin",
        card.to_str().unwrap(),
        "--new-pin",
        "1234",
    ]);

    // Not linked: 利用登録 at the reader, then the reception continues.
    let unlinked = sc.card_not_linked[0];
    let unlinked_card = w.issue(&unlinked, "unlinked.card");
    let (v, _) = w.reception(
        &unlinked_card,
        &[
            "--method",
            "pin",
            "--pin",
            "1234",
            "--link-if-needed",
            "--consent",
            "medication",
        ],
    );
    assert_eq!(v["outcome"], "done", "{v:#}");
    assert!(v["linked_on"].is_string(), "{v:#}");
    assert_eq!(v["notices"][0]["id"], "linked");
    assert_eq!(v["consents"], json!(["medication"]));
    assert_record(&w, &unlinked, &v["result"]["records"][0]);
    assert!(ids(&v).contains(&"offer_link".to_owned()));
    expected_methods.push("1");
    // Declined by another unlinked holder.
    let unlinked2 = sc.card_not_linked[1];
    let (v, _) = w.reception(
        &w.issue(&unlinked2, "unlinked2.card"),
        &["--method", "pin", "--pin", "1234"],
    );
    assert_eq!(v["outcome"], "failed", "{v:#}");
    assert_eq!(v["failure"]["id"], "card_not_linked");
    assert_eq!(v["problem"], Value::Null);

    // A job change the new insurer has not registered: 資格無効 with reason 03.
    let job = sc.job_change_unregistered[0];
    let (v, _) = w.reception(
        &w.issue(&job, "job.card"),
        &["--method", "pin", "--pin", "1234", "--link-if-needed"],
    );
    assert_eq!(v["outcome"], "done", "{v:#}");
    assert_eq!(v["result"]["validity"], "2");
    assert_record(&w, &job, &v["result"]["records"][0]);
    let notice = v["notices"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(notice["id"], "job_change_not_registered");
    let t = notice["text"].as_str().unwrap();
    assert!(t.contains("新しい保険") && t.contains("資格確認書") && t.contains("勤務先"));
    expected_methods.push("1");

    // Insurance lost (welfare began): 資格無効 without a job change.
    let lost = sc.lost_welfare[0];
    let (v, _) = w.reception(
        &w.issue(&lost, "lost.card"),
        &["--method", "pin", "--pin", "1234", "--link-if-needed"],
    );
    assert_eq!(v["outcome"], "done", "{v:#}");
    assert_eq!(v["result"]["validity"], "2");
    assert_eq!(v["result"]["records"][0]["reason_of_loss"], "02");
    assert_eq!(
        v["notices"].as_array().unwrap().last().unwrap()["id"],
        "insurance_lost"
    );
    expected_methods.push("1");

    // Certificate revoked by J-LIS.
    let revoked = w.issue(&sc.valid[0], "revoked.card");
    run(&[
        "card",
        "revoke",
        "--database-url",
        &w.url,
        revoked.to_str().unwrap(),
    ]);
    let (v, _) = w.reception(&revoked, &["--method", "pin", "--pin", "1234"]);
    assert_eq!(v["outcome"], "failed", "{v:#}");
    assert_eq!(v["failure"]["id"], "certificate_revoked");
    assert_eq!(v["problem"], "certificate_revoked");
    let t = v["failure"]["text"].as_str().unwrap();
    assert!(
        t.contains("受付でお申し出ください。保険証の確認を別の方法で行います")
            && t.contains("市区町村")
    );

    // Certificate expired (beyond the grace period).
    let expired = data.join("expired.card");
    // Someone born well before the backdated issue (a card needs a holder already born).
    let adult = sc.valid[1..]
        .iter()
        .map(|c| w.person(c))
        .find(|p| p.birth_date < NaiveDate::from_ymd_opt(2000, 1, 1).unwrap())
        .expect("an adult card holder");
    expired_card(&data, &adult, &expired);
    let (v, _) = w.reception(&expired, &["--method", "pin", "--pin", "1234"]);
    assert_eq!(v["outcome"], "failed", "{v:#}");
    assert_eq!(v["failure"]["id"], "certificate_expired");
    assert_eq!(v["problem"], "certificate_expired");
    assert!(
        v["failure"]["text"]
            .as_str()
            .unwrap()
            .contains("電子証明書の更新")
    );

    // Center unreachable: nothing listens there; the reception is kept for staff.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (v, _) = reception(
        &format!("https://127.0.0.1:{closed}"),
        &w.terminal,
        &w.data,
        &card,
        w.via,
        &[
            "--method",
            "visual",
            "--staff-id",
            "受付03",
            "--consent",
            "medication",
        ],
    );
    assert_eq!(v["outcome"], "failed", "{v:#}");
    assert_eq!(v["failure"]["id"], "center_unreachable");
    assert_eq!(v["pending"]["method"], "visual");
    assert_eq!(v["pending"]["consents"], json!(["medication"]));
    assert!(
        v["failure"]["text"]
            .as_str()
            .unwrap()
            .contains("後ほど職員が確認します")
    );

    // What the center recorded, newest first: the method of every completed reception.
    let checks = w.checks().await;
    let methods: Vec<&str> = checks
        .iter()
        .map(|c| c["method"].as_str().unwrap())
        .collect();
    expected_methods.reverse();
    assert_eq!(methods, expected_methods, "{checks:#?}");
    assert!(checks.iter().all(|c| c["reference"] == "1"));
    assert_eq!(checks[0]["validity"], "2");
}
