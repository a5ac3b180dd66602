//! The smartphone issuance queue, run identically against SQLite and PostgreSQL: a due job
//! is claimed by exactly one of many concurrent workers in two "processes" (two pools), a
//! claim whose worker died is taken over after its lease and the dead worker can no longer
//! complete it, and the card's revocation ends the phone credential.

use chrono::{Duration, NaiveDateTime, Utc};
use onshi_model::*;
use onshi_store::*;

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn person(id: i64) -> PersonRow {
    PersonRow {
        id,
        household_id: 1,
        name: PersonName::new("髙橋", "一郎", "タカハシ", "イチロウ").unwrap(),
        birth_date: parse_yyyymmdd("19800102").unwrap(),
        sex: Sex::Male,
        post_number: "100-0001".into(),
        address: "東京都千代田区千代田１－１".into(),
        prefecture: Prefecture::from_code(13).unwrap(),
        my_number: MyNumber::from_payload(12_345_678_900 + id as u64).unwrap(),
        death_date: None,
        face_seed: 7,
        card_issued_on: None,
        linked_on: None,
    }
}

fn cert(fp: &str, issuer: &str, serial: &str, issued: NaiveDateTime) -> PhoneCert {
    PhoneCert {
        der: fp.as_bytes().to_vec(),
        fingerprint: fp.into(),
        issuer: issuer.into(),
        serial: serial.into(),
        not_before: issued,
        not_after: issued + Duration::days(365),
    }
}

fn application(person_id: i64, card_fp: &str, run_after: NaiveDateTime) -> NewPhoneApplication {
    NewPhoneApplication {
        person_id,
        platform: "android".into(),
        model: "Pixel 9".into(),
        os_version: "15".into(),
        card_fingerprint: card_fp.into(),
        card_not_after: now() + Duration::days(900),
        auth_spki: vec![1, 2, 3],
        signing_spki: vec![4, 5, 6],
        device_key: None,
        portrait: None,
        token_sha256: "00".repeat(32),
        requested_at: now(),
        run_after,
    }
}

fn issued(n: u32) -> IssuedPhone {
    IssuedPhone {
        auth: cert(&format!("pa{n}"), "phone-auth", &format!("{n:x}"), now()),
        signing: cert(&format!("ps{n}"), "phone-sign", &format!("{n:x}"), now()),
        mdoc: None,
        issued_at: now(),
    }
}

