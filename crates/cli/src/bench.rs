//! `onshi bench card`: the load generator of the eligibility hot path.
//!
//! It plays many clinic terminals against a running `onshi serve --tls` on the same
//! machine: every check is a full card reception — a single-use challenge, the card's
//! signature over `challenge ‖ institution ‖ signed_at`, `POST /v1/eligibility/card` over
//! mutual TLS — and reports the latency of the check, the throughput, the errors by
//! problem code, the server's CPU per check, and the CPU of one RSA-2048 verification
//! measured in the same run (the unit of the performance target).
//!
//! The card's signature is made with the card's own key through [`RsaKeyPair::sign`]:
//! PKCS#1 v1.5 with SHA-256 over the message, which is byte for byte what the card's
//! SIGN produces over the SHA-256 DigestInfo of the same message (PKCS#1 v1.5 is
//! deterministic; the preparation checks the equality once). Signing costs the generator
//! real CPU, so a pool of threads signs challenges ahead (they live 120 s); the load loop
//! only takes ready-signed requests and reports if it ever had to wait for one ("ran dry").
//!
//! Challenges come as a busy terminal gets them: each check's answer carries the
//! terminal's next challenge (`next_challenge`), which goes back into the signing pool for
//! the next card, so `POST /v1/card/challenge` is only sent to fill the pool before the
//! clock starts and to replace a challenge lost with a failed check. `--separate-challenges`
//! sends one challenge request per check instead (a terminal that does not keep them), for
//! comparison.
//!
//! Open loop (`--rate`): requests are scheduled at their intended start times and the
//! latency is measured from the intended start, so a server that falls behind shows its
//! queueing in the latency (no coordinated omission). Closed loop (`--max`): a fixed number
//! of workers each send the next request as soon as the previous answer arrived.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use onshi_clinic::wire::{CardCheck, CardCheckRequest, Method, SignedAt, auth_message};
use onshi_clinic::{CenterClient, CenterError, TerminalCredentials};
use onshi_model::{ConsentKind, InstitutionCode, PersonalFamilyClassification};
use onshi_pki::RsaKeyPair;
use onshi_store::{PersonRow, Store};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Card eligibility checks over mutual TLS against a running `onshi serve --tls`.
    Card(CardBenchArgs),
    /// Request file → response file through a running `onshi terminal folder`.
    Folder(crate::bench_folder::FolderBenchArgs),
}

pub async fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Card(a) => card(a).await,
        BenchCommand::Folder(a) => crate::bench_folder::folder(a).await,
    }
}

