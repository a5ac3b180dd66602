//! The issuer's side: IssuerSignedItems with random salts, the MobileSecurityObject that
//! holds their digests, the validity and the device key, and its COSE_Sign1 by the
//! document signer (ISO/IEC 18013-5 §9.1.2).

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use chrono::{DateTime, Utc};
use ciborium::Value;

use crate::cbor::{self, as_bytes, as_text, as_uint, map, req, tag24, text, untag24};
use crate::cose::{PrivateKey, PublicKey, Sign1};
use crate::record::{CardRecord, DOC_TYPE, Element, NAMESPACE};
use crate::{MdocError, sha256};

/// Bytes of random salt per item (ISO/IEC 18013-5 §9.1.2.5: at least 16).
pub const SALT_LEN: usize = 16;

/// The issuer's document-signer key and certificate (the certificate goes in the
/// `x5chain` header so that readers can match it against the ones they trust).
///
/// Invariant: the certificate certifies `key`'s public key (checked by [`Self::new`]).
#[derive(Debug)]
pub struct DocumentSigner {
    key: PrivateKey,
    cert_der: Vec<u8>,
}

impl DocumentSigner {
    /// From a PKCS#8 P-256 key and its DER certificate.
    pub fn new(key_pkcs8: &[u8], cert_der: Vec<u8>) -> Result<Self, MdocError> {
        let key = PrivateKey::from_pkcs8(key_pkcs8)?;
        if PublicKey::from_certificate(&cert_der)? != key.public_key() {
            return Err(MdocError::Key(
                "the document-signer certificate is not for this key".into(),
            ));
        }
        Ok(Self { key, cert_der })
    }

    /// The certificate, DER.
    pub fn certificate(&self) -> &[u8] {
        &self.cert_der
    }
}

/// ValidityInfo: when the MSO was signed and the window in which the document is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// `signed`.
    pub signed: DateTime<Utc>,
    /// `validFrom`.
    pub valid_from: DateTime<Utc>,
    /// `validUntil`.
    pub valid_until: DateTime<Utc>,
}

/// One decoded IssuerSignedItem with the exact bytes that were digested.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    /// The `IssuerSignedItemBytes` (`#6.24(bstr)`) as encoded.
    pub tagged: Vec<u8>,
    pub digest_id: u64,
    pub element: String,
    pub value: Value,
}

impl Item {
    fn from_value(v: &Value) -> Result<Self, MdocError> {
        let what = "IssuerSignedItem";
        let inner = cbor::decode(what, untag24(what, v)?)?;
        let m = map(what, &inner)?;
        as_bytes(what, req(what, m, "random")?)?;
        Ok(Self {
            tagged: cbor::encode(v),
            digest_id: as_uint(what, req(what, m, "digestID")?)?,
            element: as_text(what, req(what, m, "elementIdentifier")?)?.to_owned(),
            value: req(what, m, "elementValue")?.clone(),
        })
    }
}

/// The issuer-signed part of the record: items and the issuer's signature over their
/// digests. What the phone stores and presents.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuerSigned {
    items: Vec<Value>,
    issuer_auth: Sign1,
}

impl IssuerSigned {
    /// `IssuerSigned` = `{"nameSpaces": {ns: [IssuerSignedItemBytes]}, "issuerAuth": COSE_Sign1}`.
    pub fn to_value(&self) -> Value {
        Value::Map(vec![
            (
                text("nameSpaces"),
                Value::Map(vec![(text(NAMESPACE), Value::Array(self.items.clone()))]),
            ),
            (text("issuerAuth"), self.issuer_auth.to_value()),
        ])
    }

    /// Encoded CBOR.
    pub fn to_bytes(&self) -> Vec<u8> {
        cbor::encode(&self.to_value())
    }

    /// Reads the CBOR value (structure only; nothing is verified).
    pub fn from_value(v: &Value) -> Result<Self, MdocError> {
        let what = "IssuerSigned";
        let m = map(what, v)?;
        let ns = map(what, req(what, m, "nameSpaces")?)?;
        let mut items = Vec::new();
        for (k, list) in ns {
            if as_text(what, k)? != NAMESPACE {
                continue;
            }
            for item in cbor::array(what, list)? {
                Item::from_value(item)?;
                items.push(item.clone());
            }
        }
        let issuer_auth = Sign1::from_value("issuerAuth", req(what, m, "issuerAuth")?)?;
        Ok(Self { items, issuer_auth })
    }

