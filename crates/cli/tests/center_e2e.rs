//! End to end: seed a database with the real binary, start `onshi serve`, and check
//! eligibility over HTTP for synthetic persons in every state, field by field — on
//! SQLite and on PostgreSQL.

mod common;

use chrono::NaiveDate;
use common::*;
use onshi_model::*;
use onshi_synth::{Config, Household, InsuredRecord, Nation, find_scenarios};
use serde_json::{Value, json};

const PERSONS: u64 = 3_000;
const SEED: u64 = 11;

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 2).unwrap()
}

fn nation() -> Nation {
    Nation::new(Config {
        seed: SEED,
        persons: PERSONS,
        as_of: as_of(),
    })
}

struct Center {
    _server: Running,
    base: String,
    http: reqwest::Client,
    institution: String,
}

impl Center {
    async fn check(&self, body: Value) -> (u16, String, Value) {
        let r = self
            .http
            .post(format!("{}/v1/eligibility/insurance-data", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, ct, r.json().await.unwrap())
    }

    fn query(&self, r: &InsuredRecord, birth: NaiveDate, branch: bool) -> Value {
        json!({
            "institution_code": self.institution,
            "insurer_number": r.insurer_number.as_str(),
            "symbol": r.symbol.as_ref().map(|s| s.as_str()),
            "number": r.number.as_str(),
            "branch": branch.then(|| r.branch.as_str()),
            "birth_date": birth.to_string(),
            "as_of": as_of().to_string(),
            "limit_consent": true,
        })
    }
}

fn start_center(url: &str) -> Center {
    seed(url, PERSONS, SEED, as_of(), false);
    // Its own data directory: the center writes its admin token there.
    let data = tempdir("center-e2e");
    let server = start(&[
        "serve",
        "--database-url",
        url,
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let base = server.base.clone();
    Center {
        _server: server,
        base,
        http: reqwest::Client::new(),
        institution: nation().institutions()[0].code.to_string(),
    }
}

/// Every field of one qualification against the synthetic record it came from.
fn assert_record(n: &Nation, h: &Household, r: &InsuredRecord, got: &Value) {
    let p = h.persons.iter().find(|p| p.id == r.person_id).unwrap();
    let head = h
        .persons
        .iter()
        .find(|p| p.id == r.insured_person_id)
        .unwrap();
    let insurer = n
        .insurers()
        .iter()
        .find(|i| i.number == r.insurer_number)
        .unwrap();
    let ctx = format!("record {} of person {}: {got:#}", r.id, p.id);
    let s = |k: &str| got.get(k).and_then(Value::as_str).map(str::to_owned);
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string());
    assert_eq!(
        s("card_classification").as_deref(),
        Some(r.card_classification.code()),
        "{ctx}"
    );
    assert_eq!(
        s("insurer_number").as_deref(),
        Some(r.insurer_number.as_str()),
        "{ctx}"
    );
    assert_eq!(
        s("insurer_name").as_deref(),
        Some(insurer.name.as_str()),
        "{ctx}"
    );
    assert_eq!(
        s("symbol").as_deref(),
        r.symbol.as_ref().map(|x| x.as_str()),
        "{ctx}"
    );
    assert_eq!(s("number").as_deref(), Some(r.number.as_str()), "{ctx}");
    assert_eq!(s("branch").as_deref(), Some(r.branch.as_str()), "{ctx}");
    assert_eq!(
        s("personal_family").as_deref(),
        Some(r.personal_family.code()),
        "{ctx}"
    );
    assert_eq!(s("insured_name"), Some(head.name.full()), "{ctx}");
    assert_eq!(
        s("name"),
        Some(format!("{}\u{3000}{}", p.name.family, p.name.given)),
        "{ctx}"
    );
    assert_eq!(s("name_kana"), Some(p.name.kana_halfwidth()), "{ctx}");
    assert!(
        !s("name_kana").unwrap().is_ascii() && s("name_kana").unwrap().contains(' '),
        "{ctx}"
    );
    assert_eq!(s("sex1").as_deref(), Some(p.sex.oqs().code()), "{ctx}");
    assert_eq!(s("birth_date"), Some(p.birth_date.to_string()), "{ctx}");
    assert_eq!(s("address"), Some(p.address.clone()), "{ctx}");
    assert_eq!(s("post_number"), Some(p.post_number.clone()), "{ctx}");
    assert_eq!(
        s("qualification_date"),
        date(Some(r.qualification_date)),
        "{ctx}"
    );
    assert_eq!(
        s("disqualification_date"),
        date(r.disqualification_date),
        "{ctx}"
    );
    assert_eq!(
        s("reason_of_loss").as_deref(),
        r.reason_of_loss.map(|x| x.code()),
        "{ctx}"
    );
    assert_eq!(s("card_valid_date"), date(Some(r.card_valid_date)), "{ctx}");
    assert_eq!(
        s("card_expiration_date"),
        date(r.card_expiration_date),
        "{ctx}"
    );
    assert_eq!(
        got["burden_ratio"].as_u64(),
        Some(u64::from(r.burden_ratio.percent())),
        "{ctx}"
    );
    assert_eq!(
        got.get("elderly_recipient").cloned(),
        r.elderly_recipient
            .as_ref()
            .map(|e| serde_json::to_value(e).unwrap()),
        "{ctx}"
    );
    // The patient agreed to share the 限度額 category in every query of this test.
    assert_eq!(s("limit_consent").as_deref(), Some("1"), "{ctx}");
    assert_eq!(
        got.get("limit").cloned(),
        r.limit.as_ref().map(|l| serde_json::to_value(l).unwrap()),
        "{ctx}"
    );
    let diseases = got.get("specific_diseases").cloned().unwrap_or(json!([]));
    assert_eq!(
        diseases,
        serde_json::to_value(&r.specific_diseases).unwrap(),
        "{ctx}"
    );
}

async fn exercise(url: String) {
    let n = nation();
    let sc = find_scenarios(&n, n.household_count());
    let c = start_center(&url);
    let mut expected_checks = 0;

    // 有効: every field of the record.
    for case in sc
        .valid
        .iter()
        .chain(&sc.family_member)
        .chain(&sc.late_elderly)
        .chain(&sc.elderly_recipient)
        .chain(&sc.limit)
        .chain(&sc.specific_disease)
    {
        let h = n.household(case.household);
        let r = h.records.iter().find(|r| r.id == case.record_id).unwrap();
        let p = h.persons.iter().find(|p| p.id == case.person_id).unwrap();
        let (status, ct, body) = c.check(c.query(r, p.birth_date, true)).await;
        expected_checks += 1;
        assert_eq!(status, 200, "{body}");
        assert_eq!(ct, "application/json");
        assert_eq!(body["validity"], "1", "{body}");
        assert_eq!(body["reference"], "2");
        assert_eq!(body["as_of"], as_of().to_string());
        assert_eq!(body["records"].as_array().unwrap().len(), 1);
        assert_record(&n, &h, r, &body["records"][0]);
    }
    assert!(!sc.valid.is_empty() && !sc.family_member.is_empty() && !sc.late_elderly.is_empty());

    // Preschool children are flagged and pay 2割.
    for case in &sc.preschool {
        let h = n.household(case.household);
        let r = h.records.iter().find(|r| r.id == case.record_id).unwrap();
        let p = h.persons.iter().find(|p| p.id == case.person_id).unwrap();
        let (_, _, body) = c.check(c.query(r, p.birth_date, true)).await;
        expected_checks += 1;
        assert_eq!(body["validity"], "1", "{body}");
        assert_eq!(body["records"][0]["preschool"], "1", "{body}");
        assert_eq!(body["records"][0]["burden_ratio"], 20, "{body}");
    }
    assert!(!sc.preschool.is_empty());

    // 無効: lost by death, welfare, other reasons, or a job change not yet registered.
    for (case, reason) in sc
        .lost_death
        .iter()
        .map(|c| (c, "01"))
        .chain(sc.lost_welfare.iter().map(|c| (c, "02")))
        .chain(sc.lost_other.iter().map(|c| (c, "99")))
        .chain(sc.job_change_unregistered.iter().map(|c| (c, "03")))
    {
        let h = n.household(case.household);
        let r = h.records.iter().find(|r| r.id == case.record_id).unwrap();
        let p = h.persons.iter().find(|p| p.id == case.person_id).unwrap();
        let (status, _, body) = c.check(c.query(r, p.birth_date, true)).await;
        expected_checks += 1;
        assert_eq!(status, 200);
        assert_eq!(body["validity"], "2", "{body}");
        assert_eq!(body["records"][0]["reason_of_loss"], reason, "{body}");
        assert_record(&n, &h, r, &body["records"][0]);
    }
    assert!(!sc.lost_death.is_empty() && !sc.job_change_unregistered.is_empty());

    // 無効（新しい資格あり）: the old card after a job change, a move or the 75th birthday.
    for jc in sc
        .job_change_registered
        .iter()
        .chain(&sc.moved)
        .chain(&sc.turned_75)
    {
        let h = n.household(jc.household);
        let old = h
            .records
            .iter()
            .find(|r| r.id == jc.lost_record_id)
            .unwrap();
        let new = h.records.iter().find(|r| r.id == jc.new_record_id).unwrap();
        let p = h.persons.iter().find(|p| p.id == jc.person_id).unwrap();
        let (_, _, body) = c.check(c.query(old, p.birth_date, true)).await;
        assert_eq!(body["validity"], "3", "{body}");
        assert_eq!(
            body["records"].as_array().unwrap().len(),
            1,
            "only the queried qualification is disclosed"
        );
        assert_record(&n, &h, old, &body["records"][0]);
        // The new document is valid.
        let (_, _, body) = c.check(c.query(new, p.birth_date, true)).await;
        assert_eq!(body["validity"], "1", "{body}");
        expected_checks += 2;
    }
    assert!(!sc.job_change_registered.is_empty() && !sc.turned_75.is_empty());

    // 複数該当: twins found together without 枝番, one each with it.
    for s in &sc.several_found {
        let h = n.household(s.household);
        let r0 = h.records.iter().find(|r| r.id == s.record_ids[0]).unwrap();
        let p0 = h.persons.iter().find(|p| p.id == s.person_ids[0]).unwrap();
        let (_, _, body) = c.check(c.query(r0, p0.birth_date, false)).await;
        assert_eq!(body["validity"], "5", "{body}");
        assert_eq!(body["records"].as_array().unwrap().len(), 2);
        let (_, _, body) = c.check(c.query(r0, p0.birth_date, true)).await;
        assert_eq!(body["validity"], "1", "{body}");
        expected_checks += 2;
    }
    assert!(!sc.several_found.is_empty());

    // 該当資格なし: a wrong birth date, an unknown number.
    let case = sc.valid[0];
    let h = n.household(case.household);
    let r = h.records.iter().find(|r| r.id == case.record_id).unwrap();
    let p = h.persons.iter().find(|p| p.id == case.person_id).unwrap();
    let (_, _, body) = c
        .check(c.query(r, p.birth_date.pred_opt().unwrap(), true))
        .await;
    assert_eq!(body["validity"], "4", "{body}");
    assert_eq!(body["records"], json!([]));
    let mut q = c.query(r, p.birth_date, true);
    q["number"] = json!("999999999");
    let (_, _, body) = c.check(q).await;
    assert_eq!(body["validity"], "4", "{body}");
    expected_checks += 2;

    // Dates are evaluated as of the date given: before the record began, none is found.
    let mut q = c.query(r, p.birth_date, true);
    q["as_of"] = json!(r.qualification_date.pred_opt().unwrap().to_string());
    let (_, _, body) = c.check(q).await;
    assert_ne!(body["validity"], "1", "{body}");
    let last_validity = body["validity"].clone();
    expected_checks += 1;

    // Refusals: problem+json with a stable code and a Japanese message.
    let tokyo = Prefecture::from_code(13).unwrap();
    let unregistered = (0..9999)
        .map(|i| InstitutionCode::from_parts(tokyo, FeeSchedule::Dental, 99, i).unwrap())
        .find(|code| n.institutions().iter().all(|i| i.code != *code))
        .unwrap();
    let mut q = c.query(r, p.birth_date, true);
    q["institution_code"] = json!(unregistered.as_str());
    let (status, ct, body) = c.check(q).await;
    assert_eq!(
        (status, ct.as_str()),
        (403, "application/problem+json"),
        "{body}"
    );
    assert_eq!(body["code"], "institution_not_registered");
    assert!(
        body["message_ja"]
            .as_str()
            .unwrap()
            .contains("登録されていません"),
        "{body}"
    );
    for (field, value) in [
        ("institution_code", "131012345"),
        ("insurer_number", "06131235"),
        ("branch", "1"),
        ("birth_date", "1990-02-30"),
    ] {
        let mut q = c.query(r, p.birth_date, true);
        q[field] = json!(value);
        let (status, ct, body) = c.check(q).await;
        assert_eq!(
            (status, ct.as_str()),
            (400, "application/problem+json"),
            "{field}: {body}"
        );
        assert_eq!(body["code"], "invalid_field");
        assert_eq!(body["field"], field);
        assert!(
            body["message_ja"].as_str().unwrap().starts_with("入力項目"),
            "{body}"
        );
    }
    for (body, ct, code, status) in [
        (
            "{\"institution_code\": ",
            "application/json",
            "malformed_body",
            400,
        ),
        ("[]", "application/json", "malformed_body", 400),
        ("{}", "text/plain", "unsupported_media_type", 415),
        (
            "{\"institution_code\":\"x\",\"surprise\":1}",
            "application/json",
            "malformed_body",
            400,
        ),
    ] {
        let resp = c
            .http
            .post(format!("{}/v1/eligibility/insurance-data", c.base))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{body}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["code"], code, "{body}");
    }
    // The server answers 413 before reading the body and closes the connection: use a
    // client of its own so that no later request reuses that connection.
    let big = "x".repeat(200_000);
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/eligibility/insurance-data", c.base))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
    let resp = c.http.get(format!("{}/nope", c.base)).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], "not_found");

    // Every answered check was recorded, newest first, with method and result.
    let checks: Value = c
        .http
        .get(format!(
            "{}/v1/institutions/{}/checks?limit=500",
            c.base, c.institution
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let checks = checks.as_array().unwrap();
    assert_eq!(
        checks.len(),
        expected_checks,
        "one recorded check per answered query"
    );
    assert!(
        checks
            .iter()
            .all(|c| c["method"] == "6" && c["reference"] == "2")
    );
    assert_eq!(
        checks[0]["validity"], last_validity,
        "newest first: the last answered check leads"
    );

    // The OpenAPI document is served at its stable path and names the operation.
    let doc: Value = c
        .http
        .get(format!("{}/openapi.json", c.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/v1/eligibility/insurance-data"]["post"].is_object());
}

#[tokio::test]
async fn eligibility_end_to_end_on_sqlite() {
    let dir = tempdir("e2e");
    exercise(onshi_store::testing::fresh_sqlite_url(&dir)).await;
}

#[tokio::test]
async fn eligibility_end_to_end_on_postgres() {
    let url = onshi_store::testing::fresh_postgres_url()
        .await
        .expect("PostgreSQL must be reachable");
    exercise(url).await;
}
