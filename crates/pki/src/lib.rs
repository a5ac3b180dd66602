//! onshi-pki: the public-key infrastructure of onshi. It holds the J-LIS certificate
//! authorities (card and smartphone, user authentication and digital signature) and the
//! center's institution CA, the JPKI certificate profile, CRLs, RSA-2048 keys (software
//! or PKCS#11), and the verifier the center calls on every eligibility check.
//!
//! It is a pure library: it must not speak HTTP, touch SQL or know about APDUs. Files it
//! writes are limited to a CA state directory the caller names. Callers keep revocation
//! lists as data and ask a CA to turn them into CRLs.

mod attrs;
mod ca;
mod crl;
mod error;
mod jlis;
mod key;
pub mod oid;
mod phone;
#[cfg(feature = "pkcs11")]
mod pkcs11;
mod profile;
mod verify;

pub use attrs::{
    BasicAttributes, SIGNING_MIN_AGE, Sex, age_on, decode_birth_date, encode_birth_date,
    fifth_birthday_after, jpki_not_after, jst,
};
pub use ca::{
    CA_VALIDITY, CertificateAuthority, IssuedCert, IssuedKeyPair, TLS_CERT_VALIDITY, crl_url,
    to_pem,
};
pub use crl::{ParsedCrl, RevocationReason, RevokedEntry, crl_pem, parse_crl};
pub use error::PkiError;
pub use jlis::Jlis;
pub use key::{
    DigestAlgorithm, KeyStore, RsaKeyPair, Signer, SoftwareKeyStore, digest_info_sha256,
    parse_digest_info, verify_digest_info_signature, verify_signature,
};
pub use phone::{
    DOCUMENT_SIGNER_LABEL, DocumentSignerKey, KP_MDL_DS, NAME_DOCUMENT_SIGNER,
    certificate_public_key,
};
#[cfg(feature = "pkcs11")]
pub use pkcs11::Pkcs11KeyStore;
pub use profile::{CaKind, CertKind, Serial};
pub use verify::{TrustPolicy, TrustStore, VerifiedCert};
