//! The store's suite, run identically against SQLite and PostgreSQL.

use chrono::NaiveDate;
use onshi_model::*;
use onshi_store::*;

fn d(s: &str) -> NaiveDate {
    parse_yyyymmdd(s).unwrap()
}

fn person(id: i64, family: &str, given: &str, kana: (&str, &str), birth: &str) -> PersonRow {
    PersonRow {
        id,
        household_id: 1,
        name: PersonName::new(family, given, kana.0, kana.1).unwrap(),
        birth_date: d(birth),
        sex: Sex::Female,
        post_number: "100-0001".into(),
        address: "東京都千代田区千代田１－１".into(),
        prefecture: Prefecture::from_code(13).unwrap(),
        my_number: MyNumber::from_payload(12_345_678_900 + id as u64).unwrap(),
        death_date: None,
        face_seed: -5,
        card_issued_on: Some(d("20210401")),
        linked_on: None,
    }
}

fn record(
    id: i64,
    person_id: i64,
    insurer: &InsurerNumber,
    branch: u8,
    from: &str,
    to: Option<&str>,
) -> RecordRow {
    RecordRow {
        id,
        person_id,
        insurer_number: insurer.clone(),
        symbol: Some(InsuredCardSymbol::parse("髙﨑1").unwrap()),
        number: InsuredNumber::parse("1234").unwrap(),
        branch: BranchNumber::new(branch).unwrap(),
        personal_family: if branch == 0 {
            PersonalFamilyClassification::Insured
        } else {
            PersonalFamilyClassification::Family
        },
        insured_person_id: 1,
        card_classification: InsuredCardClassification::General,
        qualification_date: d(from),
        disqualification_date: to.map(d),
        reason_of_loss: to.map(|_| ReasonOfLoss::OtherInsurance),
        card_valid_date: d(from),
        card_expiration_date: None,
        burden_ratio: BurdenRatio::THIRTY,
        extras: RecordExtras {
            limit: Some(LimitInfo {
                classification: LimitCertificateClassification::Limit,
                category: LimitCategory::A03,
                valid_from: d(from),
                valid_until: None,
            }),
            ..Default::default()
        },
    }
}

