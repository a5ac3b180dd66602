//! Medical histories on SQLite and PostgreSQL: load, read back equal, ordering, `since`
//! filtering and the record of views.

use chrono::{Days, NaiveDate};
use onshi_model::*;
use onshi_store::*;

fn d(s: &str) -> NaiveDate {
    parse_yyyymmdd(s).unwrap()
}

fn clinic(n: u16) -> InstitutionCode {
    InstitutionCode::from_parts(
        Prefecture::from_code(13).unwrap(),
        FeeSchedule::Medical,
        1,
        n,
    )
    .unwrap()
}

fn pharmacy(n: u16) -> InstitutionCode {
    InstitutionCode::from_parts(
        Prefecture::from_code(13).unwrap(),
        FeeSchedule::Pharmacy,
        1,
        n,
    )
    .unwrap()
}

/// A person with monthly refills over a year, two check-ups, a chronic and an acute
/// diagnosis and one surgery, inserted in shuffled date order.
fn history(person_id: i64, first: NaiveDate) -> PersonHistoryRows {
    let mut h = PersonHistoryRows {
        person_id,
        ..Default::default()
    };
    for k in 0..12u64 {
        // Odd months first, so the rows are not stored in date order.
        let month = (k * 7) % 12;
        let on = first + Days::new(28 * month);
        for (drug, name) in [
            ("2171022F2ZZZ", "アムロジピン錠5mg"),
            ("2189901F1ZZZ", "ロスバスタチン錠2.5mg"),
        ] {
            let n = h.medications.len();
            h.medications.push(MedicationRow {
                id: history_row_id(person_id, n),
                person_id,
                dispensed_on: on,
                drug_code: drug.into(),
                drug_name: name.into(),
                dose: "1回1錠 1日1回朝食後".into(),
                quantity_x10: 280,
                unit: "錠".into(),
                days_supplied: 28,
                prescriber: clinic(7),
                pharmacy: pharmacy(3),
            });
        }
    }
    for (k, on) in [first + Days::new(300), first + Days::new(30)]
        .into_iter()
        .enumerate()
    {
        h.checkups.push(CheckupRow {
            id: history_row_id(person_id, k),
            person_id,
            performed_on: on,
            kind: CheckupKind::Specific,
            institution_code: clinic(7),
            height_cm_x10: 1705,
            weight_kg_x10: 702 + k as i64,
            bmi_x10: 241,
            waist_cm_x10: 861,
            systolic_mmhg: 138,
            diastolic_mmhg: 86,
            hba1c_percent_x10: 58,
            fasting_glucose_mg_dl: 101,
            ldl_mg_dl: 142,
            hdl_mg_dl: 51,
            triglycerides_mg_dl: 160,
            ast_u_l: 24,
            alt_u_l: 31,
            ggt_u_l: 48,
            urine_protein: UrineTest::Trace,
            urine_glucose: UrineTest::Negative,
        });
    }
    h.diagnoses.push(DiagnosisRow {
        id: history_row_id(person_id, 0),
        person_id,
        started_on: d("20150410"),
        icd10: "I10".into(),
        name: "本態性高血圧症".into(),
        outcome: DiagnosisOutcome::Continuing,
        ended_on: None,
        institution_code: clinic(7),
    });
    h.diagnoses.push(DiagnosisRow {
        id: history_row_id(person_id, 1),
        person_id,
        started_on: first + Days::new(100),
        icd10: "J06.9".into(),
        name: "急性上気道炎".into(),
        outcome: DiagnosisOutcome::Cured,
        ended_on: Some(first + Days::new(105)),
        institution_code: clinic(8),
    });
    h.diagnoses.push(DiagnosisRow {
        id: history_row_id(person_id, 2),
        person_id,
        started_on: d("20100101"),
        icd10: "M54.5".into(),
        name: "腰痛症".into(),
        outcome: DiagnosisOutcome::Cured,
        ended_on: Some(d("20100120")),
        institution_code: clinic(8),
    });
    h.surgeries.push(SurgeryRow {
        id: history_row_id(person_id, 0),
        person_id,
        performed_on: first + Days::new(200),
        code: "K282".into(),
        name: "水晶体再建術（白内障手術）".into(),
        institution_code: clinic(9),
    });
    h
}

fn newest_first<T: Clone>(
    rows: &[T],
    date: impl Fn(&T) -> NaiveDate,
    id: impl Fn(&T) -> i64,
) -> Vec<T> {
    let mut v = rows.to_vec();
    v.sort_by_key(|r| (std::cmp::Reverse(date(r)), id(r)));
    v
}

