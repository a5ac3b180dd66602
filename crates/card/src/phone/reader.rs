//! The reader side of a phone at the clinic's general-purpose NFC reader, on top of
//! [`JpkiClient`]: which kind of holder is in the field, and the user-authentication
//! step for each platform.
//!
//! The one difference from the card that a reader must know: a phone guards its
//! user-authentication certificate (EF 000A) as it guards its key, so the reader reads
//! it *after* the unlock (Android: the phone PIN relayed by the reader; iPhone: Face ID /
//! Touch ID on the phone) and in the same application selection, because selecting the
//! JPKI AP again clears a VERIFY. [`JpkiClient::auth_certificate`] re-selects and so
//! answers `6982` on a phone.

use crate::channel::CardChannel;
use crate::client::{ClientError, JpkiClient, VerifyOutcome};
use crate::layout::{Ap, CertRef, KeyRef, PinRef, jpki};
use crate::onsign::sha256_digest_info;
use crate::secret::Pin;
use crate::status::StatusWord;

use super::device::TOKEN_IPHONE;

/// What holds the JPKI AP in the reader's field, told by its token info (EF 0006).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Holder {
    /// A My Number Card (`JPKIAPICCTOKEN2`).
    Card,
    /// An Android phone (`JPKIAPGPSETOKEN`).
    AndroidPhone,
    /// An iPhone ([`TOKEN_IPHONE`]).
    Iphone,
    /// Something else with a JPKI AP; the token text.
    Unknown(String),
}

impl Holder {
    /// The holder whose EF 0006 reads `token` (trailing spaces removed).
    pub fn from_token(token: &str) -> Self {
        match token {
            jpki::TOKEN_CARD => Holder::Card,
            jpki::TOKEN_ANDROID => Holder::AndroidPhone,
            TOKEN_IPHONE => Holder::Iphone,
            other => Holder::Unknown(other.to_owned()),
        }
    }
}

/// Selects the JPKI AP and reads the token info.
pub fn identify<C: CardChannel>(client: &mut JpkiClient<C>) -> Result<Holder, ClientError> {
    Ok(Holder::from_token(&client.token_info()?))
}

/// A phone's answer to the user-authentication step: its certificate and its signature
/// over the reader's message (PKCS#1 v1.5, SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneAuthentication {
    /// The smartphone user-authentication certificate (EF 000A), DER.
    pub certificate: Vec<u8>,
    /// The signature over the message.
    pub signature: Vec<u8>,
}

/// Android: SELECT the JPKI AP, VERIFY the phone PIN (typed on the reader and relayed to
/// the phone), read the user-authentication certificate and sign the SHA-256 DigestInfo
/// of `message`. A wrong or blocked PIN comes back as the outcome, with nothing read.
pub fn authenticate_android<C: CardChannel>(
    client: &mut JpkiClient<C>,
    pin: &Pin,
    message: &[u8],
) -> Result<(VerifyOutcome, Option<PhoneAuthentication>), ClientError> {
    client.select_ap(Ap::Jpki)?;
    let outcome = client.verify(PinRef::Auth, pin)?;
    if outcome != VerifyOutcome::Ok {
        return Ok((outcome, None));
    }
    let certificate = client.read_certificate(CertRef::Auth)?;
    let signature = client.sign_digest_info(KeyRef::Auth, &sha256_digest_info(message))?;
    Ok((
        outcome,
        Some(PhoneAuthentication {
            certificate,
            signature,
        }),
    ))
}

/// The iPhone's answer to the user-authentication step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IphoneOutcome {
    /// Unlocked by Face ID / Touch ID: certificate and signature.
    Authenticated(PhoneAuthentication),
    /// The phone refused (`6982`): the patient has not (or not recently) passed Face ID /
    /// Touch ID on the phone.
    BiometricRequired,
}