/// The whole store against `url`; receptions are group-committed with `window`.
async fn exercise(url: String, window: std::time::Duration) {
    let store = Store::connect(&url)
        .await
        .expect("connect")
        .with_commit_window(window);
    assert_eq!(store.commit_window(), window);
    let tokyo = Prefecture::from_code(13).unwrap();
    let insurer = InsurerNumber::from_parts(Some(6), tokyo, 123).unwrap();
    store
        .insert_insurers(&[InsurerRow {
            number: insurer.clone(),
            kind: InsurerKind::KumiaiKenpo,
            name: "オンシ健康保険組合".into(),
            prefecture: tokyo,
            address: "東京都".into(),
        }])
        .await
        .unwrap();
    let code = InstitutionCode::from_parts(tokyo, FeeSchedule::Medical, 1, 2345).unwrap();
    store
        .insert_institutions(&[NewInstitution {
            code,
            kind: InstitutionKind::Clinic,
            name: "𠮷田医院".into(),
            prefecture: tokyo,
            address: "東京都".into(),
            post_number: "100-0001".into(),
        }])
        .await
        .unwrap();
    let head = person(1, "髙橋", "一郎", ("タカハシ", "イチロウ"), "19800102");
    let child = person(2, "髙橋", "𠮷男", ("タカハシ", "ヨシオ"), "20150505");
    let records = vec![
        record(10, 1, &insurer, 0, "20200401", None),
        record(11, 2, &insurer, 1, "20200401", None),
        record(12, 1, &insurer, 0, "20100401", Some("20200401")),
    ];
    store
        .insert_people(&[head.clone(), child.clone()], &records)
        .await
        .unwrap();

    // Lookup by card, with and without branch; birth date must match.
    let sym = InsuredCardSymbol::parse("髙﨑1").unwrap();
    let num = InsuredNumber::parse("1234").unwrap();
    let found = store
        .records_by_card(&insurer, &num, Some(&sym), None, d("19800102"))
        .await
        .unwrap();
    assert_eq!(
        found.len(),
        2,
        "the current and the lost record of the head"
    );
    assert_eq!(
        found[0].record, records[2],
        "oldest first, every field round-trips"
    );
    assert_eq!(found[1].person, head);
    assert_eq!(found[1].insured_name, "髙橋\u{3000}一郎");
    assert_eq!(found[1].insurer_name.as_deref(), Some("オンシ健康保険組合"));
    let child_found = store
        .records_by_card(
            &insurer,
            &num,
            Some(&sym),
            Some(BranchNumber::new(1).unwrap()),
            d("20150505"),
        )
        .await
        .unwrap();
    assert_eq!(child_found.len(), 1);
    assert_eq!(child_found[0].person.name.given, "𠮷男");
    assert_eq!(
        child_found[0].insured_name, "髙橋\u{3000}一郎",
        "family members carry the 本人's name"
    );
    assert!(
        store
            .records_by_card(&insurer, &num, Some(&sym), None, d("19800103"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .records_by_card(&insurer, &num, None, None, d("19800102"))
            .await
            .unwrap()
            .is_empty()
    );
    // Without the birth date the whole family on the card matches; a branch number
    // narrows it to one person; a symbol not printed matches nobody.
    let family = store
        .records_by_card_any_birth(&insurer, &num, Some(&sym), None)
        .await
        .unwrap();
    assert_eq!(family.len(), 3, "the head's two records and the child's");
    assert!(family.iter().any(|v| v.person == head));
    let branch_one = store
        .records_by_card_any_birth(
            &insurer,
            &num,
            Some(&sym),
            Some(BranchNumber::new(1).unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(branch_one.len(), 1);
    assert_eq!(branch_one[0].person, child);
    assert!(
        store
            .records_by_card_any_birth(&insurer, &num, None, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.records_of_person(1).await.unwrap().len(), 2);
    assert_eq!(store.person(2).await.unwrap(), Some(child));
    assert_eq!(store.person(99).await.unwrap(), None);

    let inst = store.institution(&code).await.unwrap().unwrap();
    assert_eq!(inst.name, "𠮷田医院");
    assert!(inst.active);
    let other = InstitutionCode::from_parts(tokyo, FeeSchedule::Dental, 1, 2345).unwrap();
    assert!(store.institution(&other).await.unwrap().is_none());

    // Checks and audit entries are kept and listed newest first.
    let now = chrono::Utc::now().naive_utc();
    for (i, v) in [
        QualificationValidity::Valid,
        QualificationValidity::NotFound,
    ]
    .into_iter()
    .enumerate()
    {
        store
            .record_check(&NewCheck {
                checked_at: now + chrono::Duration::milliseconds(i as i64),
                institution_code: code,
                method: VerificationMethod::InsuranceData,
                reference: ReferenceClassification::InsuranceData,
                as_of: d("20250601"),
                validity: v,
                person_id: (i == 0).then_some(1),
                record_id: (i == 0).then_some(10),
                query: "q".into(),
            })
            .await
            .unwrap();
    }
    let checks = store.recent_checks(Some(&code), 10).await.unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[0].validity, QualificationValidity::NotFound);
    assert_eq!(checks[1].person_id, Some(1));
    assert!(
        store
            .recent_checks(Some(&other), 10)
            .await
            .unwrap()
            .is_empty()
    );
    store
        .audit("admin", "institution.register", code.as_str(), "")
        .await
        .unwrap();
    assert_eq!(
        store
            .audit_entries(Some("institution.register"), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    receptions(&store, code).await;
    home_consents(&store, code, other).await;
    assert_eq!(store.count(Table::Persons).await.unwrap(), 3);
    assert_eq!(
        store.count(Table::InsuredRecordEvents).await.unwrap(),
        4,
        "3 acquisitions + 1 loss"
    );
    store.close().await;

    // Reopening keeps the data and does not re-run migrations.
    let again = Store::connect(&url).await.unwrap();
    assert_eq!(again.count(Table::InsuredRecords).await.unwrap(), 3);
    assert_eq!(
        again.count(Table::EligibilityChecks).await.unwrap(),
        2 + RECEPTIONS as i64,
        "the checks and the receptions"
    );
}

#[tokio::test]
async fn sqlite_suite() {
    let dir = tempdir();
    exercise(testing::fresh_sqlite_url(&dir), std::time::Duration::ZERO).await;
}

#[tokio::test]
async fn postgres_suite() {
    exercise(
        testing::fresh_postgres_url()
            .await
            .expect("PostgreSQL must be reachable for this suite"),
        std::time::Duration::ZERO,
    )
    .await;
}

/// Receptions that wait for a commit window still commit exactly once each (replays
/// caught inside one transaction and across transactions).
#[tokio::test]
async fn receptions_with_a_commit_window() {
    let dir = tempdir();
    exercise(
        testing::fresh_sqlite_url(&dir),
        std::time::Duration::from_millis(3),
    )
    .await;
    exercise(
        testing::fresh_postgres_url()
            .await
            .expect("PostgreSQL must be reachable for this suite"),
        std::time::Duration::from_millis(3),
    )
    .await;
}

#[tokio::test]
async fn bad_urls_are_refused_clearly() {
    let e = Store::connect("mysql://x").await.unwrap_err();
    assert!(e.to_string().contains("unsupported database URL"));
    let e = Store::connect("postgres://nobody:pw@127.0.0.1:1/none")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("***"), "password hidden: {e}");
}

fn tempdir() -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!(
        "onshi-store-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn nine_am() -> chrono::NaiveDateTime {
    d("20250601").and_hms_opt(9, 0, 0).unwrap()
}

/// Registers a card certificate (its serial is its fingerprint) to a person.
async fn register(store: &Store, fingerprint: &str, person_id: i64) {
    store
        .register_card_certificate(&CardCertificate {
            fingerprint: fingerprint.into(),
            issuer: "auth".into(),
            serial: fingerprint.into(),
            person_id,
            issued_at: nine_am(),
            not_after: nine_am() + chrono::Duration::days(3650),
            revoked_at: None,
            revocation_reason: None,
        })
        .await
        .unwrap();
}

/// Distinct challenges in the concurrent receptions below; each is sent twice.
const RECEPTIONS: usize = 150;

/// The hot path's read (certificate → holder → records) and its group-committed write.
async fn receptions(store: &Store, code: InstitutionCode) {
    let at = nine_am();
    let lonely = person(3, "佐藤", "花子", ("サトウ", "ハナコ"), "19700101");
    store
        .insert_people(std::slice::from_ref(&lonely), &[])
        .await
        .unwrap();
    for (fingerprint, person_id) in [("f1", 1), ("f3", 3)] {
        register(store, fingerprint, person_id).await;
    }
    let found = store
        .card_holder_records("f1", &code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.person.id, 1);
    assert_eq!(found.certificate.fingerprint, "f1");
    assert_eq!(
        found.records,
        store.records_of_person(1).await.unwrap(),
        "the same records as the separate lookup, oldest first"
    );
    let found = store
        .card_holder_records("f3", &code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.person, lonely);
    assert!(found.records.is_empty(), "a holder without records");
    assert!(
        store
            .card_holder_records("nope", &code)
            .await
            .unwrap()
            .is_none()
    );

    // Concurrent lookups share statements: each still gets exactly its own holder, records
    // and its own institution's 照会番号, as when asked alone.
    let elsewhere = InstitutionCode::parse("0110113719").unwrap();
    store
        .register_reference_number(&code, 1, 10, "REF-HERE", at)
        .await
        .unwrap();
    let view = |h: Option<onshi_store::HolderRecords>| {
        h.map(|h| {
            (
                h.certificate.fingerprint,
                h.person,
                h.records,
                h.reference_number,
            )
        })
    };
    let keys = [
        ("f1", code),
        ("f3", code),
        ("nope", code),
        ("f1", elsewhere),
        ("f3", elsewhere),
    ];
    let mut alone = Vec::new();
    for (fp, inst) in keys {
        alone.push(view(store.card_holder_records(fp, &inst).await.unwrap()));
    }
    assert_eq!(alone[0].as_ref().unwrap().3.as_deref(), Some("REF-HERE"));
    assert_eq!(alone[3].as_ref().unwrap().3, None, "another institution's");
    assert_eq!(alone[0].as_ref().unwrap().2, alone[3].as_ref().unwrap().2);
    let mut lookups = Vec::new();
    for i in 0..400 {
        let store = store.clone();
        let (fp, inst) = keys[i % keys.len()];
        lookups.push(tokio::spawn(async move {
            (
                i % keys.len(),
                store.card_holder_records(fp, &inst).await.unwrap(),
            )
        }));
    }
    for l in lookups {
        let (k, found) = l.await.unwrap();
        assert_eq!(
            view(found),
            alone[k],
            "lookup {k} answered with its own rows"
        );
    }

    // Concurrent receptions, every challenge sent twice: each is recorded exactly once,
    // with its consents, and the replays are refused one by one.
    let reception = |i: usize| NewReception {
        challenge_nonce: format!("nonce-{i:04}"),
        challenge_expires_at: at + chrono::Duration::minutes(2),
        check: NewCheck {
            checked_at: at,
            institution_code: code,
            method: VerificationMethod::CardPin,
            reference: ReferenceClassification::MyNumberCard,
            as_of: d("20250601"),
            validity: QualificationValidity::Valid,
            person_id: Some(1),
            record_id: Some(10),
            query: format!("reception {i}"),
        },
        consents: vec![
            (
                ConsentKind::Medication,
                at,
                at + chrono::Duration::hours(24),
            ),
            (ConsentKind::Checkups, at, at + chrono::Duration::hours(24)),
        ],
    };
    let mut tasks = Vec::new();
    for i in 0..2 * RECEPTIONS {
        let store = store.clone();
        let r = reception(i % RECEPTIONS);
        tasks.push(tokio::spawn(async move {
            (i % RECEPTIONS, store.record_reception(&r).await.unwrap())
        }));
    }
    let mut recorded = std::collections::HashMap::new();
    let mut replayed = 0;
    for t in tasks {
        match t.await.unwrap() {
            (i, ReceptionWrite::Recorded(id)) => {
                assert!(
                    recorded.insert(i, id).is_none(),
                    "challenge {i} recorded twice"
                );
            }
            (_, ReceptionWrite::ChallengeReplayed) => replayed += 1,
        }
    }
    assert_eq!(recorded.len(), RECEPTIONS);
    assert_eq!(replayed, RECEPTIONS);
    let ids: std::collections::HashSet<i64> = recorded.values().copied().collect();
    assert_eq!(ids.len(), RECEPTIONS, "reception ids are unique");
    for (i, id) in recorded.iter().take(20) {
        let check = store
            .check(*id)
            .await
            .unwrap()
            .expect("the check is stored");
        assert_eq!(
            check.query,
            format!("reception {i}"),
            "each id names its own check"
        );
        let consents = store.consents_of_reception(*id).await.unwrap();
        assert_eq!(consents.len(), 2);
        assert!(
            consents
                .iter()
                .all(|c| c.reception_id == *id && c.person_id == 1)
        );
    }
    assert!(matches!(
        store.record_reception(&reception(0)).await.unwrap(),
        ReceptionWrite::ChallengeReplayed
    ));

    // The consents still available for a person at an institution, newest first: all of
    // them within the 24 hours, none after, none for another person.
    let available = store.consents_available(1, &code, at).await.unwrap();
    assert_eq!(available.len(), 2 * RECEPTIONS);
    assert!(
        available
            .windows(2)
            .all(|w| w[0].consented_at >= w[1].consented_at)
    );
    assert!(
        available
            .iter()
            .all(|c| c.institution_code == code.as_str() && ids.contains(&c.reception_id))
    );
    let later = at + chrono::Duration::hours(24);
    assert!(
        store
            .consents_available(1, &code, later)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .consents_available(2, &code, at)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The hot path's lookups go to the replica when there is one; everything else stays on
/// the primary. Proved with two different databases standing in for primary and replica.
#[tokio::test]
async fn lookups_go_to_the_replica() {
    let primary_url = testing::fresh_postgres_url().await.expect("PostgreSQL");
    let replica_url = testing::fresh_postgres_url().await.expect("PostgreSQL");
    let replica = Store::connect(&replica_url).await.unwrap();
    let holder = person(7, "鈴木", "次郎", ("スズキ", "ジロウ"), "19900101");
    replica
        .insert_people(std::slice::from_ref(&holder), &[])
        .await
        .unwrap();
    register(&replica, "only-on-the-replica", 7).await;
    let store = Store::connect(&primary_url)
        .await
        .unwrap()
        .with_replica(&replica_url, 2)
        .await
        .unwrap();
    let found = store
        .card_holder_records(
            "only-on-the-replica",
            &InstitutionCode::parse("0110113719").unwrap(),
        )
        .await
        .unwrap()
        .expect("read from the replica");
    assert_eq!(found.person, holder);
    assert_eq!(
        store.person(7).await.unwrap(),
        None,
        "other reads use the primary"
    );

    let dir = tempdir();
    let sqlite = Store::connect(&testing::fresh_sqlite_url(&dir))
        .await
        .unwrap();
    assert!(matches!(
        sqlite.with_replica(&replica_url, 2).await,
        Err(StoreError::UnsupportedUrl(_))
    ));
}

/// Consents given at home, found by an institution's search over consent or examination
/// days, for its own kind of care only.
async fn home_consents(store: &Store, code: InstitutionCode, other: InstitutionCode) {
    let at = |day: &str, h: u32| d(day).and_hms_opt(h, 0, 0).unwrap();
    let visit = HomeCareKind::HomeVisit;
    let online = HomeCareKind::Online;
    store
        .record_home_consent(1, &code, visit, at("20260510", 9), None)
        .await
        .unwrap();
    store
        .record_home_consent(2, &code, visit, at("20260512", 23), None)
        .await
        .unwrap();
    store
        .record_home_consent(2, &code, online, at("20260512", 10), Some(d("20260601")))
        .await
        .unwrap();
    store
        .record_home_consent(3, &other, visit, at("20260512", 10), None)
        .await
        .unwrap();
    let consented = |from: &str, to: &str| HomeConsentDates::Consented {
        from: d(from),
        to: d(to),
    };
    let persons = |rows: Vec<HomeConsentRow>| rows.iter().map(|r| r.person_id).collect::<Vec<_>>();
    assert_eq!(
        persons(
            store
                .home_consents(&code, visit, consented("20260510", "20260512"))
                .await
                .unwrap()
        ),
        vec![1, 2],
        "both days inclusive, oldest first"
    );
    assert_eq!(
        persons(
            store
                .home_consents(&code, visit, consented("20260511", "20260511"))
                .await
                .unwrap()
        ),
        Vec::<i64>::new()
    );
    let found = store
        .home_consents(&code, online, consented("20260512", "20260512"))
        .await
        .unwrap();
    assert_eq!(persons(found.clone()), vec![2]);
    assert_eq!(found[0].examination_date, Some(d("20260601")));
    assert_eq!(found[0].institution_code, code.as_str());
    let exam = HomeConsentDates::Examination {
        from: d("20260601"),
        to: d("20260601"),
    };
    assert_eq!(
        persons(store.home_consents(&code, online, exam).await.unwrap()),
        vec![2]
    );
    assert!(
        store
            .home_consents(&code, visit, exam)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        persons(
            store
                .home_consents(&other, visit, consented("20260501", "20260531"))
                .await
                .unwrap()
        ),
        vec![3]
    );
}
