//! The registry operations that join J-LIS and the center: issuing a card to a person
//! the center knows (and registering its certificate), revoking it, and enrolling a clinic
//! terminal. In the real system these cross organisations; here the CLI plays the
//! operator of each, with the J-LIS state directory and the center's database.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use onshi_card::{CardFile, CardPins, IssueOptions, Person, Pin};
use onshi_model::InstitutionCode;
use onshi_pki::{CaKind, Jlis, to_pem};
use onshi_store::{CardCertificate, Store, TerminalRow};

/// Hex SHA-256 of a certificate, the key under which the center registers it.
pub fn fingerprint(der: &[u8]) -> String {
    onshi_center::hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der).as_ref())
}

pub(crate) fn open_jlis(data_dir: &Path) -> Result<(PathBuf, Jlis)> {
    let dir = data_dir.join("jlis");
    let jlis = Jlis::load_or_create(&dir, Utc::now(), None).context("opening J-LIS state")?;
    Ok((dir, jlis))
}

/// `onshi card issue-for`: a card for a person of the center's database, with their
/// synthetic face as the card photo, its certificate registered with the center.
#[derive(Debug, clap::Args)]
pub struct IssueForArgs {
    /// The center's database.
    #[arg(long, env = "ONSHI_DATABASE_URL")]
    pub database_url: String,
    /// Data directory; J-LIS state lives in DATA_DIR/jlis.
    #[arg(long, default_value = "onshi-data")]
    pub data_dir: PathBuf,
    /// The person's id in the center.
    #[arg(long)]
    pub person: i64,
    /// Card file to write (mode 0600; refuses to overwrite).
    #[arg(long, short)]
    pub out: PathBuf,
    /// 利用者証明用パスワード (4 digits).
    #[arg(long, env = "ONSHI_CARD_PIN")]
    pub pin: String,
    /// 署名用パスワード (6-16 of A-Z 0-9); required from age 15.
    #[arg(long, env = "ONSHI_CARD_SIGN_PASSWORD", default_value = "ONSHI2025")]
    pub sign_password: String,
}

pub fn issue_for(args: IssueForArgs) -> Result<()> {
    if args.out.exists() {
        bail!("{} exists; not overwriting a card", args.out.display());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = rt.block_on(Store::connect(&args.database_url))?;
    let p = rt
        .block_on(store.person(args.person))?
        .with_context(|| format!("no person {} in the center", args.person))?;
    let (jlis_dir, mut jlis) = open_jlis(&args.data_dir)?;
    let key = onshi_card::card_data_key(&jlis_dir)?;
    let card = issue_and_register(
        &rt,
        &store,
        &mut jlis,
        key.as_ref(),
        &p,
        &args.pin,
        &args.sign_password,
    )?;
    card.save(&args.out)?;
    println!(
        "issued card {} for person {} -> {}",
        card.serial,
        p.id,
        args.out.display()
    );
    Ok(())
}

/// Issues a card to a person of the center (their synthetic face as the photo, the same
/// PIN for authentication and input support) and registers its certificate.
pub(crate) fn issue_and_register(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    jlis: &mut Jlis,
    card_data: &dyn onshi_pki::Signer,
    p: &onshi_store::PersonRow,
    pin: &str,
    sign_password: &str,
) -> Result<CardFile> {
    let photo = onshi_face::render_card_photo(p.face_seed as u64)
        .encode(onshi_face::ImageFormat::Jpeg { quality: 75 })
        .context("encoding the card photo")?;
    let card = onshi_card::issue_card(
        jlis,
        card_data,
        &Person {
            name: p.name.full(),
            name_kana: p.name.full_kana(),
            address: p.address.clone(),
            birth_date: p.birth_date,
            sex: p.sex,
            my_number: p.my_number.clone(),
        },
        &CardPins {
            auth: Pin::from(pin),
            sign: Some(Pin::upper(sign_password)),
            input_support: Pin::from(pin),
        },
        &IssueOptions {
            issued_at: Utc::now(),
            face_photo: photo,
            security_code: None,
        },
    )?;
    register(rt, store, jlis, &card, p.id)?;
    Ok(card)
}

/// Registers a card's user-authentication certificate with the center.
fn register(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    jlis: &Jlis,
    card: &CardFile,
    person_id: i64,
) -> Result<()> {
    let der = &card.jpki.auth_cert;
    let trust = jlis.trust_store(onshi_pki::TrustPolicy::default())?;
    let v = trust
        .verify(der, Utc::now())
        .context("the issued certificate does not verify")?;
    rt.block_on(store.register_card_certificate(&CardCertificate {
        fingerprint: fingerprint(der),
        issuer: v.issuer().label().to_owned(),
        serial: v.serial().to_hex(),
        person_id,
        issued_at: v.not_before().naive_utc(),
        not_after: v.not_after().naive_utc(),
        revoked_at: None,
        revocation_reason: None,
    }))?;
    Ok(())
}

/// `onshi card revoke`: J-LIS revokes a card's certificates (lost card, death …).
#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The center's database.
    #[arg(long, env = "ONSHI_DATABASE_URL")]
    pub database_url: String,
    /// The card file whose certificate to revoke.
    pub file: PathBuf,
    /// Why (lost, death, attribute-change, …).
    #[arg(long, default_value = "lost")]
    pub reason: String,
}