/// iPhone: SELECT the JPKI AP, read the user-authentication certificate and sign the
/// SHA-256 DigestInfo of `message`; both succeed only while the phone's biometric unlock
/// is in force. No PIN is sent.
pub fn authenticate_iphone<C: CardChannel>(
    client: &mut JpkiClient<C>,
    message: &[u8],
) -> Result<IphoneOutcome, ClientError> {
    let locked = |e: &ClientError| {
        matches!(
            e,
            ClientError::Status {
                sw: StatusWord::SECURITY_NOT_SATISFIED,
                ..
            }
        )
    };
    client.select_ap(Ap::Jpki)?;
    let certificate = match client.read_certificate(CertRef::Auth) {
        Ok(c) => c,
        Err(e) if locked(&e) => return Ok(IphoneOutcome::BiometricRequired),
        Err(e) => return Err(e),
    };
    let signature = match client.sign_digest_info(KeyRef::Auth, &sha256_digest_info(message)) {
        Ok(s) => s,
        Err(e) if locked(&e) => return Ok(IphoneOutcome::BiometricRequired),
        Err(e) => return Err(e),
    };
    Ok(IphoneOutcome::Authenticated(PhoneAuthentication {
        certificate,
        signature,
    }))
}

/// Errors reading the card substitute record from an iPhone.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PresentationError {
    /// The transport failed.
    #[error("transport: {0}")]
    Transport(Box<dyn std::error::Error + Send + Sync>),
    /// The phone answered a status word the step does not allow (`6A82` on SELECT: no
    /// card substitute record on this phone, e.g. an Android phone).
    #[error("{step}: phone answered {sw:?}")]
    Status {
        /// What was being done.
        step: &'static str,
        /// The status word.
        sw: StatusWord,
    },
    /// The phone's answer is not a session message.
    #[error("{0}")]
    Protocol(String),
    /// The phone ended the session with an error status (ISO/IEC 18013-5 Table 20).
    #[error("the phone ended the session with status {0}")]
    SessionStatus(u64),
    /// The record, or the session's encryption, does not verify.
    #[error("card substitute record: {0}")]
    Mdoc(#[from] onshi_mdoc::MdocError),
}

/// The outcome of reading the card substitute record.
#[derive(Debug, Clone)]
pub enum RecordOutcome {
    /// Presented and verified: issuer signature, digests, validity, device signature
    /// over this session.
    Verified(Box<onshi_mdoc::VerifiedMdoc>),
    /// The phone refused (`6982`): Face ID / Touch ID on the phone first.
    BiometricRequired,
}

fn send<C: CardChannel>(
    channel: &mut C,
    cla: u8,
    ins: u8,
    p1: u8,
    p2: u8,
    data: &[u8],
    ne: Option<usize>,
) -> Result<crate::apdu::Response, PresentationError> {
    let cmd = crate::apdu::Command::new(cla, ins, p1, p2, data.to_vec(), ne)
        .map_err(|e| PresentationError::Protocol(e.to_string()))?;
    channel
        .transmit(&cmd)
        .map_err(|e| PresentationError::Transport(Box::new(e)))
}

/// Ne of the last ENVELOPE: an extended-length Le, so that a phone can answer the whole
/// response at once (ISO/IEC 18013-5 readers use extended length); a phone that answers
/// less says `61xx` and the rest is fetched with GET RESPONSE.
pub const RESPONSE_NE: usize = crate::apdu::EXTENDED_NE_MAX;

/// Reads the iPhone's card substitute record (see [`super::mdoc_applet`] for the
/// APDUs): engagement, encrypted request for `request`'s elements, the encrypted
/// DeviceResponse fetched in pieces, then verification against the document-signer
/// certificates the reader trusts (`trusted_signers`, DER) at time `at`, and session
/// termination.
pub fn read_card_record<C: CardChannel>(
    channel: &mut C,
    request: &onshi_mdoc::DeviceRequest,
    trusted_signers: &[Vec<u8>],
    at: chrono::DateTime<chrono::Utc>,
) -> Result<RecordOutcome, PresentationError> {
    read_card_record_with_ne(channel, request, trusted_signers, at, RESPONSE_NE)
}

