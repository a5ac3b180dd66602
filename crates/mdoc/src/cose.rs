//! The two COSE structures ISO/IEC 18013-5 uses, for ES256 (ECDSA P-256 with SHA-256)
//! only: `COSE_Key` (RFC 9053 §7.1.1, EC2) and `COSE_Sign1` (RFC 9052 §4.2), built on
//! `ciborium` values. Signatures are the fixed 64-byte `r || s` form COSE requires.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use ciborium::Value;
use der::Decode;

use crate::MdocError;
use crate::cbor::{self, as_bytes, get_int, map};

/// COSE header label `alg` (RFC 9052 §3.1).
pub const HEADER_ALG: i64 = 1;
/// COSE header label `x5chain` (RFC 9360 §2).
pub const HEADER_X5CHAIN: i64 = 33;
/// COSE algorithm ES256 (RFC 9053 §2.1).
pub const ALG_ES256: i64 = -7;
/// COSE_Key `kty` label and the EC2 value.
const KEY_KTY: i64 = 1;
const KTY_EC2: i64 = 2;
/// EC2 `crv`, `x`, `y` labels and the P-256 curve value (RFC 9053 §7.1.1).
const KEY_CRV: i64 = -1;
const KEY_X: i64 = -2;
const KEY_Y: i64 = -3;
const CRV_P256: i64 = 1;

/// `id-ecPublicKey` (RFC 5480).
const OID_EC_PUBLIC_KEY: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `prime256v1` / `secp256r1` (RFC 5480).
const OID_P256: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// A P-256 public key.
///
/// Invariant: `point` is a 65-byte uncompressed SEC1 point (`04 || x || y`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    point: Vec<u8>,
}

impl PublicKey {
    /// From an uncompressed SEC1 point.
    pub fn from_point(point: &[u8]) -> Result<Self, MdocError> {
        if point.len() != 65 || point[0] != 0x04 {
            return Err(MdocError::malformed(
                "P-256 key",
                "not an uncompressed point",
            ));
        }
        Ok(Self {
            point: point.to_vec(),
        })
    }

    /// From a SubjectPublicKeyInfo DER of a P-256 key.
    pub fn from_spki(spki_der: &[u8]) -> Result<Self, MdocError> {
        let spki = spki::SubjectPublicKeyInfoRef::from_der(spki_der)
            .map_err(|e| MdocError::malformed("public key", e))?;
        let curve = spki
            .algorithm
            .parameters
            .and_then(|p| p.decode_as::<const_oid::ObjectIdentifier>().ok());
        if spki.algorithm.oid != OID_EC_PUBLIC_KEY || curve != Some(OID_P256) {
            return Err(MdocError::UnsupportedAlgorithm(
                "public key is not ECDSA P-256".into(),
            ));
        }
        Self::from_point(spki.subject_public_key.raw_bytes())
    }

    /// The key of a DER X.509 certificate.
    pub fn from_certificate(cert_der: &[u8]) -> Result<Self, MdocError> {
        let cert = x509_cert::Certificate::from_der(cert_der)
            .map_err(|e| MdocError::malformed("certificate", e))?;
        let spki = der::Encode::to_der(cert.tbs_certificate().subject_public_key_info())
            .map_err(|e| MdocError::malformed("certificate", e))?;
        Self::from_spki(&spki)
    }

    /// The uncompressed point.
    pub fn point(&self) -> &[u8] {
        &self.point
    }

    /// `COSE_Key` {1: 2, -1: 1, -2: x, -3: y}.
    pub fn to_cose(&self) -> Value {
        Value::Map(vec![
            (
                Value::Integer(KEY_KTY.into()),
                Value::Integer(KTY_EC2.into()),
            ),
            (
                Value::Integer(KEY_CRV.into()),
                Value::Integer(CRV_P256.into()),
            ),
            (
                Value::Integer(KEY_X.into()),
                Value::Bytes(self.point[1..33].to_vec()),
            ),
            (
                Value::Integer(KEY_Y.into()),
                Value::Bytes(self.point[33..].to_vec()),
            ),
        ])
    }