#[derive(Debug, clap::Args)]
pub struct CardBenchArgs {
    /// The center, `https://127.0.0.1:PORT` (loopback only). Repeat for several centers
    /// sharing one database: terminal i talks to center i mod n (as terminals spread over
    /// a center's addresses), and the CPU of every center is added up.
    #[arg(long, required = true)]
    pub center: Vec<String>,
    /// The center's data directory (J-LIS state in DATA_DIR/jlis); terminals are written
    /// to DATA_DIR/bench.
    #[arg(long, default_value_os_t = crate::default_data_dir())]
    pub data_dir: PathBuf,
    /// The center's database (to enrol terminals and register the cards).
    #[arg(long, env = "ONSHI_DATABASE_URL")]
    pub database_url: String,
    /// Terminals to enrol, spread over the first registered institutions.
    #[arg(long, default_value_t = 4)]
    pub terminals: usize,
    /// Cards to issue to card holders linked to insurance.
    #[arg(long, default_value_t = 200)]
    pub cards: usize,
    /// Offered checks per second (open loop); 1000 unless --max.
    #[arg(long, conflicts_with = "max")]
    pub rate: Option<f64>,
    /// Closed loop: --concurrency workers, each sending as soon as it has its answer.
    #[arg(long)]
    pub max: bool,
    /// Length of the measured window (e.g. 60s, 500ms, 2m).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Load before the measured window (connections, caches).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// The server's process id, for its CPU time; found by the listening port if absent.
    /// Repeat for several centers behind a balancer: their CPU is added up.
    #[arg(long)]
    pub server_pid: Vec<u32>,
    /// Requests in flight at most (open loop) or workers (closed loop).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Threads that sign challenges ahead; the machine's core count if absent.
    #[arg(long)]
    pub signers: Option<usize>,
    /// RSA-2048 verifications timed for the reference figure.
    #[arg(long, default_value_t = 5_000)]
    pub verify_iterations: u32,
    /// Fetch every check's challenge with its own `POST /v1/card/challenge` instead of
    /// taking the one the previous answer carried.
    #[arg(long)]
    pub separate_challenges: bool,
    /// Sign this many requests before the clock starts and none during the run, so that
    /// the generator's CPU goes to sending only (to find the center's own limit on a
    /// machine the generator shares). They must all be used within a challenge's 120 s:
    /// keep N at most the checks of warm-up and window (e.g. 80000 for 20 s at 4,000/s);
    /// the run stops early if they run out.
    #[arg(long, value_name = "N")]
    pub presign: Option<usize>,
    /// Also add up the CPU of every process with this command name over the window (e.g.
    /// `postgres`: the database server's own processes on this machine), reported beside
    /// the center's and in a second ratio.
    #[arg(long, value_name = "NAME")]
    pub count_processes: Vec<String>,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// `60s`, `500ms`, `2m`, or plain seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected e.g. 60s, 500ms or 2m"))?;
    let secs = match unit {
        "ms" => v / 1000.0,
        "s" => v,
        "m" => v * 60.0,
        _ => return Err(format!("{s:?}: unit must be ms, s or m")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("{s:?}: not a duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// PIN of the bench cards (never used: the bench signs with the card's key directly).
const BENCH_PIN: &str = "1234";
/// The consents every bench reception gives (they are written with the reception).
const CONSENTS: [ConsentKind; 3] = [
    ConsentKind::Medication,
    ConsentKind::Checkups,
    ConsentKind::CostCeiling,
];

struct BenchCard {
    cert: Vec<u8>,
    key: RsaKeyPair,
}

struct Terminal {
    client: CenterClient,
    institution: InstitutionCode,
}

/// A challenge fetched for a terminal, waiting for its card's signature.
struct Unsigned {
    terminal: usize,
    card: usize,
    challenge: Vec<u8>,
}

/// A request ready to send.
struct Ready {
    terminal: usize,
    request: CardCheckRequest,
}

/// One answered (or failed) check: offsets from the start of the load.
struct Sample {
    /// Intended start (open loop) or actual start (closed loop).
    start: Duration,
    done: Duration,
    /// `None` when the check succeeded, the problem code otherwise.
    error: Option<String>,
}

/// The measured window, as offsets from the start of the load.
#[derive(Clone, Copy)]
struct Window {
    from: Duration,
    to: Duration,
}

impl Window {
    fn contains(&self, t: Duration) -> bool {
        t >= self.from && t < self.to
    }
}

#[derive(Default)]
struct Dry {
    times: u64,
    wait: Duration,
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

async fn card(args: CardBenchArgs) -> Result<()> {
    let bases = args
        .center
        .iter()
        .map(|c| loopback_https(c))
        .collect::<Result<Vec<_>>>()?;
    if args.terminals == 0 || args.cards == 0 || args.concurrency == 0 {
        bail!("--terminals, --cards and --concurrency must be at least 1");
    }
    let rate = match (args.max, args.rate) {
        (true, _) => None,
        (false, Some(r)) if r > 0.0 && r.is_finite() => Some(r),
        (false, Some(r)) => bail!("--rate {r}: must be positive"),
        (false, None) => Some(1000.0),
    };
    let mut ports = Vec::new();
    for base in &bases {
        ports.push(
            base.rsplit(':')
                .next()
                .and_then(|p| p.parse::<u16>().ok())
                .context("--center must name its port")?,
        );
    }
    let mut server_pids: Vec<u32> = if args.server_pid.is_empty() {
        ports.iter().filter_map(|p| pid_listening_on(*p)).collect()
    } else {
        args.server_pid.clone()
    };
    // A center named twice (or by its port and its pid) is counted once.
    server_pids.sort_unstable();
    server_pids.dedup();
    if server_pids.is_empty() {
        eprintln!("warning: the server's process was not found; pass --server-pid for its CPU");
    }

    // Preparation (not measured): terminals, cards, clients.
    let prep_started = Instant::now();
    let store = Store::connect(&args.database_url).await?;
    let persons = linked_persons(&store, args.cards).await?;
    let institutions = store.institution_codes(args.terminals as i64).await?;
    store.close().await;
    if institutions.is_empty() {
        bail!("no institution is registered in the center; seed the database first");
    }
    let prep = {
        let data_dir = args.data_dir.clone();
        let url = args.database_url.clone();
        let n = args.terminals;
        let (tx, rx) = tokio::sync::oneshot::channel();
        // Registry operations block on their own runtime: a thread of their own.
        std::thread::spawn(move || {
            let _ = tx.send(prepare(&data_dir, &url, n, &institutions, &persons));
        });
        rx.await.context("preparation thread")??
    };
    let (terminal_dirs, cards) = prep;
    let mut terminals = Vec::with_capacity(terminal_dirs.len());
    for (i, dir) in terminal_dirs.iter().enumerate() {
        let creds = TerminalCredentials::load(dir)?;
        let institution = creds.institution_code()?;
        let client = CenterClient::with_timeouts(
            &bases[i % bases.len()],
            &creds,
            Duration::from_secs(5),
            Duration::from_secs(30),
        )?;
        terminals.push(Terminal {
            client,
            institution,
        });
    }
    let terminals = Arc::new(terminals);
    let cards = Arc::new(cards);
    println!(
        "prepared {} terminals and {} cards in {:.1} s",
        terminals.len(),
        cards.len(),
        prep_started.elapsed().as_secs_f64()
    );

    // The reference: one RSA-2048 PKCS#1 v1.5 SHA-256 verification, on one thread, while
    // the machine is otherwise quiet.
    let (verify_us, sign_us) = {
        let key = RsaKeyPair::from_pkcs8(cards[0].key.pkcs8_der())?;
        let n = args.verify_iterations.max(10);
        tokio::task::spawn_blocking(move || time_rsa(&key, n)).await??
    };
    println!(
        "RSA-2048 PKCS#1 v1.5 SHA-256, one thread: verify {verify_us:.1} µs, sign {sign_us:.1} µs"
    );

    // Pre-signing: challenges (fetched to fill the pool, then carried by the answers) go to
    // signer threads, which put ready requests into a buffer of about a second of load.
    let signers = args.signers.unwrap_or_else(cores).max(1);
    let presign = args.presign.filter(|n| *n > 0);
    let ready_cap = match (presign, rate) {
        (Some(n), _) => n,
        (None, Some(r)) => (r as usize).clamp(256, 4096),
        (None, None) => (args.concurrency * 16).clamp(512, 4096),
    };
    // With --presign nothing is signed during the run: answers' challenges are dropped.
    let chained = !args.separate_challenges && presign.is_none();
    let refill = presign.is_none();
    let (ready_tx, ready_rx) = mpsc::channel::<Ready>(ready_cap);
    // Unbounded, but never holding more than the pool: one challenge per request in it.
    let (unsigned_tx, unsigned_rx) = mpsc::unbounded_channel::<Unsigned>();
    let unsigned_rx = Arc::new(Mutex::new(unsigned_rx));
    let measuring = Arc::new(AtomicBool::new(false));
    let challenges_in_window = Arc::new(AtomicU64::new(0));
    let challenge_errors: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    // Which card signs next (round robin over the cards).
    let next_card = Arc::new(AtomicU64::new(0));
    // Terminals that need a challenge fetched: the initial fill, a failed check's, and,
    // with --separate-challenges, every check's.
    let (wanted_tx, wanted_rx) = mpsc::unbounded_channel::<usize>();
    let wanted_rx = Arc::new(tokio::sync::Mutex::new(wanted_rx));
    let initial = if presign.is_some() {
        ready_cap
    } else {
        ready_cap + signers * 8
    };
    for i in 0..initial {
        let _ = wanted_tx.send(i % terminals.len());
    }
    let mut fetchers = Vec::new();
    for _ in 0..(signers * 4).max(4) {
        let terminals = terminals.clone();
        let n_cards = cards.len() as u64;
        let tx = unsigned_tx.clone();
        let wanted = wanted_rx.clone();
        let wanted_tx = wanted_tx.clone();
        let next_card = next_card.clone();
        let measuring = measuring.clone();
        let in_window = challenges_in_window.clone();
        let errors = challenge_errors.clone();
        fetchers.push(tokio::spawn(async move {
            loop {
                let Some(terminal) = wanted.lock().await.recv().await else {
                    break;
                };
                match terminals[terminal].client.challenge().await {
                    Ok(c) => {
                        if measuring.load(Ordering::Relaxed) {
                            in_window.fetch_add(1, Ordering::Relaxed);
                        }
                        let card = (next_card.fetch_add(1, Ordering::Relaxed) % n_cards) as usize;
                        let u = Unsigned {
                            terminal,
                            card,
                            challenge: c.bytes,
                        };
                        if tx.send(u).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        *errors.lock().unwrap().entry(problem(&e)).or_default() += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        let _ = wanted_tx.send(terminal);
                    }
                }
            }
        }));
    }
    // What a check's task does with its answer: the carried challenge goes back into the
    // pool; without one (an error, or --separate-challenges) a fetch is asked for.
    let recycle = {
        let tx = unsigned_tx.clone();
        let wanted_tx = wanted_tx.clone();
        let next_card = next_card.clone();
        let n_cards = cards.len() as u64;
        Arc::new(
            move |terminal: usize, answer: &Result<CardCheck, CenterError>| match answer {
                Ok(CardCheck {
                    next_challenge: Some(c),
                    ..
                }) if chained => {
                    let card = (next_card.fetch_add(1, Ordering::Relaxed) % n_cards) as usize;
                    let _ = tx.send(Unsigned {
                        terminal,
                        card,
                        challenge: c.bytes.clone(),
                    });
                }
                _ if refill => {
                    let _ = wanted_tx.send(terminal);
                }
                _ => {}
            },
        )
    };
    drop(unsigned_tx);
    drop(wanted_tx);
    let mut signer_threads = Vec::new();
    let sign_failures = Arc::new(AtomicU64::new(0));
    for _ in 0..signers {
        let rx = unsigned_rx.clone();
        let tx = ready_tx.clone();
        let terminals = terminals.clone();
        let cards = cards.clone();
        let failures = sign_failures.clone();
        signer_threads.push(std::thread::spawn(move || {
            loop {
                let next = rx.lock().unwrap().blocking_recv();
                let Some(u) = next else { break };
                let institution = &terminals[u.terminal].institution;
                let card = &cards[u.card];
                let signed_at = SignedAt::at(Utc::now());
                let message = auth_message(&u.challenge, institution, &signed_at);
                let Ok(signature) = card.key.sign(&message) else {
                    failures.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let request = CardCheckRequest {
                    institution_code: institution.to_string(),
                    method: Method::Pin,
                    certificate: card.cert.clone(),
                    challenge: u.challenge,
                    signed_at,
                    signature: Some(signature),
                    face: None,
                    visual: None,
                    consents: CONSENTS.to_vec(),
                    as_of: None,
                };
                let ready = Ready {
                    terminal: u.terminal,
                    request,
                };
                if tx.blocking_send(ready).is_err() {
                    break;
                }
            }
        }));
    }
    // Fill the buffer of signed requests before the clock starts.
    // (at most a minute, or with --presign the time its signatures take, twice over)
    let fill_deadline = Instant::now()
        + Duration::from_secs(60).max(Duration::from_secs_f64(
            2.0 * ready_cap as f64 * sign_us * 1e-6 / signers as f64,
        ));
    while ready_tx.capacity() > 0 && Instant::now() < fill_deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(ready_tx);
    let ready_rx = Arc::new(tokio::sync::Mutex::new(ready_rx));

    // Load.
    let start = Instant::now();
    let window = Window {
        from: args.warmup,
        to: args.warmup + args.duration,
    };
    let clk_tck = clock_ticks_per_second();
    let sampler = {
        let measuring = measuring.clone();
        let pids = server_pids.clone();
        // The CPU of every center process, added up; unknown if one cannot be read.
        let server_ticks = move || -> Option<u64> {
            if pids.is_empty() {
                return None;
            }
            pids.iter().map(|p| cpu_ticks(*p)).sum()
        };
        let names = args.count_processes.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until((start + window.from).into()).await;
            let s0 = server_ticks();
            let g0 = cpu_ticks(std::process::id());
            let others0 = processes_named(&names);
            measuring.store(true, Ordering::Relaxed);
            tokio::time::sleep_until((start + window.to).into()).await;
            measuring.store(false, Ordering::Relaxed);
            let s1 = server_ticks();
            let g1 = cpu_ticks(std::process::id());
            let delta = |a: Option<u64>, b: Option<u64>| {
                Some(b?.saturating_sub(a?) as f64 / clk_tck as f64)
            };
            // The named processes alive at both ends of the window (a process that ended
            // inside it is left out; one started inside it counts from zero).
            let others = (!names.is_empty()).then(|| {
                let ticks: u64 = processes_named(&names)
                    .iter()
                    .map(|(pid, t1)| t1.saturating_sub(*others0.get(pid).unwrap_or(&0)))
                    .sum();
                ticks as f64 / clk_tck as f64
            });
            (delta(s0, s1), delta(g0, g1), others)
        })
    };
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let dry: Arc<Mutex<Dry>> = Arc::default();
    let end = start + window.to;
    match rate {
        Some(rate) => {
            let sem = Arc::new(Semaphore::new(args.concurrency));
            let total = (window.to.as_secs_f64() * rate).ceil() as u64;
            for i in 0..total {
                let intended = Duration::from_secs_f64(i as f64 / rate);
                tokio::time::sleep_until((start + intended).into()).await;
                let permit = sem.clone().acquire_owned().await?;
                let Some(ready) = take(&ready_rx, &dry, start, window).await else {
                    eprintln!(
                        "warning: no signed request left at {:.1} s (--presign too small?)",
                        start.elapsed().as_secs_f64()
                    );
                    drop(permit);
                    break;
                };
                let client = terminals[ready.terminal].client.clone();
                let samples = samples.clone();
                let recycle = recycle.clone();
                tokio::spawn(async move {
                    let r = client.check_card(&ready.request).await;
                    let done = start.elapsed();
                    drop(permit);
                    recycle(ready.terminal, &r);
                    samples.lock().unwrap().push(Sample {
                        start: intended,
                        done,
                        error: r.err().map(|e| problem(&e)),
                    });
                });
            }
            // Every request in flight ends (answer or timeout) before the report.
            let _all = sem.acquire_many(args.concurrency as u32).await?;
        }
        None => {
            let mut workers = Vec::new();
            for _ in 0..args.concurrency {
                let ready_rx = ready_rx.clone();
                let dry = dry.clone();
                let terminals = terminals.clone();
                let samples = samples.clone();
                let recycle = recycle.clone();
                workers.push(tokio::spawn(async move {
                    while Instant::now() < end {
                        let Some(ready) = take(&ready_rx, &dry, start, window).await else {
                            break;
                        };
                        let began = start.elapsed();
                        let r = terminals[ready.terminal]
                            .client
                            .check_card(&ready.request)
                            .await;
                        let done = start.elapsed();
                        recycle(ready.terminal, &r);
                        samples.lock().unwrap().push(Sample {
                            start: began,
                            done,
                            error: r.err().map(|e| problem(&e)),
                        });
                    }
                }));
            }
            for w in workers {
                w.await?;
            }
        }
    }
    let (server_cpu, generator_cpu, others_cpu) = sampler.await?;

    // Stop the pre-signing pool: fetchers first, then every sender of the signers' queue,
    // so that a signer waiting for work sees it closed.
    for f in &fetchers {
        f.abort();
    }
    for f in fetchers {
        let _ = f.await;
    }
    drop(recycle);
    drop(ready_rx);
    for t in signer_threads {
        let _ = tokio::task::spawn_blocking(move || t.join()).await;
    }

    let dry = std::mem::take(&mut *dry.lock().unwrap());
    let samples = std::mem::take(&mut *samples.lock().unwrap());
    let challenge_errors = std::mem::take(&mut *challenge_errors.lock().unwrap());
    let report = Report {
        cores: cores(),
        mode: if rate.is_some() { "open" } else { "closed" },
        offered: rate,
        window,
        terminals: terminals.len(),
        cards: cards.len(),
        concurrency: args.concurrency,
        signers,
        server_pids,
        server_cpu,
        generator_cpu,
        others: (args.count_processes.clone(), others_cpu),
        challenges_in_window: challenges_in_window.load(Ordering::Relaxed),
        chained,
        presigned: presign,
        challenge_errors,
        sign_failures: sign_failures.load(Ordering::Relaxed),
        dry,
        verify_us,
        sign_us,
        verify_iterations: args.verify_iterations.max(10),
    }
    .build(&samples);
    print_report(&report);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The next signed request; counts the times the load had to wait for one in the window.
async fn take(
    rx: &tokio::sync::Mutex<mpsc::Receiver<Ready>>,
    dry: &Mutex<Dry>,
    start: Instant,
    window: Window,
) -> Option<Ready> {
    let mut rx = rx.lock().await;
    match rx.try_recv() {
        Ok(r) => Some(r),
        Err(mpsc::error::TryRecvError::Disconnected) => None,
        Err(mpsc::error::TryRecvError::Empty) => {
            let waited = Instant::now();
            // Not past the window's end: a pool that ran out (--presign) ends the run.
            let r = tokio::time::timeout_at((start + window.to).into(), rx.recv())
                .await
                .ok()
                .flatten();
            if window.contains(start.elapsed()) {
                let mut d = dry.lock().unwrap();
                d.times += 1;
                d.wait += waited.elapsed();
            }
            r
        }
    }
}

/// The problem code of a failed request (`unreachable` / `protocol` without one).
fn problem(e: &CenterError) -> String {
    match e {
        CenterError::Refused { code, .. } => code.as_str().to_owned(),
        CenterError::Unreachable { .. } => "unreachable".to_owned(),
        CenterError::Protocol(_) => "protocol".to_owned(),
        _ => "other".to_owned(),
    }
}

/// `https://HOST:PORT` with a loopback host, without a trailing slash.
fn loopback_https(center: &str) -> Result<String> {
    let base = center.trim_end_matches('/');
    let Some(authority) = base.strip_prefix("https://") else {
        bail!("--center must be https:// (the card path needs mutual TLS)");
    };
    let host = match authority.rsplit_once(':') {
        Some((h, _)) => h.trim_start_matches('[').trim_end_matches(']'),
        None => bail!("--center must name its port"),
    };
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback || authority.contains('/') {
        bail!("--center must be https://127.0.0.1:PORT (the bench only runs on loopback)");
    }
    Ok(base.to_owned())
}

/// `n` distinct living persons whose card is linked to insurance (利用登録 done) and who
/// have a record in force today.
async fn linked_persons(store: &Store, n: usize) -> Result<Vec<PersonRow>> {
    let today = onshi_center::today_jst();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(n);
    for family in [
        PersonalFamilyClassification::Insured,
        PersonalFamilyClassification::Family,
    ] {
        let views = store
            .sample_in_force(today, family, (n * 8 + 64) as i64)
            .await?;
        for v in views {
            let p = v.person;
            if p.linked_on.is_some() && p.death_date.is_none() && seen.insert(p.id) {
                out.push(p);
                if out.len() == n {
                    return Ok(out);
                }
            }
        }
    }
    bail!(
        "only {} persons with a linked card and a record in force were found; seed more or ask for fewer --cards",
        out.len()
    )
}

/// Enrols the terminals (round robin over `institutions`) and issues one card per person,
/// registered with the center. Blocking: runs on a thread of its own.
fn prepare(
    data_dir: &Path,
    database_url: &str,
    terminals: usize,
    institutions: &[InstitutionCode],
    persons: &[PersonRow],
) -> Result<(Vec<PathBuf>, Vec<BenchCard>)> {
    let bench_dir = data_dir.join("bench");
    let mut dirs = Vec::with_capacity(terminals);
    for i in 0..terminals {
        let out = bench_dir.join(format!("terminal-{i:02}"));
        crate::registry::enroll(crate::registry::EnrollArgs {
            data_dir: data_dir.to_owned(),
            database_url: database_url.to_owned(),
            institution: institutions[i % institutions.len()].to_string(),
            terminal_id: format!("BENCH{i:02}"),
            out: out.clone(),
        })?;
        dirs.push(out);
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = rt.block_on(Store::connect(database_url))?;
    let (jlis_dir, mut jlis) = crate::registry::open_jlis(data_dir)?;
    let card_data = onshi_card::card_data_key(&jlis_dir)?;
    let bar = indicatif::ProgressBar::new(persons.len() as u64);
    bar.set_message("issuing cards");
    let mut cards = Vec::with_capacity(persons.len());
    for p in persons {
        let card = crate::registry::issue_and_register(
            &rt,
            &store,
            &mut jlis,
            card_data.as_ref(),
            p,
            BENCH_PIN,
            "ONSHI2025",
        )?;
        let key = RsaKeyPair::from_pkcs8(card.jpki.auth_key_pkcs8.expose())?;
        cards.push(BenchCard {
            cert: card.jpki.auth_cert.clone(),
            key,
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    rt.block_on(store.close());

    // What the bench signs is what the card signs: PKCS#1 v1.5 over the SHA-256
    // DigestInfo of the message.
    let m = b"onshi bench: the card signs the SHA-256 DigestInfo";
    let key = &cards[0].key;
    if key.sign(m)? != key.sign_digest_info(&onshi_pki::digest_info_sha256(m))? {
        bail!("signing the message differs from signing its DigestInfo");
    }
    Ok((dirs, cards))
}

/// Microseconds per RSA-2048 PKCS#1 v1.5 SHA-256 verification (through
/// [`onshi_pki::verify_signature`], as the center verifies a card's signature) and per
/// signature, on the calling thread: the median of five batches.
fn time_rsa(key: &RsaKeyPair, n: u32) -> Result<(f64, f64)> {
    // The size of the message a card signs: challenge ‖ institution ‖ signed_at.
    let message = [0x5au8; 32 + 10 + 14];
    let sig = key.sign(&message)?;
    let spki = key.public_key_spki();
    for _ in 0..(n / 10).max(1) {
        onshi_pki::verify_signature(spki, &message, &sig)?;
    }
    let batch = (n / 5).max(1);
    let mut per = Vec::with_capacity(5);
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..batch {
            onshi_pki::verify_signature(spki, &message, &sig)?;
        }
        per.push(t.elapsed().as_secs_f64() * 1e6 / f64::from(batch));
    }
    per.sort_by(f64::total_cmp);
    let verify_us = per[2];
    let signs = (n / 20).max(10);
    let t = Instant::now();
    for _ in 0..signs {
        key.sign(&message)?;
    }
    let sign_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(signs);
    Ok((verify_us, sign_us))
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces): state is field 3,
    // utime 14 and stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// The CPU ticks of every process whose command name is one of `names`, by pid.
fn processes_named(names: &[String]) -> std::collections::HashMap<u32, u64> {
    let mut found = std::collections::HashMap::new();
    if names.is_empty() {
        return found;
    }
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(comm) = std::fs::read_to_string(format!("/proc/{pid}/comm")) else {
            continue;
        };
        if names.iter().any(|n| n == comm.trim())
            && let Some(t) = cpu_ticks(pid)
        {
            found.insert(pid, t);
        }
    }
    found
}

fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// The process listening on TCP `port`: the socket's inode from /proc/net/tcp{,6}, then
/// the process holding it among /proc/*/fd.
fn pid_listening_on(port: u16) -> Option<u32> {
    let mut inodes = HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st … inode (column 9); 0A = LISTEN.
            if cols.len() < 10 || cols[3] != "0A" {
                continue;
            }
            let local_port = cols[1]
                .rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port) {
                inodes.insert(format!("socket:[{}]", cols[9]));
            }
        }
    }
    if inodes.is_empty() {
        return None;
    }
    let me = std::process::id();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path())
                && inodes.contains(target.to_string_lossy().as_ref())
            {
                return Some(pid);
            }
        }
    }
    None
}

struct Report {
    cores: usize,
    mode: &'static str,
    offered: Option<f64>,
    window: Window,
    terminals: usize,
    cards: usize,
    concurrency: usize,
    signers: usize,
    server_pids: Vec<u32>,
    server_cpu: Option<f64>,
    generator_cpu: Option<f64>,
    /// `--count-processes` names and their CPU over the window.
    others: (Vec<String>, Option<f64>),
    challenges_in_window: u64,
    chained: bool,
    presigned: Option<usize>,
    challenge_errors: BTreeMap<String, u64>,
    sign_failures: u64,
    dry: Dry,
    verify_us: f64,
    sign_us: f64,
    verify_iterations: u32,
}

fn percentile(sorted: &[u64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1] as f64 / 1000.0)
}

