//! The virtual phone: a [`PhoneFile`] plus the volatile state of its secure element
//! (selected applet and EF, verified PINs) and, on an iPhone, of its biometric check,
//! answering command APDUs as a phone held to an NFC reader does.
//!
//! The phone answers the same JPKI APDU family as the card (SELECT AP / EF, READ BINARY,
//! VERIFY, CHANGE REFERENCE DATA, SIGN) with these differences, all from
//! docs/reference.md §3 or marked *onshi design*:
//! - only the JPKI AP exists: selecting the input-support or card-face AP answers `6A82`;
//! - EF 0006 reads `JPKIAPGPSETOKEN` (Android) or [`TOKEN_IPHONE`] (iPhone);
//! - Android: reading the user-authentication certificate (EF 000A) needs the phone PIN;
//! - iPhone: there are no PIN EFs (`6A82`); the certificates and both keys are usable only
//!   within [`BIOMETRIC_WINDOW`] after a matching Face ID / Touch ID on the phone, and
//!   the phone also holds the mdoc applet (see [`super::mdoc_applet`]).

use std::time::{Duration, Instant};

use crate::apdu::{Command, Response, ins};
use crate::layout::{AID_JPKI, KeyRef, PinRef, jpki};
use crate::onsign::CardKey;
use crate::status::StatusWord;

use super::file::PhoneFile;
use super::handset::{Biometric, Platform};
use super::mdoc_applet::{self, MdocSession};

/// Answer-to-reset a PC/SC reader reports for an ISO/IEC 14443-4 device without
/// historical bytes (PC/SC Part 3 §3.1.3.2.3: `3B 8n 80 01` + historical bytes + TCK):
/// what a general-purpose NFC reader shows for a phone.
pub const PHONE_ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];

/// EF 0006 of the iPhone's JPKI applet. *onshi design*: the real value is not published.
pub const TOKEN_IPHONE: &str = "JPKIAPIOSWALLETTOKEN";

/// How long a matching Face ID / Touch ID unlocks the iPhone's credential: the patient
/// authenticates, then holds the phone to the reader. *onshi design*.
pub const BIOMETRIC_WINDOW: Duration = Duration::from_secs(60);

/// Non-matching biometric attempts after which the sensor locks out until the phone's
/// owner re-enables it (iOS behaviour: five failed Face ID attempts).
pub const BIOMETRIC_MAX_FAILURES: u8 = 5;

/// What a biometric (or passcode) attempt on the phone did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BiometricOutcome {
    /// The enrolled face or finger matched: the credential is usable for
    /// [`BIOMETRIC_WINDOW`].
    Unlocked,
    /// No match; `tries_left` more failures lock the sensor out.
    NoMatch {
        /// Failures left before lock-out (at least 1).
        tries_left: u8,
    },
    /// Too many failures: the owner must re-enable the sensor on the phone first.
    LockedOut,
    /// This phone's sensor is not the one presented (Touch ID on a Face ID iPhone).
    NotAvailable,
    /// A passcode was offered: the credential accepts only Face ID / Touch ID.
    PasscodeRefused,
    /// An Android phone: its credential is unlocked by the phone PIN at the reader.
    NotApplicable,
}

/// Which applet is selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applet {
    Jpki,
    Mdoc,
}

/// Who may READ BINARY an EF of the phone's JPKI applet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Free,
    /// After VERIFY of this PIN in the session (Android).
    After(PinRef),
    /// Within the biometric window (iPhone).
    Biometric,
    /// Keys and PINs: never read.
    Never,
}

/// The phone as the reader sees it.
#[derive(Debug)]
pub struct VirtualPhone {
    file: PhoneFile,
    selected: Option<Applet>,
    selected_ef: Option<u16>,
    verified: Vec<PinRef>,
    changed: bool,
    auth_key: Option<CardKey>,
    sign_key: Option<CardKey>,
    unlocked_until: Option<Instant>,
    biometric_failures: u8,
    mdoc: MdocSession,
}

impl VirtualPhone {
    /// A phone holding `file`, switched on, its credential locked.
    pub fn new(file: PhoneFile) -> Self {
        Self {
            file,
            selected: None,
            selected_ef: None,
            verified: Vec::new(),
            changed: false,
            auth_key: None,
            sign_key: None,
            unlocked_until: None,
            biometric_failures: 0,
            mdoc: MdocSession::default(),
        }
    }

    /// The persisted content, including current retry counters.
    pub fn file(&self) -> &PhoneFile {
        &self.file
    }

    /// Mutable persisted content (installing credentials); call [`Self::reset`] after.
    pub fn file_mut(&mut self) -> &mut PhoneFile {
        self.changed = true;
        self.auth_key = None;
        self.sign_key = None;
        &mut self.file
    }