    /// Reads a `COSE_Key` of an EC2 P-256 key.
    pub fn from_cose(v: &Value) -> Result<Self, MdocError> {
        let what = "COSE_Key";
        let m = map(what, v)?;
        let int = |label| {
            get_int(m, label).and_then(|v| match v {
                Value::Integer(i) => i64::try_from(i128::from(*i)).ok(),
                _ => None,
            })
        };
        if int(KEY_KTY) != Some(KTY_EC2) || int(KEY_CRV) != Some(CRV_P256) {
            return Err(MdocError::UnsupportedAlgorithm(
                "COSE_Key is not EC2 P-256".into(),
            ));
        }
        let coord = |label| -> Result<&[u8], MdocError> {
            let b = as_bytes(
                what,
                get_int(m, label)
                    .ok_or_else(|| MdocError::malformed(what, "missing coordinate"))?,
            )?;
            if b.len() == 32 {
                Ok(b)
            } else {
                Err(MdocError::malformed(what, "coordinate is not 32 bytes"))
            }
        };
        let mut point = vec![0x04];
        point.extend_from_slice(coord(KEY_X)?);
        point.extend_from_slice(coord(KEY_Y)?);
        Self::from_point(&point)
    }

    /// Checks an ES256 signature (64-byte `r || s`) over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.point)
            .verify(message, signature)
            .is_ok()
    }
}

/// A P-256 private key that signs ES256. `Debug` shows only the public key.
pub struct PrivateKey {
    key: EcdsaKeyPair,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PrivateKey(P-256, public {:02x?}…)",
            &self.public_point()[..8]
        )
    }
}

impl PrivateKey {
    /// From PKCS#8 DER.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, MdocError> {
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
            .map(|key| Self { key })
            .map_err(|_| MdocError::Key("not a PKCS#8 P-256 private key".into()))
    }

    /// A fresh key.
    pub fn generate() -> Result<Self, MdocError> {
        EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map(|key| Self { key })
            .map_err(|_| MdocError::Key("P-256 key generation failed".into()))
    }

    /// The key as PKCS#8 DER (zeroized on drop).
    pub fn to_pkcs8(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, MdocError> {
        self.key
            .to_pkcs8v1()
            .map(|d| zeroize::Zeroizing::new(d.as_ref().to_vec()))
            .map_err(|_| MdocError::Key("PKCS#8 export failed".into()))
    }

    fn public_point(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            point: self.public_point().to_vec(),
        }
    }

    /// ES256 signature, 64 bytes `r || s`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, MdocError> {
        self.key
            .sign(&SystemRandom::new(), message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| MdocError::Key("ECDSA signing failed".into()))
    }
}

/// `COSE_Sign1` = [protected: bstr, unprotected: map, payload: bstr / nil, signature: bstr].
#[derive(Debug, Clone, PartialEq)]
pub struct Sign1 {
    /// Encoded protected header map.
    pub protected: Vec<u8>,
    /// Unprotected header entries.
    pub unprotected: Vec<(Value, Value)>,
    /// Attached payload; `None` when detached (the verifier supplies it).
    pub payload: Option<Vec<u8>>,
    /// The signature.
    pub signature: Vec<u8>,
}

/// `Sig_structure` for `COSE_Sign1` with empty external AAD (RFC 9052 §4.4).
fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    cbor::encode(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]))
}

impl Sign1 {
    /// Signs `payload` with ES256; `x5chain` (a DER certificate) goes in the unprotected
    /// header; `detached` leaves the payload out of the structure.
    pub fn sign(
        key: &PrivateKey,
        payload: &[u8],
        x5chain: Option<&[u8]>,
        detached: bool,
    ) -> Result<Self, MdocError> {
        let protected = cbor::encode(&Value::Map(vec![(
            Value::Integer(HEADER_ALG.into()),
            Value::Integer(ALG_ES256.into()),
        )]));
        let signature = key.sign(&sig_structure(&protected, payload))?;
        let unprotected = x5chain
            .map(|c| {
                vec![(
                    Value::Integer(HEADER_X5CHAIN.into()),
                    Value::Bytes(c.to_vec()),
                )]
            })
            .unwrap_or_default();
        Ok(Self {
            protected,
            unprotected,
            payload: (!detached).then(|| payload.to_vec()),
            signature,
        })
    }

