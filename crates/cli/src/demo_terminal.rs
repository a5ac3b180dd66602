//! The clinic side of `onshi demo`: a terminal enrolled with the center, a few virtual My
//! Number Cards issued to persons of the synthetic nation, the center's card path over
//! mutual TLS, and the terminal's kiosk and desk pages, so that a newcomer can complete a
//! reception in the browser.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result};
use onshi_store::Store;

/// The PIN of every demo card.
pub const DEMO_PIN: &str = "1234";
/// The 署名用パスワード of the demo cards (and the Android phone's signing password).
pub const DEMO_SIGN_PASSWORD: &str = "ONSHI2025";

/// What the demo's clinic side offers.
pub struct DemoTerminal {
    /// `http://ADDR` of the kiosk and desk pages.
    pub pages: String,
    /// `https://ADDR` of the center's card path.
    pub center: String,
    /// The card files and their holders.
    pub cards: Vec<(String, String)>,
    /// The phone files (set up in the background on first start) and their holders' cards.
    pub phones: Vec<(String, String)>,
}

/// Enrols the demo terminal and issues the demo cards (first start only), then starts the
/// center over mutual TLS on `tls_listen` and the terminal's pages on `pages_listen`; both
/// stop when `stop` completes.
pub async fn start(
    store: &Store,
    url: &str,
    data_dir: &Path,
    nation: onshi_synth::Config,
    tls_listen: SocketAddr,
    pages_listen: SocketAddr,
    stop: impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
) -> Result<DemoTerminal> {
    let terminal_dir = data_dir.join("terminal");
    let cards_dir = data_dir.join("cards");
    if !terminal_dir.join("terminal.crt.pem").exists() {
        let institution = store
            .institution_codes(1)
            .await?
            .into_iter()
            .next()
            .context("no institution in the demo database")?;
        let args = crate::registry::EnrollArgs {
            data_dir: data_dir.to_owned(),
            database_url: url.to_owned(),
            institution: institution.to_string(),
            terminal_id: "KIOSK1".to_owned(),
            out: terminal_dir.clone(),
        };
        tokio::task::spawn_blocking(move || crate::registry::enroll(args)).await??;
    }
    if onshi_clinic::web::list_cards(&cards_dir).is_empty() {
        std::fs::create_dir_all(&cards_dir)?;
        issue_cards(url, data_dir, &cards_dir, nation).await?;
    }
    let cards = onshi_clinic::web::list_cards(&cards_dir)
        .into_iter()
        .map(|c| (c.name, c.holder))
        .collect();

    let listener = tokio::net::TcpListener::bind(tls_listen)
        .await
        .with_context(|| {
            format!("cannot listen on {tls_listen} (choose another with --tls-listen)")
        })?;
    let tls_addr = listener.local_addr()?;
    let (state, tls) = crate::serve::tls_state(
        store,
        data_dir,
        tls_addr,
        onshi_center::phone::PhoneConfig::default(),
    )
    .await?;
    let center_stop = stop();
    tokio::spawn(async move {
        if let Err(e) = onshi_center::serve_tls(listener, state, tls, center_stop).await {
            eprintln!("the demo center (TLS) stopped: {e}");
        }
    });
    let center = format!("https://{tls_addr}");
    let phones = set_up_phones(&cards_dir, &center, data_dir);

    let key = data_dir
        .join("jlis")
        .join(onshi_card::issue::CARD_DATA_PUBLIC_KEY_FILE);
    let terminal = crate::kiosk_cmd::terminal(
        &center,
        &terminal_dir,
        &key,
        onshi_clinic::DEFAULT_FACE_ATTEMPTS,
        None,
        Some(cards_dir),
        data_dir,
    )?;
    let listener = tokio::net::TcpListener::bind(pages_listen)
        .await
        .with_context(|| {
            format!("cannot listen on {pages_listen} (choose another with --terminal-listen)")
        })?;
    let pages = format!("http://{}", listener.local_addr()?);
    let pages_stop = stop();
    tokio::spawn(async move {
        if let Err(e) = onshi_clinic::web::serve(listener, terminal, pages_stop).await {
            eprintln!("the demo terminal pages stopped: {e}");
        }
    });
    Ok(DemoTerminal {
        pages,
        center,
        cards,
        phones,
    })
}

/// The demo's phones: an Android phone for the first patient and an iPhone for the
/// second, set up through the center's smartphone service like any phone (first start
/// only; it takes the issuance delay, a few seconds, in a thread of its own). Returns the
/// phone files' names with their holders' cards.
fn set_up_phones(cards_dir: &Path, center: &str, data_dir: &Path) -> Vec<(String, String)> {
    use onshi_card::phone::Platform;
    let wanted = [
        (
            "patient-1.card",
            "patient-1-android.phone",
            Platform::Android,
        ),
        ("patient-2.card", "patient-2-iphone.phone", Platform::Iphone),
    ];
    let mut phones = Vec::new();
    let mut to_set_up = Vec::new();
    for (card, phone, platform) in wanted {
        if !cards_dir.join(card).exists() {
            continue;
        }
        phones.push((phone.to_owned(), card.to_owned()));
        if !cards_dir.join(phone).exists() {
            to_set_up.push((cards_dir.join(card), cards_dir.join(phone), platform));
        }
    }
    if !to_set_up.is_empty() {
        let center = center.to_owned();
        let data_dir = data_dir.to_owned();
        std::thread::spawn(move || {
            for (card, phone, platform) in to_set_up {
                if let Err(e) = crate::phone_cmd::set_up_demo_phone(
                    &phone,
                    &card,
                    platform,
                    DEMO_PIN,
                    DEMO_SIGN_PASSWORD,
                    &center,
                    &data_dir,
                ) {
                    eprintln!("demo phone {} not set up: {e:#}", phone.display());
                    // A half-made phone would be listed without a credential.
                    let _ = std::fs::remove_file(&phone);
                }
            }
        });
    }
    phones
}

/// Cards for three registered patients, one card not yet registered for insurance
/// (利用登録 is offered at the reader), and one holder whose new insurer has not
/// registered a job change yet (the desk warns).
async fn issue_cards(
    url: &str,
    data_dir: &Path,
    cards_dir: &Path,
    nation: onshi_synth::Config,
) -> Result<()> {
    let sc = tokio::task::spawn_blocking(move || {
        let n = onshi_synth::Nation::new(nation);
        onshi_synth::find_scenarios(&n, n.household_count())
    })
    .await?;
    let mut wanted: Vec<(String, u64)> = sc
        .card_linked
        .iter()
        .take(3)
        .enumerate()
        .map(|(i, c)| (format!("patient-{}.card", i + 1), c.person_id))
        .collect();
    wanted.extend(
        sc.card_not_linked
            .first()
            .map(|c| ("not-registered.card".to_owned(), c.person_id)),
    );
    wanted.extend(
        sc.job_change_unregistered
            .first()
            .map(|c| ("job-change.card".to_owned(), c.person_id)),
    );
    for (name, person) in wanted {
        let args = crate::registry::IssueForArgs {
            database_url: url.to_owned(),
            data_dir: data_dir.to_owned(),
            person: i64::try_from(person)?,
            out: cards_dir.join(&name),
            pin: DEMO_PIN.to_owned(),
            sign_password: DEMO_SIGN_PASSWORD.to_owned(),
        };
        let issued = tokio::task::spawn_blocking(move || crate::registry::issue_for(args)).await?;
        if let Err(e) = issued {
            eprintln!("demo card {name} not issued: {e:#}");
        }
    }
    Ok(())
}
