//! The phones through pcscd and the vsmartcard vpcd reader, as a clinic's general-purpose
//! reader sees them: the phone is served over vpcd from its file, and the reader talks to
//! it through PC/SC ([`PcscChannel`]) with the same client code as in-process.
//!
//! `tests/pcsc-env.sh` starts pcscd when needed. Without the packages the tests print why
//! and pass, unless `ONSHI_REQUIRE_PCSC=1` makes that a failure. One vpcd reader: the
//! tests take turns.
#![cfg(feature = "pcsc")]

mod phone_support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use onshi_card::layout::{Ap, CertRef, KeyRef, PinRef};
use onshi_card::onsign::sha256_digest_info;
use onshi_card::phone::reader::{self, Holder};
use onshi_card::phone::{FileBackedPhone, PHONE_ATR, PhoneFile};
use onshi_card::{JpkiClient, PcscChannel, Pin, VerifyOutcome, vpcd};
use onshi_pki::{CertKind, TrustPolicy};
use phone_support::*;

const VPCD: &str = "127.0.0.1:35963";

static TURN: Mutex<()> = Mutex::new(());

/// pcscd ready, or `None` (skip) when the packages are missing and CI did not ask.
fn env() -> Option<MutexGuard<'static, ()>> {
    let turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pcsc-env.sh");
    let status = std::process::Command::new("sh")
        .arg(&script)
        .status()
        .expect("run pcsc-env.sh");
    let required = std::env::var("ONSHI_REQUIRE_PCSC").is_ok_and(|v| v == "1");
    if !status.success() {
        assert!(
            !required,
            "pcsc-env.sh failed ({status}) and ONSHI_REQUIRE_PCSC=1"
        );
        eprintln!("SKIPPED: pcscd/vpcd not available ({status})");
        return None;
    }
    Some(turn)
}

