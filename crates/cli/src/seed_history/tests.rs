//! Generated histories through the store and back, on SQLite and PostgreSQL; `load_rate`
//! measures loading 10,000 persons.

use std::time::Instant;

use chrono::NaiveDate;
use onshi_store::{PersonHistoryRows, Store, testing};
use onshi_synth::{Config, Nation};

use super::rows;

fn nation(persons: u64) -> Nation {
    Nation::new(Config {
        seed: 1,
        persons,
        as_of: NaiveDate::from_ymd_opt(2025, 10, 1).unwrap(),
    })
}

fn sqlite_url(tag: &str) -> String {
    let dir = std::env::temp_dir().join(format!("onshi-seed-history-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    testing::fresh_sqlite_url(&dir)
}

/// Newest first, rows of one day in load order: what the store returns.
fn newest_first<T: Clone>(v: &[T], key: impl Fn(&T) -> (NaiveDate, i64)) -> Vec<T> {
    let mut v = v.to_vec();
    v.sort_by_key(|r| {
        let (d, id) = key(r);
        (std::cmp::Reverse(d), id)
    });
    v
}

async fn round_trip(url: String) {
    let store = Store::connect(&url).await.unwrap();
    let n = nation(400);
    let all: Vec<PersonHistoryRows> = n.households().flat_map(|h| rows(&n, &h)).collect();
    assert_eq!(all.len(), 400, "one entry per person, the dead included");
    store.insert_histories(&all).await.unwrap();
    let long_ago = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
    for h in all.iter().filter(|h| !h.is_empty()).take(40) {
        let p = h.person_id;
        assert_eq!(
            store.medications(p, long_ago).await.unwrap(),
            newest_first(&h.medications, |m| (m.dispensed_on, m.id))
        );
        assert_eq!(
            store.checkups(p, long_ago).await.unwrap(),
            newest_first(&h.checkups, |c| (c.performed_on, c.id))
        );
        assert_eq!(
            store.diagnoses(p, long_ago).await.unwrap(),
            newest_first(&h.diagnoses, |d| (d.started_on, d.id))
        );
        assert_eq!(
            store.surgeries(p, long_ago).await.unwrap(),
            newest_first(&h.surgeries, |s| (s.performed_on, s.id))
        );
    }
    store.close().await;
}

#[tokio::test]
async fn generated_histories_round_trip_on_sqlite() {
    round_trip(sqlite_url("rt")).await;
}

#[tokio::test]
async fn generated_histories_round_trip_on_postgres() {
    round_trip(
        testing::fresh_postgres_url()
            .await
            .expect("PostgreSQL at 127.0.0.1:5432"),
    )
    .await;
}

async fn load(url: String, persons: u64) {
    let store = Store::connect(&url).await.unwrap();
    let n = nation(persons);
    let t = Instant::now();
    let all: Vec<PersonHistoryRows> = n.households().flat_map(|h| rows(&n, &h)).collect();
    let generated = t.elapsed();
    let count: usize = all.iter().map(PersonHistoryRows::len).sum();
    let t = Instant::now();
    for chunk in all.chunks(1_000) {
        store.insert_histories(chunk).await.unwrap();
    }
    let loaded = t.elapsed();
    println!(
        "{:?}: {persons} persons, {count} rows ({:.1} per person); generated in {generated:?}, loaded in {loaded:?}: {:.0} rows/s, {:.0} persons/s",
        store.backend(),
        count as f64 / persons as f64,
        count as f64 / loaded.as_secs_f64(),
        persons as f64 / loaded.as_secs_f64(),
    );
    store.close().await;
}

/// `cargo test -p onshi --release --bin onshi load_rate -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn load_rate() {
    load(sqlite_url("rate"), 10_000).await;
    load(testing::fresh_postgres_url().await.unwrap(), 10_000).await;
}
