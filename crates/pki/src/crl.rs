//! Revocation: reasons, the caller-kept revocation entries, and CRLs (RFC 5280 §5)
//! built and read from them.

use std::fmt;

use chrono::{DateTime, Utc};
use der::asn1::{BitStringRef, Uint};
use der::{Decode, Encode, Reader, SliceReader};
use spki::AlgorithmIdentifierRef;
use x509_cert::certificate::{Rfc5280, Version};
use x509_cert::crl::{RevokedCert, TbsCertList};
use x509_cert::ext::pkix::crl::CrlNumber;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlReason};

use crate::ca::{CertificateAuthority, octets, sha256_with_rsa, sign_tbs, to_pem, x509_time};
use crate::profile::{Serial, ext};
use crate::{PkiError, oid};

/// Why a JPKI certificate was revoked (失効事由).
///
/// CRLs carry the RFC 5280 `CRLReason` of [`RevocationReason::crl_code`]; reasons that
/// share a code (a lost card and a compromised key) read back from a CRL as the first
/// of them. The caller's own revocation list keeps the precise reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevocationReason {
    /// No reason given (code 0).
    Unspecified,
    /// The private key is known or suspected to be compromised (code 1).
    KeyCompromise,
    /// 紛失・盗難: the card or phone is lost or stolen (code 1, keyCompromise).
    LostCard,
    /// 基本4情報の変更: name, address, birth date or sex changed; revokes the signing
    /// certificate (code 3, affiliationChanged).
    AttributeChange,
    /// 更新: a new certificate replaced this one (code 4).
    Superseded,
    /// 死亡: the holder died (code 5, cessationOfOperation).
    Death,
    /// 廃止: the holder gave up the card or the service (code 5).
    CessationOfOperation,
    /// 一時停止: suspended, for instance while a lost card may still be found (code 6).
    CertificateHold,
}

impl RevocationReason {
    /// RFC 5280 `CRLReason` code written to the CRL entry.
    pub fn crl_code(self) -> u8 {
        match self {
            Self::Unspecified => 0,
            Self::KeyCompromise | Self::LostCard => 1,
            Self::AttributeChange => 3,
            Self::Superseded => 4,
            Self::Death | Self::CessationOfOperation => 5,
            Self::CertificateHold => 6,
        }
    }

    /// The reason a CRL entry's code reads back as.
    pub fn from_crl_code(code: u8) -> Self {
        match code {
            1 => Self::KeyCompromise,
            3 => Self::AttributeChange,
            4 => Self::Superseded,
            5 => Self::CessationOfOperation,
            6 => Self::CertificateHold,
            _ => Self::Unspecified,
        }
    }

    fn to_x509(self) -> CrlReason {
        match self.crl_code() {
            1 => CrlReason::KeyCompromise,
            3 => CrlReason::AffiliationChanged,
            4 => CrlReason::Superseded,
            5 => CrlReason::CessationOfOperation,
            6 => CrlReason::CertificateHold,
            _ => CrlReason::Unspecified,
        }
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "key compromise",
            Self::LostCard => "lost card",
            Self::AttributeChange => "attribute change",
            Self::Superseded => "superseded",
            Self::Death => "death",
            Self::CessationOfOperation => "cessation of operation",
            Self::CertificateHold => "certificate hold",
        };
        f.write_str(s)
    }
}

/// One revoked certificate of one CA: the data the caller keeps and builds CRLs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevokedEntry {
    /// Serial number of the revoked certificate.
    pub serial: Serial,
    /// When the revocation took effect.
    pub revoked_at: DateTime<Utc>,
    /// Why.
    pub reason: RevocationReason,
}

/// A CRL whose signature has not been checked yet, as read from DER.
#[derive(Debug, Clone)]
pub struct ParsedCrl<'a> {
    /// DER of the issuer name.
    pub issuer_der: Vec<u8>,
    /// thisUpdate.
    pub this_update: DateTime<Utc>,
    /// nextUpdate, if present.
    pub next_update: Option<DateTime<Utc>>,
    /// The cRLNumber extension, if present and at most 64 bits.
    pub crl_number: Option<u64>,
    /// The entries.
    pub entries: Vec<RevokedEntry>,
    pub(crate) tbs: &'a [u8],
    pub(crate) signature: &'a [u8],
}