impl Report {
    /// The JSON report of `samples`: latencies of the requests that started in the window
    /// (errors included), throughput and CPU of those answered in it.
    fn build(self, samples: &[Sample]) -> Value {
        let w = self.window;
        let secs = (w.to - w.from).as_secs_f64();
        let mut lat: Vec<u64> = Vec::new();
        let mut errors: BTreeMap<String, u64> = BTreeMap::new();
        let mut started = 0u64;
        let (mut ok_done, mut done) = (0u64, 0u64);
        for s in samples {
            if w.contains(s.start) {
                started += 1;
                lat.push(s.done.saturating_sub(s.start).as_micros() as u64);
                if let Some(code) = &s.error {
                    *errors.entry(code.clone()).or_default() += 1;
                }
            }
            if w.contains(s.done) {
                done += 1;
                if s.error.is_none() {
                    ok_done += 1;
                }
            }
        }
        lat.sort_unstable();
        let mean =
            (!lat.is_empty()).then(|| lat.iter().sum::<u64>() as f64 / lat.len() as f64 / 1000.0);
        let per_check = |cpu: Option<f64>| cpu.filter(|_| done > 0).map(|c| c * 1e6 / done as f64);
        let server_us = per_check(self.server_cpu);
        let ratio = server_us.map(|s| s / self.verify_us);
        let error_total: u64 = errors.values().sum();
        json!({
            "machine": { "cores": self.cores },
            "mode": self.mode,
            "offered_per_s": self.offered,
            "warmup_s": w.from.as_secs_f64(),
            "duration_s": secs,
            "terminals": self.terminals,
            "cards": self.cards,
            "concurrency": self.concurrency,
            "checks": {
                "started_in_window": started,
                "answered_in_window": done,
                "ok_in_window": ok_done,
                "errors": error_total,
                "achieved_per_s": ok_done as f64 / secs,
            },
            "errors": errors,
            "latency_ms": {
                "count": lat.len(),
                "p50": percentile(&lat, 0.50),
                "p90": percentile(&lat, 0.90),
                "p99": percentile(&lat, 0.99),
                "p999": percentile(&lat, 0.999),
                "max": lat.last().map(|&m| m as f64 / 1000.0),
                "mean": mean,
            },
            "presign": {
                "signers": self.signers,
                "signed_before_start": self.presigned,
                "ran_dry": self.dry.times,
                "dry_wait_ms": self.dry.wait.as_secs_f64() * 1000.0,
                "sign_failures": self.sign_failures,
                "challenge_errors": self.challenge_errors,
            },
            "server": {
                "pids": self.server_pids,
                "cpu_s": self.server_cpu,
                "cpu_per_check_us": server_us,
                "challenges_in_window": self.challenges_in_window,
                "challenges": match (self.chained, self.presigned) {
                    (_, Some(_)) => "fetched before the start",
                    (true, None) => "carried by the answers",
                    (false, None) => "one request per check",
                },
            },
            "generator": {
                "cpu_s": self.generator_cpu,
                "cpu_per_check_us": per_check(self.generator_cpu),
            },
            "rsa2048": {
                "iterations": self.verify_iterations,
                "verify_us": self.verify_us,
                "sign_us": self.sign_us,
            },
            "ratio_server_cpu_per_check_to_rsa_verify": ratio,
            "counted_processes": {
                "names": self.others.0,
                "cpu_s": self.others.1,
                "cpu_per_check_us": per_check(self.others.1),
                "ratio_with_server": match (server_us, per_check(self.others.1)) {
                    (Some(s), Some(o)) => Some((s + o) / self.verify_us),
                    _ => None,
                },
            },
            "target_ratio": 4.0,
        })
    }
}

