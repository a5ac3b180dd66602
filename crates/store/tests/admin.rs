//! The admin pages' queries (listings, search, paging, the filtered log of checks and the
//! daily counts), run identically against SQLite and PostgreSQL.

use chrono::{NaiveDate, NaiveDateTime};
use onshi_model::*;
use onshi_store::*;

fn d(s: &str) -> NaiveDate {
    parse_yyyymmdd(s).unwrap()
}

fn at(day: &str, h: u32, m: u32) -> NaiveDateTime {
    d(day).and_hms_opt(h, m, 0).unwrap()
}

fn tokyo() -> Prefecture {
    Prefecture::from_code(13).unwrap()
}

fn person(id: i64, family: &str, given: &str, kana: (&str, &str), birth: &str) -> PersonRow {
    PersonRow {
        id,
        household_id: id,
        name: PersonName::new(family, given, kana.0, kana.1).unwrap(),
        birth_date: d(birth),
        sex: Sex::Male,
        post_number: "100-0001".into(),
        address: "東京都千代田区千代田１－１".into(),
        prefecture: tokyo(),
        my_number: MyNumber::from_payload(22_345_678_900 + id as u64).unwrap(),
        death_date: None,
        face_seed: id,
        card_issued_on: None,
        linked_on: None,
    }
}

fn institution(number: u16, name: &str, kind: InstitutionKind) -> NewInstitution {
    NewInstitution {
        code: InstitutionCode::from_parts(tokyo(), FeeSchedule::Medical, 1, number).unwrap(),
        kind,
        name: name.into(),
        prefecture: tokyo(),
        address: "東京都".into(),
        post_number: "100-0001".into(),
    }
}

fn check(
    when: NaiveDateTime,
    inst: InstitutionCode,
    method: VerificationMethod,
    validity: QualificationValidity,
) -> NewCheck {
    NewCheck {
        checked_at: when,
        institution_code: inst,
        method,
        reference: if method == VerificationMethod::InsuranceData {
            ReferenceClassification::InsuranceData
        } else {
            ReferenceClassification::MyNumberCard
        },
        as_of: when.date(),
        validity,
        person_id: None,
        record_id: None,
        query: String::new(),
    }
}