/// As [`read_card_record`], asking for at most `ne` response bytes per APDU (256 for a
/// reader limited to short APDUs: the phone then answers in `61xx` pieces).
pub fn read_card_record_with_ne<C: CardChannel>(
    channel: &mut C,
    request: &onshi_mdoc::DeviceRequest,
    trusted_signers: &[Vec<u8>],
    at: chrono::DateTime<chrono::Utc>,
    ne: usize,
) -> Result<RecordOutcome, PresentationError> {
    use super::mdoc_applet::{
        AID_MDOC, CLA_CHAINING, INS_ENVELOPE, INS_GET_RESPONSE, TAG_SESSION_MESSAGE, unwrap_message,
    };
    use onshi_mdoc::{EphemeralKey, Role, SessionCipher, SessionTranscript};

    let r = send(channel, 0x00, 0xA4, 0x04, 0x00, &AID_MDOC, Some(256))?;
    if !r.sw.is_ok() {
        return Err(PresentationError::Status {
            step: "SELECT mdoc",
            sw: r.sw,
        });
    }
    let engagement = r.data;
    let e_device = onshi_mdoc::engagement_key(&engagement)?;
    let e_reader = EphemeralKey::generate()?;
    let transcript = SessionTranscript::new(&engagement, e_reader.public_key());
    let mut cipher = SessionCipher::new(Role::Reader, &e_reader, &e_device, &transcript)?;
    let sealed = cipher.seal(&request.to_bytes())?;
    let message = crate::tlv::encode(
        TAG_SESSION_MESSAGE,
        &onshi_mdoc::session_establishment(e_reader.public_key(), &sealed),
    );
    let chunks: Vec<&[u8]> = message.chunks(255).collect();
    let mut r = None;
    for (i, chunk) in chunks.iter().enumerate() {
        let last = i + 1 == chunks.len();
        let (cla, ne) = if last {
            (0x00, Some(ne.clamp(1, RESPONSE_NE)))
        } else {
            (CLA_CHAINING, None)
        };
        let answer = send(channel, cla, INS_ENVELOPE, 0, 0, chunk, ne)?;
        if !last && !answer.sw.is_ok() {
            return Err(PresentationError::Status {
                step: "ENVELOPE",
                sw: answer.sw,
            });
        }
        r = Some(answer);
    }
    let r = r.ok_or_else(|| PresentationError::Protocol("empty request".into()))?;
    if r.sw == StatusWord::SECURITY_NOT_SATISFIED {
        return Ok(RecordOutcome::BiometricRequired);
    }
    let mut data = r.data;
    let mut sw = r.sw;
    while sw.sw1() == 0x61 {
        let ne = match sw.sw2() {
            0 => 256,
            n => usize::from(n),
        };
        let more = send(channel, 0x00, INS_GET_RESPONSE, 0, 0, &[], Some(ne))?;
        data.extend_from_slice(&more.data);
        sw = more.sw;
    }
    if !sw.is_ok() {
        return Err(PresentationError::Status {
            step: "ENVELOPE / GET RESPONSE",
            sw,
        });
    }
    let message = unwrap_message(&data)
        .ok_or_else(|| PresentationError::Protocol("not a 53 data object".into()))?;
    let (sealed, status) = onshi_mdoc::parse_session_data(&message)?;
    let Some(sealed) = sealed else {
        return Err(PresentationError::SessionStatus(status.unwrap_or(0)));
    };
    let response = cipher.open(&sealed)?;
    let verified = onshi_mdoc::verify_device_response(&response, &transcript, trusted_signers, at)?;
    // End the session; the phone's answer does not change the result.
    let end = crate::tlv::encode(
        TAG_SESSION_MESSAGE,
        &onshi_mdoc::session_data(None, Some(onshi_mdoc::STATUS_SESSION_TERMINATION)),
    );
    let _ = send(channel, 0x00, INS_ENVELOPE, 0, 0, &end, Some(256));
    Ok(RecordOutcome::Verified(Box::new(verified)))
}
