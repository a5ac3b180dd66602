//! The virtual card seen through tools nobody here wrote: pcscd with the vsmartcard vpcd
//! reader, OpenSC's `pkcs15-tool` and `pkcs11-tool`, and `openssl`.
//!
//! `tests/pcsc-env.sh` starts pcscd when needed. Without the packages the tests print
//! why and pass, unless `ONSHI_REQUIRE_PCSC=1` (set it in CI) makes that a failure.
//! There is one vpcd reader, so the tests take turns.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{NaiveDate, TimeZone, Utc};
use onshi_card::layout::PinRef;
use onshi_card::{CardFile, CardPins, FileBackedCard, IssueOptions, Person, Pin, Sex, vpcd};
use onshi_model::MyNumber;

const AUTH_PIN: &str = "1234";
const VPCD: &str = "127.0.0.1:35963";

static TURN: Mutex<()> = Mutex::new(());

struct Env {
    module: PathBuf,
    _turn: MutexGuard<'static, ()>,
}

/// pcscd ready and the OpenSC PKCS#11 module found, or `None` (skip) when the packages are
/// missing and CI did not ask for them.
fn env() -> Option<Env> {
    let turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pcsc-env.sh");
    let status = Command::new("sh")
        .arg(&script)
        .status()
        .expect("run pcsc-env.sh");
    let required = std::env::var("ONSHI_REQUIRE_PCSC").is_ok_and(|v| v == "1");
    if !status.success() {
        assert!(
            !required,
            "pcsc-env.sh failed ({status}) and ONSHI_REQUIRE_PCSC=1"
        );
        eprintln!("SKIPPED: pcscd/vpcd/OpenSC not available ({status})");
        return None;
    }
    let module = std::env::var_os("ONSHI_OPENSC_PKCS11")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            [
                "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
                "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
                "/usr/lib64/opensc-pkcs11.so",
                "/usr/lib/opensc-pkcs11.so",
            ]
            .map(PathBuf::from),
        )
        .find(|p| p.exists());
    match module {
        Some(module) => Some(Env {
            module,
            _turn: turn,
        }),
        None => {
            assert!(!required, "opensc-pkcs11.so not found");
            eprintln!("SKIPPED: opensc-pkcs11.so not found");
            None
        }
    }
}

/// Issues a card (aged 45, with a signing certificate) into `dir/card.json`.
fn issue(dir: &Path) -> PathBuf {
    let now = Utc.with_ymd_and_hms(2025, 4, 1, 3, 0, 0).unwrap();
    let jlis_dir = dir.join("jlis");
    let mut jlis = onshi_pki::Jlis::load_or_create(&jlis_dir, now, None).unwrap();
    let key = onshi_card::card_data_key(&jlis_dir).unwrap();
    let card = onshi_card::issue_card(
        &mut jlis,
        key.as_ref(),
        &Person {
            name: "診療　花子".into(),
            name_kana: "シンリョウ　ハナコ".into(),
            address: "大阪府大阪市北区中之島１－３－２０".into(),
            birth_date: NaiveDate::from_ymd_opt(1980, 6, 15).unwrap(),
            sex: Sex::Female,
            my_number: MyNumber::from_payload(98_765_432_109).unwrap(),
        },
        &CardPins {
            auth: Pin::from(AUTH_PIN),
            sign: Some(Pin::from("SIGN2025")),
            input_support: Pin::from("5678"),
        },
        &IssueOptions {
            issued_at: now,
            face_photo: vec![0xFF, 0x4F, 0xFF, 0x51],
            security_code: None,
        },
    )
    .unwrap();
    let path = dir.join("card.json");
    card.save(&path).unwrap();
    path
}

