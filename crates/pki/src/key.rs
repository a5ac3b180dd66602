//! RSA-2048 keys, the signer and key-store abstractions for CA keys, and PKCS#1 v1.5
//! signature checks.

use std::fmt;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _, UnparsedPublicKey};
use zeroize::Zeroizing;

use crate::PkiError;

/// Something that signs with an RSA-2048 private key, PKCS#1 v1.5 with SHA-256: a
/// software key or a key inside a PKCS#11 token. CAs sign certificates and CRLs
/// through this trait.
pub trait Signer: Send + Sync {
    /// The public key as a DER SubjectPublicKeyInfo.
    fn public_key_spki(&self) -> &[u8];
    /// `RSASSA-PKCS1-v1_5` signature with SHA-256 over `message`.
    fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, PkiError>;
}

/// Where CA keys live. A key is named by a label; `load_or_generate` creates it on
/// first use, so a CA set can be created and reopened with the same call.
pub trait KeyStore {
    /// Loads the key called `label`, generating an RSA-2048 key pair when there is none.
    fn load_or_generate(&self, label: &str) -> Result<Arc<dyn Signer>, PkiError>;
}

/// A software RSA-2048 key pair.
///
/// Invariant: `pkcs8` is the PKCS#8 encoding of `inner` and `spki` its public key. The
/// PKCS#8 bytes are zeroized on drop and `Debug` prints only the public-key digest.
pub struct RsaKeyPair {
    inner: KeyPair,
    pkcs8: Zeroizing<Vec<u8>>,
    spki: Vec<u8>,
}

impl RsaKeyPair {
    /// Generates a fresh RSA-2048 key pair.
    pub fn generate() -> Result<Self, PkiError> {
        let inner =
            KeyPair::generate(KeySize::Rsa2048).map_err(|e| PkiError::Key(e.to_string()))?;
        Self::from_inner(inner)
    }

    /// Imports an unencrypted PKCS#8 (RFC 5208) DER RSA private key.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, PkiError> {
        let inner = KeyPair::from_pkcs8(der).map_err(|e| PkiError::Key(e.to_string()))?;
        Self::from_inner(inner)
    }

    fn from_inner(inner: KeyPair) -> Result<Self, PkiError> {
        let pkcs8 = inner
            .as_der()
            .map_err(|e| PkiError::Key(format!("PKCS#8 export: {e}")))?;
        let pkcs8 = Zeroizing::new(pkcs8.as_ref().to_vec());
        let spki = inner
            .public_key()
            .as_der()
            .map_err(|e| PkiError::Key(format!("public key export: {e}")))?
            .as_ref()
            .to_vec();
        Ok(Self { inner, pkcs8, spki })
    }

    /// The private key as PKCS#8 DER (what rustls takes as `PrivatePkcs8KeyDer`).
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public key as a DER SubjectPublicKeyInfo.
    pub fn public_key_spki(&self) -> &[u8] {
        &self.spki
    }

    /// `RSASSA-PKCS1-v1_5` with SHA-256 over `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        let mut sig = vec![0; self.inner.public_modulus_len()];
        self.inner
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut sig,
            )
            .map_err(|e| PkiError::Key(format!("sign: {e}")))?;
        Ok(sig)
    }

    /// Signs a DER `DigestInfo` the way a JPKI card's SIGN command does: PKCS#1 v1.5
    /// type-1 padding around the given DigestInfo. Only SHA-256 DigestInfos can be
    /// signed with this crypto library; a SHA-1 one is rejected with
    /// [`PkiError::UnsupportedAlgorithm`] (SHA-1 signatures can still be verified).
    pub fn sign_digest_info(&self, digest_info: &[u8]) -> Result<Vec<u8>, PkiError> {
        let (alg, value) = parse_digest_info(digest_info)?;
        if alg != DigestAlgorithm::Sha256 {
            return Err(PkiError::UnsupportedAlgorithm(format!(
                "signing a {alg:?} DigestInfo"
            )));
        }
        let digest = digest::Digest::import_less_safe(value, &digest::SHA256)
            .map_err(|_| PkiError::malformed("DigestInfo", "digest length"))?;
        let mut sig = vec![0; self.inner.public_modulus_len()];
        self.inner
            .sign_digest(&signature::RSA_PKCS1_SHA256, &digest, &mut sig)
            .map_err(|e| PkiError::Key(format!("sign: {e}")))?;
        Ok(sig)
    }
}

impl Signer for RsaKeyPair {
    fn public_key_spki(&self) -> &[u8] {
        &self.spki
    }

    fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        self.sign(message)
    }
}

impl fmt::Debug for RsaKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = digest::digest(&digest::SHA256, &self.spki);
        f.debug_struct("RsaKeyPair")
            .field("spki_sha256_prefix", &hex8(d.as_ref()))
            .finish_non_exhaustive()
    }
}

fn hex8(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Keeps CA keys as PKCS#8 DER files `<label>.pk8` (mode 0600) in one directory.
#[derive(Debug, Clone)]
pub struct SoftwareKeyStore {
    dir: PathBuf,
}

impl SoftwareKeyStore {
    /// A key store in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Path of the key file for `label`.
    pub fn key_path(&self, label: &str) -> PathBuf {
        self.dir.join(format!("{label}.pk8"))
    }
}

impl KeyStore for SoftwareKeyStore {
    fn load_or_generate(&self, label: &str) -> Result<Arc<dyn Signer>, PkiError> {
        let path = self.key_path(label);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                Ok(Arc::new(RsaKeyPair::from_pkcs8(&bytes)?))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = RsaKeyPair::generate()?;
                write_private(&path, key.pkcs8_der())?;
                Ok(Arc::new(key))
            }
            Err(e) => Err(PkiError::io(&path)(e)),
        }
    }
}

