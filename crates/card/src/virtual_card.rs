//! The virtual My Number Card: a [`CardFile`] plus the chip's volatile session state,
//! answering command APDUs as the real card does.
//!
//! Security state (which PINs were verified) belongs to the selected application: selecting
//! an application, a reset or power-off clears it. A wrong PIN also clears its own state.
//! Only VERIFY changes a retry counter; [`VirtualCard::take_changed`] tells the owner that
//! the file must be saved.

use crate::apdu::{Command, Response, ins};
use crate::cardfile::CardFile;
use crate::layout::{ATR, Ap, KeyRef, PinRef, card_face, input_support, jpki};
use crate::onsign::CardKey;
use crate::status::StatusWord;

/// Who may READ BINARY an EF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone.
    Free,
    /// After a successful VERIFY of one of these in the current session.
    After(&'static [PinRef]),
    /// Never (keys and PINs).
    Never,
}

/// The chip: persisted content plus session state.
#[derive(Debug)]
pub struct VirtualCard {
    file: CardFile,
    selected_ap: Option<Ap>,
    selected_ef: Option<u16>,
    verified: Vec<PinRef>,
    changed: bool,
    auth_key: Option<CardKey>,
    sign_key: Option<CardKey>,
}

impl VirtualCard {
    /// A powered card holding `file`.
    pub fn new(file: CardFile) -> Self {
        Self {
            file,
            selected_ap: None,
            selected_ef: None,
            verified: Vec::new(),
            changed: false,
            auth_key: None,
            sign_key: None,
        }
    }

    /// The persisted content, including current retry counters.
    pub fn file(&self) -> &CardFile {
        &self.file
    }

    /// Gives the content back.
    pub fn into_file(self) -> CardFile {
        self.file
    }