/// A card served to pcscd through vpcd until dropped.
struct Attached {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Attached {
    fn new(env: &Env, card: &Path) -> Self {
        let mut backed = FileBackedCard::open(card).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let mut stream = vpcd::connect(VPCD, Duration::from_secs(10)).expect("connect to vpcd");
        let thread =
            std::thread::spawn(move || match vpcd::serve(&mut stream, &mut backed, &flag) {
                Ok(()) | Err(vpcd::VpcdError::Closed) => {}
                Err(e) => panic!("vpcd: {e}"),
            });
        let attached = Self {
            stop,
            thread: Some(thread),
        };
        // Wait until OpenSC sees a JPKI card in the reader.
        let started = Instant::now();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = run("pkcs15-tool", &["--list-pins"]);
            if out.status.success() && stdout(&out).contains("User Authentication PIN") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "card never appeared: {}{}",
                stdout(&out),
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        eprintln!("card visible after {:?}", started.elapsed());
        let _ = env;
        attached
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // Let pcscd notice the card is gone before the next test attaches one.
        std::thread::sleep(Duration::from_millis(600));
    }
}

fn run(tool: &str, args: &[&str]) -> Output {
    Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .unwrap()
}

/// Signs `message` with the user-authentication key through PKCS#11.
fn pkcs11_sign(env: &Env, dir: &Path, pin: &str, message: &[u8]) -> (Output, PathBuf) {
    let input = dir.join("message.bin");
    let output = dir.join("signature.bin");
    let _ = std::fs::remove_file(&output);
    std::fs::write(&input, message).unwrap();
    let out = run(
        "pkcs11-tool",
        &[
            "--module",
            env.module.to_str().unwrap(),
            "--login",
            "--pin",
            pin,
            "--sign",
            "--id",
            "01",
            "--mechanism",
            "SHA256-RSA-PKCS",
            "--input-file",
            input.to_str().unwrap(),
            "--output-file",
            output.to_str().unwrap(),
        ],
    );
    (out, output)
}

fn tries_left(card: &Path) -> u8 {
    CardFile::load(card).unwrap().jpki.auth_pin.tries_left
}

#[test]
fn pkcs15_tool_lists_and_reads_the_issued_certificates() {
    let Some(env) = env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let card_path = issue(dir.path());
    let card = CardFile::load(&card_path).unwrap();
    let _attached = Attached::new(&env, &card_path);

    let out = run("pkcs15-tool", &["--list-certificates"]);
    let listing = stdout(&out);
    assert!(out.status.success(), "{listing}");
    assert!(
        listing.contains("User Authentication Certificate"),
        "{listing}"
    );
    assert!(
        listing.contains("User Authentication Certificate CA"),
        "{listing}"
    );
    assert!(
        listing.contains("Digital Signature Certificate CA"),
        "{listing}"
    );

    for (id, expected) in [
        ("01", &card.jpki.auth_cert),
        ("03", &card.jpki.auth_ca_cert),
        ("04", &card.jpki.signing.as_ref().unwrap().ca_cert),
    ] {
        let out = run("pkcs15-tool", &["--read-certificate", id]);
        assert!(
            out.status.success(),
            "{id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(&pem_to_der(&stdout(&out)), expected, "certificate {id}");
    }
    // The signing certificate is private: no signing-password VERIFY, no certificate.
    let out = run("pkcs15-tool", &["--read-certificate", "02"]);
    assert!(
        !out.status.success() || pem_to_der_opt(&stdout(&out)).is_none(),
        "signing certificate read without the password"
    );
}

fn pem_to_der_opt(pem: &str) -> Option<Vec<u8>> {
    pem.contains("-----BEGIN CERTIFICATE")
        .then(|| pem_to_der(pem))
}

#[test]
fn pkcs11_signature_verifies_with_openssl_and_wrong_pins_block_until_reset() {
    let Some(env) = env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let card_path = issue(dir.path());
    let card = CardFile::load(&card_path).unwrap();
    let cert_pem = dir.path().join("auth.pem");
    std::fs::write(
        &cert_pem,
        onshi_pki::to_pem("CERTIFICATE", &card.jpki.auth_cert),
    )
    .unwrap();
    let pubkey = dir.path().join("auth-pub.pem");
    let out = run(
        "openssl",
        &[
            "x509",
            "-in",
            cert_pem.to_str().unwrap(),
            "-pubkey",
            "-noout",
            "-out",
            pubkey.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let message = b"challenge 7f3a || 1312345678 || 20250401120000";
    let verify = |sig: &Path| {
        let msg = dir.path().join("message.bin");
        std::fs::write(&msg, message).unwrap();
        run(
            "openssl",
            &[
                "dgst",
                "-sha256",
                "-verify",
                pubkey.to_str().unwrap(),
                "-signature",
                sig.to_str().unwrap(),
                msg.to_str().unwrap(),
            ],
        )
    };

    {
        let _attached = Attached::new(&env, &card_path);
        let (out, sig) = pkcs11_sign(&env, dir.path(), AUTH_PIN, message);
        assert!(
            out.status.success(),
            "{}{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        );
        let v = verify(&sig);
        assert!(
            v.status.success() && stdout(&v).contains("Verified OK"),
            "{}",
            stdout(&v)
        );
        // A tampered signature does not verify: the check above can fail.
        let mut bytes = std::fs::read(&sig).unwrap();
        bytes[100] ^= 1;
        std::fs::write(&sig, &bytes).unwrap();
        assert!(!verify(&sig).status.success());
        assert_eq!(tries_left(&card_path), 3);

        // Wrong PINs: refused, and the counter (saved in the card file) goes down.
        for expected_left in [2u8, 1, 0] {
            let (out, _) = pkcs11_sign(&env, dir.path(), "0000", message);
            assert!(!out.status.success(), "wrong PIN accepted");
            assert_eq!(tries_left(&card_path), expected_left);
        }
        let out = run("pkcs15-tool", &["--list-pins"]);
        assert!(stdout(&out).contains("Tries left"), "{}", stdout(&out));
        // Blocked: the right PIN no longer signs and spends nothing.
        let (out, sig) = pkcs11_sign(&env, dir.path(), AUTH_PIN, message);
        assert!(!out.status.success(), "blocked PIN signed");
        assert!(!sig.exists() || std::fs::read(&sig).unwrap().is_empty());
        assert_eq!(tries_left(&card_path), 0);
    }

    // 市区町村窓口: reset the PIN on the detached card file, then sign again.
    let mut file = CardFile::load(&card_path).unwrap();
    file.reset_pin(PinRef::Auth, Pin::from("8642")).unwrap();
    file.save(&card_path).unwrap();
    let _attached = Attached::new(&env, &card_path);
    let (out, sig) = pkcs11_sign(&env, dir.path(), "8642", message);
    assert!(
        out.status.success(),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(verify(&sig).status.success());
    assert_eq!(tries_left(&card_path), 3);
}

/// The clinic path: our PC/SC client and reader-side client against the card in pcscd.
#[cfg(feature = "pcsc")]
#[test]
fn pcsc_client_authenticates_and_reads_the_card_face_through_pcscd() {
    use onshi_card::{JpkiClient, PcscChannel, VerifyOutcome};
    let Some(env) = env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let card_path = issue(dir.path());
    let card = CardFile::load(&card_path).unwrap();
    let card_data_spki = std::fs::read(dir.path().join("jlis/card-data-key.der")).unwrap();
    let _attached = Attached::new(&env, &card_path);

    let channel = PcscChannel::connect("Virtual PCD").unwrap();
    assert_eq!(channel.atr().unwrap(), onshi_card::layout::ATR);
    let mut client = JpkiClient::new(channel);
    assert_eq!(client.token_info().unwrap(), "JPKIAPICCTOKEN2");
    assert_eq!(client.auth_certificate().unwrap(), card.jpki.auth_cert);
    assert_eq!(client.tries_left(PinRef::Auth).unwrap(), 3);
    let (outcome, sig) = client.authenticate(&Pin::from(AUTH_PIN), b"nonce").unwrap();
    assert_eq!(outcome, VerifyOutcome::Ok);
    let key = onshi_pki::RsaKeyPair::from_pkcs8(card.jpki.auth_key_pkcs8.expose()).unwrap();
    onshi_pki::verify_signature(key.public_key_spki(), b"nonce", &sig.unwrap()).unwrap();
    let (outcome, _) = client.authenticate(&Pin::from("0000"), b"nonce").unwrap();
    assert_eq!(outcome, VerifyOutcome::WrongPin { tries_left: 2 });

    let b = Pin::new(card.printed.matching_number_b().into_bytes());
    let face = client.read_card_face(&b, &card_data_spki).unwrap().unwrap();
    assert_eq!(face.face.birth_date, card.printed.birth_date);
    let (o, attrs) = client
        .read_input_support(&Pin::from("5678"), &card_data_spki)
        .unwrap();
    assert_eq!(o, VerifyOutcome::Ok);
    assert_eq!(attrs.unwrap().1.name, card.printed.name);
}
