//! The card path over mutual TLS, end to end through the real binaries: cards issued to
//! persons of the center's database, terminals enrolled, `onshi serve --tls`, and an
//! in-process virtual card driven by the reader-side client. PIN, face and visual paths,
//! replays, foreign institutions, revoked cards and terminals, unlinked cards and 利用登録.

mod common;

use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::NaiveDate;
use common::*;
use onshi_card::{CardFile, JpkiClient, Pin, VerifyOutcome, VirtualCard};
use onshi_synth::{Config, Nation, find_scenarios};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};

const PERSONS: u64 = 3_000;
const SEED: u64 = 11;

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 2).unwrap()
}

fn mtls_client(dir: &Path) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(dir.join("ca.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let certs: Vec<_> = CertificateDer::pem_file_iter(dir.join("terminal.crt.pem"))
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("terminal.key.pem")).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(certs, key)
        .unwrap();
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
}

struct Terminal {
    http: reqwest::Client,
    base: String,
    institution: String,
}

impl Terminal {
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn challenge(&self) -> (Vec<u8>, String) {
        let (s, v) = self.post("/v1/card/challenge", json!({})).await;
        assert_eq!(s, 200, "{v}");
        let b = v["challenge"].as_str().unwrap().to_owned();
        (B64.decode(&b).unwrap(), b)
    }

    /// The PIN path: the card signs challenge ‖ institution ‖ time.
    async fn pin_body(
        &self,
        card: &mut JpkiClient<VirtualCard>,
        pin: &str,
        consents: &[&str],
    ) -> Value {
        let (_, challenge_b64) = self.challenge().await;
        self.pin_body_with(card, pin, consents, &challenge_b64)
    }

    /// The PIN path with a given challenge (base64), e.g. one carried by a check's answer.
    fn pin_body_with(
        &self,
        card: &mut JpkiClient<VirtualCard>,
        pin: &str,
        consents: &[&str],
        challenge_b64: &str,
    ) -> Value {
        let cert = card.auth_certificate().unwrap();
        let challenge = B64.decode(challenge_b64).unwrap();
        let signed_at = onshi_center::now_jst().format("%Y%m%d%H%M%S").to_string();
        let mut msg = challenge.clone();
        msg.extend_from_slice(self.institution.as_bytes());
        msg.extend_from_slice(signed_at.as_bytes());
        let (outcome, sig) = card.authenticate(&Pin::from(pin), &msg).unwrap();
        assert_eq!(outcome, VerifyOutcome::Ok);
        json!({
            "institution_code": self.institution, "method": "pin",
            "certificate": B64.encode(cert), "challenge": challenge_b64, "signed_at": signed_at,
            "signature": B64.encode(sig.unwrap()), "consents": consents, "as_of": as_of().to_string(),
        })
    }

    async fn face_body(&self, card: &mut JpkiClient<VirtualCard>, score: f32) -> Value {
        let cert = card.auth_certificate().unwrap();
        let (_, challenge_b64) = self.challenge().await;
        json!({
            "institution_code": self.institution, "method": "face",
            "certificate": B64.encode(cert), "challenge": challenge_b64,
            "signed_at": onshi_center::now_jst().format("%Y%m%d%H%M%S").to_string(),
            "face": {"score": score, "threshold": 0.81, "card_face_sha256": "ab".repeat(32), "matcher": "classic"},
            "consents": ["medication"], "as_of": as_of().to_string(),
        })
    }
}

fn issue(url: &str, data: &Path, person: u64, out: &Path) -> JpkiClient<VirtualCard> {
    issue_card(url, data, &person.to_string(), out);
    JpkiClient::new(VirtualCard::new(CardFile::load(out).unwrap()))
}

