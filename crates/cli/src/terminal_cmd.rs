//! `onshi terminal …`: the clinic's eligibility terminal and face-auth card reader, run as
//! a script. `reception` places one card (a PC/SC reader, or a card file in process),
//! plays the patient and staff from the arguments, prints every screen on stderr and the
//! result as JSON on stdout.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use onshi_card::{CardChannel, CardFile, FileBackedCard, Pin};
use onshi_clinic::message::{Lang, Message};
use onshi_clinic::script::{Script, ScriptEnd};
use onshi_clinic::wire::{Method, consent_name, parse_consent_name};
use onshi_clinic::{BlockingCenter, CenterClient, Reader, ReaderConfig, TerminalCredentials};
use onshi_face::{ClassicMatcher, FaceImage};
use serde_json::{Value, json};

/// `onshi terminal` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TerminalCommand {
    /// Run one scripted reception at the reader and print the result as JSON.
    Reception(Box<ReceptionArgs>),
    /// Answer the EMR's request files: watch DIR/req, write DIR/res (until Ctrl-C).
    Folder(FolderArgs),
    /// Serve the reader's screens (/kiosk) and the reception desk (/desk) (until Ctrl-C).
    Kiosk(Box<crate::kiosk_cmd::KioskArgs>),
}

/// Arguments of `onshi terminal folder`.
#[derive(Debug, clap::Args)]
pub struct FolderArgs {
    /// The folder shared with the EMR; `req/`, `res/` and `face/` are created in it.
    #[arg(long)]
    dir: PathBuf,
    /// The center, `https://HOST:PORT`.
    #[arg(long)]
    center: String,
    /// Enrolment directory: terminal.crt.pem, terminal.key.pem (PKCS#8), ca.pem.
    #[arg(long)]
    cert: PathBuf,
}

/// How the patient proves identity first.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum MethodArg {
    /// 暗証番号.
    Pin,
    /// 顔認証.
    Face,
    /// 目視確認 (the reader is switched to 目視確認モード for this reception).
    Visual,
}

/// Display language.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LangArg {
    /// 日本語.
    Ja,
    /// English.
    En,
}

/// Arguments of `onshi terminal reception`.
#[derive(Debug, clap::Args)]
pub struct ReceptionArgs {
    /// The center, `https://HOST:PORT`.
    #[arg(long)]
    center: String,
    /// Enrolment directory: terminal.crt.pem, terminal.key.pem (PKCS#8), ca.pem.
    #[arg(long)]
    cert: PathBuf,
    /// PC/SC reader whose name contains this text (for example "Virtual PCD").
    #[arg(
        long,
        conflicts_with = "card_file",
        required_unless_present = "card_file"
    )]
    reader: Option<String>,
    /// A card file read in process instead of a reader (counter changes are saved).
    #[arg(long)]
    card_file: Option<PathBuf>,
    /// Identity method chosen first; failures fall back as the reader does.
    #[arg(long, value_enum)]
    method: MethodArg,
    /// PIN entries in order (repeat for a wrong entry first; 利用登録 uses the next one).
    #[arg(long = "pin")]
    pins: Vec<String>,
    /// Camera frames of this synthetic person (one per face attempt).
    #[arg(long, conflicts_with = "camera_images")]
    face_seed: Option<u64>,
    /// Camera frames as PNG or JPEG files, one per attempt.
    #[arg(long = "camera-image")]
    camera_images: Vec<PathBuf>,
    /// 照合番号B as typed; taken from the card file's printed face when omitted.
    #[arg(long)]
    matching_code: Option<String>,
    /// Face attempts before the PIN.
    #[arg(long, default_value_t = onshi_clinic::DEFAULT_FACE_ATTEMPTS)]
    face_attempts: u8,
    /// Staff id confirming in 目視確認モード (also the fallback after face and PIN).
    #[arg(long)]
    staff_id: Option<String>,
    /// Kinds agreed on the consent screens: medication, checkups, diagnoses, surgeries,
    /// cost_ceiling (comma-separated; the others are answered no).
    #[arg(long, value_delimiter = ',')]
    consent: Vec<String>,
    /// Register the card (利用登録) when the center says it is not linked.
    #[arg(long)]
    link_if_needed: bool,
    /// J-LIS card-data public key (SubjectPublicKeyInfo DER); defaults to
    /// DATA_DIR/jlis/card-data-key.der.
    #[arg(long)]
    card_data_key: Option<PathBuf>,
    /// Data directory holding the J-LIS state.
    #[arg(long, default_value = "onshi-data")]
    data_dir: PathBuf,
    /// Evaluation date; the center's today when omitted.
    #[arg(long)]
    as_of: Option<NaiveDate>,
    /// Language of the screens on stderr.
    #[arg(long, value_enum, default_value = "ja")]
    lang: LangArg,
    /// The EMR folder (as `terminal folder --dir`): a finished reception is also written to
    /// FOLDER/face/ as `OQSsiquc01res_face_<reception>_<yyyyMMddHHmmss>.xml`.
    #[arg(long)]
    folder: Option<PathBuf>,
    /// Encoding of the face/ file.
    #[arg(long, value_enum, default_value = "utf8")]
    folder_encoding: EncodingArg,
}

