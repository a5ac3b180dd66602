//! Device engagement and the SessionTranscript (ISO/IEC 18013-5 §9.1.5.1), which ties a
//! device signature to one reader session: it holds the phone's engagement (with its
//! ephemeral key) and the reader's ephemeral key, both fresh per session.

use ciborium::Value;

use crate::MdocError;
use crate::cbor::{self, array, map, tag24, untag24};
use crate::cose::PublicKey;

/// `DeviceEngagement` = {0: "1.0", 1: Security = [1, EDeviceKeyBytes]} (cipher suite 1),
/// encoded: the `DeviceEngagementBytes` content. *onshi design*: no retrieval-method or
/// handover entries, because the engagement travels in the same APDU session.
pub fn device_engagement(e_device_key: &PublicKey) -> Vec<u8> {
    cbor::encode(&Value::Map(vec![
        (Value::Integer(0.into()), Value::Text("1.0".into())),
        (
            Value::Integer(1.into()),
            Value::Array(vec![
                Value::Integer(1.into()),
                tag24(&e_device_key.to_cose()),
            ]),
        ),
    ]))
}

/// The phone's ephemeral key from an encoded DeviceEngagement.
pub fn engagement_key(device_engagement: &[u8]) -> Result<PublicKey, MdocError> {
    let what = "DeviceEngagement";
    let v = cbor::decode(what, device_engagement)?;
    let security = cbor::get_int(map(what, &v)?, 1)
        .ok_or_else(|| MdocError::malformed(what, "no Security"))?;
    let [_suite, key] = array(what, security)? else {
        return Err(MdocError::malformed(what, "Security is not [suite, key]"));
    };
    PublicKey::from_cose(&cbor::decode(what, untag24(what, key)?)?)
}

/// `SessionTranscript` = [DeviceEngagementBytes, EReaderKeyBytes, Handover]. *onshi
/// design*: Handover is `null` (as for QR engagement), since the engagement is read over
/// the same APDU channel instead of an NFC handover.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionTranscript {
    value: Value,
}

impl SessionTranscript {
    /// From the phone's encoded DeviceEngagement and the reader's ephemeral public key.
    pub fn new(device_engagement: &[u8], e_reader_key: &PublicKey) -> Self {
        Self {
            value: Value::Array(vec![
                Value::Tag(
                    cbor::TAG_ENCODED_CBOR,
                    Box::new(Value::Bytes(device_engagement.to_vec())),
                ),
                tag24(&e_reader_key.to_cose()),
                Value::Null,
            ]),
        }
    }

    /// The CBOR value.
    pub fn to_value(&self) -> Value {
        self.value.clone()
    }

    /// Encoded `SessionTranscriptBytes` content.
    pub fn to_bytes(&self) -> Vec<u8> {
        cbor::encode(&self.value)
    }
}

/// An ephemeral P-256 key-agreement key (EDeviceKey or EReaderKey), fresh per session.
pub struct EphemeralKey {
    key: aws_lc_rs::agreement::PrivateKey,
    public: PublicKey,
}

impl std::fmt::Debug for EphemeralKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EphemeralKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl EphemeralKey {
    /// A fresh key.
    pub fn generate() -> Result<Self, MdocError> {
        use aws_lc_rs::agreement;
        let key = agreement::PrivateKey::generate(&agreement::ECDH_P256)
            .map_err(|_| MdocError::Key("ECDH key generation failed".into()))?;
        let public = key
            .compute_public_key()
            .map_err(|_| MdocError::Key("ECDH public key failed".into()))?;
        Ok(Self {
            public: PublicKey::from_point(public.as_ref())?,
            key,
        })
    }

    /// Its public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }
}

/// Which end of the session this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The mdoc reader (the clinic's reader).
    Reader,
    /// The mdoc (the phone).
    Device,
}

