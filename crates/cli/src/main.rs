//! `onshi`: the command line of onshi — run the demo, serve the center, seed a database,
//! issue and attach virtual My Number Cards.

mod balance;
mod bench;
mod bench_folder;
mod card_cmd;
mod demo_terminal;
mod kiosk_cmd;
mod phone_cmd;
mod registry;
mod seed;
mod seed_history;
mod serve;
mod terminal_cmd;

use std::path::PathBuf;

/// One allocator for every thread of the process (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "onshi",
    version,
    about = "オンライン資格確認 — an open implementation of Japan's online eligibility system"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Everything on an embedded SQLite, seeded with a synthetic population; prints what to open.
    Demo(serve::DemoArgs),
    /// Serve the center on a database (SQLite file or PostgreSQL).
    Serve(serve::ServeArgs),
    /// Fill a database with a deterministic synthetic nation.
    Seed(seed::SeedArgs),
    /// The clinic's eligibility terminal and face-auth card reader.
    Terminal {
        #[command(subcommand)]
        cmd: terminal_cmd::TerminalCommand,
    },
    /// Enrol a clinic terminal: a TLS client certificate from the institution CA.
    TerminalEnroll(registry::EnrollArgs),
    /// Revoke a clinic terminal's certificate.
    TerminalRevoke(registry::TerminalRevokeArgs),
    /// Issue, inspect, reset and attach virtual My Number Cards.
    Card {
        #[command(subcommand)]
        cmd: card_cmd::CardCommand,
    },
    /// A TCP round-robin balancer in front of several centers (mutual TLS passes through).
    Balance(balance::BalanceArgs),
    /// The smartphone: set it up from the portal app, wait for the push, show its status,
    /// suspend or replace it, and hold it to a reader.
    Phone {
        #[command(subcommand)]
        cmd: phone_cmd::PhoneCommand,
    },
    /// Load generators of the performance targets.
    Bench {
        #[command(subcommand)]
        cmd: bench::BenchCommand,
    },
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ONSHI_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    };
    match cli.command {
        Command::Demo(a) => runtime()?.block_on(serve::demo(a)),
        Command::Serve(a) => runtime()?.block_on(serve::serve(a)),
        Command::Seed(a) => runtime()?.block_on(seed::seed(a)),
        // Card operations block on the card file and the vpcd socket; no runtime needed.
        Command::Card { cmd } => card_cmd::run(cmd),
        Command::TerminalEnroll(a) => registry::enroll(a),
        Command::TerminalRevoke(a) => registry::revoke_terminal(a),
        Command::Terminal { cmd } => terminal_cmd::run(cmd),
        Command::Phone { cmd } => phone_cmd::run(cmd),
        Command::Balance(a) => runtime()?.block_on(balance::run(a)),
        Command::Bench { cmd } => runtime()?.block_on(bench::run(cmd)),
    }
}

/// The default data directory of the demo.
fn default_data_dir() -> PathBuf {
    PathBuf::from("onshi-data")
}