/// The encodings of the folder interface.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum EncodingArg {
    Utf8,
    ShiftJis,
}

/// Writes a finished reception into the EMR folder's `face/`, atomically.
fn write_face_file(
    folder: &std::path::Path,
    institution: onshi_model::InstitutionCode,
    check: &onshi_clinic::CardCheck,
    encoding: EncodingArg,
) -> Result<PathBuf> {
    let result = onshi_model::EligibilityResult {
        reference: check.reference,
        validity: check.validity,
        processed_at: check.processed_at,
        as_of: check.as_of,
        records: check.records.clone(),
    };
    let charset = match encoding {
        EncodingArg::Utf8 => onshi_model::CharacterCodeIdentifier::Utf8,
        EncodingArg::ShiftJis => onshi_model::CharacterCodeIdentifier::ShiftJis,
    };
    let bytes = onshi_oqs::face_result(institution, &result, charset)
        .context("building the face/ result")?;
    let name = onshi_oqs::face_file_name(&check.reception_id, check.processed_at)
        .context("naming the face/ result")?;
    let dir = folder.join("face");
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    onshi_clinic::folder::write_atomically(&dir, &name, &bytes)
        .with_context(|| format!("writing {name}"))?;
    Ok(dir.join(name))
}

/// Runs one `onshi terminal` subcommand (blocking; call it outside any async runtime).
pub fn run(cmd: TerminalCommand) -> Result<()> {
    match cmd {
        TerminalCommand::Reception(args) => reception(*args),
        TerminalCommand::Folder(args) => folder(args),
        TerminalCommand::Kiosk(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(crate::kiosk_cmd::run(*args)),
    }
}

fn folder(a: FolderArgs) -> Result<()> {
    let credentials = TerminalCredentials::load(&a.cert)?;
    let institution = credentials.institution_code()?;
    let center = BlockingCenter::new(CenterClient::new(&a.center, &credentials)?)?;
    let config = onshi_clinic::FolderConfig::new(&a.dir, institution);
    let mut watcher = onshi_clinic::Folder::new(config, center)
        .with_context(|| format!("folder {}", a.dir.display()))?;
    // Ctrl-C ends the process: every response is written atomically and a request is
    // moved only after its response, so an interrupted request is answered on restart.
    watcher.run(|| {
        use std::io::Write;
        println!("onshi terminal watching {}", a.dir.display());
        let _ = std::io::stdout().flush();
    })?;
    Ok(())
}

fn reception(a: ReceptionArgs) -> Result<()> {
    let credentials = TerminalCredentials::load(&a.cert)?;
    let institution = credentials.institution_code()?;
    let center = BlockingCenter::new(CenterClient::new(&a.center, &credentials)?)?;
    // A second client plays the EMR that reads the consented history afterwards.
    let emr = BlockingCenter::new(CenterClient::new(&a.center, &credentials)?)?;
    let key_path = a.card_data_key.clone().unwrap_or_else(|| {
        a.data_dir
            .join("jlis")
            .join(onshi_card::issue::CARD_DATA_PUBLIC_KEY_FILE)
    });
    let card_data_key = std::fs::read(&key_path)
        .with_context(|| format!("J-LIS card-data key {}", key_path.display()))?;
    let lang = match a.lang {
        LangArg::Ja => Lang::Ja,
        LangArg::En => Lang::En,
    };
    let reader = Reader::new(
        center,
        ReaderConfig {
            institution,
            card_data_key,
            face_attempts: a.face_attempts.max(1),
            lang,
            as_of: a.as_of,
        },
        Box::new(ClassicMatcher::default()),
        onshi_clinic::CLASSIC_MATCHER_NAME,
    );
    let script = script(&a)?;
    let outputs = Outputs {
        history: &emr,
        institution,
        folder: a.folder.as_deref().map(|d| (d, a.folder_encoding)),
    };
    match (&a.reader, &a.card_file) {
        #[cfg(feature = "pcsc")]
        (Some(name), _) => drive(reader, &outputs, connect_reader(name)?, script, lang),
        #[cfg(not(feature = "pcsc"))]
        (Some(_), _) => bail!(
            "this onshi was built without PC/SC: rebuild with `--features pcsc` to use --reader"
        ),
        (None, Some(file)) => drive(reader, &outputs, FileBackedCard::open(file)?, script, lang),
        (None, None) => bail!("give --reader or --card-file"),
    }
}

#[cfg(feature = "pcsc")]
fn connect_reader(name: &str) -> Result<onshi_card::PcscChannel> {
    onshi_card::PcscChannel::connect(name).with_context(|| format!("PC/SC reader {name:?}"))
}

fn script(a: &ReceptionArgs) -> Result<Script> {
    let mut consents = Vec::new();
    for name in a.consent.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        consents.push(parse_consent_name(name).with_context(|| {
            format!("--consent {name:?}: one of medication, checkups, diagnoses, surgeries, cost_ceiling")
        })?);
    }
    let attempts = u64::from(a.face_attempts.max(1));
    let frames = match a.face_seed {
        Some(seed) => (1..=attempts)
            .map(|v| onshi_face::render_camera_frame(seed, v))
            .collect(),
        None => a
            .camera_images
            .iter()
            .map(|p| {
                let bytes = std::fs::read(p).with_context(|| p.display().to_string())?;
                FaceImage::decode(&bytes).with_context(|| p.display().to_string())
            })
            .collect::<Result<Vec<_>>>()?,
    };
    let matching_code = match (&a.matching_code, &a.card_file) {
        (Some(code), _) => Some(Pin::from(code.as_str())),
        (None, Some(file)) => Some(Pin::new(CardFile::load(file)?.printed.matching_number_b())),
        (None, None) => None,
    };
    Ok(Script {
        method: Some(match a.method {
            MethodArg::Pin => Method::Pin,
            MethodArg::Face => Method::Face,
            MethodArg::Visual => Method::Visual,
        }),
        pins: a.pins.iter().map(|p| Pin::from(p.as_str())).collect(),
        matching_code,
        frames,
        staff_id: a.staff_id.clone(),
        consents,
        link_if_needed: a.link_if_needed,
    })
}