    /// The answer-to-reset.
    pub fn atr(&self) -> &'static [u8] {
        &ATR
    }

    /// Power cycle or warm reset: clears selection and security state.
    pub fn reset(&mut self) {
        self.selected_ap = None;
        self.selected_ef = None;
        self.verified.clear();
    }

    /// Whether a counter or PIN changed since the last call (the file must be saved).
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
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
        match (cmd.cla, cmd.ins) {
            (0x00, ins::SELECT) => self.select(cmd),
            (0x00, ins::READ_BINARY) => self.read_binary(cmd),
            (0x00, ins::VERIFY) => self.verify(cmd),
            (0x00, ins::CHANGE_REFERENCE_DATA) => self.change_reference_data(cmd),
            (0x80, ins::PSO) => self.sign(cmd),
            (0x00 | 0x80, _) => Response::status(StatusWord::INS_NOT_SUPPORTED),
            _ => Response::status(StatusWord::CLA_NOT_SUPPORTED),
        }
    }

    fn select(&mut self, cmd: &Command) -> Response {
        match (cmd.p1, cmd.p2) {
            (0x04, 0x0C) => match Ap::from_aid(cmd.data()) {
                Some(ap) => {
                    self.selected_ap = Some(ap);
                    self.selected_ef = None;
                    self.verified.clear();
                    Response::status(StatusWord::OK)
                }
                None => Response::status(StatusWord::FILE_NOT_FOUND),
            },
            (0x02, 0x0C) => {
                let [hi, lo] = cmd.data() else {
                    return Response::status(StatusWord::WRONG_LENGTH);
                };
                let fid = u16::from_be_bytes([*hi, *lo]);
                match self.selected_ap {
                    Some(ap) if self.ef_exists(ap, fid) => {
                        self.selected_ef = Some(fid);
                        Response::status(StatusWord::OK)
                    }
                    _ => Response::status(StatusWord::FILE_NOT_FOUND),
                }
            }
            _ => Response::status(StatusWord::WRONG_P1P2),
        }
    }

    /// Whether `ap` has EF `fid`. A card issued without signing (holder under 15) still
    /// has the signing EFs, empty, and a signing password that is not usable (`63C0` /
    /// `6984`), so that clients such as OpenSC can enumerate the card.
    fn ef_exists(&self, ap: Ap, fid: u16) -> bool {
        if PinRef::from_ef(ap, fid).is_some() {
            return true;
        }
        match ap {
            Ap::Jpki => matches!(
                fid,
                jpki::EF_TOKEN_INFO
                    | jpki::EF_AUTH_CERT
                    | jpki::EF_AUTH_CA_CERT
                    | jpki::EF_AUTH_KEY
                    | jpki::EF_SIGN_CERT
                    | jpki::EF_SIGN_CA_CERT
                    | jpki::EF_SIGN_KEY
            ),
            Ap::InputSupport => matches!(
                fid,
                input_support::EF_MY_NUMBER
                    | input_support::EF_ATTRIBUTES
                    | input_support::EF_SIGNATURE
            ),
            Ap::CardFace => fid == card_face::EF_FACE,
        }
    }

    /// The content and access rule of a transparent EF.
    fn ef_content(&self, ap: Ap, fid: u16) -> (Access, Option<Vec<u8>>) {
        const SIGN: &[PinRef] = &[PinRef::Sign];
        const INPUT: &[PinRef] = &[PinRef::InputSupport];
        const FACE: &[PinRef] = &[PinRef::MatchA, PinRef::MatchB];
        let f = &self.file;
        let signing = f.jpki.signing.as_ref();
        match (ap, fid) {
            (Ap::Jpki, jpki::EF_SIGN_CERT) => {
                (Access::After(SIGN), signing.map(|s| s.cert.clone()))
            }
            (Ap::Jpki, jpki::EF_SIGN_CA_CERT) => (Access::Free, signing.map(|s| s.ca_cert.clone())),
            (Ap::Jpki, jpki::EF_TOKEN_INFO) => (Access::Free, Some(f.jpki.token_info())),
            (Ap::Jpki, jpki::EF_AUTH_CERT) => (Access::Free, Some(f.jpki.auth_cert.clone())),
            (Ap::Jpki, jpki::EF_AUTH_CA_CERT) => (Access::Free, Some(f.jpki.auth_ca_cert.clone())),
            (Ap::InputSupport, input_support::EF_MY_NUMBER) => (
                Access::After(INPUT),
                Some(f.input_support.my_number_ef.clone()),
            ),
            (Ap::InputSupport, input_support::EF_ATTRIBUTES) => (
                Access::After(INPUT),
                Some(f.input_support.attributes_ef.clone()),
            ),
            (Ap::InputSupport, input_support::EF_SIGNATURE) => (
                Access::After(INPUT),
                Some(f.input_support.signature_ef.clone()),
            ),
            (Ap::CardFace, card_face::EF_FACE) => {
                (Access::After(FACE), Some(f.card_face.encode_ef()))
            }
            _ => (Access::Never, None),
        }
    }

    fn read_binary(&mut self, cmd: &Command) -> Response {
        if cmd.p1 & 0x80 != 0 {
            // Short-EF-identifier addressing is not used by the JPKI card.
            return Response::status(StatusWord::FUNCTION_NOT_SUPPORTED);
        }
        let Some(ne) = cmd.ne() else {
            return Response::status(StatusWord::WRONG_LENGTH);
        };
        if !cmd.data().is_empty() {
            return Response::status(StatusWord::WRONG_LENGTH);
        }
        let (Some(ap), Some(fid)) = (self.selected_ap, self.selected_ef) else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let (access, content) = self.ef_content(ap, fid);
        match access {
            Access::Never => return Response::status(StatusWord::INCOMPATIBLE_FILE),
            Access::After(pins) if !pins.iter().any(|p| self.verified.contains(p)) => {
                return Response::status(StatusWord::SECURITY_NOT_SATISFIED);
            }
            _ => {}
        }
        let Some(content) = content else {
            return Response::status(StatusWord::FILE_NOT_FOUND);
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

    /// The PIN whose EF is selected, if any.
    fn selected_pin(&self) -> Option<PinRef> {
        PinRef::from_ef(self.selected_ap?, self.selected_ef?)
    }

    fn verify(&mut self, cmd: &Command) -> Response {
        if (cmd.p1, cmd.p2) != (0x00, 0x80) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        let Some(pin) = self.selected_pin() else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let data = cmd.data();
        let counted = match self.file.pin_record(pin) {
            Some(r) => Some(r.tries_left),
            // A PIN the card was issued without behaves as blocked.
            None if pin.policy().max_tries.is_some() => Some(0),
            None => None,
        };
        if data.is_empty() {
            // Retry query: spends no try (JPKI card; OpenSC's GET_INFO relies on it).
            return match counted {
                Some(t) => Response::status(StatusWord::wrong_pin(t)),
                None if self.verified.contains(&pin) => Response::status(StatusWord::OK),
                None => Response::status(StatusWord::SECURITY_NOT_SATISFIED),
            };
        }
        if counted == Some(0) {
            return Response::status(StatusWord::BLOCKED);
        }
        if !pin.policy().accepts(data) {
            // A value the PIN's rules exclude cannot be it; refuse without spending a try.
            self.verified.retain(|p| *p != pin);
            return Response::status(StatusWord::WRONG_DATA);
        }
        let matches = match self.file.pin_record(pin) {
            Some(rec) => rec.value.ct_eq(data),
            None => self
                .file
                .matching_code(pin)
                .is_some_and(|code| code.ct_eq(data)),
        };
        let max = pin.policy().max_tries.unwrap_or(0);
        if matches {
            if let Some(rec) = self.file.pin_record_mut(pin)
                && rec.tries_left != max
            {
                rec.tries_left = max;
                self.changed = true;
            }
            if !self.verified.contains(&pin) {
                self.verified.push(pin);
            }
            return Response::status(StatusWord::OK);
        }
        self.verified.retain(|p| *p != pin);
        match self.file.pin_record_mut(pin) {
            Some(rec) => {
                rec.tries_left = rec.tries_left.saturating_sub(1);
                self.changed = true;
                Response::status(StatusWord::wrong_pin(rec.tries_left))
            }
            None => Response::status(StatusWord::SECURITY_NOT_SATISFIED),
        }
    }

    fn change_reference_data(&mut self, cmd: &Command) -> Response {
        if (cmd.p1, cmd.p2) != (0x01, 0x80) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        let Some(pin) = self.selected_pin() else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let Some(rec) = self.file.pin_record(pin) else {
            // Matching codes are printed on the card and cannot change.
            return Response::status(StatusWord::CONDITIONS_NOT_SATISFIED);
        };
        if rec.tries_left == 0 {
            return Response::status(StatusWord::BLOCKED);
        }
        if !self.verified.contains(&pin) {
            return Response::status(StatusWord::SECURITY_NOT_SATISFIED);
        }
        if !pin.policy().accepts(cmd.data()) {
            return Response::status(StatusWord::WRONG_DATA);
        }
        if let Some(rec) = self.file.pin_record_mut(pin) {
            rec.value = crate::secret::Pin::new(cmd.data());
            self.changed = true;
        }
        Response::status(StatusWord::OK)
    }

    fn sign(&mut self, cmd: &Command) -> Response {
        if (cmd.p1, cmd.p2) != (0x00, 0x80) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        if self.selected_ap != Some(Ap::Jpki) {
            return Response::status(StatusWord::CONDITIONS_NOT_SATISFIED);
        }
        let Some(fid) = self.selected_ef else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let Some(key) = KeyRef::from_ef(fid) else {
            return Response::status(StatusWord::INCOMPATIBLE_FILE);
        };
        match self.file.pin_record(key.pin()) {
            None => return Response::status(StatusWord::BLOCKED),
            Some(rec) if rec.tries_left == 0 => return Response::status(StatusWord::BLOCKED),
            Some(_) => {}
        }
        if !self.verified.contains(&key.pin()) {
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
            KeyRef::Sign => (
                &mut self.sign_key,
                self.file
                    .jpki
                    .signing
                    .as_ref()
                    .ok_or(StatusWord::FILE_NOT_FOUND)?
                    .key_pkcs8
                    .expose(),
            ),
        };
        if slot.is_none() {
            *slot = Some(CardKey::from_pkcs8(der).map_err(|_| StatusWord::NO_PRECISE_DIAGNOSIS)?);
        }
        slot.as_ref().ok_or(StatusWord::NO_PRECISE_DIAGNOSIS)
    }
}

#[cfg(test)]
#[path = "virtual_card_tests.rs"]
mod tests;