pub fn revoke(args: RevokeArgs) -> Result<()> {
    let card = CardFile::load(&args.file)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = rt.block_on(Store::connect(&args.database_url))?;
    let fp = fingerprint(&card.jpki.auth_cert);
    if !rt.block_on(store.revoke_card_certificate(&fp, Utc::now().naive_utc(), &args.reason))? {
        bail!(
            "card {} is unknown to the center or already revoked",
            card.serial
        );
    }
    println!(
        "revoked the certificate of card {} ({})",
        card.serial, args.reason
    );
    Ok(())
}

/// `onshi terminal-enroll`: a TLS client certificate for a clinic terminal, from the
/// institution CA, recorded by the center.
#[derive(Debug, clap::Args)]
pub struct EnrollArgs {
    /// Data directory; the institution CA lives in DATA_DIR/jlis.
    #[arg(long, default_value = "onshi-data")]
    pub data_dir: PathBuf,
    /// The center's database.
    #[arg(long, env = "ONSHI_DATABASE_URL")]
    pub database_url: String,
    /// 医療機関コード of a registered institution.
    #[arg(long)]
    pub institution: String,
    /// The terminal's id within the institution.
    #[arg(long, default_value = "T01")]
    pub terminal_id: String,
    /// Where to write terminal.crt.pem, terminal.key.pem and ca.pem.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn enroll(args: EnrollArgs) -> Result<()> {
    let code = InstitutionCode::parse(&args.institution)
        .map_err(|e| anyhow::anyhow!("--institution: {e}"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = rt.block_on(Store::connect(&args.database_url))?;
    if rt.block_on(store.institution(&code))?.is_none() {
        bail!("institution {code} is not registered with the center");
    }
    let (_, mut jlis) = open_jlis(&args.data_dir)?;
    let issued = jlis.issue_terminal_with_key(code.as_str(), &args.terminal_id, Utc::now())?;
    rt.block_on(store.enroll_terminal(&TerminalRow {
        fingerprint: fingerprint(&issued.cert.der),
        institution_code: code.to_string(),
        terminal_id: args.terminal_id.clone(),
        serial: issued.cert.serial.to_hex(),
        enrolled_at: Utc::now().naive_utc(),
        revoked_at: None,
    }))?;
    std::fs::create_dir_all(&args.out)?;
    std::fs::write(
        args.out.join("terminal.crt.pem"),
        to_pem("CERTIFICATE", &issued.cert.der),
    )?;
    write_secret(
        &args.out.join("terminal.key.pem"),
        to_pem("PRIVATE KEY", issued.key.pkcs8_der()).as_bytes(),
    )?;
    std::fs::write(
        args.out.join("ca.pem"),
        jlis.ca(CaKind::Institution).cert_pem(),
    )?;
    println!(
        "enrolled terminal {}/{} -> {}",
        code,
        args.terminal_id,
        args.out.display()
    );
    Ok(())
}

fn write_secret(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    o.mode(0o600);
    o.open(path)?.write_all(bytes)?;
    Ok(())
}

/// `onshi terminal-revoke`: the center stops accepting a terminal's certificate.
#[derive(Debug, clap::Args)]
pub struct TerminalRevokeArgs {
    /// The center's database.
    #[arg(long, env = "ONSHI_DATABASE_URL")]
    pub database_url: String,
    /// 医療機関コード.
    #[arg(long)]
    pub institution: String,
    /// The terminal's id within the institution.
    #[arg(long)]
    pub terminal_id: String,
}

pub fn revoke_terminal(args: TerminalRevokeArgs) -> Result<()> {
    let code = InstitutionCode::parse(&args.institution)
        .map_err(|e| anyhow::anyhow!("--institution: {e}"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = rt.block_on(Store::connect(&args.database_url))?;
    let n = rt.block_on(store.revoke_terminal(&code, &args.terminal_id, Utc::now().naive_utc()))?;
    if n == 0 {
        bail!(
            "no enrolled, unrevoked terminal {code}/{}",
            args.terminal_id
        );
    }
    println!(
        "revoked terminal {code}/{} ({n} certificate(s)); centers apply it within seconds",
        args.terminal_id
    );
    Ok(())
}