fn message_json(m: &Message, lang: Lang) -> Value {
    json!({"id": m.id(), "text": m.text(lang)})
}

/// The consented history of a finished reception, fetched as the clinic's EMR would.
fn fetch_history(
    center: &BlockingCenter,
    reception_id: &str,
    consents: &[onshi_model::ConsentKind],
) -> Result<serde_json::Value> {
    use onshi_clinic::wire::HistoryKind;
    use onshi_model::ConsentKind;
    let mut out = serde_json::Map::new();
    for k in consents {
        let kind = match k {
            ConsentKind::Medication => HistoryKind::Medications,
            ConsentKind::Checkups => HistoryKind::Checkups,
            ConsentKind::Diagnoses => HistoryKind::Diagnoses,
            ConsentKind::Surgeries => HistoryKind::Surgeries,
            ConsentKind::CostCeiling => continue,
        };
        let items = center
            .block_on(center.client().history(reception_id, kind))
            .with_context(|| format!("fetching {}", kind.segment()))?;
        out.insert(kind.segment().to_owned(), serde_json::Value::Array(items));
    }
    Ok(serde_json::Value::Object(out))
}

/// Where a finished reception goes besides stdout.
struct Outputs<'a> {
    history: &'a BlockingCenter,
    institution: onshi_model::InstitutionCode,
    folder: Option<(&'a std::path::Path, EncodingArg)>,
}

fn drive<C: CardChannel>(
    reader: Reader<BlockingCenter>,
    outputs: &Outputs<'_>,
    card: C,
    script: Script,
    lang: Lang,
) -> Result<()> {
    let mut shown = Vec::new();
    let end = onshi_clinic::script::run(reader, card, script, |state, messages| {
        for m in messages {
            eprintln!("[{state}] {}", m.text(lang));
            shown.push(json!({"state": state, "id": m.id(), "text": m.text(lang)}));
        }
    });
    let out = match end {
        ScriptEnd::Done(done) => json!({
            "outcome": "done",
            "method": done.method,
            "consents": done.consents.iter().map(|k| consent_name(*k)).collect::<Vec<_>>(),
            "linked_on": done.linked_on,
            "notices": done.notices.iter().map(|m| message_json(m, lang)).collect::<Vec<_>>(),
            "history": fetch_history(outputs.history, &done.check.reception_id, &done.consents)?,
            "face_file": match outputs.folder {
                Some((dir, enc)) => Some(write_face_file(dir, outputs.institution, &done.check, enc)?),
                None => None,
            },
            "result": done.check,
            "messages": shown,
        }),
        ScriptEnd::Failed(failed) => json!({
            "outcome": "failed",
            "failure": message_json(&failed.failure, lang),
            "problem": failed.problem.as_ref().map(|p| p.as_str()),
            "pending": failed.pending,
            "messages": shown,
        }),
        ScriptEnd::Stopped {
            state,
            reason,
            messages,
        } => json!({
            "outcome": "stopped",
            "state": state,
            "reason": reason,
            "last": messages.iter().map(|m| message_json(m, lang)).collect::<Vec<_>>(),
            "messages": shown,
        }),
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
