//! The reader side: what a clinic terminal or the portal asks of a My Number Card, over any
//! [`CardChannel`].

use crate::apdu::{Command, Response, ins};
use crate::channel::CardChannel;
use crate::data::{self, Attributes, CardFace};
use crate::layout::{Ap, CertRef, KeyRef, PinRef, card_face, input_support, jpki};
use crate::onsign::sha256_digest_info;
use crate::secret::Pin;
use crate::status::StatusWord;
use crate::tlv;

/// Bytes read per READ BINARY (short Le).
const CHUNK: usize = 256;
/// Bytes of a DER/BER header read first to learn an EF's length (tag, `82`, two bytes).
const HEADER: usize = 4;

/// Result of a VERIFY: expected card states, not errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyOutcome {
    /// Accepted; the counter is back to its maximum.
    Ok,
    /// Refused; `tries_left` more wrong entries block it.
    WrongPin {
        /// Tries left (at least 1).
        tries_left: u8,
    },
    /// Blocked: only the municipal office can reset it.
    Blocked,
}

/// Errors talking to a card.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The transport failed.
    #[error("transport: {0}")]
    Transport(Box<dyn std::error::Error + Send + Sync>),
    /// The card answered a status word the step does not allow.
    #[error("{step}: card answered {sw:?}")]
    Status {
        /// What was being done.
        step: &'static str,
        /// The status word.
        sw: StatusWord,
    },
    /// The card's data is malformed or fails its signature check.
    #[error("card data: {0}")]
    Data(#[from] data::DataError),
    /// The card returned something structurally wrong.
    #[error("{step}: {reason}")]
    Protocol {
        /// What was being done.
        step: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A PIN does not follow its rules; nothing was sent.
    #[error("the value does not follow the rules of {0:?}; not sent")]
    PinFormat(PinRef),
}

/// A card's answers to a full card-face read.
#[derive(Debug, Clone)]
pub struct VerifiedCardFace {
    /// The card face, with its J-LIS signature checked.
    pub face: CardFace,
    /// SHA-256 of card-face EF 0002 as read (evidence for the center).
    pub sha256: [u8; 32],
}

/// Client for the three applications of a My Number Card.
#[derive(Debug)]
pub struct JpkiClient<C> {
    channel: C,
}

impl<C: CardChannel> JpkiClient<C> {
    /// Talks to the card through `channel`.
    pub fn new(channel: C) -> Self {
        Self { channel }
    }

    /// The channel back.
    pub fn into_inner(self) -> C {
        self.channel
    }

    /// The channel.
    pub fn channel_mut(&mut self) -> &mut C {
        &mut self.channel
    }

    fn transmit(&mut self, cmd: Command) -> Result<Response, ClientError> {
        self.channel
            .transmit(&cmd)
            .map_err(|e| ClientError::Transport(Box::new(e)))
    }

    fn cmd(
        cla: u8,
        ins: u8,
        p1: u8,
        p2: u8,
        data: &[u8],
        ne: Option<usize>,
    ) -> Result<Command, ClientError> {
        Command::new(cla, ins, p1, p2, data.to_vec(), ne).map_err(|e| ClientError::Protocol {
            step: "build APDU",
            reason: e.to_string(),
        })
    }

    fn expect_ok(step: &'static str, r: Response) -> Result<Vec<u8>, ClientError> {
        if r.sw.is_ok() {
            Ok(r.data)
        } else {
            Err(ClientError::Status { step, sw: r.sw })
        }
    }

    /// Resets the card; returns the ATR.
    pub fn reset(&mut self) -> Result<Vec<u8>, ClientError> {
        self.channel
            .reset()
            .map_err(|e| ClientError::Transport(Box::new(e)))
    }

    /// SELECT an application (`00 A4 04 0C`); clears the card's security state.
    pub fn select_ap(&mut self, ap: Ap) -> Result<(), ClientError> {
        let r = self.transmit(Self::cmd(0x00, ins::SELECT, 0x04, 0x0C, ap.aid(), None)?)?;
        Self::expect_ok("SELECT AP", r).map(drop)
    }

    /// SELECT an EF of the current application (`00 A4 02 0C`).
    pub fn select_ef(&mut self, fid: u16) -> Result<(), ClientError> {
        let r = self.transmit(Self::cmd(
            0x00,
            ins::SELECT,
            0x02,
            0x0C,
            &fid.to_be_bytes(),
            None,
        )?)?;
        Self::expect_ok("SELECT EF", r).map(drop)
    }

    fn read_at(&mut self, offset: usize, len: usize) -> Result<Vec<u8>, ClientError> {
        let offset =
            u16::try_from(offset)
                .ok()
                .filter(|o| *o <= 0x7FFF)
                .ok_or(ClientError::Protocol {
                    step: "READ BINARY",
                    reason: format!("offset {offset} beyond 15 bits"),
                })?;
        let [p1, p2] = offset.to_be_bytes();
        let r = self.transmit(Self::cmd(0x00, ins::READ_BINARY, p1, p2, &[], Some(len))?)?;
        if r.sw == StatusWord::END_OF_FILE || r.sw.is_ok() {
            Ok(r.data)
        } else {
            Err(ClientError::Status {
                step: "READ BINARY",
                sw: r.sw,
            })
        }
    }

    /// Reads the selected EF holding one TLV/DER element: the header first, then the rest.
    pub fn read_element(&mut self) -> Result<Vec<u8>, ClientError> {
        let mut out = self.read_at(0, HEADER)?;
        if tlv::total_len(&out).is_none() && out.len() == HEADER {
            // Two-byte tags with a long length (`FF 30 82 01 4B`) need a few more bytes.
            let more = self.read_at(HEADER, HEADER)?;
            out.extend_from_slice(&more);
        }
        let total = tlv::total_len(&out).ok_or_else(|| ClientError::Protocol {
            step: "READ BINARY",
            reason: "EF does not start with a TLV header".into(),
        })?;
        while out.len() < total {
            let n = (total - out.len()).min(CHUNK);
            let part = self.read_at(out.len(), n)?;
            if part.is_empty() {
                return Err(ClientError::Protocol {
                    step: "READ BINARY",
                    reason: "EF shorter than its header says".into(),
                });
            }
            out.extend_from_slice(&part);
        }
        out.truncate(total);
        Ok(out)
    }

    /// Reads `len` bytes of the selected EF from offset 0.
    pub fn read_fixed(&mut self, len: usize) -> Result<Vec<u8>, ClientError> {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let n = (len - out.len()).min(CHUNK);
            let part = self.read_at(out.len(), n)?;
            if part.is_empty() {
                break;
            }
            out.extend_from_slice(&part);
        }
        Ok(out)
    }

    /// Selects the JPKI AP and reads token info (EF 0006, trailing spaces removed).
    pub fn token_info(&mut self) -> Result<String, ClientError> {
        self.select_ap(Ap::Jpki)?;
        self.select_ef(jpki::EF_TOKEN_INFO)?;
        let raw = self.read_fixed(jpki::TOKEN_LEN)?;
        Ok(String::from_utf8_lossy(&raw).trim_end().to_owned())
    }

    /// Reads a certificate (DER) from the currently selected JPKI AP. The signing
    /// certificate needs a signing-password VERIFY first.
    pub fn read_certificate(&mut self, cert: CertRef) -> Result<Vec<u8>, ClientError> {
        self.select_ef(cert.ef())?;
        self.read_element()
    }

    /// Selects `pin`'s application and EF and asks for its tries left (VERIFY without
    /// data; spends nothing). Selecting the application clears earlier VERIFYs.
    pub fn tries_left(&mut self, pin: PinRef) -> Result<u8, ClientError> {
        self.select_ap(pin.ap())?;
        self.query_selected(pin)
    }

    fn query_selected(&mut self, pin: PinRef) -> Result<u8, ClientError> {
        self.select_ef(pin.ef())?;
        let r = self.transmit(Self::cmd(0x00, ins::VERIFY, 0x00, 0x80, &[], None)?)?;
        match r.sw.tries_left() {
            Some(t) => Ok(t),
            None if r.sw == StatusWord::BLOCKED => Ok(0),
            None => Err(ClientError::Status {
                step: "VERIFY (retry query)",
                sw: r.sw,
            }),
        }
    }

    /// VERIFY `pin` in the current application (select it with [`Self::select_ap`] first,
    /// or use the higher-level calls). The value is checked against the PIN's rules first
    /// so a typing slip does not spend a try.
    pub fn verify(&mut self, pin: PinRef, value: &Pin) -> Result<VerifyOutcome, ClientError> {
        if !pin.policy().accepts(value.expose()) {
            return Err(ClientError::PinFormat(pin));
        }
        self.select_ef(pin.ef())?;
        let r = self.transmit(Self::cmd(
            0x00,
            ins::VERIFY,
            0x00,
            0x80,
            value.expose(),
            None,
        )?)?;
        match r.sw {
            StatusWord::OK => Ok(VerifyOutcome::Ok),
            StatusWord::BLOCKED | StatusWord::WRONG_PIN_BLOCKED => Ok(VerifyOutcome::Blocked),
            sw => match sw.tries_left() {
                Some(t) => Ok(VerifyOutcome::WrongPin { tries_left: t }),
                None => Err(ClientError::Status { step: "VERIFY", sw }),
            },
        }
    }

    /// CHANGE REFERENCE DATA for `pin` (after a successful VERIFY in this session).
    pub fn change_pin(&mut self, pin: PinRef, new_value: &Pin) -> Result<(), ClientError> {
        if !pin.policy().accepts(new_value.expose()) {
            return Err(ClientError::PinFormat(pin));
        }
        self.select_ef(pin.ef())?;
        let r = self.transmit(Self::cmd(
            0x00,
            ins::CHANGE_REFERENCE_DATA,
            0x01,
            0x80,
            new_value.expose(),
            None,
        )?)?;
        Self::expect_ok("CHANGE REFERENCE DATA", r).map(drop)
    }

    /// SIGN (`80 2A 00 80`) a DigestInfo with a key of the current JPKI session; the card
    /// pads it (PKCS#1 v1.5 type 1) and returns the 256-byte signature.
    pub fn sign_digest_info(
        &mut self,
        key: KeyRef,
        digest_info: &[u8],
    ) -> Result<Vec<u8>, ClientError> {
        self.select_ef(key.ef())?;
        let r = self.transmit(Self::cmd(
            0x80,
            ins::PSO,
            0x00,
            0x80,
            digest_info,
            Some(256),
        )?)?;
        Self::expect_ok("SIGN", r)
    }

    /// The whole user-authentication step: select JPKI, VERIFY the PIN, sign the SHA-256
    /// DigestInfo of `message`. `Err` only for transport/protocol failures; a wrong or
    /// blocked PIN comes back as the outcome with no signature.
    pub fn authenticate(
        &mut self,
        pin: &Pin,
        message: &[u8],
    ) -> Result<(VerifyOutcome, Option<Vec<u8>>), ClientError> {
        self.select_ap(Ap::Jpki)?;
        let outcome = self.verify(PinRef::Auth, pin)?;
        if outcome != VerifyOutcome::Ok {
            return Ok((outcome, None));
        }
        let sig = self.sign_digest_info(KeyRef::Auth, &sha256_digest_info(message))?;
        Ok((outcome, Some(sig)))
    }

    /// Selects the JPKI AP and reads the user-authentication certificate (free on a card).
    pub fn auth_certificate(&mut self) -> Result<Vec<u8>, ClientError> {
        self.select_ap(Ap::Jpki)?;
        self.read_certificate(CertRef::Auth)
    }

    /// Input-support AP: VERIFY its PIN, then read the My Number and the 4 attributes and
    /// check J-LIS's signature over them with `card_data_key` (SubjectPublicKeyInfo DER).
    pub fn read_input_support(
        &mut self,
        pin: &Pin,
        card_data_key: &[u8],
    ) -> Result<(VerifyOutcome, Option<(String, Attributes)>), ClientError> {
        self.select_ap(Ap::InputSupport)?;
        let outcome = self.verify(PinRef::InputSupport, pin)?;
        if outcome != VerifyOutcome::Ok {
            return Ok((outcome, None));
        }
        self.select_ef(input_support::EF_MY_NUMBER)?;
        let mn_ef = self.read_element()?;
        self.select_ef(input_support::EF_ATTRIBUTES)?;
        let at_ef = self.read_element()?;
        self.select_ef(input_support::EF_SIGNATURE)?;
        let sig_ef = self.read_element()?;
        data::verify_input_support(card_data_key, &mn_ef, &at_ef, &sig_ef)?;
        Ok((
            outcome,
            Some((
                data::parse_my_number(&mn_ef)?,
                Attributes::parse_ef(&at_ef)?,
            )),
        ))
    }

    /// Card-face AP: unlock with 照合番号B (14 digits) or 照合番号A (12 digits), read EF 0002
    /// and check J-LIS's signature with `card_data_key` (SubjectPublicKeyInfo DER).
    /// `Ok(None)` when the card refuses the code (matching codes have no retry counter).
    pub fn read_card_face(
        &mut self,
        matching_code: &Pin,
        card_data_key: &[u8],
    ) -> Result<Option<VerifiedCardFace>, ClientError> {
        let which = match matching_code.len() {
            12 => PinRef::MatchA,
            _ => PinRef::MatchB,
        };
        if !which.policy().accepts(matching_code.expose()) {
            return Err(ClientError::PinFormat(which));
        }
        self.select_ap(Ap::CardFace)?;
        self.select_ef(which.ef())?;
        let r = self.transmit(Self::cmd(
            0x00,
            ins::VERIFY,
            0x00,
            0x80,
            matching_code.expose(),
            None,
        )?)?;
        match r.sw {
            StatusWord::OK => {}
            StatusWord::SECURITY_NOT_SATISFIED => return Ok(None),
            sw => {
                return Err(ClientError::Status {
                    step: "VERIFY (照合番号)",
                    sw,
                });
            }
        }
        self.select_ef(card_face::EF_FACE)?;
        let ef = self.read_element()?;
        let face = CardFace::parse_ef(&ef)?;
        face.verify(card_data_key)?;
        let sha256 = crate::onsign::sha256(&ef);
        Ok(Some(VerifiedCardFace { face, sha256 }))
    }
}
