//! The holder's side (the phone): the reader's DeviceRequest and the DeviceResponse with
//! the device signature over this session's DeviceAuthentication (ISO/IEC 18013-5
//! §8.3.2.1.2, §9.1.3).

use ciborium::Value;

use crate::MdocError;
use crate::cbor::{self, as_text, map, req, tag24, text, untag24};
use crate::cose::{PrivateKey, Sign1};
use crate::issuer::IssuerSigned;
use crate::record::{DOC_TYPE, Element, NAMESPACE};
use crate::session::SessionTranscript;

/// The elements a reader asks for (one document of [`DOC_TYPE`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRequest {
    /// Element identifiers in [`NAMESPACE`].
    pub elements: Vec<String>,
}

impl DeviceRequest {
    /// Every element of the record.
    pub fn all() -> Self {
        Self {
            elements: Element::ALL.iter().map(|e| e.id().to_owned()).collect(),
        }
    }

    /// `DeviceRequest` = {"version": "1.0", "docRequests": [{"itemsRequest":
    /// #6.24(ItemsRequest)}]}, encoded.
    pub fn to_bytes(&self) -> Vec<u8> {
        let names = self
            .elements
            .iter()
            .map(|e| (text(e), Value::Bool(false)))
            .collect();
        let items_request = Value::Map(vec![
            (text("docType"), text(DOC_TYPE)),
            (
                text("nameSpaces"),
                Value::Map(vec![(text(NAMESPACE), Value::Map(names))]),
            ),
        ]);
        cbor::encode(&Value::Map(vec![
            (text("version"), text("1.0")),
            (
                text("docRequests"),
                Value::Array(vec![Value::Map(vec![(
                    text("itemsRequest"),
                    tag24(&items_request),
                )])]),
            ),
        ]))
    }

    /// Reads an encoded DeviceRequest; requests for other document types or namespaces
    /// are ignored.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MdocError> {
        let what = "DeviceRequest";
        let v = cbor::decode(what, bytes)?;
        let m = map(what, &v)?;
        let mut elements = Vec::new();
        for doc in cbor::array(what, req(what, m, "docRequests")?)? {
            let items = cbor::decode(
                what,
                untag24(what, req(what, map(what, doc)?, "itemsRequest")?)?,
            )?;
            let im = map(what, &items)?;
            if as_text(what, req(what, im, "docType")?)? != DOC_TYPE {
                continue;
            }
            for (ns, names) in map(what, req(what, im, "nameSpaces")?)? {
                if as_text(what, ns)? != NAMESPACE {
                    continue;
                }
                for (name, _retain) in map(what, names)? {
                    elements.push(as_text(what, name)?.to_owned());
                }
            }
        }
        Ok(Self { elements })
    }
}

/// `DeviceAuthenticationBytes` = #6.24(bstr .cbor ["DeviceAuthentication",
/// SessionTranscript, DocType, DeviceNameSpacesBytes]), encoded: the detached payload of
/// the device signature.
pub(crate) fn device_authentication_bytes(
    transcript: &SessionTranscript,
    doc_type: &str,
    device_name_spaces: &Value,
) -> Vec<u8> {
    cbor::encode(&tag24(&Value::Array(vec![
        text("DeviceAuthentication"),
        transcript.to_value(),
        text(doc_type),
        device_name_spaces.clone(),
    ])))
}

/// The phone's answer to `request` in the session `transcript`: the requested items of
/// `issuer_signed` and a device signature by `device_key` (which must be the key the MSO
/// binds). `DeviceResponse` = `{"version", "documents": [Document], "status": 0}`, encoded.
pub fn device_response(
    issuer_signed: &IssuerSigned,
    device_key: &PrivateKey,
    transcript: &SessionTranscript,
    request: &DeviceRequest,
) -> Result<Vec<u8>, MdocError> {
    if issuer_signed.device_key()? != device_key.public_key() {
        return Err(MdocError::DeviceKey(
            "the record is bound to another device key".into(),
        ));
    }
    let disclosed = issuer_signed.only(&request.elements)?;
    let device_name_spaces = tag24(&Value::Map(Vec::new()));
    let payload = device_authentication_bytes(transcript, DOC_TYPE, &device_name_spaces);
    let signature = Sign1::sign(device_key, &payload, None, true)?;
    let document = Value::Map(vec![
        (text("docType"), text(DOC_TYPE)),
        (text("issuerSigned"), disclosed.to_value()),
        (
            text("deviceSigned"),
            Value::Map(vec![
                (text("nameSpaces"), device_name_spaces),
                (
                    text("deviceAuth"),
                    Value::Map(vec![(text("deviceSignature"), signature.to_value())]),
                ),
            ]),
        ),
    ]);
    Ok(cbor::encode(&Value::Map(vec![
        (text("version"), text("1.0")),
        (text("documents"), Value::Array(vec![document])),
        (text("status"), Value::Integer(0.into())),
    ])))
}
