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
