//! `onshi seed`: generates a synthetic nation and loads it, in batches, while a second
//! thread generates the next households.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};
use onshi_store::{InsurerRow, NewInstitution, PersonRow, RecordExtras, RecordRow, Store, Table};
use onshi_synth::{Config, Household, Nation};

#[derive(clap::Args)]
pub struct SeedArgs {
    /// sqlite://PATH or postgres://USER@HOST:PORT/DB
    #[arg(long, env = "ONSHI_DATABASE_URL")]
    pub database_url: String,
    /// How many persons to generate.
    #[arg(long, default_value_t = 100_000)]
    pub persons: u64,
    /// The seed of the synthetic nation.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The day the nation is observed on (YYYY-MM-DD); today in Japan by default.
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Also load three years of medical history per person (about 39 rows a person).
    #[arg(long)]
    pub histories: bool,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
}

pub async fn seed(args: SeedArgs) -> Result<()> {
    let store = Store::connect(&args.database_url).await?;
    let as_of = args.as_of.unwrap_or_else(onshi_center::today_jst);
    let report = load(
        &store,
        Config {
            seed: args.seed,
            persons: args.persons,
            as_of,
        },
        args.histories,
        !args.quiet,
    )
    .await?;
    println!("{report}");
    store.close().await;
    Ok(())
}

/// What a load did, for the user and for `docs/PERFORMANCE.md`.
pub struct LoadReport {
    pub persons: u64,
    pub records: u64,
    pub seconds: f64,
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seeded {} persons and {} insured records in {:.1} s ({:.0} persons/s, {} cores)",
            self.persons,
            self.records,
            self.seconds,
            self.persons as f64 / self.seconds.max(1e-9),
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        )
    }
}

/// Persons loaded per transaction.
const BATCH_PERSONS: usize = 20_000;

/// Loads a nation into an empty store.
pub async fn load(
    store: &Store,
    config: Config,
    histories: bool,
    progress: bool,
) -> Result<LoadReport> {
    if store.count(Table::Persons).await? > 0 {
        bail!("the database already holds persons: seed an empty database");
    }
    let started = Instant::now();
    let total = config.persons;
    let nation = std::sync::Arc::new(Nation::new(config));
    // Histories make a batch about ten times heavier: smaller batches keep memory flat.
    let batch_persons = if histories {
        BATCH_PERSONS / 10
    } else {
        BATCH_PERSONS
    };
    store
        .insert_insurers(
            &nation
                .insurers()
                .iter()
                .map(insurer_row)
                .collect::<Vec<_>>(),
        )
        .await
        .context("loading insurers")?;
    store
        .insert_institutions(
            &nation
                .institutions()
                .iter()
                .map(institution_row)
                .collect::<Vec<_>>(),
        )
        .await
        .context("loading institutions")?;

    let bar = if progress {
        ProgressBar::new(total)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:40}] {pos}/{len} persons ({per_sec}, ETA {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message("seeding");

    // Generation runs on its own threads, one batch ahead of the database.
    type Batch = (
        Vec<PersonRow>,
        Vec<RecordRow>,
        Vec<onshi_store::PersonHistoryRows>,
    );
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(2);
    let gen_nation = nation.clone();
    let generator = std::thread::spawn(move || {
        let count = gen_nation.household_count();
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .max(1) as u64;
        let mut next = 0u64;
        while next < count {
            // A batch of households, generated in parallel slices, kept in order.
            let end = (next + (batch_persons as u64 * 10 / 23)).min(count);
            let per = (end - next).div_ceil(workers);
            let parts: Vec<Vec<(Household, Vec<onshi_store::PersonHistoryRows>)>> =
                std::thread::scope(|s| {
                    let handles: Vec<_> = (0..workers)
                        .map(|w| {
                            let from = next + w * per;
                            let to = (from + per).min(end);
                            let n = &gen_nation;
                            s.spawn(move || {
                                (from..to)
                                    .map(|i| {
                                        let h = n.household(i);
                                        let hist = if histories {
                                            crate::seed_history::rows(n, &h)
                                        } else {
                                            Vec::new()
                                        };
                                        (h, hist)
                                    })
                                    .collect::<Vec<_>>()
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().expect("generator thread"))
                        .collect()
                });
            let mut persons = Vec::new();
            let mut records = Vec::new();
            let mut history = Vec::new();
            for (h, hist) in parts.into_iter().flatten() {
                persons.extend(h.persons.iter().map(person_row));
                records.extend(h.records.iter().map(record_row));
                history.extend(hist);
            }
            if tx.blocking_send((persons, records, history)).is_err() {
                return;
            }
            next = end;
        }
    });

    let mut persons = 0u64;
    let mut records = 0u64;
    while let Some((p, r, hist)) = rx.recv().await {
        store
            .insert_people(&p, &r)
            .await
            .context("loading persons")?;
        if !hist.is_empty() {
            store
                .insert_histories(&hist)
                .await
                .context("loading medical histories")?;
        }
        persons += p.len() as u64;
        records += r.len() as u64;
        bar.set_position(persons);
    }
    generator
        .join()
        .map_err(|_| anyhow::anyhow!("generator thread failed"))?;
    bar.finish_and_clear();
    if persons != total {
        bail!("generated {persons} persons, expected {total}");
    }
    // Without fresh statistics PostgreSQL plans the first queries after a large load for
    // empty tables (a hash join over ten million records instead of an index lookup).
    store
        .refresh_statistics()
        .await
        .context("refreshing the planner's statistics")?;
    Ok(LoadReport {
        persons,
        records,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn insurer_row(i: &onshi_synth::Insurer) -> InsurerRow {
    InsurerRow {
        number: i.number.clone(),
        kind: i.kind,
        name: i.name.clone(),
        prefecture: i.prefecture,
        address: i.address.clone(),
    }
}

fn institution_row(i: &onshi_synth::Institution) -> NewInstitution {
    NewInstitution {
        code: i.code,
        kind: i.kind,
        name: i.name.clone(),
        prefecture: i.prefecture,
        address: i.address.clone(),
        post_number: i.post_number.clone(),
    }
}

fn person_row(p: &onshi_synth::Person) -> PersonRow {
    PersonRow {
        id: p.id as i64,
        household_id: p.household_id as i64,
        name: p.name.clone(),
        birth_date: p.birth_date,
        sex: p.sex,
        post_number: p.post_number.clone(),
        address: p.address.clone(),
        prefecture: p.prefecture,
        my_number: p.my_number.clone(),
        death_date: p.death_date,
        // Stored bit for bit; the seed is an opaque 64-bit value.
        face_seed: p.face_seed as i64,
        card_issued_on: p.card.map(|c| c.issued_on),
        linked_on: p.card.and_then(|c| c.linked_on),
    }
}

fn record_row(r: &onshi_synth::InsuredRecord) -> RecordRow {
    RecordRow {
        id: r.id as i64,
        person_id: r.person_id as i64,
        insurer_number: r.insurer_number.clone(),
        symbol: r.symbol.clone(),
        number: r.number.clone(),
        branch: r.branch,
        personal_family: r.personal_family,
        insured_person_id: r.insured_person_id as i64,
        card_classification: r.card_classification,
        qualification_date: r.qualification_date,
        disqualification_date: r.disqualification_date,
        reason_of_loss: r.reason_of_loss,
        card_valid_date: r.card_valid_date,
        card_expiration_date: r.card_expiration_date,
        burden_ratio: r.burden_ratio,
        extras: RecordExtras {
            limit: r.limit.clone(),
            elderly_recipient: r.elderly_recipient.clone(),
            specific_diseases: r.specific_diseases.clone(),
        },
    }
}
