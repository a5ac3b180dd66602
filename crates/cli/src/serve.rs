//! `onshi serve` and `onshi demo`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use onshi_center::AppState;
use onshi_model::PersonalFamilyClassification;
use onshi_store::{Store, Table};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// sqlite://PATH or postgres://USER@HOST:PORT/DB
    #[arg(long, env = "ONSHI_DATABASE_URL")]
    pub database_url: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Serve HTTPS with mutual TLS for enrolled terminals, and the card path.
    #[arg(long)]
    pub tls: bool,
    /// Delay between a smartphone set-up request and its issuance (with --tls): the
    /// demo answers in seconds, the real service in minutes. `3s`, `500ms`, `2m`.
    #[arg(long, default_value = "3s", value_parser = crate::phone_cmd::parse_delay)]
    pub phone_issue_delay: std::time::Duration,
    /// Data directory holding the J-LIS state (CAs) for --tls.
    #[arg(long, default_value_os_t = crate::default_data_dir())]
    pub data_dir: PathBuf,
    /// A PostgreSQL streaming replica to serve the eligibility lookups from (writes stay
    /// on --database-url).
    #[arg(long, env = "ONSHI_REPLICA_URL")]
    pub replica_url: Option<String>,
    /// How long the group commit of receptions waits for more receptions to share a
    /// transaction (`0ms` to commit at once; docs/PERFORMANCE.md): fewer commits under load
    /// for at most this much more latency. `2ms`, `500us`, `0ms`.
    #[arg(long, env = "ONSHI_COMMIT_WINDOW", default_value = "0ms", value_parser = parse_window)]
    pub commit_window: std::time::Duration,
}

fn parse_window(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (num, scale) = if let Some(n) = s.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, 1e-3)
    } else {
        return Err(format!("{s:?}: expected e.g. 2ms or 500us"));
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: expected e.g. 2ms or 500us"))?;
    if !(0.0..=100.0e-3).contains(&(v * scale)) {
        return Err(format!("{s:?}: between 0ms and 100ms"));
    }
    Ok(std::time::Duration::from_secs_f64(v * scale))
}

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Where the demo keeps its SQLite database and state.
    #[arg(long, default_value_os_t = crate::default_data_dir())]
    pub data_dir: PathBuf,
    /// Address of the center.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Persons in the synthetic nation seeded on first start.
    #[arg(long, default_value_t = 20_000)]
    pub persons: u64,
    /// Seed of the synthetic nation.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Address of the center's card path (HTTPS, mutual TLS) for the demo terminal;
    /// port 8443 of --listen's host (an ephemeral port when --listen's is 0).
    #[arg(long)]
    pub tls_listen: Option<SocketAddr>,
    /// Address of the terminal's kiosk and desk pages; port 8081 of --listen's host (an
    /// ephemeral port when --listen's is 0).
    #[arg(long)]
    pub terminal_listen: Option<SocketAddr>,
}

impl DemoArgs {
    fn beside_listen(&self, port: u16) -> SocketAddr {
        let port = if self.listen.port() == 0 { 0 } else { port };
        SocketAddr::new(self.listen.ip(), port)
    }
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled, so call it before announcing readiness:
/// a signal that arrives in between still stops the server cleanly.
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let int = signal(SignalKind::interrupt());
        let term = signal(SignalKind::terminate());
        async move {
            match (int, term) {
                (Ok(mut int), Ok(mut term)) => {
                    tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} (is another onshi running? choose another with --listen)")
    })
}

pub async fn serve(args: ServeArgs) -> Result<()> {
    let mut store = Store::connect(&args.database_url)
        .await?
        .with_commit_window(args.commit_window);
    if let Some(url) = &args.replica_url {
        store = store
            .with_replica(url, 16)
            .await
            .context("the read replica")?;
    }
    let listener = bind(args.listen).await?;
    let addr = listener.local_addr()?;
    let shutdown = shutdown_signal();
    if args.tls {
        let phone = onshi_center::phone::PhoneConfig {
            issue_delay: args.phone_issue_delay,
            ..Default::default()
        };
        let (state, tls) = tls_state(&store, &args.data_dir, addr, phone).await?;
        println!("onshi center listening on https://{addr}");
        open_admin(&state, &args.data_dir, &format!("https://{addr}"), None)?;
        onshi_center::serve_tls(listener, state, tls, shutdown).await?;
    } else {
        // One line on stdout that scripts and tests wait for.
        println!("onshi center listening on http://{addr}");
        let state = AppState::new(store.clone());
        open_admin(&state, &args.data_dir, &format!("http://{addr}"), None)?;
        onshi_center::serve(listener, state, shutdown).await?;
    }
    store.close().await;
    Ok(())
}

