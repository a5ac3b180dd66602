//! The iPhone's mdoc applet: presents the card substitute record (ISO/IEC 18013-5) to a
//! reader over APDUs, following the standard's NFC data retrieval (§8.3.3.1.2) with one
//! *onshi design* step for the engagement:
//!
//! 1. `00 A4 04 00 07 A0 00 00 02 48 04 00 00` (SELECT with P2 = 00, "return data"): the
//!    phone makes a fresh ephemeral key and answers its `DeviceEngagement` (in place of
//!    the NFC handover of the standard, which onshi does not simulate).
//! 2. `ENVELOPE` (`INS C3`, P1-P2 `00 00`), chained with CLA `10` on all but the last
//!    command: the data object `53` holding `SessionEstablishment` (the reader's
//!    ephemeral key and the `DeviceRequest` encrypted with SKReader).
//! 3. The phone answers the data object `53` holding `SessionData` (the `DeviceResponse`
//!    encrypted with SKDevice) in pieces: `61xx` while more remains, fetched with
//!    `GET RESPONSE` (`00 C0 00 00 Le`).
//! 4. A final `ENVELOPE` with `SessionData {status: 20}` ends the session.
//!
//! The device signature (and so the response) needs the phone's biometric unlock: without
//! it step 2 answers `6982` and the session ends (the reader starts again at step 1).
//! A request that does not decrypt gets `SessionData {status: 10}`, one that does not
//! parse `{status: 11}`.

use onshi_mdoc::{
    DeviceRequest, EphemeralKey, IssuerSigned, PrivateKey, Role, STATUS_CBOR_DECODING_ERROR,
    STATUS_SESSION_ENCRYPTION_ERROR, STATUS_SESSION_TERMINATION, SessionCipher, SessionTranscript,
};

use crate::apdu::{Command, Response};
use crate::status::StatusWord;
use crate::tlv;

use super::file::PhoneMdocFiles;

/// ISO/IEC 18013-5 §8.3.3.1.2: the AID of mdoc NFC data retrieval.
pub const AID_MDOC: [u8; 7] = [0xA0, 0x00, 0x00, 0x02, 0x48, 0x04, 0x00];

/// ISO/IEC 7816-4 command chaining: CLA bit 5 set on every ENVELOPE but the last.
pub const CLA_CHAINING: u8 = 0x10;

/// ENVELOPE (ISO/IEC 7816-4 §11.7.2; ISO/IEC 18013-5 §8.3.3.1.2).
pub const INS_ENVELOPE: u8 = 0xC3;

/// GET RESPONSE (ISO/IEC 7816-4 §11.7.1).
pub const INS_GET_RESPONSE: u8 = 0xC0;

/// The BER-TLV data object that wraps session messages in ENVELOPE and its responses.
pub const TAG_SESSION_MESSAGE: u16 = 0x53;

/// Most response bytes per APDU: a response (with its status word) must fit one vpcd
/// message, whose length field has 16 bits.
pub const MAX_RESPONSE_CHUNK: usize = 0xFFFF - 2;

/// Largest chained request the phone accepts.
pub const MAX_REQUEST: usize = 64 * 1024;

/// The volatile state of one reader session.
#[derive(Debug, Default)]
pub struct MdocSession {
    state: State,
}

#[derive(Debug, Default)]
enum State {
    /// No session: SELECT first.
    #[default]
    Idle,
    /// Engagement sent; collecting the chained SessionEstablishment.
    Engaged {
        e_device: Box<EphemeralKey>,
        engagement: Vec<u8>,
        incoming: Vec<u8>,
    },
    /// Response being fetched; the session continues.
    Open { outgoing: Vec<u8>, offset: usize },
}

impl MdocSession {
    /// A new session on SELECT: a fresh ephemeral key and its DeviceEngagement, returned
    /// in the response when `p2` asks for data (`00`).
    pub fn select(p2: u8) -> (Self, Response) {
        let key = match EphemeralKey::generate() {
            Ok(k) => k,
            Err(_) => {
                return (
                    Self::default(),
                    Response::status(StatusWord::NO_PRECISE_DIAGNOSIS),
                );
            }
        };
        let engagement = onshi_mdoc::device_engagement(key.public_key());
        let response = if p2 == 0x00 {
            Response::ok(engagement.clone())
        } else {
            Response::status(StatusWord::OK)
        };
        (
            Self {
                state: State::Engaged {
                    e_device: Box::new(key),
                    engagement,
                    incoming: Vec::new(),
                },
            },
            response,
        )
    }

    /// Answers one command of the session. `unlocked` says whether the phone's biometric
    /// unlock is in force.
    pub fn process(&mut self, cmd: &Command, files: &PhoneMdocFiles, unlocked: bool) -> Response {
        let chained = cmd.cla & CLA_CHAINING != 0;
        match (cmd.cla & !CLA_CHAINING, cmd.ins) {
            (0x00, INS_ENVELOPE) if (cmd.p1, cmd.p2) == (0, 0) => {
                self.envelope(cmd, chained, files, unlocked)
            }
            (0x00, INS_GET_RESPONSE) if !chained => self.get_response(cmd),
            (0x00, INS_ENVELOPE | INS_GET_RESPONSE) => Response::status(StatusWord::WRONG_P1P2),
            (0x00, _) => Response::status(StatusWord::INS_NOT_SUPPORTED),
            _ => Response::status(StatusWord::CLA_NOT_SUPPORTED),
        }
    }

