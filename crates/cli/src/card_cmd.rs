//! `onshi card …`: issue virtual My Number Cards, show them, reset a PIN as the municipal
//! office does, and attach a card to pcscd through vpcd.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use chrono::{NaiveDate, Utc};
use onshi_card::layout::PinRef;
use onshi_card::{CardFile, CardPins, FileBackedCard, IssueOptions, Person, Pin, Sex};

/// Which PIN the municipal office resets.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum WhichPin {
    /// 利用者証明用パスワード (4 digits).
    Auth,
    /// 署名用パスワード (6-16 of A-Z 0-9).
    Sign,
    /// 券面事項入力補助用暗証番号 (4 digits).
    InputSupport,
}

/// Sex as ISO/IEC 5218.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SexArg {
    /// 1.
    Male,
    /// 2.
    Female,
    /// 9.
    NotApplicable,
}

/// Arguments of `onshi card issue`.
#[derive(Debug, clap::Args)]
pub struct IssueArgs {
    /// Data directory; J-LIS state (CAs, card-data key) lives in DATA_DIR/jlis.
    #[arg(long, default_value = "onshi-data")]
    data_dir: PathBuf,
    /// Card file to write (mode 0600; refuses to overwrite).
    #[arg(long, short)]
    out: PathBuf,
    /// 氏名, family and given name separated by a full-width space.
    #[arg(long)]
    name: String,
    /// 氏名の振り仮名 in katakana.
    #[arg(long)]
    kana: String,
    /// 生年月日, YYYY-MM-DD.
    #[arg(long)]
    birth_date: NaiveDate,
    /// 性別.
    #[arg(long, value_enum)]
    sex: SexArg,
    /// 住所.
    #[arg(long)]
    address: String,
    /// 個人番号 (12 digits with a valid check digit).
    #[arg(long)]
    my_number: String,
    /// 利用者証明用パスワード (4 digits).
    #[arg(long, env = "ONSHI_CARD_PIN")]
    pin: String,
    /// 署名用パスワード (6-16 of A-Z 0-9, upper-cased); required from age 15.
    #[arg(long, env = "ONSHI_CARD_SIGN_PASSWORD")]
    sign_password: Option<String>,
    /// 券面事項入力補助用暗証番号 (4 digits); defaults to --pin, as most holders choose.
    #[arg(long, env = "ONSHI_CARD_INPUT_PIN")]
    input_pin: Option<String>,
    /// 顔写真 file stored in the card-face AP (JPEG 2000 on real cards).
    #[arg(long)]
    photo: Option<PathBuf>,
    /// セキュリティコード (4 digits); random when omitted.
    #[arg(long)]
    security_code: Option<String>,
    /// Base URL written into certificates' CRL distribution points.
    #[arg(long, env = "ONSHI_CRL_BASE_URL")]
    crl_base_url: Option<String>,
}

/// `onshi card` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CardCommand {
    /// Issue a card for a person: new keys, J-LIS certificates, signed card data.
    Issue(Box<IssueArgs>),
    /// Issue a card for a person of the center's database and register it with the center.
    IssueFor(Box<crate::registry::IssueForArgs>),
    /// J-LIS revokes a card's certificate (lost card, death …).
    Revoke(crate::registry::RevokeArgs),
    /// Print a card's public content (no keys, PINs or full My Number).
    Show {
        /// Card file.
        file: PathBuf,
    },
    /// 市区町村窓口: set a new PIN and restore its tries (also unblocks it).
    ResetPin {
        /// Card file (detach it first: a running `attach` keeps its own copy).
        file: PathBuf,
        /// Which PIN.
        #[arg(long, value_enum, default_value = "auth")]
        which: WhichPin,
        /// The new value.
        #[arg(long, env = "ONSHI_CARD_NEW_PIN")]
        new_pin: String,
    },
    /// Serve the card to pcscd's vpcd reader until Ctrl-C; counter changes are saved.
    Attach {
        /// Card file.
        file: PathBuf,
        /// vpcd address.
        #[arg(long, default_value = "127.0.0.1:35963")]
        vpcd: String,
    },
}

