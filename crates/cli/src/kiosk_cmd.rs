//! `onshi terminal kiosk`: the terminal's web pages — the face-auth reader's screens
//! (`/kiosk`) and the reception desk (`/desk`) — talking to the center over mutual TLS.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use onshi_clinic::reception::PhoneTrust;
use onshi_clinic::web::{Terminal, WebConfig};
use onshi_clinic::{CenterClient, Lang, ReaderConfig, TerminalCredentials};
use onshi_pki::DOCUMENT_SIGNER_LABEL;

/// Arguments of `onshi terminal kiosk`.
#[derive(Debug, clap::Args)]
pub struct KioskArgs {
    /// The center, `https://HOST:PORT`.
    #[arg(long)]
    pub center: String,
    /// Enrolment directory: terminal.crt.pem, terminal.key.pem (PKCS#8), ca.pem.
    #[arg(long)]
    pub cert: PathBuf,
    /// Address of the kiosk and desk pages (keep it on loopback or a trusted network).
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
    /// Virtual card files the kiosk's simulation panel can place on the reader.
    #[arg(long)]
    pub cards: Option<PathBuf>,
    /// J-LIS card-data public key (SubjectPublicKeyInfo DER); defaults to
    /// DATA_DIR/jlis/card-data-key.der.
    #[arg(long)]
    pub card_data_key: Option<PathBuf>,
    /// Data directory holding the J-LIS state.
    #[arg(long, default_value = "onshi-data")]
    pub data_dir: PathBuf,
    /// Face attempts before the PIN.
    #[arg(long, default_value_t = onshi_clinic::DEFAULT_FACE_ATTEMPTS)]
    pub face_attempts: u8,
    /// Evaluation date; the center's today when omitted.
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

/// Loads the terminal's credentials and the J-LIS key, and builds the web terminal.
/// Call it inside the runtime that will serve it.
pub fn terminal(
    center: &str,
    cert: &std::path::Path,
    card_data_key: &std::path::Path,
    face_attempts: u8,
    as_of: Option<NaiveDate>,
    cards: Option<PathBuf>,
    data_dir: &std::path::Path,
) -> Result<Terminal> {
    let credentials = TerminalCredentials::load(cert)?;
    let institution = credentials.institution_code()?;
    let client = CenterClient::new(center, &credentials)?;
    let card_data_key = std::fs::read(card_data_key)
        .with_context(|| format!("J-LIS card-data key {}", card_data_key.display()))?;
    Ok(Terminal::new(
        client,
        WebConfig {
            reader: ReaderConfig {
                institution,
                card_data_key,
                face_attempts: face_attempts.max(1),
                lang: Lang::Ja,
                as_of,
            },
            // The smartphone path needs the general-purpose reader, which only the
            // simulation panel provides here; the iPhone's record is verified against
            // J-LIS's document signer.
            phone_trust: cards.as_ref().map(|_| PhoneTrust {
                document_signers: std::fs::read(
                    data_dir
                        .join("jlis")
                        .join(format!("{DOCUMENT_SIGNER_LABEL}.der")),
                )
                .map(|d| vec![d])
                .unwrap_or_default(),
            }),
            sim_cards: cards,
        },
    ))
}

/// Runs the kiosk and desk server until Ctrl-C.
pub async fn run(a: KioskArgs) -> Result<()> {
    let key = a.card_data_key.clone().unwrap_or_else(|| {
        a.data_dir
            .join("jlis")
            .join(onshi_card::issue::CARD_DATA_PUBLIC_KEY_FILE)
    });
    let terminal = terminal(
        &a.center,
        &a.cert,
        &key,
        a.face_attempts,
        a.as_of,
        a.cards,
        &a.data_dir,
    )?;
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| format!("cannot listen on {}", a.listen))?;
    let addr = listener.local_addr()?;
    println!("onshi terminal pages on http://{addr}/");
    println!("  kiosk (reader screens)  http://{addr}/kiosk");
    println!("  desk (staff)            http://{addr}/desk");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    onshi_clinic::web::serve(listener, terminal, crate::serve::shutdown_signal()).await?;
    Ok(())
}