    fn envelope(
        &mut self,
        cmd: &Command,
        chained: bool,
        files: &PhoneMdocFiles,
        unlocked: bool,
    ) -> Response {
        match &mut self.state {
            State::Idle => Response::status(StatusWord::CONDITIONS_NOT_SATISFIED),
            State::Engaged { incoming, .. } => {
                if incoming.len() + cmd.data().len() > MAX_REQUEST {
                    self.state = State::Idle;
                    return Response::status(StatusWord::WRONG_LENGTH);
                }
                incoming.extend_from_slice(cmd.data());
                if chained {
                    return Response::status(StatusWord::OK);
                }
                let State::Engaged {
                    e_device,
                    engagement,
                    incoming,
                } = std::mem::take(&mut self.state)
                else {
                    return Response::status(StatusWord::NO_PRECISE_DIAGNOSIS);
                };
                self.establish(&e_device, &engagement, &incoming, cmd, files, unlocked)
            }
            State::Open { .. } => {
                if chained {
                    // Later requests in the same session are not used by onshi's readers.
                    return Response::status(StatusWord::FUNCTION_NOT_SUPPORTED);
                }
                let status = unwrap_message(cmd.data())
                    .and_then(|m| onshi_mdoc::parse_session_data(&m).ok())
                    .and_then(|(_, s)| s);
                if status == Some(STATUS_SESSION_TERMINATION) {
                    self.state = State::Idle;
                    return Response::status(StatusWord::OK);
                }
                Response::status(StatusWord::FUNCTION_NOT_SUPPORTED)
            }
        }
    }

    fn establish(
        &mut self,
        e_device: &EphemeralKey,
        engagement: &[u8],
        incoming: &[u8],
        cmd: &Command,
        files: &PhoneMdocFiles,
        unlocked: bool,
    ) -> Response {
        let Some(message) = unwrap_message(incoming) else {
            return Response::status(StatusWord::WRONG_DATA);
        };
        let Ok((e_reader, encrypted)) = onshi_mdoc::parse_session_establishment(&message) else {
            return self.status_only(STATUS_CBOR_DECODING_ERROR, cmd);
        };
        let transcript = SessionTranscript::new(engagement, &e_reader);
        let Ok(mut cipher) = SessionCipher::new(Role::Device, e_device, &e_reader, &transcript)
        else {
            return self.status_only(STATUS_SESSION_ENCRYPTION_ERROR, cmd);
        };
        let Ok(request) = cipher.open(&encrypted) else {
            return self.status_only(STATUS_SESSION_ENCRYPTION_ERROR, cmd);
        };
        let Ok(request) = DeviceRequest::from_bytes(&request) else {
            return self.status_only(STATUS_CBOR_DECODING_ERROR, cmd);
        };
        if !unlocked {
            // Face ID / Touch ID first; the session ends.
            return Response::status(StatusWord::SECURITY_NOT_SATISFIED);
        }
        let Some(record) = files.issuer_signed.as_deref() else {
            return Response::status(StatusWord::FILE_NOT_FOUND);
        };
        let response = IssuerSigned::from_bytes(record).and_then(|issuer_signed| {
            let key = PrivateKey::from_pkcs8(files.device_key_pkcs8.expose())?;
            onshi_mdoc::device_response(&issuer_signed, &key, &transcript, &request)
        });
        let Ok(response) = response else {
            return Response::status(StatusWord::NO_PRECISE_DIAGNOSIS);
        };
        let Ok(sealed) = cipher.seal(&response) else {
            return Response::status(StatusWord::NO_PRECISE_DIAGNOSIS);
        };
        let outgoing = tlv::encode(
            TAG_SESSION_MESSAGE,
            &onshi_mdoc::session_data(Some(&sealed), None),
        );
        self.state = State::Open {
            outgoing,
            offset: 0,
        };
        self.get_response(cmd)
    }

    /// Answers a SessionData with only an error status and ends the session.
    fn status_only(&mut self, status: u64, cmd: &Command) -> Response {
        let body = tlv::encode(
            TAG_SESSION_MESSAGE,
            &onshi_mdoc::session_data(None, Some(status)),
        );
        self.state = State::Idle;
        let ne = cmd.ne().unwrap_or(256);
        if body.len() > ne {
            return Response::status(StatusWord::WRONG_LENGTH);
        }
        Response::ok(body)
    }

    fn get_response(&mut self, cmd: &Command) -> Response {
        let State::Open {
            outgoing, offset, ..
        } = &mut self.state
        else {
            return Response::status(StatusWord::CONDITIONS_NOT_SATISFIED);
        };
        let ne = cmd.ne().unwrap_or(256).min(MAX_RESPONSE_CHUNK);
        let end = outgoing.len().min(*offset + ne);
        let chunk = outgoing[*offset..end].to_vec();
        *offset = end;
        let left = outgoing.len() - end;
        // 61xx: xx more bytes (00 = 256 or more), ISO/IEC 7816-4 §5.1.3.
        let sw = match u16::try_from(left) {
            Ok(0) => StatusWord::OK,
            Ok(n @ 1..=0xFF) => StatusWord(0x6100 | n),
            _ => StatusWord(0x6100),
        };
        Response::new(chunk, sw)
    }
}

/// The value of the `53` data object that makes up all of `data`.
pub(crate) fn unwrap_message(data: &[u8]) -> Option<Vec<u8>> {
    let (el, rest) = tlv::parse_one(data, 0).ok()?;
    (el.tag == TAG_SESSION_MESSAGE && rest.is_empty()).then(|| el.value.to_vec())
}