pub(crate) fn to_chrono(t: &x509_cert::time::Time) -> DateTime<Utc> {
    let secs = t.to_unix_duration().as_secs();
    DateTime::from_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Splits signed DER (certificate or CRL) into TBS bytes, algorithm and signature.
pub(crate) fn split_signed<'a>(
    der_bytes: &'a [u8],
    what: &'static str,
) -> Result<(&'a [u8], &'a [u8]), PkiError> {
    let mut r = SliceReader::new(der_bytes).map_err(PkiError::der(what))?;
    let (tbs, alg, sig) = r
        .sequence(|r| {
            let tbs = r.tlv_bytes()?;
            let alg = AlgorithmIdentifierRef::decode(r)?;
            let sig = BitStringRef::decode(r)?;
            Ok::<_, der::Error>((tbs, alg, sig))
        })
        .map_err(PkiError::der(what))?;
    r.finish().map_err(PkiError::der(what))?;
    if alg.oid != oid::SHA256_WITH_RSA {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "{what} signed with {}",
            alg.oid
        )));
    }
    let sig = sig
        .as_bytes()
        .ok_or_else(|| PkiError::malformed(what, "signature has unused bits"))?;
    Ok((tbs, sig))
}

/// Reads a CRL without checking its signature (see `TrustStore::load_crl`).
pub fn parse_crl(der_bytes: &[u8]) -> Result<ParsedCrl<'_>, PkiError> {
    let (tbs_bytes, signature) = split_signed(der_bytes, "CRL")?;
    let tbs = TbsCertList::<Rfc5280>::from_der(tbs_bytes).map_err(PkiError::der("CRL"))?;
    let mut crl_number = None;
    for e in tbs.crl_extensions.iter().flatten() {
        if e.extn_id == const_oid::db::rfc5280::ID_CE_CRL_NUMBER {
            let n =
                CrlNumber::from_der(e.extn_value.as_bytes()).map_err(PkiError::der("cRLNumber"))?;
            let b = n.0.as_bytes();
            if b.len() <= 8 {
                let mut buf = [0u8; 8];
                buf[8 - b.len()..].copy_from_slice(b);
                crl_number = Some(u64::from_be_bytes(buf));
            }
        }
    }
    let mut entries = Vec::new();
    for rc in tbs.revoked_certificates.iter().flatten() {
        let mut reason = RevocationReason::Unspecified;
        for e in rc.crl_entry_extensions.iter().flatten() {
            if e.extn_id == const_oid::db::rfc5280::ID_CE_CRL_REASONS {
                let r = CrlReason::from_der(e.extn_value.as_bytes())
                    .map_err(PkiError::der("reasonCode"))?;
                reason = RevocationReason::from_crl_code(r as u8);
            }
        }
        entries.push(RevokedEntry {
            serial: Serial::from_bytes(rc.serial_number.as_bytes())?,
            revoked_at: to_chrono(&rc.revocation_date),
            reason,
        });
    }
    Ok(ParsedCrl {
        issuer_der: tbs.issuer.to_der().map_err(PkiError::der("CRL issuer"))?,
        this_update: to_chrono(&tbs.this_update),
        next_update: tbs.next_update.as_ref().map(to_chrono),
        crl_number,
        entries,
        tbs: tbs_bytes,
        signature,
    })
}

impl CertificateAuthority {
    /// Builds and signs a v2 CRL listing `revoked`, with the given thisUpdate,
    /// nextUpdate and cRLNumber, an authorityKeyIdentifier and a reasonCode per entry
    /// (omitted for `Unspecified`, as RFC 5280 §5.3.1 recommends).
    pub fn build_crl(
        &self,
        revoked: &[RevokedEntry],
        this_update: DateTime<Utc>,
        next_update: DateTime<Utc>,
        crl_number: u64,
    ) -> Result<Vec<u8>, PkiError> {
        let mut list = Vec::with_capacity(revoked.len());
        for e in revoked {
            let exts = if e.reason == RevocationReason::Unspecified {
                None
            } else {
                Some(vec![ext(false, &e.reason.to_x509())?])
            };
            list.push(RevokedCert {
                serial_number: e.serial.to_x509()?,
                revocation_date: x509_time(e.revoked_at)?,
                crl_entry_extensions: exts,
            });
        }
        let number = Uint::new(&crl_number.to_be_bytes()).map_err(PkiError::der("cRLNumber"))?;
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(octets(self.ski())?),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        };
        let tbs = TbsCertList::<Rfc5280> {
            version: Version::V2,
            signature: sha256_with_rsa(),
            issuer: self.name().clone(),
            this_update: x509_time(this_update)?,
            next_update: Some(x509_time(next_update)?),
            revoked_certificates: if list.is_empty() { None } else { Some(list) },
            crl_extensions: Some(vec![ext(false, &aki)?, ext(false, &CrlNumber(number))?]),
        };
        let tbs = tbs.to_der().map_err(PkiError::der("CRL"))?;
        sign_tbs(self.signer(), &tbs)
    }
}

/// PEM armour of a DER CRL (`X509 CRL`).
pub fn crl_pem(der_bytes: &[u8]) -> String {
    to_pem("X509 CRL", der_bytes)
}