/// A phone file served to pcscd through vpcd until dropped.
struct Attached {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Attached {
    fn new(path: &Path, unlock: impl FnOnce(&mut FileBackedPhone) + Send + 'static) -> Self {
        let mut backed = FileBackedPhone::open(path).unwrap();
        unlock(&mut backed);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let mut stream = vpcd::connect(VPCD, Duration::from_secs(10)).expect("connect to vpcd");
        let thread =
            std::thread::spawn(move || match vpcd::serve(&mut stream, &mut backed, &flag) {
                Ok(()) | Err(vpcd::VpcdError::Closed) => {}
                Err(e) => panic!("vpcd: {e}"),
            });
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        std::thread::sleep(Duration::from_millis(600));
    }
}

/// Connects through PC/SC to the phone in the vpcd reader, waiting for it to appear.
fn reader_channel() -> PcscChannel {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(ch) = PcscChannel::connect("Virtual PCD")
            && ch.atr().is_ok_and(|a| a == PHONE_ATR)
        {
            return ch;
        }
        assert!(
            Instant::now() < deadline,
            "the phone never appeared in the reader"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn android_phone_over_vpcd_and_pcscd() {
    let Some(_turn) = env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let path = dir.path().join("android.json");
    android(&mut jlis).save(&path).unwrap();
    let store = jlis.trust_store(TrustPolicy::default()).unwrap();
    {
        let _attached = Attached::new(&path, |_| {});
        let mut client = JpkiClient::new(reader_channel());
        assert_eq!(client.reset().unwrap(), PHONE_ATR.to_vec());
        assert_eq!(reader::identify(&mut client).unwrap(), Holder::AndroidPhone);
        assert!(client.select_ap(Ap::CardFace).is_err());
        // Wrong PIN twice: tries left 2, then 1.
        for left in [2u8, 1] {
            let (o, auth) =
                reader::authenticate_android(&mut client, &Pin::from("0000"), b"m").unwrap();
            assert_eq!(o, VerifyOutcome::WrongPin { tries_left: left });
            assert!(auth.is_none());
        }
        // The right PIN: certificate and signature, checked against the phone CA.
        let message = b"reception over PC/SC";
        let started = Instant::now();
        let (o, auth) =
            reader::authenticate_android(&mut client, &Pin::from(PHONE_PIN), message).unwrap();
        eprintln!(
            "Android PIN + certificate + signature over PC/SC: {:?}",
            started.elapsed()
        );
        assert_eq!(o, VerifyOutcome::Ok);
        let auth = auth.unwrap();
        let cert = store
            .verify_kind(&auth.certificate, now(), &[CertKind::PhoneAuth])
            .unwrap();
        cert.verify_signature(message, &auth.signature).unwrap();
        // Signing after the signing password.
        client.select_ap(Ap::Jpki).unwrap();
        let o = client
            .verify(PinRef::Sign, &Pin::upper(PHONE_SIGN_PASSWORD))
            .unwrap();
        assert_eq!(o, VerifyOutcome::Ok);
        let sign_cert = client.read_certificate(CertRef::Sign).unwrap();
        let sig = client
            .sign_digest_info(KeyRef::Sign, &sha256_digest_info(b"doc"))
            .unwrap();
        store
            .verify_kind(&sign_cert, now(), &[CertKind::PhoneSigning])
            .unwrap()
            .verify_signature(b"doc", &sig)
            .unwrap();
        // Three wrong PINs block it; the block is saved in the phone's file.
        for _ in 0..3 {
            reader::authenticate_android(&mut client, &Pin::from("0000"), b"m").unwrap();
        }
        let (o, _) =
            reader::authenticate_android(&mut client, &Pin::from(PHONE_PIN), b"m").unwrap();
        assert_eq!(o, VerifyOutcome::Blocked);
    }
    let saved = PhoneFile::load(&path).unwrap();
    assert_eq!(saved.pin_record(PinRef::Auth).unwrap().tries_left, 0);
}

#[test]
fn iphone_over_vpcd_and_pcscd_after_face_id() {
    use onshi_card::phone::Biometric;
    use onshi_card::phone::reader::{IphoneOutcome, RecordOutcome};
    let Some(_turn) = env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut jlis = jlis(dir.path());
    let (file, trusted) = iphone_with_record(&mut jlis);
    let path = dir.path().join("iphone.json");
    file.save(&path).unwrap();
    let store = jlis.trust_store(TrustPolicy::default()).unwrap();
    let at = now() + chrono::Duration::days(1);
    // First without the biometric: both applets refuse.
    {
        let _attached = Attached::new(&path, |_| {});
        let mut client = JpkiClient::new(reader_channel());
        assert_eq!(reader::identify(&mut client).unwrap(), Holder::Iphone);
        assert_eq!(
            reader::authenticate_iphone(&mut client, b"m").unwrap(),
            IphoneOutcome::BiometricRequired
        );
        let outcome = reader::read_card_record(
            client.channel_mut(),
            &onshi_mdoc::DeviceRequest::all(),
            std::slice::from_ref(&trusted),
            at,
        )
        .unwrap();
        assert!(matches!(outcome, RecordOutcome::BiometricRequired));
    }
    // The patient passes Face ID, then holds the phone to the reader.
    let _attached = Attached::new(&path, |p| {
        p.phone_mut().present_biometric(Biometric::FaceId, true);
    });
    let mut client = JpkiClient::new(reader_channel());
    let message = b"reception over PC/SC";
    let started = Instant::now();
    let IphoneOutcome::Authenticated(auth) =
        reader::authenticate_iphone(&mut client, message).unwrap()
    else {
        panic!("expected authentication after Face ID");
    };
    store
        .verify_kind(&auth.certificate, now(), &[CertKind::PhoneAuth])
        .unwrap()
        .verify_signature(message, &auth.signature)
        .unwrap();
    eprintln!(
        "iPhone certificate + signature over PC/SC: {:?}",
        started.elapsed()
    );
    let started = Instant::now();
    let outcome = reader::read_card_record(
        client.channel_mut(),
        &onshi_mdoc::DeviceRequest::all(),
        &[trusted],
        at,
    )
    .unwrap();
    eprintln!(
        "iPhone card substitute record read and verified over PC/SC: {:?}",
        started.elapsed()
    );
    let RecordOutcome::Verified(v) = outcome else {
        panic!("expected the record");
    };
    assert_eq!(v.disclosed.name.as_deref(), Some(record().name.as_str()));
    assert_eq!(
        v.disclosed.portrait.as_deref(),
        Some(&record().portrait[..])
    );
}