/// Opens the admin pages with the token kept in `data_dir` (created on first start) and
/// prints where they are and the token.
fn open_admin(
    state: &AppState,
    data_dir: &std::path::Path,
    base: &str,
    jlis_dir: Option<std::path::PathBuf>,
) -> Result<()> {
    let token = onshi_center::AdminToken::load_or_create(data_dir)
        .with_context(|| format!("admin token in {}", data_dir.display()))?;
    println!("  管理画面 admin  {base}{}", onshi_center::ADMIN_PATH);
    println!(
        "  admin token     {} (in {})",
        token.expose(),
        data_dir.join(onshi_center::ADMIN_TOKEN_FILE).display()
    );
    state.enable_admin(token, jlis_dir);
    Ok(())
}

/// The center with its PKI: J-LIS trust anchors, a fresh server certificate for `addr`,
/// and the background tasks that keep revocations current and purge spent challenges.
pub(crate) async fn tls_state(
    store: &Store,
    data_dir: &std::path::Path,
    addr: SocketAddr,
    phone: onshi_center::phone::PhoneConfig,
) -> Result<(AppState, std::sync::Arc<rustls::ServerConfig>)> {
    let jlis_dir = data_dir.join("jlis");
    let mut jlis = onshi_pki::Jlis::load_or_create(&jlis_dir, chrono::Utc::now(), None)
        .context("opening J-LIS state")?;
    let ips = if addr.ip().is_unspecified() {
        vec![std::net::IpAddr::from([127, 0, 0, 1])]
    } else {
        vec![addr.ip()]
    };
    let server = jlis
        .issue_server_with_key(&["localhost"], &ips, chrono::Utc::now())
        .context("issuing the center's server certificate")?;
    let ca = jlis.ca(onshi_pki::CaKind::Institution).cert_der().to_vec();
    let tls = onshi_center::server_config(&server.cert.der, server.key.pkcs8_der(), &ca)
        .context("TLS configuration")?;
    let security = onshi_center::CardSecurity::load(jlis, store)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let state = AppState::with_card(store.clone(), security).with_phone(phone);
    // The smartphone issuance worker: any number of centers may run one on one database.
    onshi_center::phone::spawn_worker(state.clone());
    let cursor = state
        .reload_revocations(0)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let bg = state.clone();
    tokio::spawn(async move {
        let mut cursor = cursor;
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
        let mut n = 0u64;
        loop {
            tick.tick().await;
            match bg.reload_revocations(cursor).await {
                Ok(c) => cursor = c,
                Err(e) => tracing::warn!(error = %e, "revocation reload failed"),
            }
            n += 1;
            if n.is_multiple_of(30) {
                let before = onshi_center::now_jst() - chrono::Duration::minutes(1);
                let _ = bg.store().purge_challenges(before).await;
            }
        }
    });
    Ok((state, tls))
}

