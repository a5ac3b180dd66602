//! On-card signing: PKCS#1 v1.5 type-1 padding of the caller's DigestInfo, then the RSA
//! private-key operation.
//!
//! The JPKI card pads whatever DigestInfo it is given (clients send SHA-256 and SHA-1
//! DigestInfos; OpenSC's `RSA-PKCS` mechanism passes arbitrary bytes). aws-lc-rs, the
//! project's crypto stack, only signs messages it hashes itself or digests it knows
//! (`sign_digest`, SHA-256/384/512 only), and exposes no raw RSA private operation, so it
//! cannot implement this. The RustCrypto `rsa` crate's `Pkcs1v15Sign::new_unprefixed()`
//! can, and is used here only. PKCS#1 v1.5 signing is deterministic, so for a SHA-256
//! DigestInfo the result equals aws-lc-rs's `RSA_PKCS1_SHA256` signature (tested).

use rsa::pkcs8::DecodePrivateKey;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};

/// Minimum PKCS#1 v1.5 padding overhead (`00 01` + 8 × `FF` + `00`).
pub const PKCS1_OVERHEAD: usize = 11;

/// Errors of the on-card RSA operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The stored key is not a PKCS#8 RSA private key.
    #[error("stored key is not a PKCS#8 RSA key")]
    BadKey,
    /// The input is empty or longer than the modulus allows with padding.
    #[error("input of {len} bytes does not fit a {modulus}-byte modulus with padding")]
    InputLength {
        /// Input length.
        len: usize,
        /// Modulus length in bytes.
        modulus: usize,
    },
    /// The RSA operation failed.
    #[error("RSA operation failed")]
    Rsa,
}

/// A parsed private key held by the card.
pub struct CardKey(RsaPrivateKey);

impl std::fmt::Debug for CardKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CardKey({} bytes)", self.modulus_len())
    }
}

impl CardKey {
    /// Parses a PKCS#8 DER RSA private key.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, SignError> {
        RsaPrivateKey::from_pkcs8_der(der)
            .map(Self)
            .map_err(|_| SignError::BadKey)
    }

    /// Modulus length in bytes.
    pub fn modulus_len(&self) -> usize {
        rsa::traits::PublicKeyParts::size(&self.0)
    }

    /// Pads `digest_info` (PKCS#1 v1.5 type 1, RFC 8017 §9.2 steps 3-5) and applies the
    /// private key, with blinding.
    pub fn sign_digest_info(&self, digest_info: &[u8]) -> Result<Vec<u8>, SignError> {
        let modulus = self.modulus_len();
        if digest_info.is_empty() || digest_info.len() + PKCS1_OVERHEAD > modulus {
            return Err(SignError::InputLength {
                len: digest_info.len(),
                modulus,
            });
        }
        self.0
            .sign_with_rng(
                &mut rand_core::OsRng,
                Pkcs1v15Sign::new_unprefixed(),
                digest_info,
            )
            .map_err(|_| SignError::Rsa)
    }

    /// The card's answer to COMPUTE DIGITAL SIGNATURE over `digest_info`: the signature,
    /// `6700` for an input the key cannot pad, `6F00` for anything else.
    pub(crate) fn sign_response(&self, digest_info: &[u8]) -> crate::apdu::Response {
        use crate::apdu::Response;
        use crate::status::StatusWord;
        match self.sign_digest_info(digest_info) {
            Ok(sig) => Response::ok(sig),
            Err(SignError::InputLength { .. }) => Response::status(StatusWord::WRONG_LENGTH),
            Err(_) => Response::status(StatusWord::NO_PRECISE_DIAGNOSIS),
        }
    }
}

/// DER prefix of a SHA-256 DigestInfo (RFC 8017 §9.2 note 1).
pub const SHA256_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// DER prefix of a SHA-1 DigestInfo (RFC 8017 §9.2 note 1).
pub const SHA1_DIGEST_INFO_PREFIX: [u8; 15] = [
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// The SHA-256 DigestInfo of `message`.
pub fn sha256_digest_info(message: &[u8]) -> Vec<u8> {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
    let mut out = SHA256_DIGEST_INFO_PREFIX.to_vec();
    out.extend_from_slice(d.as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{self, KeyPair, RsaKeyPair, UnparsedPublicKey};

    #[test]
    fn equals_aws_lc_rs_for_sha256_and_verifies_for_sha1() {
        let kp = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let pkcs8 = kp.as_der().unwrap();
        let card = CardKey::from_pkcs8(pkcs8.as_ref()).unwrap();
        let msg = b"challenge || 1312345678 || 20250401120000";

        let on_card = card.sign_digest_info(&sha256_digest_info(msg)).unwrap();
        let mut reference = vec![0; kp.public_modulus_len()];
        kp.sign(
            &signature::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            msg,
            &mut reference,
        )
        .unwrap();
        assert_eq!(on_card, reference);

        let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, msg);
        let mut di = SHA1_DIGEST_INFO_PREFIX.to_vec();
        di.extend_from_slice(sha1.as_ref());
        let sig = card.sign_digest_info(&di).unwrap();
        UnparsedPublicKey::new(
            &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            kp.public_key().as_ref(),
        )
        .verify(msg, &sig)
        .unwrap();
    }

    #[test]
    fn refuses_oversized_and_empty_input() {
        let kp = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let card = CardKey::from_pkcs8(kp.as_der().unwrap().as_ref()).unwrap();
        assert!(card.sign_digest_info(&[0; 245]).is_ok());
        assert!(card.sign_digest_info(&[0; 246]).is_err());
        assert!(card.sign_digest_info(&[]).is_err());
        assert!(CardKey::from_pkcs8(&[0x30, 0x00]).is_err());
    }
}