    /// Reads encoded CBOR (structure only; nothing is verified).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MdocError> {
        Self::from_value(&cbor::decode("IssuerSigned", bytes)?)
    }

    pub(crate) fn items(&self) -> Result<Vec<Item>, MdocError> {
        self.items.iter().map(Item::from_value).collect()
    }

    pub(crate) fn issuer_auth(&self) -> &Sign1 {
        &self.issuer_auth
    }

    /// The MobileSecurityObject (decoded, not verified).
    pub(crate) fn mso(&self) -> Result<Value, MdocError> {
        let what = "MobileSecurityObject";
        let payload = self
            .issuer_auth
            .payload
            .as_deref()
            .ok_or_else(|| MdocError::malformed(what, "detached payload"))?;
        let tagged = cbor::decode(what, payload)?;
        cbor::decode(what, untag24(what, &tagged)?)
    }

    /// The device key bound in the MSO (not verified: the phone uses this to refuse a
    /// record made for another phone).
    pub fn device_key(&self) -> Result<PublicKey, MdocError> {
        let mso = self.mso()?;
        device_key_of(&mso)
    }

    /// The same record with only `elements` disclosed (selective disclosure: the other
    /// items stay on the phone; their digests remain in the signed MSO).
    pub fn only(&self, elements: &[String]) -> Result<Self, MdocError> {
        let mut items = Vec::new();
        for (raw, item) in self.items.iter().zip(self.items()?) {
            if elements.contains(&item.element) {
                items.push(raw.clone());
            }
        }
        Ok(Self {
            items,
            issuer_auth: self.issuer_auth.clone(),
        })
    }
}

pub(crate) fn device_key_of(mso: &Value) -> Result<PublicKey, MdocError> {
    let what = "MobileSecurityObject";
    let m = map(what, mso)?;
    let info = cbor::get(m, "deviceKeyInfo")
        .ok_or_else(|| MdocError::DeviceKey("no deviceKeyInfo".into()))?;
    let key = map(what, info)
        .ok()
        .and_then(|i| cbor::get(i, "deviceKey"))
        .ok_or_else(|| MdocError::DeviceKey("no deviceKey".into()))?;
    PublicKey::from_cose(key).map_err(|e| MdocError::DeviceKey(e.to_string()))
}

/// Builds the IssuerSigned record for `record`, bound to the phone's device key
/// (`device_key_spki`, P-256 SubjectPublicKeyInfo DER), signed by `signer`.
pub fn issue(
    record: &CardRecord,
    device_key_spki: &[u8],
    signer: &DocumentSigner,
    validity: Validity,
) -> Result<IssuerSigned, MdocError> {
    record.check()?;
    if validity.valid_from >= validity.valid_until {
        return Err(MdocError::Invalid {
            field: "validity",
            reason: "validFrom must be before validUntil".into(),
        });
    }
    let device_key = PublicKey::from_spki(device_key_spki)?;
    let rng = SystemRandom::new();
    let mut items = Vec::new();
    let mut digests = Vec::new();
    for (id, element) in (0u64..).zip(Element::ALL) {
        let mut salt = [0u8; SALT_LEN];
        rng.fill(&mut salt)
            .map_err(|_| MdocError::Key("system RNG failed".into()))?;
        let item = tag24(&Value::Map(vec![
            (text("digestID"), Value::Integer(id.into())),
            (text("random"), Value::Bytes(salt.to_vec())),
            (text("elementIdentifier"), text(element.id())),
            (text("elementValue"), record.value(element)),
        ]));
        digests.push((
            Value::Integer(id.into()),
            Value::Bytes(sha256(&cbor::encode(&item))),
        ));
        items.push(item);
    }
    let mso = Value::Map(vec![
        (text("version"), text("1.0")),
        (text("digestAlgorithm"), text("SHA-256")),
        (
            text("valueDigests"),
            Value::Map(vec![(text(NAMESPACE), Value::Map(digests))]),
        ),
        (
            text("deviceKeyInfo"),
            Value::Map(vec![(text("deviceKey"), device_key.to_cose())]),
        ),
        (text("docType"), text(DOC_TYPE)),
        (
            text("validityInfo"),
            Value::Map(vec![
                (text("signed"), cbor::tdate(validity.signed)),
                (text("validFrom"), cbor::tdate(validity.valid_from)),
                (text("validUntil"), cbor::tdate(validity.valid_until)),
            ]),
        ),
    ]);
    let payload = cbor::encode(&tag24(&mso));
    let issuer_auth = Sign1::sign(&signer.key, &payload, Some(&signer.cert_der), false)?;
    Ok(IssuerSigned { items, issuer_auth })
}