async fn exercise(url: String) {
    let store = Store::connect(&url).await.expect("connect");

    // Institutions: listing by code, search by code prefix and by name, paging, counts.
    let insts = [
        institution(1, "千代田クリニック", InstitutionKind::Clinic),
        institution(2, "神田中央病院", InstitutionKind::Hospital),
        institution(3, "100%薬局_丸の内", InstitutionKind::Pharmacy),
    ];
    store.insert_institutions(&insts).await.unwrap();
    let (a, b) = (insts[0].code, insts[1].code);
    let all = store.list_institutions("", Page::new(1, 2)).await.unwrap();
    assert_eq!(all.total, 3);
    assert_eq!(all.pages(), 2);
    assert_eq!(all.rows.len(), 2);
    assert_eq!(all.rows[0].institution.code, a, "by code");
    let second = store.list_institutions("", Page::new(2, 2)).await.unwrap();
    assert_eq!(second.rows.len(), 1);
    assert_eq!(second.rows[0].institution.name, "100%薬局_丸の内");
    let by_name = store
        .list_institutions("中央", Page::new(1, 50))
        .await
        .unwrap();
    assert_eq!(by_name.total, 1);
    assert_eq!(by_name.rows[0].institution.code, b);
    let by_code = store
        .list_institutions(&b.as_str()[..9], Page::new(1, 50))
        .await
        .unwrap();
    assert_eq!(by_code.total, 1, "a code prefix of nine digits names one");
    // `%` and `_` are matched literally, not as patterns.
    assert_eq!(
        store
            .list_institutions("100%薬局_", Page::new(1, 50))
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        store
            .list_institutions("%", Page::new(1, 50))
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        store
            .list_institutions("_", Page::new(1, 50))
            .await
            .unwrap()
            .total,
        1
    );

    // Terminals: enrolment shows in counts and listings; revocation by fingerprint is
    // once only and leaves the other certificate alone.
    for (fp, id, when) in [
        ("aa01", "T01", at("20250601", 9, 0)),
        ("aa02", "T02", at("20250602", 9, 0)),
    ] {
        store
            .enroll_terminal(&TerminalRow {
                fingerprint: fp.into(),
                institution_code: a.to_string(),
                terminal_id: id.into(),
                serial: fp[2..].to_owned(),
                enrolled_at: when,
                revoked_at: None,
            })
            .await
            .unwrap();
    }
    let terms = store
        .list_terminals(Some(&a), Page::new(1, 50))
        .await
        .unwrap();
    assert_eq!(terms.total, 2);
    assert_eq!(terms.rows[0].terminal_id, "T02", "newest first");
    assert!(
        store
            .list_terminals(Some(&b), Page::new(1, 50))
            .await
            .unwrap()
            .rows
            .is_empty()
    );
    assert_eq!(
        store
            .list_terminals(None, Page::new(1, 50))
            .await
            .unwrap()
            .total,
        2
    );
    let revoked = store
        .revoke_terminal_certificate("aa01", at("20250603", 10, 0))
        .await
        .unwrap()
        .expect("revoked");
    assert_eq!(revoked.terminal_id, "T01");
    assert_eq!(revoked.revoked_at, Some(at("20250603", 10, 0)));
    assert!(
        store
            .revoke_terminal_certificate("aa01", at("20250603", 11, 0))
            .await
            .unwrap()
            .is_none(),
        "a second revocation changes nothing"
    );
    assert!(
        store
            .revoke_terminal_certificate("nope", at("20250603", 11, 0))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .terminal("aa02")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );
    let listed = store.list_institutions("", Page::new(1, 1)).await.unwrap();
    assert_eq!(
        (
            listed.rows[0].active_terminals,
            listed.rows[0].revoked_terminals
        ),
        (1, 1)
    );
    let (revocations, _) = store.revocations_since(0).await.unwrap();
    assert!(
        revocations.iter().any(|r| r.serial == "01"),
        "the verifier reload sees the revocation: {revocations:?}"
    );

    // Insurers: by number prefix, by name, by kind.
    let kyokai = InsurerNumber::from_parts(Some(1), tokyo(), 16).unwrap();
    let kumiai = InsurerNumber::from_parts(Some(6), tokyo(), 123).unwrap();
    let kokuho = InsurerNumber::from_parts(None, tokyo(), 101).unwrap();
    store
        .insert_insurers(&[
            InsurerRow {
                number: kyokai.clone(),
                kind: InsurerKind::KyokaiKenpo,
                name: "全国健康保険協会東京支部".into(),
                prefecture: tokyo(),
                address: "東京都".into(),
            },
            InsurerRow {
                number: kumiai.clone(),
                kind: InsurerKind::KumiaiKenpo,
                name: "オンシ健康保険組合".into(),
                prefecture: tokyo(),
                address: "東京都".into(),
            },
            InsurerRow {
                number: kokuho.clone(),
                kind: InsurerKind::MunicipalKokuho,
                name: "千代田区国民健康保険".into(),
                prefecture: tokyo(),
                address: "東京都".into(),
            },
        ])
        .await
        .unwrap();
    let ins = store
        .list_insurers("", None, Page::new(1, 50))
        .await
        .unwrap();
    assert_eq!(ins.total, 3);
    assert_eq!(ins.rows[0].number, kyokai, "by number");
    let kenpo = store
        .list_insurers("健康保険", None, Page::new(1, 50))
        .await
        .unwrap();
    assert_eq!(kenpo.total, 3);
    let kumiai_only = store
        .list_insurers("健康保険", Some(InsurerKind::KumiaiKenpo), Page::new(1, 50))
        .await
        .unwrap();
    assert_eq!(kumiai_only.rows.len(), 1);
    assert_eq!(
        kumiai_only.rows[0],
        ins.rows
            .iter()
            .find(|r| r.number == kumiai)
            .unwrap()
            .clone()
    );
    assert_eq!(
        store
            .list_insurers(&kumiai.as_str()[..4], None, Page::new(1, 50))
            .await
            .unwrap()
            .total,
        1
    );

    // Persons: by name (kanji or kana, spaces ignored) and birth date, never by name alone.
    store
        .insert_people(
            &[
                person(1, "山田", "太郎", ("ヤマダ", "タロウ"), "19700401"),
                person(2, "山田", "花子", ("ヤマダ", "ハナコ"), "19700401"),
                person(3, "山田", "太郎", ("ヤマダ", "タロウ"), "19800101"),
                person(4, "𠮷田", "太郎", ("ヨシダ", "タロウ"), "19700401"),
            ],
            &[],
        )
        .await
        .unwrap();
    let found = store
        .find_persons("山田\u{3000}太郎", d("19700401"), 10)
        .await
        .unwrap();
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), vec![1]);
    let found = store
        .find_persons("ヤマダ タロウ", d("19700401"), 10)
        .await
        .unwrap();
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), vec![1]);
    let found = store.find_persons("太郎", d("19700401"), 10).await.unwrap();
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), vec![1, 4]);
    assert_eq!(found[1].name.family, "𠮷田", "non-BMP kanji round-trip");
    assert!(
        store
            .find_persons("  ", d("19700401"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .find_persons("%", d("19700401"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .find_persons("山田", d("19700401"), 1)
            .await
            .unwrap()
            .len(),
        1
    );

    // The log of checks: filters by institution, method, result and day range; paging.
    use QualificationValidity as Q;
    use VerificationMethod as M;
    let checks = [
        check(at("20250601", 9, 0), a, M::CardFace, Q::Valid),
        check(at("20250601", 10, 0), a, M::CardPin, Q::Valid),
        check(at("20250601", 23, 59), b, M::InsuranceData, Q::NotFound),
        check(at("20250602", 0, 0), a, M::CardFace, Q::Invalid),
        check(at("20250602", 8, 0), b, M::AndroidPin, Q::Valid),
        check(at("20250603", 8, 0), a, M::InsuranceData, Q::Valid),
        check(at("20250603", 9, 0), a, M::CardVisual, Q::Valid),
    ];
    for c in &checks {
        store.record_check(c).await.unwrap();
    }
    let all = store
        .list_checks(&CheckFilter::default(), Page::new(1, 3))
        .await
        .unwrap();
    assert_eq!((all.total, all.rows.len(), all.pages()), (7, 3, 3));
    assert_eq!(
        all.rows[0].check.checked_at,
        at("20250603", 9, 0),
        "newest first"
    );
    assert_eq!(
        all.rows[0].institution_name.as_deref(),
        Some("千代田クリニック")
    );
    let last = store
        .list_checks(&CheckFilter::default(), Page::new(3, 3))
        .await
        .unwrap();
    assert_eq!(last.rows.len(), 1);
    assert_eq!(last.rows[0].check.checked_at, at("20250601", 9, 0));
    let of_b = store
        .list_checks(
            &CheckFilter {
                institution: Some(b),
                ..Default::default()
            },
            Page::new(1, 50),
        )
        .await
        .unwrap();
    assert_eq!(of_b.total, 2);
    assert!(
        of_b.rows
            .iter()
            .all(|r| r.check.institution_code == b.as_str())
    );
    let face = store
        .list_checks(
            &CheckFilter {
                method: Some(M::CardFace),
                ..Default::default()
            },
            Page::new(1, 50),
        )
        .await
        .unwrap();
    assert_eq!(face.total, 2);
    let valid_of_a_on_day_one = store
        .list_checks(
            &CheckFilter {
                institution: Some(a),
                validity: Some(Q::Valid),
                from: Some(d("20250601")),
                until: Some(d("20250601")),
                ..Default::default()
            },
            Page::new(1, 50),
        )
        .await
        .unwrap();
    assert_eq!(valid_of_a_on_day_one.total, 2);
    // A day range includes its whole last day and nothing of the next.
    let day_one = store
        .list_checks(
            &CheckFilter {
                until: Some(d("20250601")),
                ..Default::default()
            },
            Page::new(1, 50),
        )
        .await
        .unwrap();
    assert_eq!(day_one.total, 3, "23:59 is in, next midnight is out");
    let from_two = store
        .list_checks(
            &CheckFilter {
                from: Some(d("20250602")),
                ..Default::default()
            },
            Page::new(1, 50),
        )
        .await
        .unwrap();
    assert_eq!(from_two.total, 4);
    let none = store
        .list_checks(
            &CheckFilter {
                method: Some(M::IphoneBiometric),
                ..Default::default()
            },
            Page::new(1, 50),
        )
        .await
        .unwrap();
    assert_eq!((none.total, none.rows.len(), none.pages()), (0, 0, 1));

    // Daily counts per method.
    let daily = store
        .checks_per_day(d("20250601"), d("20250603"), None)
        .await
        .unwrap();
    let find = |day: &str, m: M| {
        daily
            .iter()
            .find(|c| c.day == d(day) && c.method == m)
            .map(|c| c.count)
    };
    assert_eq!(find("20250601", M::CardFace), Some(1));
    assert_eq!(find("20250601", M::InsuranceData), Some(1));
    assert_eq!(find("20250602", M::CardFace), Some(1));
    assert_eq!(find("20250603", M::CardVisual), Some(1));
    assert_eq!(daily.iter().map(|c| c.count).sum::<i64>(), 7);
    let only_two = store
        .checks_per_day(d("20250602"), d("20250602"), None)
        .await
        .unwrap();
    assert_eq!(only_two.iter().map(|c| c.count).sum::<i64>(), 2);
    let of_a = store
        .checks_per_day(d("20250601"), d("20250603"), Some(&a))
        .await
        .unwrap();
    assert_eq!(of_a.iter().map(|c| c.count).sum::<i64>(), 5);

    // The center's own audit log, by action prefix, paged.
    for (action, subject) in [
        ("admin.login", "-"),
        ("admin.terminal.enrol", "T01"),
        ("admin.terminal.revoke", "T01"),
        ("institution.register", "x"),
    ] {
        store.audit("admin", action, subject, "").await.unwrap();
    }
    let admin = store.list_audit("admin.", Page::new(1, 2)).await.unwrap();
    assert_eq!((admin.total, admin.rows.len()), (3, 2));
    assert_eq!(
        admin.rows[0].action, "admin.terminal.revoke",
        "newest first"
    );
    assert_eq!(
        store.list_audit("", Page::new(1, 50)).await.unwrap().total,
        4
    );
    assert_eq!(
        store
            .list_audit("admin.terminal", Page::new(1, 50))
            .await
            .unwrap()
            .total,
        2
    );
    store.close().await;
}

#[tokio::test]
async fn admin_queries_on_sqlite() {
    let dir = std::env::temp_dir().join(format!(
        "onshi-store-admin-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    exercise(testing::fresh_sqlite_url(&dir)).await;
}

#[tokio::test]
async fn admin_queries_on_postgres() {
    exercise(
        testing::fresh_postgres_url()
            .await
            .expect("PostgreSQL must be reachable for this suite"),
    )
    .await;
}
