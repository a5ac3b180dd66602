//! `onshi phone …`: the smartphone as its holder and the portal app (マイナポータル) use it —
//! make a virtual phone, set it up with the card (signing password; on iPhone also the
//! input-support PIN), wait for the push that says the credential is ready and install
//! it, show its status, suspend, resume or replace it — and hold it to a clinic's reader
//! (`onshi phone reception`, the reader's side of a phone reception, as `onshi terminal
//! reception` is for the card).
//!
//! The portal app's state for a phone (center, application id, bearer token) is kept
//! beside the phone file as `PHONE.portal.json` (mode 0600).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use chrono::Utc;
use onshi_card::layout::{CertRef, KeyRef, PinRef};
use onshi_card::onsign::sha256_digest_info;
use onshi_card::phone::{
    Biometric, FileBackedPhone, Handset, OsVersion, PhoneCertificates, PhoneFile, PhonePins,
    Platform,
};
use onshi_card::{Ap, FileBackedCard, JpkiClient, Pin, VerifyOutcome};
use onshi_center::phone::wire::{
    self, CardLogin, EVENT_ENDED, EVENT_READY, InputSupport, PhoneCredential, PhoneStatus,
    SETUP_PURPOSE, SetupAccepted, SetupPayload, SetupRequest,
};
use onshi_clinic::reception::{PhoneKind, PhoneReception, PhoneTrust};
use onshi_clinic::{BlockingCenter, CenterClient, Lang, Reader, ReaderConfig, TerminalCredentials};
use serde_json::json;