/// Writes `bytes` to a new file readable only by its owner (0600).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), PkiError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(PkiError::io(dir))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(PkiError::io(path))?;
    f.write_all(bytes).map_err(PkiError::io(path))?;
    f.sync_all().map_err(PkiError::io(path))
}

/// Verifies an `RSASSA-PKCS1-v1_5` SHA-256 signature over `message` with an RSA
/// public key given as SubjectPublicKeyInfo (or PKCS#1 RSAPublicKey) DER.
pub fn verify_signature(spki: &[u8], message: &[u8], sig: &[u8]) -> Result<(), PkiError> {
    UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, spki)
        .verify(message, sig)
        .map_err(|_| PkiError::BadSignature { what: "message" })
}

/// Digest algorithms that occur in the DigestInfos JPKI clients send to the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// SHA-1 (legacy clients; verify only).
    Sha1,
    /// SHA-256.
    Sha256,
}

/// DER prefix of a SHA-1 `DigestInfo` (RFC 8017 §9.2 note 1).
const DIGEST_INFO_SHA1_PREFIX: [u8; 15] = [
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];
/// DER prefix of a SHA-256 `DigestInfo` (RFC 8017 §9.2 note 1).
const DIGEST_INFO_SHA256_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// The SHA-256 `DigestInfo` of `message`, as a terminal sends it to the card's SIGN.
pub fn digest_info_sha256(message: &[u8]) -> Vec<u8> {
    let d = digest::digest(&digest::SHA256, message);
    let mut out = Vec::with_capacity(DIGEST_INFO_SHA256_PREFIX.len() + 32);
    out.extend_from_slice(&DIGEST_INFO_SHA256_PREFIX);
    out.extend_from_slice(d.as_ref());
    out
}

/// Splits a DER `DigestInfo` into its algorithm and digest value.
pub fn parse_digest_info(digest_info: &[u8]) -> Result<(DigestAlgorithm, &[u8]), PkiError> {
    if let Some(v) = digest_info.strip_prefix(&DIGEST_INFO_SHA256_PREFIX[..])
        && v.len() == 32
    {
        return Ok((DigestAlgorithm::Sha256, v));
    }
    if let Some(v) = digest_info.strip_prefix(&DIGEST_INFO_SHA1_PREFIX[..])
        && v.len() == 20
    {
        return Ok((DigestAlgorithm::Sha1, v));
    }
    Err(PkiError::malformed(
        "DigestInfo",
        "neither a SHA-256 nor a SHA-1 DigestInfo",
    ))
}

/// Verifies a PKCS#1 v1.5 signature made over a DER `DigestInfo` (SHA-256 or SHA-1),
/// as a JPKI card produces it.
pub fn verify_digest_info_signature(
    spki: &[u8],
    digest_info: &[u8],
    sig: &[u8],
) -> Result<(), PkiError> {
    let (alg, value) = parse_digest_info(digest_info)?;
    let (params, dalg) = match alg {
        DigestAlgorithm::Sha256 => (&signature::RSA_PKCS1_2048_8192_SHA256, &digest::SHA256),
        DigestAlgorithm::Sha1 => (
            &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            &digest::SHA1_FOR_LEGACY_USE_ONLY,
        ),
    };
    let d = digest::Digest::import_less_safe(value, dalg)
        .map_err(|_| PkiError::malformed("DigestInfo", "digest length"))?;
    UnparsedPublicKey::new(params, spki)
        .verify_digest(&d, sig)
        .map_err(|_| PkiError::BadSignature { what: "message" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_export_import_sign_verify() {
        let k = RsaKeyPair::generate().unwrap();
        let k2 = RsaKeyPair::from_pkcs8(k.pkcs8_der()).unwrap();
        assert_eq!(k.public_key_spki(), k2.public_key_spki());
        let sig = k2.sign(b"hello").unwrap();
        assert_eq!(sig.len(), 256);
        verify_signature(k.public_key_spki(), b"hello", &sig).unwrap();
        assert!(verify_signature(k.public_key_spki(), b"hellO", &sig).is_err());
        // A card-style signature over a DigestInfo equals the plain one (deterministic padding).
        let di = digest_info_sha256(b"hello");
        assert_eq!(k.sign_digest_info(&di).unwrap(), sig);
        verify_digest_info_signature(k.public_key_spki(), &di, &sig).unwrap();
    }

    #[test]
    fn debug_hides_the_private_key() {
        let k = RsaKeyPair::generate().unwrap();
        let s = format!("{k:?}");
        assert!(s.len() < 100, "{s}");
        assert!(!s.contains("pkcs8"));
    }

    #[test]
    fn sha1_digest_info_is_parsed_but_not_signed() {
        let mut di = DIGEST_INFO_SHA1_PREFIX.to_vec();
        di.extend_from_slice(&[7; 20]);
        assert_eq!(parse_digest_info(&di).unwrap().0, DigestAlgorithm::Sha1);
        let k = RsaKeyPair::generate().unwrap();
        assert!(matches!(
            k.sign_digest_info(&di),
            Err(PkiError::UnsupportedAlgorithm(_))
        ));
        assert!(parse_digest_info(&di[..30]).is_err());
    }
}
