//! The reader's side: mdoc authentication (ISO/IEC 18013-5 §9.3). Issuer data
//! authentication (trusted document signer, its COSE_Sign1 over the MSO, every digest,
//! the validity window) and mdoc authentication (the MSO's device key signed this
//! session's DeviceAuthentication).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ciborium::Value;
use der::Decode;

use crate::cbor::{self, as_bytes, as_text, as_uint, map, req};
use crate::cose::{PublicKey, Sign1};
use crate::holder::device_authentication_bytes;
use crate::issuer::{IssuerSigned, device_key_of};
use crate::record::{DOC_TYPE, Element, NAMESPACE};
use crate::session::SessionTranscript;
use crate::{MdocError, sha256};

/// The elements the phone disclosed, each verified; absent ones were not requested or
/// not sent.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Disclosed {
    /// 氏名.
    pub name: Option<String>,
    /// 住所.
    pub address: Option<String>,
    /// 生年月日.
    pub birth_date: Option<NaiveDate>,
    /// 性別 (ISO 5218).
    pub sex: Option<u8>,
    /// 個人番号.
    pub my_number: Option<String>,
    /// 顔写真.
    pub portrait: Option<Vec<u8>>,
}

/// Masks the My Number and shows the portrait's length only.
impl std::fmt::Debug for Disclosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Disclosed")
            .field("name", &self.name)
            .field("address", &self.address)
            .field("birth_date", &self.birth_date)
            .field("sex", &self.sex)
            .field("my_number", &self.my_number.as_ref().map(|_| "****"))
            .field("portrait_len", &self.portrait.as_ref().map(Vec::len))
            .finish()
    }
}

/// A DeviceResponse that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedMdoc {
    /// The disclosed data.
    pub disclosed: Disclosed,
    /// ValidityInfo.signed.
    pub signed: DateTime<Utc>,
    /// ValidityInfo.validUntil.
    pub valid_until: DateTime<Utc>,
    /// The document signer's certificate (one of the trusted ones), DER.
    pub signer_certificate: Vec<u8>,
    /// The device key the issuer bound.
    pub device_key: PublicKey,
}

fn time_of(t: &x509_cert::time::Time) -> Option<DateTime<Utc>> {
    let secs = i64::try_from(t.to_unix_duration().as_secs()).ok()?;
    Utc.timestamp_opt(secs, 0).single()
}

fn signer_valid_at(cert_der: &[u8], at: DateTime<Utc>) -> Result<(), MdocError> {
    let cert = x509_cert::Certificate::from_der(cert_der)
        .map_err(|e| MdocError::malformed("document-signer certificate", e))?;
    let v = cert.tbs_certificate().validity();
    match (time_of(&v.not_before), time_of(&v.not_after)) {
        (Some(nb), Some(na)) if nb <= at && at <= na => Ok(()),
        _ => Err(MdocError::SignerCertificateNotValid),
    }
}

fn element_value(d: &mut Disclosed, element: Element, v: &Value) -> Result<(), MdocError> {
    let what = "elementValue";
    match element {
        Element::Name => d.name = Some(as_text(what, v)?.to_owned()),
        Element::Address => d.address = Some(as_text(what, v)?.to_owned()),
        Element::BirthDate => d.birth_date = Some(cbor::from_full_date(what, v)?),
        Element::Sex => {
            d.sex = Some(
                u8::try_from(as_uint(what, v)?)
                    .map_err(|_| MdocError::malformed(what, "sex out of range"))?,
            )
        }
        Element::MyNumber => d.my_number = Some(as_text(what, v)?.to_owned()),
        Element::Portrait => d.portrait = Some(as_bytes(what, v)?.to_vec()),
    }
    Ok(())
}