    /// The CBOR array.
    pub fn to_value(&self) -> Value {
        Value::Array(vec![
            Value::Bytes(self.protected.clone()),
            Value::Map(self.unprotected.clone()),
            self.payload
                .clone()
                .map(Value::Bytes)
                .unwrap_or(Value::Null),
            Value::Bytes(self.signature.clone()),
        ])
    }

    /// Reads the CBOR array (tag 18 allowed).
    pub fn from_value(what: &'static str, v: &Value) -> Result<Self, MdocError> {
        let v = match v {
            Value::Tag(18, inner) => inner.as_ref(),
            other => other,
        };
        let [protected, unprotected, payload, signature] = cbor::array(what, v)? else {
            return Err(MdocError::malformed(what, "COSE_Sign1 needs 4 elements"));
        };
        Ok(Self {
            protected: as_bytes(what, protected)?.to_vec(),
            unprotected: map(what, unprotected)?.to_vec(),
            payload: match payload {
                Value::Null => None,
                p => Some(as_bytes(what, p)?.to_vec()),
            },
            signature: as_bytes(what, signature)?.to_vec(),
        })
    }

    /// The protected `alg`; only ES256 is accepted.
    pub fn check_alg(&self, what: &'static str) -> Result<(), MdocError> {
        let header = cbor::decode(what, &self.protected)?;
        let alg = get_int(map(what, &header)?, HEADER_ALG);
        match alg {
            Some(Value::Integer(i)) if i128::from(*i) == i128::from(ALG_ES256) => Ok(()),
            other => Err(MdocError::UnsupportedAlgorithm(format!(
                "{what}: COSE alg {other:?}"
            ))),
        }
    }

    /// The `x5chain` certificate (the first one when it is an array).
    pub fn x5chain(&self) -> Option<&[u8]> {
        match get_int(&self.unprotected, HEADER_X5CHAIN)? {
            Value::Bytes(b) => Some(b),
            Value::Array(a) => match a.first()? {
                Value::Bytes(b) => Some(b),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether the signature verifies with `key` over `payload` (the attached one when
    /// `None`).
    pub fn verifies(&self, key: &PublicKey, detached_payload: Option<&[u8]>) -> bool {
        let Some(payload) = detached_payload.or(self.payload.as_deref()) else {
            return false;
        };
        key.verify(&sig_structure(&self.protected, payload), &self.signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign1_round_trip_and_tamper() {
        let key = PrivateKey::generate().unwrap();
        let s = Sign1::sign(&key, b"payload", Some(b"cert"), false).unwrap();
        let back = Sign1::from_value(
            "s",
            &cbor::decode("s", &cbor::encode(&s.to_value())).unwrap(),
        )
        .unwrap();
        assert_eq!(back, s);
        back.check_alg("s").unwrap();
        assert_eq!(back.x5chain(), Some(&b"cert"[..]));
        assert!(back.verifies(&key.public_key(), None));
        assert!(!back.verifies(&key.public_key(), Some(b"other")));
        assert!(!back.verifies(&PrivateKey::generate().unwrap().public_key(), None));
        let detached = Sign1::sign(&key, b"p", None, true).unwrap();
        assert!(detached.payload.is_none());
        assert!(detached.verifies(&key.public_key(), Some(b"p")));
        assert!(!detached.verifies(&key.public_key(), None));
    }

    #[test]
    fn cose_key_round_trip() {
        let key = PrivateKey::generate().unwrap().public_key();
        assert_eq!(PublicKey::from_cose(&key.to_cose()).unwrap(), key);
        assert!(PublicKey::from_point(&[4; 64]).is_err());
    }
}