async fn exercise(url: String) {
    let a = Store::connect(&url).await.expect("connect");
    // A second pool on the same database stands for a second center process.
    let b = Store::connect(&url).await.expect("connect again");
    a.insert_people(&[person(1)], &[]).await.unwrap();
    a.register_card_certificate(&CardCertificate {
        fingerprint: "card1".into(),
        issuer: "auth".into(),
        serial: "10".into(),
        person_id: 1,
        issued_at: now() - Duration::days(10),
        not_after: now() + Duration::days(900),
        revoked_at: None,
        revocation_reason: None,
    })
    .await
    .unwrap();

    // Not due yet: nobody gets it.
    let (cred, _) = a
        .insert_phone_application(&application(1, "card1", now() + Duration::hours(1)))
        .await
        .unwrap();
    assert!(
        a.claim_phone_job("w", now(), Duration::seconds(30))
            .await
            .unwrap()
            .is_none()
    );
    // A newer request abandons the older pending one.
    let (cred2, _) = a
        .insert_phone_application(&application(1, "card1", now() - Duration::seconds(1)))
        .await
        .unwrap();
    assert_eq!(
        a.phone_credential(cred).await.unwrap().unwrap().state,
        PhoneState::Failed
    );

    // Sixteen concurrent claimers over two pools: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            s.claim_phone_job(&format!("w{i}"), now(), Duration::seconds(30))
                .await
                .unwrap()
        }));
    }
    let mut won = Vec::new();
    for t in tasks {
        if let Some(j) = t.await.unwrap() {
            won.push(j);
        }
    }
    assert_eq!(won.len(), 1, "one claimant, got {won:?}");
    let first = won.pop().unwrap();
    assert_eq!(first.credential_id, cred2);
    assert_eq!(first.attempts, 1);

    // The first worker "dies" (kill -9): its lease runs out and another takes the job.
    assert!(
        b.claim_phone_job("w2", now(), Duration::seconds(30))
            .await
            .unwrap()
            .is_none()
    );
    let later = now() + Duration::seconds(31);
    let second = b
        .claim_phone_job("w2", later, Duration::seconds(30))
        .await
        .unwrap()
        .expect("taken over after the lease");
    assert_eq!(second.attempts, 2);
    // The dead worker's late completion is refused; the live one's is applied once.
    assert_eq!(
        a.complete_phone_job(&first, &issued(1)).await.unwrap(),
        JobCompletion::LostClaim
    );
    assert_eq!(
        b.complete_phone_job(&second, &issued(2)).await.unwrap(),
        JobCompletion::Issued { superseded: vec![] }
    );
    assert_eq!(
        b.complete_phone_job(&second, &issued(3)).await.unwrap(),
        JobCompletion::LostClaim,
        "a job completes once"
    );
    let c = a.phone_credential(cred2).await.unwrap().unwrap();
    assert_eq!(c.state, PhoneState::Issued);
    assert_eq!(c.auth_fingerprint.as_deref(), Some("pa2"));
    assert_eq!(a.phone_job_of(cred2).await.unwrap().unwrap().state, "done");
    assert!(
        a.card_holder("pa1").await.unwrap().is_none(),
        "nothing of the lost claim"
    );
    let holder = a.phone_holder("pa2").await.unwrap().unwrap();
    assert_eq!(holder.person.id, 1);
    assert_eq!(holder.card.fingerprint, "card1");
    assert!(!holder.card_superseded);

    // Suspension and resumption.
    assert!(a.suspend_phone(cred2, 1, now(), "lost").await.unwrap());
    assert!(!a.suspend_phone(cred2, 1, now(), "lost").await.unwrap());
    assert!(
        !a.resume_phone(cred2, 2).await.unwrap(),
        "someone else's phone"
    );
    assert!(a.resume_phone(cred2, 1).await.unwrap());

    // A replacement phone revokes the old one and its certificates.
    let (cred3, _) = a
        .insert_phone_application(&application(1, "card1", now() - Duration::seconds(1)))
        .await
        .unwrap();
    let job = a
        .claim_phone_job("w", now(), Duration::seconds(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.credential_id, cred3);
    assert_eq!(
        a.complete_phone_job(&job, &issued(4)).await.unwrap(),
        JobCompletion::Issued {
            superseded: vec![cred2]
        }
    );
    assert_eq!(
        a.phone_credential(cred2).await.unwrap().unwrap().state,
        PhoneState::Revoked
    );
    let (old, _) = a.card_holder("pa2").await.unwrap().unwrap();
    assert!(
        old.revoked_at.is_some(),
        "the old phone's certificate is revoked"
    );
    let (revs, _) = a.revocations_since(0).await.unwrap();
    assert!(
        revs.iter()
            .any(|r| r.issuer == "phone-sign" && r.serial == "2")
    );

    // Revoking the card ends the phone credential and revokes its certificates.
    let (_, cursor) = a.cascade_phone_revocations(0, now()).await.unwrap();
    assert!(
        a.revoke_card_certificate("card1", now(), "lost")
            .await
            .unwrap()
    );
    let (ended, _) = a.cascade_phone_revocations(cursor, now()).await.unwrap();
    assert_eq!(ended, vec![cred3]);
    let c = a.phone_credential(cred3).await.unwrap().unwrap();
    assert_eq!(c.state, PhoneState::Revoked);
    assert_eq!(c.end_reason.as_deref(), Some("card-revoked"));
    let (pa4, _) = a.card_holder("pa4").await.unwrap().unwrap();
    assert!(pa4.revoked_at.is_some());
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn phone_queue_sqlite() {
    let dir = tempdir();
    exercise(onshi_store::testing::fresh_sqlite_url(&dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn phone_queue_postgres() {
    let url = onshi_store::testing::fresh_postgres_url()
        .await
        .expect("PostgreSQL at ONSHI_TEST_POSTGRES");
    exercise(url).await;
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "onshi-phone-queue-{}-{}",
        std::process::id(),
        Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}