async fn exercise(url: String) {
    let data = tempdir("card");
    let n = Nation::new(Config {
        seed: SEED,
        persons: PERSONS,
        as_of: as_of(),
    });
    let sc = find_scenarios(&n, n.household_count());
    seed(&url, PERSONS, SEED, as_of(), true);
    let linked = sc.card_linked[0];
    let unlinked = sc.card_not_linked[0];
    let inst_a = n.institutions()[0].code.to_string();
    let inst_b = n.institutions()[1].code.to_string();
    let mut card = issue(&url, &data, linked.person_id, &data.join("a.card"));
    let mut other_card = issue(&url, &data, unlinked.person_id, &data.join("b.card"));
    let dir_a = enroll(&url, &data, &inst_a, "T01");
    let dir_b = enroll(&url, &data, &inst_b, "T01");
    let server = serve_tls(&url, &data);
    let base = server
        .base
        .replace("https://", "https://localhost:")
        .replacen("localhost:127.0.0.1:", "localhost:", 1);
    let a = Terminal {
        http: mtls_client(&dir_a),
        base: base.clone(),
        institution: inst_a.clone(),
    };
    let b = Terminal {
        http: mtls_client(&dir_b),
        base: base.clone(),
        institution: inst_b.clone(),
    };

    // PIN path: valid, with the person's record and the consents given.
    let h = n.household(linked.household);
    let rec = h.records.iter().find(|r| r.id == linked.record_id).unwrap();
    let person = h.persons.iter().find(|p| p.id == linked.person_id).unwrap();
    let body = a
        .pin_body(
            &mut card,
            "1234",
            &["medication", "checkups", "cost_ceiling"],
        )
        .await;
    let (s, v) = a.post("/v1/eligibility/card", body.clone()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["reference"], "1");
    assert_eq!(v["validity"], "1", "{v}");
    let q = &v["records"][0];
    assert_eq!(q["insurer_number"], rec.insurer_number.as_str());
    assert_eq!(q["number"], rec.number.as_str());
    assert_eq!(q["name"], person.name.full());
    assert_eq!(q["birth_date"], person.birth_date.to_string());
    assert_eq!(q["limit_consent"], "1", "cost ceiling consented");
    let consents = q["consents"].as_array().unwrap();
    assert_eq!(consents.len(), 5);
    let flag = |kind: &str| consents.iter().find(|c| c["kind"] == kind).unwrap()["flag"].clone();
    assert_eq!(
        (flag("1"), flag("2"), flag("3"), flag("4"), flag("5")),
        (json!("1"), json!("1"), json!("0"), json!("0"), json!("1"))
    );
    assert!(v["history_until"].is_string());
    let reception = v["reception_id"].as_str().unwrap().to_owned();
    // The answer carries the terminal's next challenge: no separate request for it.
    let next = v["next_challenge"]["challenge"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(next, body["challenge"].as_str().unwrap());
    assert!(v["next_challenge"]["expires_at"].is_string(), "{v}");

    // History inside the consent: exactly the person's synthetic history, newest first.
    let expected = onshi_synth::history::person_history(&n, &h, person);
    let get = |t: &Terminal, path: String| {
        let http = t.http.clone();
        let url = format!("{}{path}", t.base);
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (s, meds) = get(&a, format!("/v1/receptions/{reception}/medications")).await;
    assert_eq!(s, 200, "{meds}");
    let meds = meds.as_array().unwrap();
    assert_eq!(
        meds.len(),
        expected.medications.len(),
        "every dispensing of the last three years"
    );
    if let Some(first) = meds.first() {
        let newest = expected
            .medications
            .iter()
            .map(|m| m.dispensed_on)
            .max()
            .unwrap();
        assert_eq!(first["dispensed_on"], newest.to_string());
    }
    let (s, checkups) = get(&a, format!("/v1/receptions/{reception}/checkups")).await;
    assert_eq!(s, 200, "{checkups}");
    assert_eq!(checkups.as_array().unwrap().len(), expected.checkups.len());
    // Not consented: diagnoses and surgeries.
    let (s, v) = get(&a, format!("/v1/receptions/{reception}/diagnoses")).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("consent_missing")),
        "{v}"
    );
    assert!(
        v["message_ja"].as_str().unwrap().contains("診療情報"),
        "{v}"
    );
    // Another institution never sees it, and cannot learn that the reception exists.
    let (s, v) = get(&b, format!("/v1/receptions/{reception}/medications")).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("not_found")), "{v}");
    // Every view is recorded for the patient.
    let store = onshi_store::Store::connect(&url).await.unwrap();
    let views = store.history_views(linked.person_id as i64).await.unwrap();
    assert_eq!(views.len(), 2, "{views:?}");
    assert!(
        views
            .iter()
            .all(|w| w.view.institution_code.as_str() == inst_a
                && w.view.reception_id.to_string() == reception)
    );

    // The same request again: the challenge is spent.
    let (s, v) = a.post("/v1/eligibility/card", body.clone()).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("challenge_replayed")),
        "{v}"
    );
    // The carried challenge serves the next reception once, at its own institution only.
    let foreign_next = b.pin_body_with(&mut card, "1234", &[], &next);
    let (s, v) = b.post("/v1/eligibility/card", foreign_next).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("challenge_unknown")),
        "{v}"
    );
    let chained = a.pin_body_with(&mut card, "1234", &[], &next);
    let (s, v) = a.post("/v1/eligibility/card", chained.clone()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["validity"], "1", "{v}");
    let (s, v) = a.post("/v1/eligibility/card", chained).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("challenge_replayed")),
        "{v}"
    );
    // Another institution's terminal cannot use it, nor claim to be another institution.
    let mut foreign = body.clone();
    foreign["institution_code"] = json!(inst_b);
    let (s, v) = b.post("/v1/eligibility/card", foreign).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("challenge_unknown")),
        "a challenge is bound to its institution: {v}"
    );
    let body2 = a.pin_body(&mut card, "1234", &[]).await;
    let mut claimed = body2.clone();
    claimed["institution_code"] = json!(inst_b);
    let (s, v) = a.post("/v1/eligibility/card", claimed).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("institution_mismatch")),
        "{v}"
    );
    // A tampered signature.
    let mut tampered = body2.clone();
    let mut sig = B64.decode(tampered["signature"].as_str().unwrap()).unwrap();
    sig[10] ^= 1;
    tampered["signature"] = json!(B64.encode(sig));
    let (s, v) = a.post("/v1/eligibility/card", tampered).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (401, Some("signature_invalid")),
        "{v}"
    );
    // A wrong PIN never reaches the center: the card counts it.
    let (outcome, sig) = card.authenticate(&Pin::from("9999"), b"x").unwrap();
    assert_eq!(
        (outcome, sig),
        (VerifyOutcome::WrongPin { tries_left: 2 }, None)
    );
    // A forged challenge.
    let mut forged = a.pin_body(&mut card, "1234", &[]).await;
    forged["challenge"] = json!(B64.encode([7u8; 32]));
    let (s, v) = a.post("/v1/eligibility/card", forged).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("challenge_unknown")),
        "{v}"
    );

    // Face path: evidence below the threshold is refused; a match is recorded as face.
    let (s, v) = a
        .post("/v1/eligibility/card", a.face_body(&mut card, 0.5).await)
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("face_evidence_insufficient")),
        "{v}"
    );
    let (s, v) = a
        .post("/v1/eligibility/card", a.face_body(&mut card, 0.9).await)
        .await;
    assert_eq!((s, v["validity"].as_str()), (200, Some("1")), "{v}");
    // Visual path.
    let mut visual = a.face_body(&mut card, 0.9).await;
    visual["method"] = json!("visual");
    visual.as_object_mut().unwrap().remove("face");
    visual["visual"] = json!({"staff_id": "受付01"});
    let (s, v) = a.post("/v1/eligibility/card", visual).await;
    assert_eq!((s, v["validity"].as_str()), (200, Some("1")), "{v}");

    // A card not linked to insurance: refused with card_not_linked, then 利用登録 at the
    // reader, then the check succeeds.
    let body = a.pin_body(&mut other_card, "1234", &[]).await;
    let (s, v) = a.post("/v1/eligibility/card", body).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("card_not_linked")),
        "{v}"
    );
    assert!(v["message_ja"].as_str().unwrap().contains("利用登録"));
    let mut link = a.pin_body(&mut other_card, "1234", &[]).await;
    for k in ["method", "consents", "as_of"] {
        link.as_object_mut().unwrap().remove(k);
    }
    let (s, v) = a.post("/v1/card/link", link).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["linked_on"], onshi_center::today_jst().to_string());
    let (s, v) = a
        .post(
            "/v1/eligibility/card",
            a.pin_body(&mut other_card, "1234", &[]).await,
        )
        .await;
    assert_eq!(s, 200, "{v}");

    // What the center recorded: methods 1 PIN, 2 face, 3 visual, reference 1 (card).
    let checks: Value = a
        .http
        .get(format!("{base}/v1/institutions/{inst_a}/checks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let methods: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["method"].as_str().unwrap())
        .collect();
    // (the first PIN check and the one with its carried challenge, then face, visual, PIN)
    assert_eq!(methods, ["1", "3", "2", "1", "1"], "newest first: {checks}");
    assert!(
        checks
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["reference"] == "1")
    );

    // J-LIS revokes the card: refused at once.
    run(&[
        "card",
        "revoke",
        "--database-url",
        &url,
        data.join("a.card").to_str().unwrap(),
    ]);
    let (s, v) = a
        .post(
            "/v1/eligibility/card",
            a.pin_body(&mut card, "1234", &[]).await,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("certificate_revoked")),
        "{v}"
    );

    // The CRL of the user-authentication CA, published by the center to anyone, lists
    // the revoked card; the verifier and OpenSSL both read it.
    let anonymous = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap();
    let r = anonymous
        .get(format!("{base}/crl/auth.crl"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/pkix-crl");
    let crl = r.bytes().await.unwrap().to_vec();
    let parsed = onshi_pki::parse_crl(&crl).unwrap();
    let revoked_serial = {
        let jlis =
            onshi_pki::Jlis::load_or_create(data.join("jlis"), chrono::Utc::now(), None).unwrap();
        let trust = jlis.trust_store(onshi_pki::TrustPolicy::default()).unwrap();
        let der = CardFile::load(&data.join("a.card")).unwrap().jpki.auth_cert;
        let serial = trust.verify(&der, chrono::Utc::now()).unwrap().serial();
        assert_eq!(trust.load_crl(&crl).unwrap(), 1, "one revocation loaded");
        assert!(matches!(
            trust.verify(&der, chrono::Utc::now()),
            Err(onshi_pki::PkiError::Revoked { .. })
        ));
        serial
    };
    assert_eq!(parsed.entries.len(), 1);
    assert_eq!(parsed.entries[0].serial, revoked_serial);
    std::fs::write(data.join("auth.crl"), &crl).unwrap();
    let text = std::process::Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-text", "-in"])
        .arg(data.join("auth.crl"))
        .output()
        .unwrap();
    assert!(text.status.success());
    let listed: Vec<String> = String::from_utf8_lossy(&text.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Serial Number:"))
        .map(|h| h.trim().trim_start_matches('0').to_uppercase())
        .collect();
    assert_eq!(
        listed,
        [revoked_serial
            .to_hex()
            .trim_start_matches('0')
            .to_uppercase()],
        "OpenSSL lists the revoked serial"
    );
    let r = anonymous
        .get(format!("{base}/crl/nope.crl"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // Without a client certificate a TLS client may read public documents only.
    let r = anonymous
        .post(format!("{base}/v1/card/challenge"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "client_certificate_required"
    );

    // A revoked terminal is refused, on open connections too, once the center reloads
    // revocations (every 2 s).
    run(&[
        "terminal-revoke",
        "--database-url",
        &url,
        "--institution",
        &inst_b,
        "--terminal-id",
        "T01",
    ]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (s, v) = b.post("/v1/card/challenge", json!({})).await;
        if s == 403 {
            assert_eq!(v["code"], "terminal_revoked", "{v}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the revoked terminal is still accepted: {v}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // A new connection from it is refused as well; the other terminal is unaffected.
    let (s, v) = Terminal {
        http: mtls_client(&dir_b),
        base: base.clone(),
        institution: inst_b.clone(),
    }
    .post("/v1/card/challenge", json!({}))
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("terminal_revoked")),
        "{v}"
    );
    let (s, _) = a.post("/v1/card/challenge", json!({})).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn card_path_over_mutual_tls_on_sqlite() {
    let dir = tempdir("cardpath");
    exercise(onshi_store::testing::fresh_sqlite_url(&dir)).await;
}

#[tokio::test]
async fn card_path_over_mutual_tls_on_postgres() {
    exercise(
        onshi_store::testing::fresh_postgres_url()
            .await
            .expect("PostgreSQL must be reachable"),
    )
    .await;
}

/// Acknowledged receptions survive `kill -9` of the center: many checks are sent at once
/// (so that they share group-commit transactions), the center is killed while answers
/// are still arriving, and every reception that was answered is in the database with its
/// consents and its spent challenge after a restart.
async fn survives_kill_9(url: String) {
    const CHECKS: usize = 48;
    let data = tempdir("kill9");
    let n = Nation::new(Config {
        seed: SEED,
        persons: PERSONS,
        as_of: as_of(),
    });
    let sc = find_scenarios(&n, n.household_count());
    seed(&url, PERSONS, SEED, as_of(), false);
    let inst = n.institutions()[0].code.to_string();
    let mut card = issue(
        &url,
        &data,
        sc.card_linked[0].person_id,
        &data.join("a.card"),
    );
    let dir = enroll(&url, &data, &inst, "T01");
    let mut server = serve_tls(&url, &data);
    let base = |s: &Running| {
        s.base.replace("https://", "https://localhost:").replacen(
            "localhost:127.0.0.1:",
            "localhost:",
            1,
        )
    };
    let t = Terminal {
        http: mtls_client(&dir),
        base: base(&server),
        institution: inst.clone(),
    };
    let consents = ["medication", "checkups"];
    let mut bodies = Vec::with_capacity(CHECKS);
    for _ in 0..CHECKS {
        bodies.push(t.pin_body(&mut card, "1234", &consents).await);
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for body in bodies.iter().cloned() {
        let (http, url, tx) = (
            t.http.clone(),
            format!("{}/v1/eligibility/card", t.base),
            tx.clone(),
        );
        tokio::spawn(async move {
            let answer = match http.post(url).json(&body).send().await {
                Ok(r) if r.status().as_u16() == 200 => {
                    r.json::<Value>().await.ok().map(|v| (body, v))
                }
                _ => None,
            };
            let _ = tx.send(answer);
        });
    }
    drop(tx);
    // Kill as soon as a few answers are in, with the rest in flight.
    let mut acknowledged = Vec::new();
    while let Some(answer) = rx.recv().await {
        if let Some(a) = answer {
            acknowledged.push(a);
        }
        if acknowledged.len() == 8 {
            server.child.kill().unwrap(); // SIGKILL
            server.child.wait().unwrap();
        }
    }
    assert!(acknowledged.len() >= 8, "answers before the kill");

    let store = onshi_store::Store::connect(&url).await.unwrap();
    for (_, v) in &acknowledged {
        let id: i64 = v["reception_id"].as_str().unwrap().parse().unwrap();
        let check = store.check(id).await.unwrap();
        assert!(check.is_some(), "acknowledged reception {id} lost");
        assert_eq!(
            store.consents_of_reception(id).await.unwrap().len(),
            consents.len(),
            "the consents of reception {id}"
        );
    }
    store.close().await;

    // After a restart the spent challenges stay spent.
    let server = serve_tls(&url, &data);
    let t = Terminal {
        base: base(&server),
        ..t
    };
    let (s, v) = t
        .post("/v1/eligibility/card", acknowledged[0].0.clone())
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("challenge_replayed")),
        "{v}"
    );
}

#[tokio::test]
async fn acknowledged_receptions_survive_kill_9_on_sqlite() {
    let dir = tempdir("kill9db");
    survives_kill_9(onshi_store::testing::fresh_sqlite_url(&dir)).await;
}

#[tokio::test]
async fn acknowledged_receptions_survive_kill_9_on_postgres() {
    survives_kill_9(
        onshi_store::testing::fresh_postgres_url()
            .await
            .expect("PostgreSQL must be reachable"),
    )
    .await;
}