/// Parses `3s`, `500ms`, `2m` or plain seconds.
pub fn parse_delay(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a number with ms, s or m"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("{s:?}: unit must be ms, s or m")),
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum PhoneCommand {
    /// Make a virtual phone (its keys generated inside it).
    New(NewArgs),
    /// Set the phone up with the card (マイナポータル app): the request is signed with the
    /// card's signing key; the credential arrives later with a push.
    Setup(SetupArgs),
    /// Keep the phone's push channel open until the credential is ready, then install it.
    Wait(WaitArgs),
    /// The phone's credential as the center knows it.
    Status(StatusArgs),
    /// The holder's phones, after a login at the portal with the card.
    List(PortalArgs),
    /// Suspend a lost phone from the portal (login with the card).
    Suspend(PortalArgs),
    /// Lift the suspension of a found phone (login with the card).
    Resume(PortalArgs),
    /// Set up a new phone that replaces the old one (the old one's credential is revoked
    /// when the new one is issued, and removed from the old phone).
    Replace(ReplaceArgs),
    /// Hold the phone to a clinic's reader: the reception with the phone, as the reader
    /// runs it (prints the outcome as JSON).
    Reception(ReceptionArgs),
    /// At home, in the portal app with the card: let a clinic check the qualification for
    /// 訪問診療 or オンライン診療 (居宅同意取得型); the clinic's bulk search then finds it.
    HomeConsent(HomeConsentArgs),
}

pub fn run(cmd: PhoneCommand) -> Result<()> {
    match cmd {
        PhoneCommand::New(a) => new(a),
        PhoneCommand::Setup(a) => setup(a),
        PhoneCommand::Wait(a) => wait(a),
        PhoneCommand::Status(a) => status(a),
        PhoneCommand::List(a) => portal(a, PortalAction::List),
        PhoneCommand::Suspend(a) => portal(a, PortalAction::Suspend),
        PhoneCommand::Resume(a) => portal(a, PortalAction::Resume),
        PhoneCommand::Replace(a) => replace(a),
        PhoneCommand::Reception(a) => reception(a),
        PhoneCommand::HomeConsent(a) => home_consent(a),
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum HomeCareArg {
    /// 訪問診療.
    HomeVisit,
    /// オンライン診療.
    Online,
}

#[derive(Debug, clap::Args)]
pub struct HomeConsentArgs {
    /// The My Number Card file (the portal login reads it).
    #[arg(long)]
    card: PathBuf,
    /// The card's 利用者証明用パスワード (4 digits).
    #[arg(long, env = "ONSHI_CARD_PIN")]
    pin: String,
    /// The clinic's 医療機関コード.
    #[arg(long)]
    institution: String,
    #[arg(long, value_enum)]
    kind: HomeCareArg,
    /// オンライン診療: the day of the examination (YYYY-MM-DD); today when absent.
    #[arg(long)]
    examination_date: Option<chrono::NaiveDate>,
    #[command(flatten)]
    center: CenterArgs,
}

fn home_consent(a: HomeConsentArgs) -> Result<()> {
    let http = a.center.http()?;
    let login = card_login(&http, &a.card, &a.pin)?;
    let mut body = json!({
        "login": login,
        "institution_code": a.institution,
        "kind": match a.kind {
            HomeCareArg::HomeVisit => "home_visit",
            HomeCareArg::Online => "online",
        },
    });
    if let Some(d) = a.examination_date {
        body["examination_date"] = json!(d);
    }
    let answer: serde_json::Value = http.json(
        http.client
            .post(http.url("/v1/portal/home-consents"))
            .json(&body),
    )?;
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PlatformArg {
    Android,
    Iphone,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum BiometricArg {
    FaceId,
    TouchId,
}

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// Phone file to write (mode 0600; refuses to overwrite).
    #[arg(long, short)]
    out: PathBuf,
    #[arg(long, value_enum)]
    platform: PlatformArg,
    /// Model name as the compatibility list spells it (`iPhone 15`, `Pixel 8`).
    #[arg(long)]
    model: String,
    /// OS version (`18.5`, `14`).
    #[arg(long)]
    os: String,
    /// The iPhone's sensor.
    #[arg(long, value_enum, default_value = "face-id")]
    biometric: BiometricArg,
    /// Android: the phone's own 4-digit PIN (スマホ用利用者証明用パスワード).
    #[arg(long, env = "ONSHI_PHONE_PIN")]
    pin: Option<String>,
    /// Android: the phone's signing password (6-16 of A-Z 0-9).
    #[arg(long, env = "ONSHI_PHONE_SIGN_PASSWORD")]
    sign_password: Option<String>,
}

fn new(a: NewArgs) -> Result<()> {
    if a.out.exists() {
        bail!("{} exists; not overwriting a phone", a.out.display());
    }
    let os: OsVersion = a.os.parse().map_err(|e| anyhow!("--os: {e}"))?;
    let (handset, pins) = match a.platform {
        PlatformArg::Android => {
            let pins = PhonePins {
                auth: Pin::from(a.pin.as_deref().context("--pin is required for Android")?),
                sign: Pin::upper(
                    a.sign_password
                        .as_deref()
                        .context("--sign-password is required for Android")?,
                ),
            };
            (Handset::android(&a.model, os)?, Some(pins))
        }
        PlatformArg::Iphone => {
            let b = match a.biometric {
                BiometricArg::FaceId => Biometric::FaceId,
                BiometricArg::TouchId => Biometric::TouchId,
            };
            (Handset::iphone(&a.model, os, b)?, None)
        }
    };
    let phone = onshi_card::phone::new_phone(handset, pins)?;
    phone.save(&a.out)?;
    println!(
        "made {} phone {} ({} {}) -> {}",
        phone.platform(),
        phone.id,
        a.model,
        a.os,
        a.out.display()
    );
    Ok(())
}

/// Where the center is and how the app trusts it.
#[derive(Debug, Clone, clap::Args)]
pub struct CenterArgs {
    /// The center, `https://HOST:PORT`.
    #[arg(long)]
    center: String,
    /// The CA of the center's TLS certificate; defaults to DATA_DIR/jlis/institution-ca.pem.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Data directory holding the J-LIS state.
    #[arg(long, default_value = "onshi-data")]
    data_dir: PathBuf,
}

impl CenterArgs {
    fn http(&self) -> Result<Http> {
        let ca_path = self
            .ca
            .clone()
            .unwrap_or_else(|| self.data_dir.join("jlis").join("institution-ca.pem"));
        Http::new(&self.center, &ca_path)
    }

    fn card_data_key(&self) -> Result<Vec<u8>> {
        let p = self
            .data_dir
            .join("jlis")
            .join(onshi_card::issue::CARD_DATA_PUBLIC_KEY_FILE);
        std::fs::read(&p).with_context(|| format!("J-LIS card-data key {}", p.display()))
    }
}

/// The app's HTTPS client of the center: the center's CA as the only root, no client
/// certificate (the phone and the citizen sign with their own keys).
struct Http {
    client: reqwest::Client,
    base: String,
    rt: tokio::runtime::Runtime,
}

impl Http {
    fn new(base: &str, ca_pem: &Path) -> Result<Self> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let ca = CertificateDer::from_pem_file(ca_pem)
            .with_context(|| format!("center CA {}", ca_pem.display()))?;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca)?;
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(Duration::from_secs(5))
            .no_proxy()
            .build()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            rt,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends `req` and decodes a JSON answer; a problem+json answer becomes an error that
    /// carries its code and Japanese message.
    fn json<T: serde::de::DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T> {
        self.rt.block_on(async {
            let resp = req
                .timeout(Duration::from_secs(20))
                .send()
                .await
                .context("the center did not answer")?;
            let status = resp.status();
            let body = resp.bytes().await?;
            if status.is_success() {
                return Ok(serde_json::from_slice(&body)?);
            }
            match serde_json::from_slice::<onshi_center::Problem>(&body) {
                Ok(p) => Err(anyhow!("{} ({}): {}", p.message_ja, p.code, p.detail)),
                Err(_) => Err(anyhow!("the center answered {status}")),
            }
        })
    }
}

/// What the app keeps for a phone after set-up.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct PortalState {
    center: String,
    application_id: String,
    token: String,
}

fn portal_state_path(phone: &Path) -> PathBuf {
    let mut s = phone.as_os_str().to_owned();
    s.push(".portal.json");
    PathBuf::from(s)
}

fn save_secret(path: &Path, bytes: &[u8]) -> Result<()> {
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    o.mode(0o600);
    o.open(&tmp)?.write_all(bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn load_portal_state(phone: &Path) -> Result<PortalState> {
    let p = portal_state_path(phone);
    let text = std::fs::read_to_string(&p)
        .with_context(|| format!("{} (run `onshi phone setup` first)", p.display()))?;
    Ok(serde_json::from_str(&text)?)
}

#[derive(Debug, clap::Args)]
pub struct SetupArgs {
    /// The phone file.
    #[arg(long)]
    phone: PathBuf,
    /// The My Number Card file, read as over NFC.
    #[arg(long)]
    card: PathBuf,
    /// The card's 署名用パスワード (6-16 of A-Z 0-9, upper-cased).
    #[arg(long, env = "ONSHI_CARD_SIGN_PASSWORD")]
    sign_password: String,
    /// iPhone: the card's 券面事項入力補助用暗証番号 (4 digits).
    #[arg(long, env = "ONSHI_CARD_INPUT_PIN")]
    input_pin: Option<String>,
    #[command(flatten)]
    center: CenterArgs,
    /// After the request, keep the push channel open and install the credential.
    #[arg(long)]
    wait: bool,
    /// Longest wait for the push with --wait, in seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

/// Reads the card as the app does and signs the set-up request.
fn signed_request(
    phone: &PhoneFile,
    card_path: &Path,
    sign_password: &str,
    input_pin: Option<&str>,
    card_data_key: &[u8],
) -> Result<SetupRequest> {
    let mut card = JpkiClient::new(FileBackedCard::open(card_path)?);
    let auth_cert = card.auth_certificate().context("reading the card")?;
    let input_support = match phone.platform() {
        Platform::Iphone => {
            let pin = input_pin
                .context("an iPhone set-up needs --input-pin (券面事項入力補助用暗証番号)")?;
            match card.read_input_support(&Pin::from(pin), card_data_key)? {
                (VerifyOutcome::Ok, Some((my_number, a))) => Some(InputSupport {
                    // 照合番号A (the My Number) opens the card-face AP for the photo.
                    portrait: match card
                        .read_card_face(&Pin::from(my_number.as_str()), card_data_key)?
                    {
                        Some(face) => wire::b64(&face.face.face_photo),
                        None => bail!("券面の顔写真を読み取れませんでした / card face locked"),
                    },
                    my_number,
                    name: a.name,
                    address: a.address,
                    birth_date: a.birth_date,
                    sex: a.sex.iso5218().to_string(),
                }),
                (VerifyOutcome::WrongPin { tries_left }, _) => bail!(
                    "券面事項入力補助用暗証番号が違います（残り{tries_left}回） / wrong input-support PIN"
                ),
                _ => bail!(
                    "券面事項入力補助用暗証番号がロックされています / input-support PIN blocked"
                ),
            }
        }
        Platform::Android => None,
    };
    let payload = SetupPayload {
        purpose: SETUP_PURPOSE.into(),
        platform: phone.platform().as_str().into(),
        model: phone.handset.model().into(),
        os_version: phone.handset.os_version().to_string(),
        auth_public_key: wire::b64(phone.auth_public_key()),
        signing_public_key: wire::b64(phone.signing_public_key()),
        device_key: phone.device_public_key().map(wire::b64),
        input_support,
        requested_at: Utc::now(),
    };
    let bytes = serde_json::to_vec(&payload)?;
    card.select_ap(Ap::Jpki)?;
    match card.verify(PinRef::Sign, &Pin::upper(sign_password))? {
        VerifyOutcome::Ok => {}
        VerifyOutcome::WrongPin { tries_left } => {
            bail!("署名用パスワードが違います（残り{tries_left}回） / wrong signing password")
        }
        VerifyOutcome::Blocked => {
            bail!("署名用パスワードがロックされています / signing password blocked")
        }
    }
    let signing_cert = card.read_certificate(CertRef::Sign)?;
    let signature = card.sign_digest_info(KeyRef::Sign, &sha256_digest_info(&bytes))?;
    Ok(SetupRequest {
        request: wire::b64(&bytes),
        signature: wire::b64(&signature),
        signing_certificate: wire::b64(&signing_cert),
        auth_certificate: wire::b64(&auth_cert),
    })
}

/// What the app tells its user: printed by the commands, silent in the demo.
type Say<'a> = &'a dyn Fn(&str);

/// Prints a line (the commands' [`Say`]).
fn print_line(line: &str) {
    println!("{line}");
}

fn apply(
    phone_path: &Path,
    card: &Path,
    sign_password: &str,
    input_pin: Option<&str>,
    center: &CenterArgs,
    say: Say,
) -> Result<(Http, SetupAccepted)> {
    let phone = PhoneFile::load(phone_path)?;
    let http = center.http()?;
    let key = center.card_data_key().unwrap_or_default();
    let req = signed_request(&phone, card, sign_password, input_pin, &key)?;
    let accepted: SetupAccepted = http.json(
        http.client
            .post(http.url("/v1/phone/applications"))
            .json(&req),
    )?;
    save_secret(
        &portal_state_path(phone_path),
        &serde_json::to_vec_pretty(&PortalState {
            center: center.center.clone(),
            application_id: accepted.application_id.clone(),
            token: accepted.token.clone(),
        })?,
    )?;
    say(&format!(
        "申請を受け付けました / set-up requested: application {} ({}), ready in about {} s",
        accepted.application_id, accepted.state, accepted.ready_in_seconds
    ));
    Ok((http, accepted))
}

/// A phone of the demo, set up for `card` end to end: made (`Pixel 8` on Android 14 with
/// phone PIN `pin` and signing password `sign_password`, or `iPhone 15` on iOS 18.5 with
/// Face ID), its set-up request signed with the card, the push awaited and the credential
/// installed. Blocking: call it from a thread of its own.
pub fn set_up_demo_phone(
    out: &Path,
    card: &Path,
    platform: Platform,
    pin: &str,
    sign_password: &str,
    center: &str,
    data_dir: &Path,
) -> Result<()> {
    let os = |v: &str| -> Result<OsVersion> { v.parse().map_err(|e| anyhow!("{v}: {e}")) };
    let (handset, pins) = match platform {
        Platform::Android => (
            Handset::android("Pixel 8", os("14")?)?,
            Some(PhonePins {
                auth: Pin::from(pin),
                sign: Pin::upper(sign_password),
            }),
        ),
        Platform::Iphone => (
            Handset::iphone("iPhone 15", os("18.5")?, Biometric::FaceId)?,
            None,
        ),
    };
    onshi_card::phone::new_phone(handset, pins)?.save(out)?;
    let center = CenterArgs {
        center: center.to_owned(),
        ca: None,
        data_dir: data_dir.to_owned(),
    };
    let input_pin = (platform == Platform::Iphone).then_some(pin);
    // Quiet: the demo's banner owns the terminal, and its output may be closed.
    let (http, _) = apply(out, card, sign_password, input_pin, &center, &|_| {})?;
    wait_with(&http, out, Duration::from_secs(120), &|_| {})
}

fn setup(a: SetupArgs) -> Result<()> {
    let (http, _) = apply(
        &a.phone,
        &a.card,
        &a.sign_password,
        a.input_pin.as_deref(),
        &a.center,
        &print_line,
    )?;
    if a.wait {
        wait_with(&http, &a.phone, Duration::from_secs(a.timeout), &print_line)?;
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct WaitArgs {
    /// The phone file.
    #[arg(long)]
    phone: PathBuf,
    /// The center's TLS CA; defaults to DATA_DIR/jlis/institution-ca.pem.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Data directory holding the J-LIS state.
    #[arg(long, default_value = "onshi-data")]
    data_dir: PathBuf,
    /// Longest wait, in seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

fn http_for_phone(phone: &Path, ca: Option<PathBuf>, data_dir: PathBuf) -> Result<Http> {
    let st = load_portal_state(phone)?;
    CenterArgs {
        center: st.center,
        ca,
        data_dir,
    }
    .http()
}

fn wait(a: WaitArgs) -> Result<()> {
    let http = http_for_phone(&a.phone, a.ca, a.data_dir)?;
    wait_with(&http, &a.phone, Duration::from_secs(a.timeout), &print_line)
}

/// One server-sent event.
struct Sse {
    event: String,
    data: String,
}

/// Opens the push channel and returns the first `ready` or `ended` event, printing each
/// event as it arrives.
fn listen(http: &Http, st: &PortalState, timeout: Duration, say: Say) -> Result<Sse> {
    let url = http.url(&format!(
        "/v1/phone/applications/{}/events",
        st.application_id
    ));
    let started = Instant::now();
    http.rt.block_on(async {
        let mut resp = http
            .client
            .get(url)
            .bearer_auth(&st.token)
            .header("accept", "text/event-stream")
            .send()
            .await
            .context("opening the push channel")?;
        if !resp.status().is_success() {
            bail!("the center refused the push channel: {}", resp.status());
        }
        let mut buf = String::new();
        loop {
            let left = timeout
                .checked_sub(started.elapsed())
                .ok_or_else(|| anyhow!("no push within {} s", timeout.as_secs()))?;
            let chunk = tokio::time::timeout(left, resp.chunk())
                .await
                .map_err(|_| anyhow!("no push within {} s", timeout.as_secs()))??;
            let Some(chunk) = chunk else {
                bail!("the push channel closed before the credential was ready");
            };
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                let mut ev = Sse {
                    event: "message".into(),
                    data: String::new(),
                };
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        ev.event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        ev.data.push_str(v.trim_start());
                    }
                }
                if ev.data.is_empty() {
                    continue; // keep-alive comment
                }
                say(&format!(
                    "push: {} after {:.1} s {}",
                    ev.event,
                    started.elapsed().as_secs_f64(),
                    ev.data
                ));
                if ev.event == EVENT_READY || ev.event == EVENT_ENDED {
                    return Ok(ev);
                }
            }
        }
    })
}

fn wait_with(http: &Http, phone_path: &Path, timeout: Duration, say: Say) -> Result<()> {
    let st = load_portal_state(phone_path)?;
    let ev = listen(http, &st, timeout, say)?;
    if ev.event == EVENT_ENDED {
        let s: PhoneStatus = serde_json::from_str(&ev.data)?;
        bail!(
            "発行されませんでした / not issued: {} ({})",
            s.state_ja,
            s.end_reason.unwrap_or_default()
        );
    }
    let cred: PhoneCredential = http.json(
        http.client
            .get(http.url(&format!(
                "/v1/phone/applications/{}/credential",
                st.application_id
            )))
            .bearer_auth(&st.token),
    )?;
    install(phone_path, &cred)?;
    say(&format!(
        "スマホ用電子証明書を登録しました / credential installed on {}",
        phone_path.display()
    ));
    Ok(())
}

fn install(phone_path: &Path, cred: &PhoneCredential) -> Result<()> {
    let d = |s: &str| wire::unb64(s).context("the center sent malformed base64");
    let mut phone = PhoneFile::load(phone_path)?;
    onshi_card::phone::install_certificates(
        &mut phone,
        PhoneCertificates {
            auth_cert: d(&cred.auth_certificate)?,
            auth_ca_cert: d(&cred.auth_ca_certificate)?,
            sign_cert: d(&cred.signing_certificate)?,
            sign_ca_cert: d(&cred.signing_ca_certificate)?,
        },
    )?;
    if let Some(m) = &cred.mdoc {
        onshi_card::phone::install_mdoc(&mut phone, d(m)?)?;
    }
    phone.save(phone_path)?;
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The phone file.
    #[arg(long)]
    phone: PathBuf,
    /// The center's TLS CA; defaults to DATA_DIR/jlis/institution-ca.pem.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Data directory holding the J-LIS state.
    #[arg(long, default_value = "onshi-data")]
    data_dir: PathBuf,
}

fn status(a: StatusArgs) -> Result<()> {
    let st = load_portal_state(&a.phone)?;
    let http = http_for_phone(&a.phone, a.ca, a.data_dir)?;
    let s: PhoneStatus = http.json(
        http.client
            .get(http.url(&format!("/v1/phone/applications/{}", st.application_id)))
            .bearer_auth(&st.token),
    )?;
    println!("{}", serde_json::to_string_pretty(&s)?);
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct PortalArgs {
    /// The My Number Card file (the portal login reads it).
    #[arg(long)]
    card: PathBuf,
    /// The card's 利用者証明用パスワード (4 digits).
    #[arg(long, env = "ONSHI_CARD_PIN")]
    pin: String,
    /// The phone to act on: its application id …
    #[arg(long)]
    application: Option<String>,
    /// … or its phone file (the id is read from PHONE.portal.json).
    #[arg(long)]
    phone: Option<PathBuf>,
    #[command(flatten)]
    center: CenterArgs,
}

enum PortalAction {
    List,
    Suspend,
    Resume,
}

/// Logs in at the portal with the card: its user-authentication key signs the portal's
/// challenge after the PIN.
fn card_login(http: &Http, card_path: &Path, pin: &str) -> Result<CardLogin> {
    #[derive(serde::Deserialize)]
    struct Ch {
        challenge: String,
    }
    let ch: Ch = http.json(
        http.client
            .post(http.url("/v1/portal/challenge"))
            .json(&json!({})),
    )?;
    let challenge = wire::unb64(&ch.challenge).context("malformed challenge")?;
    let signed_at = Utc::now()
        .with_timezone(&onshi_pki::jst())
        .format("%Y%m%d%H%M%S")
        .to_string();
    let mut card = JpkiClient::new(FileBackedCard::open(card_path)?);
    let certificate = card.auth_certificate()?;
    let message = wire::portal_message(&challenge, &signed_at);
    match card.authenticate(&Pin::from(pin), &message)? {
        (VerifyOutcome::Ok, Some(signature)) => Ok(CardLogin {
            certificate: wire::b64(&certificate),
            challenge: ch.challenge,
            signed_at,
            signature: wire::b64(&signature),
        }),
        (VerifyOutcome::WrongPin { tries_left }, _) => {
            bail!("暗証番号が違います（残り{tries_left}回） / wrong PIN")
        }
        _ => bail!("暗証番号がロックされています / PIN blocked"),
    }
}

fn portal(a: PortalArgs, action: PortalAction) -> Result<()> {
    let http = a.center.http()?;
    let id = match (&a.application, &a.phone) {
        (Some(id), _) => Some(id.clone()),
        (None, Some(p)) => Some(load_portal_state(p)?.application_id),
        (None, None) => None,
    };
    let login = card_login(&http, &a.card, &a.pin)?;
    let path = match (action, id) {
        (PortalAction::List, _) => "/v1/portal/phones".to_owned(),
        (PortalAction::Suspend, Some(id)) => format!("/v1/portal/phones/{id}/suspend"),
        (PortalAction::Resume, Some(id)) => format!("/v1/portal/phones/{id}/resume"),
        (_, None) => bail!("name the phone with --application or --phone"),
    };
    let answer: serde_json::Value = http.json(http.client.post(http.url(&path)).json(&login))?;
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct ReplaceArgs {
    /// The new phone file.
    #[arg(long)]
    phone: PathBuf,
    /// The old phone file: its credential is removed once the new one is installed.
    #[arg(long)]
    old: Option<PathBuf>,
    /// The My Number Card file.
    #[arg(long)]
    card: PathBuf,
    /// The card's 署名用パスワード.
    #[arg(long, env = "ONSHI_CARD_SIGN_PASSWORD")]
    sign_password: String,
    /// iPhone: the card's 券面事項入力補助用暗証番号.
    #[arg(long, env = "ONSHI_CARD_INPUT_PIN")]
    input_pin: Option<String>,
    #[command(flatten)]
    center: CenterArgs,
    /// Longest wait for the push, in seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

fn replace(a: ReplaceArgs) -> Result<()> {
    let (http, _) = apply(
        &a.phone,
        &a.card,
        &a.sign_password,
        a.input_pin.as_deref(),
        &a.center,
        &print_line,
    )?;
    wait_with(&http, &a.phone, Duration::from_secs(a.timeout), &print_line)?;
    if let Some(old) = &a.old {
        let mut f = PhoneFile::load(old)?;
        onshi_card::phone::remove_credentials(&mut f);
        f.save(old)?;
        println!(
            "機種変更しました / the old phone {} no longer holds the credential",
            old.display()
        );
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BiometricTry {
    /// The enrolled face or finger.
    Match,
    /// Someone else's face or finger.
    Mismatch,
    /// The device passcode instead (refused by the credential).
    Passcode,
}

#[derive(Debug, clap::Args)]
pub struct ReceptionArgs {
    /// The phone file, held to the reader in process (counter changes are saved).
    #[arg(long)]
    phone: PathBuf,
    /// The center, `https://HOST:PORT`.
    #[arg(long)]
    center: String,
    /// The terminal's enrolment directory (terminal.crt.pem, terminal.key.pem, ca.pem).
    #[arg(long)]
    cert: PathBuf,
    /// What the patient chooses on the reader.
    #[arg(long, value_enum)]
    kind: PlatformArg,
    /// Android: phone PIN entries in order (repeat for a wrong entry first).
    #[arg(long = "pin")]
    pins: Vec<String>,
    /// iPhone: what the patient does on the phone before each tap, in order.
    #[arg(long = "biometric", value_enum)]
    biometrics: Vec<BiometricTry>,
    /// Kinds agreed on the consent screens (comma-separated).
    #[arg(long, value_delimiter = ',')]
    consent: Vec<String>,
    /// Evaluation date; the center's today when omitted.
    #[arg(long)]
    as_of: Option<chrono::NaiveDate>,
    /// Data directory holding the J-LIS state (card-data key).
    #[arg(long, default_value = "onshi-data")]
    data_dir: PathBuf,
}

fn msg_json(m: &onshi_clinic::Message) -> serde_json::Value {
    json!({"id": m.id(), "text": m.text(Lang::Ja)})
}

fn reception(a: ReceptionArgs) -> Result<()> {
    let credentials = TerminalCredentials::load(&a.cert)?;
    let institution = credentials.institution_code()?;
    let center = BlockingCenter::new(CenterClient::new(&a.center, &credentials)?)?;
    let card_data_key = std::fs::read(
        a.data_dir
            .join("jlis")
            .join(onshi_card::issue::CARD_DATA_PUBLIC_KEY_FILE),
    )
    .unwrap_or_default();
    let mut consents = Vec::new();
    for name in &a.consent {
        consents.push(
            onshi_clinic::wire::parse_consent_name(name)
                .ok_or_else(|| anyhow!("--consent: unknown kind {name:?}"))?,
        );
    }
    let reader = Reader::new(
        center,
        ReaderConfig {
            institution,
            card_data_key,
            face_attempts: 1,
            lang: Lang::Ja,
            as_of: a.as_of,
        },
        Box::new(onshi_face::ClassicMatcher::default()),
        onshi_clinic::CLASSIC_MATCHER_NAME,
    );
    let kind = match a.kind {
        PlatformArg::Android => PhoneKind::Android,
        PlatformArg::Iphone => PhoneKind::Iphone,
    };
    let mut shown = Vec::new();
    let mut note = |s: &PhoneReception<FileBackedPhone, BlockingCenter>| {
        for m in s.messages() {
            eprintln!("[{}] {}", s.name(), m.text(Lang::Ja));
            shown.push(json!({"state": s.name(), "id": m.id(), "text": m.text(Lang::Ja)}));
        }
    };
    // The reader trusts J-LIS's document signer of the iPhone's record.
    let signer = a.data_dir.join("jlis").join("doc-signer.der");
    let trust = PhoneTrust {
        document_signers: std::fs::read(&signer).map(|d| vec![d]).unwrap_or_default(),
    };
    let choose = reader.start().use_phone(trust).choose(kind);
    let channel = FileBackedPhone::open(&a.phone)?;
    let mut state = choose.phone_placed(channel);
    let mut pins = a.pins.iter();
    let mut tries = a.biometrics.iter();
    let end = loop {
        note(&state);
        state = match state {
            PhoneReception::ExpectPhonePin(s) => match pins.next() {
                Some(pin) => s.enter(Pin::from(pin.as_str())),
                None => {
                    break json!({"outcome": "stopped", "state": "ExpectPhonePin", "reason": "no more --pin"});
                }
            },
            PhoneReception::ExpectBiometric(mut s) => match tries.next() {
                Some(t) => {
                    let phone = s.channel_mut().phone_mut();
                    let sensor = phone
                        .file()
                        .handset
                        .biometric()
                        .unwrap_or(Biometric::FaceId);
                    let outcome = match t {
                        BiometricTry::Match => phone.present_biometric(sensor, true),
                        BiometricTry::Mismatch => phone.present_biometric(sensor, false),
                        BiometricTry::Passcode => phone.present_passcode(),
                    };
                    eprintln!("[phone] {outcome:?}");
                    s.presented()
                }
                None => {
                    break json!({"outcome": "stopped", "state": "ExpectBiometric", "reason": "no more --biometric"});
                }
            },
            PhoneReception::ExpectPhoneConsent(s) => s.answer_all(&consents),
            PhoneReception::Done(d) => {
                break json!({
                    "outcome": "done",
                    "method": d.method,
                    "consents": d.consents.iter().map(|k| onshi_clinic::wire::consent_name(*k)).collect::<Vec<_>>(),
                    "notices": d.notices.iter().map(msg_json).collect::<Vec<_>>(),
                    "record": d.record.as_ref().map(|r| json!({
                        "name": r.name,
                        "address": r.address,
                        "birth_date": r.birth_date,
                        "sex": r.sex,
                        "portrait_bytes": r.portrait.as_ref().map(Vec::len),
                        "my_number_disclosed": r.my_number.is_some(),
                    })),
                    "result": d.check,
                });
            }
            PhoneReception::Failed(f) => {
                break json!({
                    "outcome": "failed",
                    "failure": msg_json(&f.failure),
                    "problem": f.problem.as_ref().map(|p| p.as_str()),
                });
            }
            other @ (PhoneReception::ExpectPhone(_) | PhoneReception::ExpectPhoneKind(_)) => {
                break json!({"outcome": "stopped", "state": other.name(), "reason": "the phone was not read"});
            }
        };
    };
    let mut out = end;
    out["messages"] = serde_json::Value::Array(shown);
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