/// Runs one `onshi card` subcommand (blocking; call it outside any async runtime).
pub fn run(cmd: CardCommand) -> Result<()> {
    match cmd {
        CardCommand::Issue(args) => {
            let IssueArgs {
                data_dir,
                out,
                name,
                kana,
                birth_date,
                sex,
                address,
                my_number,
                pin,
                sign_password,
                input_pin,
                photo,
                security_code,
                crl_base_url,
            } = *args;
            if out.exists() {
                bail!("{} exists; not overwriting a card", out.display());
            }
            let person = Person {
                name,
                name_kana: kana,
                address,
                birth_date,
                sex: match sex {
                    SexArg::Male => Sex::Male,
                    SexArg::Female => Sex::Female,
                    SexArg::NotApplicable => Sex::NotApplicable,
                },
                my_number: onshi_model::MyNumber::parse(&my_number)
                    .map_err(|e| anyhow::anyhow!("--my-number: {e}"))?,
            };
            let pins = CardPins {
                input_support: Pin::from(input_pin.as_deref().unwrap_or(&pin)),
                auth: Pin::from(pin.as_str()),
                sign: sign_password.as_deref().map(Pin::upper),
            };
            let face_photo = match photo {
                Some(p) => std::fs::read(&p).with_context(|| p.display().to_string())?,
                None => Vec::new(),
            };
            let jlis_dir = data_dir.join("jlis");
            let now = Utc::now();
            let mut jlis = onshi_pki::Jlis::load_or_create(&jlis_dir, now, crl_base_url.as_deref())
                .context("opening J-LIS state")?;
            let key = onshi_card::card_data_key(&jlis_dir)?;
            let card = onshi_card::issue_card(
                &mut jlis,
                key.as_ref(),
                &person,
                &pins,
                &IssueOptions {
                    issued_at: now,
                    face_photo,
                    security_code,
                },
            )?;
            card.save(&out)?;
            println!("issued card {} -> {}", card.serial, out.display());
            show(&card);
            Ok(())
        }
        CardCommand::IssueFor(args) => crate::registry::issue_for(*args),
        CardCommand::Revoke(args) => crate::registry::revoke(args),
        CardCommand::Show { file } => {
            show(&CardFile::load(&file)?);
            Ok(())
        }
        CardCommand::ResetPin {
            file,
            which,
            new_pin,
        } => {
            let mut card = CardFile::load(&file)?;
            let (pin, value) = match which {
                WhichPin::Auth => (PinRef::Auth, Pin::from(new_pin.as_str())),
                WhichPin::Sign => (PinRef::Sign, Pin::upper(&new_pin)),
                WhichPin::InputSupport => (PinRef::InputSupport, Pin::from(new_pin.as_str())),
            };
            card.reset_pin(pin, value).map_err(anyhow::Error::msg)?;
            card.save(&file)?;
            println!("{pin:?} PIN of card {} reset; tries restored", card.serial);
            Ok(())
        }
        CardCommand::Attach { file, vpcd } => attach(&file, &vpcd),
    }
}

fn attach(file: &Path, addr: &str) -> Result<()> {
    let mut card = FileBackedCard::open(file)?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        if let Ok(rt) = rt {
            let _ = rt.block_on(tokio::signal::ctrl_c());
        }
        flag.store(true, Ordering::Relaxed);
    });
    println!(
        "serving card {} to vpcd at {addr}; Ctrl-C to remove it",
        card.card().file().serial
    );
    onshi_card::vpcd::attach(addr, &mut card, &stop)?;
    println!("card removed");
    Ok(())
}

fn fingerprint(der: &[u8]) -> String {
    onshi_card::onsign::sha256(der)
        .iter()
        .take(8)
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn show(card: &CardFile) {
    let p = &card.printed;
    let masked = format!(
        "********{}",
        &p.my_number[p.my_number.len().saturating_sub(4)..]
    );
    println!(
        "card        {} (issued {}, expires {})",
        card.serial, card.issued_on, p.expiry
    );
    println!("name        {} ({})", p.name, p.name_kana);
    println!("birth date  {}", p.birth_date);
    println!("sex         {}", p.sex.label());
    println!("address     {}", p.address);
    println!("my number   {masked}");
    println!("照合番号B   {}", p.matching_number_b());
    println!("token       {}", card.jpki.token);
    println!(
        "auth cert   {} bytes, SHA-256 {}…",
        card.jpki.auth_cert.len(),
        fingerprint(&card.jpki.auth_cert)
    );
    match &card.jpki.signing {
        Some(s) => println!(
            "sign cert   {} bytes, SHA-256 {}…",
            s.cert.len(),
            fingerprint(&s.cert)
        ),
        None => println!("sign cert   none (holder under 15 at issue)"),
    }
    let tries = |r: Option<&onshi_card::PinRecord>, max: u8| match r {
        Some(r) if r.tries_left == 0 => "BLOCKED".to_owned(),
        Some(r) => format!("{}/{max} tries left", r.tries_left),
        None => "absent".to_owned(),
    };
    println!("auth PIN    {}", tries(card.pin_record(PinRef::Auth), 3));
    println!("sign pass.  {}", tries(card.pin_record(PinRef::Sign), 5));
    println!(
        "input PIN   {}",
        tries(card.pin_record(PinRef::InputSupport), 3)
    );
    println!("face photo  {} bytes", card.card_face.face_photo.len());
}