pub async fn demo(args: DemoArgs) -> Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let db = args.data_dir.join("center.db");
    let url = format!("sqlite://{}", db.display());
    let store = Store::connect(&url).await?;
    if store.count(Table::Persons).await? == 0 {
        println!("初回起動: 合成データを作成しています… / first start: seeding a synthetic nation");
        let report = crate::seed::load(
            &store,
            onshi_synth::Config {
                seed: args.seed,
                persons: args.persons,
                as_of: onshi_center::today_jst(),
            },
            true,
            true,
        )
        .await?;
        println!("{report}");
    }
    let listener = bind(args.listen).await?;
    let addr = listener.local_addr()?;
    // One signal stops the center, its card path and the terminal's pages.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let signal = shutdown_signal();
    tokio::spawn(async move {
        signal.await;
        let _ = stop_tx.send(true);
    });
    let stop = move || -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        let mut rx = stop_rx.clone();
        Box::pin(async move {
            let _ = rx.wait_for(|stopped| *stopped).await;
        })
    };
    let terminal = crate::demo_terminal::start(
        &store,
        &url,
        &args.data_dir,
        onshi_synth::Config {
            seed: args.seed,
            persons: args.persons,
            as_of: onshi_center::today_jst(),
        },
        args.tls_listen.unwrap_or(args.beside_listen(8443)),
        args.terminal_listen.unwrap_or(args.beside_listen(8081)),
        &stop,
    )
    .await?;
    let state = AppState::new(store.clone());
    // The demo's J-LIS state is its TLS center's: the admin pages enrol terminals for it.
    open_admin(
        &state,
        &args.data_dir,
        &format!("http://{addr}"),
        Some(args.data_dir.join("jlis")),
    )?;
    // The banner ends with the Ctrl-C line, the last one printed while the demo runs:
    // whoever waits for it may stop reading the output there.
    print_banner(&store, addr, &db, Some(&terminal)).await?;
    onshi_center::serve(listener, state, stop()).await?;
    store.close().await;
    // Whoever started the demo may have stopped reading its output by now.
    use std::io::Write;
    let _ = writeln!(
        std::io::stdout(),
        "stopped; the data stays in {} for the next start",
        args.data_dir.display()
    );
    Ok(())
}

async fn print_banner(
    store: &Store,
    addr: SocketAddr,
    db: &std::path::Path,
    terminal: Option<&crate::demo_terminal::DemoTerminal>,
) -> Result<()> {
    let persons = store.count(Table::Persons).await?;
    let institutions = store.institution_codes(1).await?;
    let sample = store
        .sample_in_force(
            onshi_center::today_jst(),
            PersonalFamilyClassification::Insured,
            1,
        )
        .await?;
    println!();
    println!(
        "onshi demo — オンライン資格確認 ({persons} persons in {})",
        db.display()
    );
    println!();
    println!("  center API      http://{addr}/v1/");
    println!("  OpenAPI         http://{addr}/openapi.json");
    println!("  health          http://{addr}/healthz");
    if let (Some(inst), Some(v)) = (institutions.first(), sample.first()) {
        println!("  institution     http://{addr}/v1/institutions/{inst}");
        println!();
        println!("Try an eligibility check by insurance data (資格確認書 / 保険証):");
        let body = serde_json::json!({
            "institution_code": inst.as_str(),
            "insurer_number": v.record.insurer_number.as_str(),
            "symbol": v.record.symbol.as_ref().map(|s| s.as_str()),
            "number": v.record.number.as_str(),
            "branch": v.record.branch.as_str(),
            "birth_date": v.person.birth_date.to_string(),
        });
        println!();
        println!("  curl -s http://{addr}/v1/eligibility/insurance-data \\");
        println!("       -H 'content-type: application/json' \\");
        println!("       -d '{body}'");
    }
    if let Some(t) = terminal {
        println!();
        println!("The clinic (資格確認端末) — open in a browser:");
        println!("  kiosk (reader)  {}/kiosk", t.pages);
        println!("  desk (staff)    {}/desk", t.pages);
        println!("  card path       {}/v1/ (mutual TLS)", t.center);
        println!(
            "Virtual cards for the kiosk's simulation panel (PIN {}):",
            crate::demo_terminal::DEMO_PIN
        );
        for (name, holder) in &t.cards {
            println!("  {name:<20} {holder}");
        }
        if !t.phones.is_empty() {
            println!(
                "Smartphones on the panel's general-purpose reader (スマートフォンを利用; Android: phone PIN {}, iPhone: Face ID on the panel; set up in the background on the first run):",
                crate::demo_terminal::DEMO_PIN
            );
            for (name, card) in &t.phones {
                println!("  {name:<26} the holder of {card}");
            }
        }
    }
    println!();
    println!("Ctrl-C stops the demo; the next start reuses the data.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_window;
    use std::time::Duration;

    #[test]
    fn commit_windows() {
        assert_eq!(parse_window("2ms"), Ok(Duration::from_millis(2)));
        assert_eq!(parse_window("500us"), Ok(Duration::from_micros(500)));
        assert_eq!(parse_window("0ms"), Ok(Duration::ZERO));
        for bad in ["2", "2s", "-1ms", "1000ms", "ms", "x ms"] {
            assert!(parse_window(bad).is_err(), "{bad}");
        }
    }
}