async fn exercise(url: String) {
    let store = Store::connect(&url).await.expect("connect");
    let first = d("20240105");
    let a = history(41, first);
    let b = history(42, first + Days::new(3));
    store
        .insert_histories(&[a.clone(), b.clone()])
        .await
        .unwrap();

    // Everything back, equal, newest first; the other person's rows stay apart.
    let long_ago = d("19000101");
    let meds = store.medications(41, long_ago).await.unwrap();
    assert_eq!(
        meds,
        newest_first(&a.medications, |m| m.dispensed_on, |m| m.id)
    );
    assert!(
        meds.windows(2)
            .all(|w| w[0].dispensed_on >= w[1].dispensed_on)
    );
    assert_eq!(
        store.checkups(41, long_ago).await.unwrap(),
        newest_first(&a.checkups, |c| c.performed_on, |c| c.id)
    );
    assert_eq!(
        store.diagnoses(41, long_ago).await.unwrap(),
        newest_first(&a.diagnoses, |x| x.started_on, |x| x.id)
    );
    assert_eq!(store.surgeries(41, long_ago).await.unwrap(), a.surgeries);
    assert_eq!(
        store.medications(42, long_ago).await.unwrap().len(),
        b.medications.len()
    );
    assert!(store.medications(43, long_ago).await.unwrap().is_empty());

    // `since` keeps the day itself and drops what is older.
    let since = first + Days::new(28 * 6);
    let recent = store.medications(41, since).await.unwrap();
    assert_eq!(
        recent.len(),
        12,
        "six dispensings of two drugs from the seventh month on"
    );
    assert!(recent.iter().all(|m| m.dispensed_on >= since));
    assert_eq!(recent.last().unwrap().dispensed_on, since);
    assert_eq!(store.checkups(41, since).await.unwrap().len(), 1);
    assert!(
        store
            .surgeries(41, first + Days::new(201))
            .await
            .unwrap()
            .is_empty()
    );
    // Diagnoses: continuing ones stay, ended ones go once they ended before `since`.
    let diagnoses = store.diagnoses(41, since).await.unwrap();
    let codes: Vec<&str> = diagnoses.iter().map(|x| x.icd10.as_str()).collect();
    assert_eq!(codes, ["I10"]);
    let codes: Vec<String> = store
        .diagnoses(41, first + Days::new(104))
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.icd10)
        .collect();
    assert_eq!(codes, ["J06.9", "I10"]);

    // A reload of the same ids collides loudly rather than doubling rows.
    assert!(
        store
            .insert_histories(std::slice::from_ref(&a))
            .await
            .is_err()
    );
    assert_eq!(store.medications(41, long_ago).await.unwrap().len(), 24);

    // Views are recorded and listed newest first.
    let at = d("20250301").and_hms_opt(9, 30, 0).unwrap();
    let mut ids = Vec::new();
    for (k, kind) in [
        ConsentKind::Medication,
        ConsentKind::Checkups,
        ConsentKind::Surgeries,
    ]
    .into_iter()
    .enumerate()
    {
        let v = NewHistoryView {
            at: at + chrono::Duration::minutes(k as i64),
            person_id: 41,
            institution_code: clinic(7),
            kind,
            reception_id: 9_001,
            row_count: 10 + k as i64,
        };
        ids.push((store.record_history_view(&v).await.unwrap(), v));
    }
    let views = store.history_views(41).await.unwrap();
    assert_eq!(views.len(), 3);
    for (row, (id, v)) in views.iter().zip(ids.iter().rev()) {
        assert_eq!(row.id, *id);
        assert_eq!(&row.view, v);
    }
    assert!(store.history_views(42).await.unwrap().is_empty());
    store.close().await;
}

#[test]
fn row_ids_leave_room_for_every_person() {
    assert_eq!(history_row_id(100_000_000, 9_999), 1_000_000_009_999);
    assert_eq!(history_row_id(2, 0), history_row_id(1, 9_999) + 1);
    assert!(std::panic::catch_unwind(|| history_row_id(1, 10_000)).is_err());
}

#[tokio::test]
async fn history_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("onshi-history-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    exercise(testing::fresh_sqlite_url(&dir)).await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn history_on_postgres() {
    let url = testing::fresh_postgres_url()
        .await
        .expect("PostgreSQL at 127.0.0.1:5432");
    exercise(url).await;
}