fn print_report(r: &Value) {
    let f = |v: &Value| match v.as_f64() {
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
        Some(x) if x.abs() >= 100.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.2}"),
        None => "n/a".to_owned(),
    };
    let c = &r["checks"];
    let l = &r["latency_ms"];
    let s = &r["server"];
    let p = &r["presign"];
    println!();
    println!(
        "onshi bench card — {} cores, {} loop, {} terminals, {} cards, concurrency {}",
        r["machine"]["cores"],
        r["mode"].as_str().unwrap_or(""),
        r["terminals"],
        r["cards"],
        r["concurrency"]
    );
    println!(
        "  window          {} s after {} s of warm-up",
        f(&r["duration_s"]),
        f(&r["warmup_s"])
    );
    println!(
        "  offered         {} checks/s",
        match r["offered_per_s"].as_f64() {
            Some(_) => f(&r["offered_per_s"]),
            None => "max".to_owned(),
        }
    );
    println!(
        "  achieved        {} checks/s ({} ok, {} errors)",
        f(&c["achieved_per_s"]),
        c["ok_in_window"],
        c["errors"]
    );
    println!(
        "  latency ms      p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  (n = {}, from the {})",
        f(&l["p50"]),
        f(&l["p90"]),
        f(&l["p99"]),
        f(&l["p999"]),
        f(&l["max"]),
        l["count"],
        if r["mode"] == "open" {
            "intended start"
        } else {
            "send"
        }
    );
    if let Some(errors) = r["errors"].as_object()
        && !errors.is_empty()
    {
        let list: Vec<String> = errors.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("  errors          {}", list.join(", "));
    }
    println!(
        "  server CPU      {} s, {} µs per check (pids {}, {} challenge requests in the window; challenges {})",
        f(&s["cpu_s"]),
        f(&s["cpu_per_check_us"]),
        s["pids"],
        s["challenges_in_window"],
        s["challenges"].as_str().unwrap_or("?")
    );
    println!(
        "  generator CPU   {} s, {} µs per check",
        f(&r["generator"]["cpu_s"]),
        f(&r["generator"]["cpu_per_check_us"])
    );
    println!(
        "  RSA-2048        verify {} µs, sign {} µs (one thread, same run)",
        f(&r["rsa2048"]["verify_us"]),
        f(&r["rsa2048"]["sign_us"])
    );
    println!(
        "  ratio           server CPU per check / one RSA verify = {} (target ≤ 4)",
        f(&r["ratio_server_cpu_per_check_to_rsa_verify"])
    );
    let o = &r["counted_processes"];
    if o["cpu_s"].is_number() {
        println!(
            "  + processes     {}: {} s, {} µs per check; with the server's: ratio {}",
            o["names"],
            f(&o["cpu_s"]),
            f(&o["cpu_per_check_us"]),
            f(&o["ratio_with_server"])
        );
    }
    let when = match p["signed_before_start"].as_u64() {
        Some(n) => format!("all {n} signed before the start"),
        None => "signing during the run".to_owned(),
    };
    println!(
        "  pre-signing     {} signer threads, {when}, ran dry {} times ({} ms waited)",
        p["signers"],
        p["ran_dry"],
        f(&p["dry_wait_ms"])
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("3h").is_err());
        assert!(parse_duration("x").is_err());
    }

    #[test]
    fn loopback_only() {
        assert!(loopback_https("https://127.0.0.1:8443").is_ok());
        assert!(loopback_https("https://localhost:8443/").is_ok());
        assert!(loopback_https("https://[::1]:8443").is_ok());
        assert!(loopback_https("http://127.0.0.1:8443").is_err());
        assert!(loopback_https("https://10.0.0.1:8443").is_err());
        assert!(loopback_https("https://example.com:443").is_err());
    }

    #[test]
    fn percentiles() {
        let v: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile(&v, 0.5), Some(50.0));
        assert_eq!(percentile(&v, 0.99), Some(99.0));
        assert_eq!(percentile(&v, 1.0), Some(100.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn own_cpu_is_readable() {
        assert!(cpu_ticks(std::process::id()).is_some());
    }
}