    /// Gives the content back.
    pub fn into_file(self) -> PhoneFile {
        self.file
    }

    /// The answer-to-reset.
    pub fn atr(&self) -> &'static [u8] {
        &PHONE_ATR
    }

    /// The phone enters or leaves the reader's field: clears selection and verified PINs.
    /// A biometric unlock survives (the patient authenticates before the tap).
    pub fn reset(&mut self) {
        self.selected = None;
        self.selected_ef = None;
        self.verified.clear();
        self.mdoc = MdocSession::default();
    }

    /// Whether a counter or PIN changed since the last call (the file must be saved).
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// The patient looks at (Face ID) or touches (Touch ID) the phone; `matches` says
    /// whether it is the enrolled face or finger.
    pub fn present_biometric(&mut self, biometric: Biometric, matches: bool) -> BiometricOutcome {
        self.present_biometric_at(biometric, matches, Instant::now())
    }

    /// As [`Self::present_biometric`] at a given instant (tests of the window).
    pub fn present_biometric_at(
        &mut self,
        biometric: Biometric,
        matches: bool,
        now: Instant,
    ) -> BiometricOutcome {
        let Some(enrolled) = self.file.handset.biometric() else {
            return BiometricOutcome::NotApplicable;
        };
        if enrolled != biometric {
            return BiometricOutcome::NotAvailable;
        }
        if self.biometric_failures >= BIOMETRIC_MAX_FAILURES {
            return BiometricOutcome::LockedOut;
        }
        if matches {
            self.biometric_failures = 0;
            self.unlocked_until = Some(now + BIOMETRIC_WINDOW);
            BiometricOutcome::Unlocked
        } else {
            self.biometric_failures += 1;
            self.unlocked_until = None;
            match BIOMETRIC_MAX_FAILURES - self.biometric_failures {
                0 => BiometricOutcome::LockedOut,
                t => BiometricOutcome::NoMatch { tries_left: t },
            }
        }
    }

    /// The patient types the phone's passcode instead: never accepted by the iPhone
    /// credential (docs/reference.md §3); it does not unlock anything.
    pub fn present_passcode(&mut self) -> BiometricOutcome {
        match self.file.platform() {
            Platform::Iphone => BiometricOutcome::PasscodeRefused,
            Platform::Android => BiometricOutcome::NotApplicable,
        }
    }

    /// The owner re-enables the biometric sensor after a lock-out (on a real iPhone, with
    /// the device passcode). It unlocks nothing by itself.
    pub fn reenable_biometric(&mut self) {
        self.biometric_failures = 0;
    }

    /// Locks the credential again (the patient put the phone away).
    pub fn lock(&mut self) {
        self.unlocked_until = None;
    }

    /// Whether a biometric unlock is in force.
    pub fn is_unlocked(&self) -> bool {
        self.unlocked_at(Instant::now())
    }

    fn unlocked_at(&self, now: Instant) -> bool {
        self.unlocked_until.is_some_and(|t| now < t)
    }

    /// Answers a raw command APDU; a malformed one gets `6700`.
    pub fn process_bytes(&mut self, raw: &[u8]) -> Vec<u8> {
        match Command::parse(raw) {
            Ok(cmd) => self.process(&cmd).to_bytes(),
            Err(_) => StatusWord::WRONG_LENGTH.0.to_be_bytes().to_vec(),
        }
    }

    /// Answers a command APDU.
    pub fn process(&mut self, cmd: &Command) -> Response {
        if (cmd.cla & !mdoc_applet::CLA_CHAINING, cmd.ins, cmd.p1) == (0x00, ins::SELECT, 0x04) {
            return self.select_applet(cmd);
        }
        match self.selected {
            Some(Applet::Jpki) => self.jpki(cmd),
            Some(Applet::Mdoc) => {
                let unlocked = self.is_unlocked();
                match self.file.mdoc.as_ref() {
                    Some(files) => self.mdoc.process(cmd, files, unlocked),
                    None => Response::status(StatusWord::CONDITIONS_NOT_SATISFIED),
                }
            }
            None => Response::status(StatusWord::CONDITIONS_NOT_SATISFIED),
        }
    }

    fn select_applet(&mut self, cmd: &Command) -> Response {
        if !matches!(cmd.p2, 0x00 | 0x0C) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        self.selected = None;
        self.selected_ef = None;
        self.verified.clear();
        self.mdoc = MdocSession::default();
        let aid = cmd.data();
        if aid == AID_JPKI {
            self.selected = Some(Applet::Jpki);
            return Response::status(StatusWord::OK);
        }
        if aid == mdoc_applet::AID_MDOC && self.file.mdoc.is_some() {
            self.selected = Some(Applet::Mdoc);
            let (session, response) = MdocSession::select(cmd.p2);
            self.mdoc = session;
            return response;
        }
        // No card-face or input-support AP on a phone (docs/reference.md §3).
        Response::status(StatusWord::FILE_NOT_FOUND)
    }

    fn jpki(&mut self, cmd: &Command) -> Response {
        match (cmd.cla, cmd.ins) {
            (0x00, ins::SELECT) => self.select_ef(cmd),
            (0x00, ins::READ_BINARY) => self.read_binary(cmd),
            (0x00, ins::VERIFY) => self.verify(cmd),
            (0x00, ins::CHANGE_REFERENCE_DATA) => self.change_reference_data(cmd),
            (0x80, ins::PSO) => self.sign(cmd),
            (0x00 | 0x80, _) => Response::status(StatusWord::INS_NOT_SUPPORTED),
            _ => Response::status(StatusWord::CLA_NOT_SUPPORTED),
        }
    }

    fn is_android(&self) -> bool {
        self.file.platform() == Platform::Android
    }

    /// The PIN held in JPKI EF `fid`, if this phone has PINs.
    fn pin_ef(&self, fid: u16) -> Option<PinRef> {
        if !self.is_android() {
            return None;
        }
        PinRef::from_ef(crate::layout::Ap::Jpki, fid)
    }

    /// Access rule and content of JPKI EF `fid`; `None` when the EF does not exist.
    fn ef(&self, fid: u16) -> Option<(Access, Option<&[u8]>)> {
        let certs = self.file.jpki.certificates.as_ref();
        let gated = |pin| {
            if self.is_android() {
                Access::After(pin)
            } else {
                Access::Biometric
            }
        };
        Some(match fid {
            jpki::EF_TOKEN_INFO => (Access::Free, None),
            jpki::EF_AUTH_CERT => (gated(PinRef::Auth), certs.map(|c| &c.auth_cert[..])),
            jpki::EF_AUTH_CA_CERT => (Access::Free, certs.map(|c| &c.auth_ca_cert[..])),
            jpki::EF_SIGN_CERT => (gated(PinRef::Sign), certs.map(|c| &c.sign_cert[..])),
            jpki::EF_SIGN_CA_CERT => (Access::Free, certs.map(|c| &c.sign_ca_cert[..])),
            jpki::EF_AUTH_KEY | jpki::EF_SIGN_KEY => (Access::Never, None),
            f if self.pin_ef(f).is_some() => (Access::Never, None),
            _ => return None,
        })
    }

    fn select_ef(&mut self, cmd: &Command) -> Response {
        if (cmd.p1, cmd.p2) != (0x02, 0x0C) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        let [hi, lo] = cmd.data() else {
            return Response::status(StatusWord::WRONG_LENGTH);
        };
        let fid = u16::from_be_bytes([*hi, *lo]);
        if self.ef(fid).is_some() {
            self.selected_ef = Some(fid);
            Response::status(StatusWord::OK)
        } else {
            Response::status(StatusWord::FILE_NOT_FOUND)
        }
    }

    fn read_binary(&mut self, cmd: &Command) -> Response {
        if cmd.p1 & 0x80 != 0 {
            return Response::status(StatusWord::FUNCTION_NOT_SUPPORTED);
        }
        let Some(ne) = cmd.ne() else {
            return Response::status(StatusWord::WRONG_LENGTH);
        };
        if !cmd.data().is_empty() {
            return Response::status(StatusWord::WRONG_LENGTH);
        }
        let Some(fid) = self.selected_ef else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let token;
        let content = match self.ef(fid) {
            None => return Response::status(StatusWord::NO_CURRENT_EF),
            Some((Access::Never, _)) => return Response::status(StatusWord::INCOMPATIBLE_FILE),
            Some((Access::After(pin), _)) if !self.verified.contains(&pin) => {
                return Response::status(StatusWord::SECURITY_NOT_SATISFIED);
            }
            Some((Access::Biometric, _)) if !self.is_unlocked() => {
                return Response::status(StatusWord::SECURITY_NOT_SATISFIED);
            }
            Some((Access::Free, None)) if fid == jpki::EF_TOKEN_INFO => {
                let text = match self.file.platform() {
                    Platform::Android => jpki::TOKEN_ANDROID,
                    Platform::Iphone => TOKEN_IPHONE,
                };
                let mut t = text.as_bytes().to_vec();
                t.resize(jpki::TOKEN_LEN, b' ');
                token = t;
                &token[..]
            }
            // Certificates not installed yet (before issuance).
            Some((_, None)) => return Response::status(StatusWord::FILE_NOT_FOUND),
            Some((_, Some(c))) => c,
        };
        let offset = usize::from(u16::from_be_bytes([cmd.p1, cmd.p2]));
        if offset >= content.len() {
            return Response::status(StatusWord::OFFSET_OUTSIDE_EF);
        }
        let end = content.len().min(offset + ne);
        let sw = if end - offset < ne {
            StatusWord::END_OF_FILE
        } else {
            StatusWord::OK
        };
        Response::new(content[offset..end].to_vec(), sw)
    }

    fn verify(&mut self, cmd: &Command) -> Response {
        if (cmd.p1, cmd.p2) != (0x00, 0x80) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        let Some(pin) = self.selected_ef.and_then(|f| self.pin_ef(f)) else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let Some(tries) = self.file.pin_record(pin).map(|r| r.tries_left) else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let data = cmd.data();
        if data.is_empty() {
            // Retry query: spends no try.
            return Response::status(StatusWord::wrong_pin(tries));
        }
        if tries == 0 {
            return Response::status(StatusWord::BLOCKED);
        }
        if !pin.policy().accepts(data) {
            self.verified.retain(|p| *p != pin);
            return Response::status(StatusWord::WRONG_DATA);
        }
        let max = pin.policy().max_tries.unwrap_or(0);
        let Some(rec) = self.file.pin_record_mut(pin) else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        if rec.value.ct_eq(data) {
            if rec.tries_left != max {
                rec.tries_left = max;
                self.changed = true;
            }
            if !self.verified.contains(&pin) {
                self.verified.push(pin);
            }
            Response::status(StatusWord::OK)
        } else {
            rec.tries_left = rec.tries_left.saturating_sub(1);
            let left = rec.tries_left;
            self.changed = true;
            self.verified.retain(|p| *p != pin);
            Response::status(StatusWord::wrong_pin(left))
        }
    }

    fn change_reference_data(&mut self, cmd: &Command) -> Response {
        if (cmd.p1, cmd.p2) != (0x01, 0x80) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        let Some(pin) = self.selected_ef.and_then(|f| self.pin_ef(f)) else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let verified = self.verified.contains(&pin);
        let Some(rec) = self.file.pin_record_mut(pin) else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        if rec.tries_left == 0 {
            return Response::status(StatusWord::BLOCKED);
        }
        if !verified {
            return Response::status(StatusWord::SECURITY_NOT_SATISFIED);
        }
        if !pin.policy().accepts(cmd.data()) {
            return Response::status(StatusWord::WRONG_DATA);
        }
        rec.value = crate::secret::Pin::new(cmd.data());
        self.changed = true;
        Response::status(StatusWord::OK)
    }

    fn sign(&mut self, cmd: &Command) -> Response {
        if (cmd.p1, cmd.p2) != (0x00, 0x80) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        let Some(fid) = self.selected_ef else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let Some(key) = KeyRef::from_ef(fid) else {
            return Response::status(StatusWord::INCOMPATIBLE_FILE);
        };
        if self.is_android() {
            match self.file.pin_record(key.pin()) {
                Some(rec) if rec.tries_left > 0 => {}
                _ => return Response::status(StatusWord::BLOCKED),
            }
            if !self.verified.contains(&key.pin()) {
                return Response::status(StatusWord::SECURITY_NOT_SATISFIED);
            }
        } else if !self.is_unlocked() {
            return Response::status(StatusWord::SECURITY_NOT_SATISFIED);
        }
        if cmd.ne().is_some_and(|n| n < 256) {
            return Response::status(StatusWord::WRONG_LENGTH);
        }
        let card_key = match self.key(key) {
            Ok(k) => k,
            Err(sw) => return Response::status(sw),
        };
        card_key.sign_response(cmd.data())
    }

    fn key(&mut self, key: KeyRef) -> Result<&CardKey, StatusWord> {
        let (slot, der) = match key {
            KeyRef::Auth => (&mut self.auth_key, self.file.jpki.auth_key_pkcs8.expose()),
            KeyRef::Sign => (&mut self.sign_key, self.file.jpki.sign_key_pkcs8.expose()),
        };
        if slot.is_none() {
            *slot = Some(CardKey::from_pkcs8(der).map_err(|_| StatusWord::NO_PRECISE_DIAGNOSIS)?);
        }
        slot.as_ref().ok_or(StatusWord::NO_PRECISE_DIAGNOSIS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_phone_atr_is_a_well_formed_contactless_atr() {
        // TCK: XOR of T0 .. the last historical byte.
        let tck = PHONE_ATR[1..PHONE_ATR.len() - 1]
            .iter()
            .fold(0u8, |a, b| a ^ b);
        assert_eq!(tck, PHONE_ATR[PHONE_ATR.len() - 1]);
        assert_ne!(&PHONE_ATR[..], &crate::layout::ATR[..]);
    }
}