/// Verifies an encoded DeviceResponse received in the session `transcript`, against the
/// document-signer certificates the reader trusts (DER), at time `at`.
pub fn verify_device_response(
    response: &[u8],
    transcript: &SessionTranscript,
    trusted_signers: &[Vec<u8>],
    at: DateTime<Utc>,
) -> Result<VerifiedMdoc, MdocError> {
    let what = "DeviceResponse";
    let v = cbor::decode(what, response)?;
    let m = map(what, &v)?;
    let status = cbor::get(m, "status")
        .map(|s| as_uint(what, s))
        .transpose()?
        .unwrap_or(0);
    if status != 0 {
        return Err(MdocError::ResponseStatus(status));
    }
    let docs = cbor::array(what, req(what, m, "documents")?)?;
    let [doc] = docs else {
        return Err(MdocError::malformed(what, "expected exactly one document"));
    };
    let dm = map("Document", doc)?;
    let doc_type = as_text("Document", req("Document", dm, "docType")?)?;
    if doc_type != DOC_TYPE {
        return Err(MdocError::DocType {
            expected: DOC_TYPE.into(),
            actual: doc_type.into(),
        });
    }
    let issuer_signed = IssuerSigned::from_value(req("Document", dm, "issuerSigned")?)?;

    // Issuer data authentication: a trusted signer, valid now, signed the MSO.
    let auth = issuer_signed.issuer_auth();
    auth.check_alg("issuerAuth")?;
    let signer_cert = auth.x5chain().ok_or(MdocError::UntrustedIssuer)?;
    if !trusted_signers.iter().any(|t| t.as_slice() == signer_cert) {
        return Err(MdocError::UntrustedIssuer);
    }
    signer_valid_at(signer_cert, at)?;
    let signer_key = PublicKey::from_certificate(signer_cert)?;
    if !auth.verifies(&signer_key, None) {
        return Err(MdocError::IssuerSignature);
    }
    let mso = issuer_signed.mso()?;
    let mm = map("MobileSecurityObject", &mso)?;
    let w = "MobileSecurityObject";
    if as_text(w, req(w, mm, "digestAlgorithm")?)? != "SHA-256" {
        return Err(MdocError::UnsupportedAlgorithm(
            "MSO digest algorithm".into(),
        ));
    }
    let mso_doc_type = as_text(w, req(w, mm, "docType")?)?;
    if mso_doc_type != doc_type {
        return Err(MdocError::DocType {
            expected: doc_type.into(),
            actual: mso_doc_type.into(),
        });
    }
    let validity = map(w, req(w, mm, "validityInfo")?)?;
    let signed = cbor::from_tdate(w, req(w, validity, "signed")?)?;
    let valid_from = cbor::from_tdate(w, req(w, validity, "validFrom")?)?;
    let valid_until = cbor::from_tdate(w, req(w, validity, "validUntil")?)?;
    if at < valid_from {
        return Err(MdocError::NotYetValid { valid_from });
    }
    if at >= valid_until {
        return Err(MdocError::Expired { valid_until });
    }
    let digests = map(w, req(w, mm, "valueDigests")?)?;
    let ns_digests = cbor::get(digests, NAMESPACE)
        .map(|d| map(w, d))
        .transpose()?
        .unwrap_or(&[]);
    let mut disclosed = Disclosed::default();
    for item in issuer_signed.items()? {
        let expected = ns_digests
            .iter()
            .find(|(k, _)| as_uint(w, k).ok() == Some(item.digest_id))
            .map(|(_, d)| as_bytes(w, d))
            .transpose()?
            .ok_or_else(|| MdocError::MissingDigest {
                element: item.element.clone(),
                digest_id: item.digest_id,
            })?;
        if sha256(&item.tagged) != expected {
            return Err(MdocError::DigestMismatch {
                element: item.element,
            });
        }
        if let Some(e) = Element::from_id(&item.element) {
            element_value(&mut disclosed, e, &item.value)?;
        }
    }

    // mdoc authentication: the bound device key signed this session.
    let device_key = device_key_of(&mso)?;
    let ds = map("deviceSigned", req("Document", dm, "deviceSigned")?)?;
    let name_spaces = req("deviceSigned", ds, "nameSpaces")?;
    let device_auth = map("deviceAuth", req("deviceSigned", ds, "deviceAuth")?)?;
    let sig = cbor::get(device_auth, "deviceSignature").ok_or_else(|| {
        MdocError::malformed("deviceAuth", "no deviceSignature (MAC unsupported)")
    })?;
    let sig = Sign1::from_value("deviceSignature", sig)?;
    sig.check_alg("deviceSignature")?;
    if sig.payload.is_some() {
        return Err(MdocError::malformed(
            "deviceSignature",
            "payload must be detached",
        ));
    }
    let payload = device_authentication_bytes(transcript, doc_type, name_spaces);
    if !sig.verifies(&device_key, Some(&payload)) {
        return Err(MdocError::DeviceSignature);
    }
    Ok(VerifiedMdoc {
        disclosed,
        signed,
        valid_until,
        signer_certificate: signer_cert.to_vec(),
        device_key,
    })
}
