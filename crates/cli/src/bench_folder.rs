//! `onshi bench folder`: the latency of the clinic's folder interface, as an EMR sees it —
//! from a request file handed over in `req/` (written under a hidden name and renamed into
//! place) to its whole response present in `res/` — one request at a time, through a
//! running `onshi terminal folder` and the center behind it. The patients are records in
//! force taken from the center's database; every second request is in Shift_JIS.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use onshi_model::{PersonalFamilyClassification, SegmentOfResult};
use onshi_store::Store;
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct FolderBenchArgs {
    /// The folder a running `onshi terminal folder` watches.
    #[arg(long)]
    pub dir: PathBuf,
    /// The center's database, to pick patients from.
    #[arg(long)]
    pub database_url: String,
    /// The terminal's institution code.
    #[arg(long)]
    pub institution: String,
    /// Requests to send.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
    /// The date checked (today in Japan when absent).
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

fn request(
    institution: &str,
    v: &onshi_store::RecordView,
    as_of: NaiveDate,
    i: usize,
    sjis: bool,
) -> Vec<u8> {
    let r = &v.record;
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"{}\"?>\r\n<XmlMsg><MessageHeader>\
         <QualificationConfirmationDate>{}</QualificationConfirmationDate>\
         <MedicalInstitutionCode>{institution}</MedicalInstitutionCode>\
         <ArbitraryFileIdentifier>bench-{i}</ArbitraryFileIdentifier></MessageHeader>\
         <MessageBody><QualificationConfirmSearchInfo><InsurerNumber>{:>8}</InsurerNumber>{}\
         <InsuredIdentificationNumber>{}</InsuredIdentificationNumber>\
         <InsuredBranchNumber>{}</InsuredBranchNumber><Birthdate>{}</Birthdate>\
         </QualificationConfirmSearchInfo></MessageBody></XmlMsg>\r\n",
        if sjis { "Shift_JIS" } else { "UTF-8" },
        as_of.format("%Y%m%d"),
        r.insurer_number.as_str(),
        r.symbol.as_ref().map_or(String::new(), |s| format!(
            "<InsuredCardSymbol>{}</InsuredCardSymbol>",
            s.as_str()
        )),
        r.number.as_str(),
        r.branch.as_str(),
        v.person.birth_date.format("%Y%m%d"),
    );
    let cs = if sjis {
        onshi_oqs::Charset::ShiftJis
    } else {
        onshi_oqs::Charset::Utf8
    };
    match onshi_oqs::charset::encode(&xml, cs) {
        Ok(bytes) => bytes,
        // A symbol outside Shift_JIS: this patient's request goes in UTF-8.
        Err(_) => request(institution, v, as_of, i, false),
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e5).round() / 100.0
}

pub async fn folder(a: FolderBenchArgs) -> Result<()> {
    let req = a.dir.join("req");
    let res = a.dir.join("res");
    if !req.is_dir() || !res.is_dir() {
        bail!(
            "{} has no req/ and res/: start `onshi terminal folder --dir {}` first",
            a.dir.display(),
            a.dir.display()
        );
    }
    let as_of = a.as_of.unwrap_or_else(onshi_center::today_jst);
    let store = Store::connect(&a.database_url)
        .await
        .context("opening the center's database")?;
    let views = store
        .sample_in_force(
            as_of,
            PersonalFamilyClassification::Insured,
            a.requests as i64,
        )
        .await?;
    if views.is_empty() {
        bail!("no record in force on {as_of} in the database");
    }
    let run = chrono::Utc::now().timestamp_micros();
    let mut lat = Vec::with_capacity(a.requests);
    let mut errors = 0usize;
    for i in 0..a.requests {
        let v = &views[i % views.len()];
        let bytes = request(&a.institution, v, as_of, i, i % 2 == 1);
        let name = format!("OQSsiquc01req_bench{run}-{i:05}.xml");
        let res_path = res.join(name.replace("req_", "res_"));
        let tmp = req.join(format!(".{name}.part"));
        std::fs::write(&tmp, &bytes)?;
        let t = Instant::now();
        std::fs::rename(&tmp, req.join(&name))?;
        let deadline = t + Duration::from_secs(30);
        let answer = loop {
            if let Ok(b) = std::fs::read(&res_path) {
                break b;
            }
            if Instant::now() > deadline {
                bail!("no response to {name} within 30 s");
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        lat.push(t.elapsed());
        match onshi_oqs::parse_response(&answer) {
            Ok(r) if r.header.segment == SegmentOfResult::Normal => {}
            _ => errors += 1,
        }
        let _ = std::fs::remove_file(&res_path);
    }
    lat.sort();
    let p = |q: f64| ms(lat[((lat.len() as f64 - 1.0) * q).round() as usize]);
    let report = json!({
        "requests": lat.len(),
        "errors": errors,
        "p50_ms": p(0.50),
        "p90_ms": p(0.90),
        "p99_ms": p(0.99),
        "max_ms": p(1.0),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
