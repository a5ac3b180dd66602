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