/// Session encryption (ISO/IEC 18013-5 §9.1.1.5): SKReader and SKDevice derived with
/// HKDF-SHA-256 from the ECDH secret of the two ephemeral keys, salt = SHA-256 of
/// `SessionTranscriptBytes`; AES-256-GCM with the nonce `identifier (8 bytes: 0 reader,
/// 1 device) || message counter (4 bytes, from 1)`.
pub struct SessionCipher {
    role: Role,
    sk_reader: aws_lc_rs::aead::LessSafeKey,
    sk_device: aws_lc_rs::aead::LessSafeKey,
    sent: u32,
    received: u32,
}

impl std::fmt::Debug for SessionCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCipher")
            .field("role", &self.role)
            .field("sent", &self.sent)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl SessionCipher {
    /// Derives the session keys from `own` ephemeral key, the `peer`'s public key and
    /// the session transcript.
    pub fn new(
        role: Role,
        own: &EphemeralKey,
        peer: &PublicKey,
        transcript: &SessionTranscript,
    ) -> Result<Self, MdocError> {
        use aws_lc_rs::{aead, agreement, hkdf};
        let transcript_bytes = cbor::encode(&tag24(&transcript.value));
        let salt = crate::sha256(&transcript_bytes);
        let derive = |z: &[u8], info: &[u8]| -> Result<aead::LessSafeKey, MdocError> {
            let mut out = zeroize::Zeroizing::new([0u8; 32]);
            hkdf::Salt::new(hkdf::HKDF_SHA256, &salt)
                .extract(z)
                .expand(&[info], hkdf::HKDF_SHA256)
                .and_then(|okm| okm.fill(&mut out[..]))
                .map_err(|_| MdocError::Key("HKDF failed".into()))?;
            let key = aead::UnboundKey::new(&aead::AES_256_GCM, &out[..])
                .map_err(|_| MdocError::Key("AES key failed".into()))?;
            Ok(aead::LessSafeKey::new(key))
        };
        let (sk_reader, sk_device) = agreement::agree(
            &own.key,
            agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, peer.point()),
            MdocError::Key("ECDH with the peer's key failed".into()),
            |z| Ok((derive(z, b"SKReader")?, derive(z, b"SKDevice")?)),
        )?;
        Ok(Self {
            role,
            sk_reader,
            sk_device,
            sent: 0,
            received: 0,
        })
    }

    fn nonce(from: Role, counter: u32) -> aws_lc_rs::aead::Nonce {
        let mut n = [0u8; 12];
        if from == Role::Device {
            n[7] = 1;
        }
        n[8..].copy_from_slice(&counter.to_be_bytes());
        aws_lc_rs::aead::Nonce::assume_unique_for_key(n)
    }

    /// Encrypts the next message from this end.
    pub fn seal(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, MdocError> {
        self.sent = self
            .sent
            .checked_add(1)
            .ok_or_else(|| MdocError::Key("message counter exhausted".into()))?;
        let key = match self.role {
            Role::Reader => &self.sk_reader,
            Role::Device => &self.sk_device,
        };
        let mut data = plaintext.to_vec();
        key.seal_in_place_append_tag(
            Self::nonce(self.role, self.sent),
            aws_lc_rs::aead::Aad::empty(),
            &mut data,
        )
        .map_err(|_| MdocError::Key("AES-GCM failed".into()))?;
        Ok(data)
    }

    /// Decrypts the next message from the other end.
    pub fn open(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>, MdocError> {
        let (key, from) = match self.role {
            Role::Reader => (&self.sk_device, Role::Device),
            Role::Device => (&self.sk_reader, Role::Reader),
        };
        let counter = self
            .received
            .checked_add(1)
            .ok_or(MdocError::SessionDecryption)?;
        let mut data = ciphertext.to_vec();
        let plain = key
            .open_in_place(
                Self::nonce(from, counter),
                aws_lc_rs::aead::Aad::empty(),
                &mut data,
            )
            .map_err(|_| MdocError::SessionDecryption)?;
        let plain = plain.to_vec();
        self.received = counter;
        Ok(plain)
    }
}

/// `SessionEstablishment` = {"eReaderKey": EReaderKeyBytes, "data": encrypted
/// DeviceRequest}, encoded.
pub fn session_establishment(e_reader_key: &PublicKey, data: &[u8]) -> Vec<u8> {
    cbor::encode(&Value::Map(vec![
        (cbor::text("eReaderKey"), tag24(&e_reader_key.to_cose())),
        (cbor::text("data"), Value::Bytes(data.to_vec())),
    ]))
}

/// Reads a SessionEstablishment: the reader's ephemeral key and the encrypted data.
pub fn parse_session_establishment(bytes: &[u8]) -> Result<(PublicKey, Vec<u8>), MdocError> {
    let what = "SessionEstablishment";
    let v = cbor::decode(what, bytes)?;
    let m = map(what, &v)?;
    let key = cbor::decode(what, untag24(what, cbor::req(what, m, "eReaderKey")?)?)?;
    let data = cbor::as_bytes(what, cbor::req(what, m, "data")?)?;
    Ok((PublicKey::from_cose(&key)?, data.to_vec()))
}

/// `SessionData` = {"data": encrypted message} (and "status" on errors), encoded.
pub fn session_data(data: Option<&[u8]>, status: Option<u64>) -> Vec<u8> {
    let mut m = Vec::new();
    if let Some(d) = data {
        m.push((cbor::text("data"), Value::Bytes(d.to_vec())));
    }
    if let Some(s) = status {
        m.push((cbor::text("status"), Value::Integer(s.into())));
    }
    cbor::encode(&Value::Map(m))
}

/// Reads a SessionData: the encrypted data, if any, and the status, if any.
pub fn parse_session_data(bytes: &[u8]) -> Result<(Option<Vec<u8>>, Option<u64>), MdocError> {
    let what = "SessionData";
    let v = cbor::decode(what, bytes)?;
    let m = map(what, &v)?;
    let data = cbor::get(m, "data")
        .map(|d| cbor::as_bytes(what, d).map(<[u8]>::to_vec))
        .transpose()?;
    let status = cbor::get(m, "status")
        .map(|s| cbor::as_uint(what, s))
        .transpose()?;
    Ok((data, status))
}

/// SessionData status: error, session encryption (ISO/IEC 18013-5 Table 20).
pub const STATUS_SESSION_ENCRYPTION_ERROR: u64 = 10;
/// SessionData status: error, CBOR decoding.
pub const STATUS_CBOR_DECODING_ERROR: u64 = 11;
/// SessionData status: session termination.
pub const STATUS_SESSION_TERMINATION: u64 = 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ends_derive_the_same_keys_and_counters_advance() {
        let device = EphemeralKey::generate().unwrap();
        let reader = EphemeralKey::generate().unwrap();
        let engagement = device_engagement(device.public_key());
        assert_eq!(&engagement_key(&engagement).unwrap(), device.public_key());
        let t = SessionTranscript::new(&engagement, reader.public_key());
        let mut r = SessionCipher::new(Role::Reader, &reader, device.public_key(), &t).unwrap();
        let mut d = SessionCipher::new(Role::Device, &device, reader.public_key(), &t).unwrap();
        let c1 = r.seal(b"request").unwrap();
        assert_eq!(d.open(&c1).unwrap(), b"request");
        // A replayed message no longer decrypts (the counter moved on).
        assert!(matches!(d.open(&c1), Err(MdocError::SessionDecryption)));
        let c2 = d.seal(b"response").unwrap();
        assert_eq!(r.open(&c2).unwrap(), b"response");
        // Another session's keys do not open it.
        let other = EphemeralKey::generate().unwrap();
        let t2 = SessionTranscript::new(&engagement, other.public_key());
        let mut r2 = SessionCipher::new(Role::Reader, &other, device.public_key(), &t2).unwrap();
        assert!(r2.open(&c2).is_err());
    }
}
