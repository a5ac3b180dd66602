//! The one error type of the PKI layer.

use chrono::{DateTime, Utc};

use crate::crl::RevocationReason;
use crate::profile::CertKind;

/// Everything that can go wrong while creating keys, issuing, revoking or verifying
/// certificates.
///
/// Verification outcomes that a service maps to a user-facing answer (`Expired`,
/// `Revoked`, `UnknownIssuer`, …) carry the data needed to explain them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// The certificate's notAfter (plus any grace period for its kind) is before the
    /// verification time.
    #[error("certificate expired at {not_after} (accepted until {accepted_until})")]
    Expired {
        /// notAfter from the certificate.
        not_after: DateTime<Utc>,
        /// notAfter plus the grace period that applies to this kind of certificate.
        accepted_until: DateTime<Utc>,
    },
    /// The certificate's notBefore is after the verification time.
    #[error("certificate not valid before {not_before}")]
    NotYetValid {
        /// notBefore from the certificate.
        not_before: DateTime<Utc>,
    },
    /// The issuer has revoked the certificate.
    #[error("certificate revoked at {revoked_at}: {reason}")]
    Revoked {
        /// Why it was revoked.
        reason: RevocationReason,
        /// When the revocation took effect.
        revoked_at: DateTime<Utc>,
    },
    /// No trusted CA has the certificate's issuer name.
    #[error("unknown issuer: {issuer}")]
    UnknownIssuer {
        /// The issuer name, RFC 4514 string.
        issuer: String,
    },
    /// A signature (on a certificate, a CRL or a message) does not verify.
    #[error("bad signature on {what}")]
    BadSignature {
        /// What carried the signature: "certificate", "crl", "message".
        what: &'static str,
    },
    /// The certificate verified but is not of a kind the caller accepts.
    #[error("wrong kind of certificate: {actual:?}, expected one of {expected:?}")]
    WrongKind {
        /// Kinds the caller accepts.
        expected: Vec<CertKind>,
        /// Kind of the certificate presented.
        actual: CertKind,
    },
    /// DER that does not parse, or a certificate that breaks the profile.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being read.
        what: &'static str,
        /// Why it was rejected.
        detail: String,
    },
    /// A signature algorithm other than the ones this layer supports.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// J-LIS does not issue signing certificates to holders under 15.
    #[error("holder is {age}, a signing certificate needs age {minimum} or more")]
    TooYoungForSigning {
        /// Age of the holder on the issue date.
        age: u32,
        /// The legal minimum.
        minimum: u32,
    },
    /// A request field that the profile does not allow.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// Which field.
        field: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// A key that the crypto library rejected, or a failed key operation.
    #[error("key error: {0}")]
    Key(String),
    /// Reading or writing the CA state directory.
    #[error("{path}: {source}")]
    Io {
        /// File or directory involved.
        path: std::path::PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A PKCS#11 module or token failure.
    #[error("PKCS#11: {0}")]
    Pkcs11(String),
}

impl PkiError {
    pub(crate) fn malformed(what: &'static str, detail: impl std::fmt::Display) -> Self {
        Self::Malformed {
            what,
            detail: detail.to_string(),
        }
    }

    pub(crate) fn der(what: &'static str) -> impl FnOnce(der::Error) -> Self {
        move |e| Self::malformed(what, e)
    }

    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
