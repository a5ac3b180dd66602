//! onshi-mdoc: the iPhone's card substitute record (券面事項 on the phone) as an ISO/IEC
//! 18013-5 mdoc. It builds the issuer-signed part (IssuerSignedItems with random salts,
//! their digests in a MobileSecurityObject signed with COSE_Sign1 by the issuer's
//! document-signer certificate, with ValidityInfo and the phone's device key), the
//! holder's presentation (DeviceResponse whose device signature covers this session's
//! SessionTranscript), and the reader's verification of all of it.
//!
//! It is a pure data-structure and crypto library (CBOR via `ciborium`, ES256 via
//! aws-lc-rs): it must not do I/O, know about APDUs or the phone, or keep state between
//! calls. Transport (the APDU applet and its reader) lives in `onshi-card`'s `phone`
//! module; keys and certificates come from `onshi-pki`.

pub mod cbor;
pub mod cose;
mod holder;
mod issuer;
mod record;
mod session;
mod verify;

pub use cose::{PrivateKey, PublicKey};
pub use holder::{DeviceRequest, device_response};
pub use issuer::{DocumentSigner, IssuerSigned, Validity, issue};
pub use record::{CardRecord, DOC_TYPE, Element, NAMESPACE};
pub use session::{
    EphemeralKey, Role, STATUS_CBOR_DECODING_ERROR, STATUS_SESSION_ENCRYPTION_ERROR,
    STATUS_SESSION_TERMINATION, SessionCipher, SessionTranscript, device_engagement,
    engagement_key, parse_session_data, parse_session_establishment, session_data,
    session_establishment,
};
pub use verify::{Disclosed, VerifiedMdoc, verify_device_response};

/// Everything that can go wrong building, presenting or verifying an mdoc. The reader's
/// verification failures each name the part that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MdocError {
    /// CBOR or COSE that does not parse, or a structure that breaks ISO/IEC 18013-5.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being read.
        what: &'static str,
        /// Why it was rejected.
        detail: String,
    },
    /// An algorithm other than ES256 / P-256 / SHA-256.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// A key that the crypto library rejected, or a failed key operation.
    #[error("key: {0}")]
    Key(String),
    /// An input value breaks its rules (issuance).
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which value.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The DeviceResponse reports an error status instead of a document.
    #[error("the device answered status {0}")]
    ResponseStatus(u64),
    /// Not the document type the reader asked for.
    #[error("document type {actual:?}, expected {expected:?}")]
    DocType {
        /// What the reader expects.
        expected: String,
        /// What the document says.
        actual: String,
    },
    /// The issuer's certificate (x5chain) is missing or not one the reader trusts.
    #[error("the document signer is not trusted")]
    UntrustedIssuer,
    /// The trusted document-signer certificate is not valid at the verification time.
    #[error("the document-signer certificate is not valid at the verification time")]
    SignerCertificateNotValid,
    /// The issuer's COSE_Sign1 over the MobileSecurityObject does not verify.
    #[error("the issuer signature (MSO) does not verify")]
    IssuerSignature,
    /// An item's digest is not in the MobileSecurityObject.
    #[error("no digest for {element} (digest ID {digest_id})")]
    MissingDigest {
        /// The element identifier.
        element: String,
        /// Its digest ID.
        digest_id: u64,
    },
    /// An item's digest differs from the one the issuer signed.
    #[error("the digest of {element} does not match the issuer's")]
    DigestMismatch {
        /// The element identifier.
        element: String,
    },
    /// Verification time before ValidityInfo.validFrom.
    #[error("the document is not valid before {valid_from}")]
    NotYetValid {
        /// validFrom.
        valid_from: chrono::DateTime<chrono::Utc>,
    },
    /// Verification time at or after ValidityInfo.validUntil.
    #[error("the document expired at {valid_until}")]
    Expired {
        /// validUntil.
        valid_until: chrono::DateTime<chrono::Utc>,
    },
    /// The MSO's device key is missing or malformed.
    #[error("device key: {0}")]
    DeviceKey(String),
    /// The device signature does not verify over this session's DeviceAuthentication
    /// (wrong device key, altered signature, or a response made for another session).
    #[error("the device signature does not verify for this session")]
    DeviceSignature,
    /// A session message does not decrypt (wrong session keys, altered or replayed).
    #[error("a session message does not decrypt")]
    SessionDecryption,
}

impl MdocError {
    pub(crate) fn malformed(what: &'static str, detail: impl std::fmt::Display) -> Self {
        Self::Malformed {
            what,
            detail: detail.to_string(),
        }
    }
}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .to_vec()
}
