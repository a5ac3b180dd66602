//! onshi's JPKI certificate profile: kinds of CA and certificate, subject names, serial
//! numbers and the extension values each kind carries.

use std::fmt;
use std::str::FromStr;

use const_oid::AssociatedOid;
use der::Encode;
use der::asn1::{Ia5String, OctetString, Utf8StringRef};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName, OtherName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies, CrlDistributionPoints,
    ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::name::Name;

use crate::PkiError;
use crate::attrs::{BasicAttributes, encode_birth_date};
use crate::oid;

/// The certificate authorities of onshi: the four J-LIS CAs and the center's CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CaKind {
    /// 利用者証明用電子証明書 CA: card user-authentication certificates.
    CardAuth,
    /// 署名用電子証明書 CA: card digital-signature certificates.
    CardSigning,
    /// スマホ用利用者証明用電子証明書 CA: smartphone user-authentication certificates.
    PhoneAuth,
    /// スマホ用署名用電子証明書 CA: smartphone digital-signature certificates.
    PhoneSigning,
    /// The center's institution CA: TLS client certificates of clinic terminals and TLS
    /// server certificates of the center.
    Institution,
}

impl CaKind {
    /// All CAs, in a fixed order.
    pub const ALL: [CaKind; 5] = [
        CaKind::CardAuth,
        CaKind::CardSigning,
        CaKind::PhoneAuth,
        CaKind::PhoneSigning,
        CaKind::Institution,
    ];

    /// The CA's subject (and issuer) name, RFC 4514 string.
    pub fn subject(self) -> &'static str {
        match self {
            CaKind::CardAuth => oid::NAME_AUTH_CA,
            CaKind::CardSigning => oid::NAME_SIGNING_CA,
            CaKind::PhoneAuth => oid::NAME_PHONE_AUTH_CA,
            CaKind::PhoneSigning => oid::NAME_PHONE_SIGNING_CA,
            CaKind::Institution => oid::NAME_INSTITUTION_CA,
        }
    }

    /// Short file-system and URL label: `auth`, `sign`, `phone-auth`, `phone-sign`,
    /// `institution`. CRLs are published as `<base>/<label>.crl`.
    pub fn label(self) -> &'static str {
        match self {
            CaKind::CardAuth => "auth",
            CaKind::CardSigning => "sign",
            CaKind::PhoneAuth => "phone-auth",
            CaKind::PhoneSigning => "phone-sign",
            CaKind::Institution => "institution",
        }
    }

    /// The JPKI certificate policy of end-entity certificates of this CA, if any.
    pub fn policy(self) -> Option<const_oid::ObjectIdentifier> {
        match self {
            CaKind::CardAuth | CaKind::PhoneAuth => Some(oid::JPKI_POLICY_AUTH),
            CaKind::CardSigning | CaKind::PhoneSigning => Some(oid::JPKI_POLICY_SIGNING),
            CaKind::Institution => None,
        }
    }

    pub(crate) fn name(self) -> Name {
        Name::from_str(self.subject()).expect("constant CA names parse")
    }
}

/// What a verified end-entity certificate is, decided by its issuing CA and, for the
/// institution CA, by its extended key usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CertKind {
    /// A card's user-authentication certificate (EF 000A).
    CardAuth,
    /// A card's signing certificate (EF 0001).
    CardSigning,
    /// A smartphone's user-authentication certificate.
    PhoneAuth,
    /// A smartphone's signing certificate.
    PhoneSigning,
    /// A clinic terminal's TLS client certificate.
    Terminal,
    /// A center TLS server certificate.
    Server,
}

impl CertKind {
    /// Whether the center accepts the certificate for a while after expiry (card
    /// user-authentication certificates only, docs/reference.md §2).
    pub fn has_expiry_grace(self) -> bool {
        self == CertKind::CardAuth
    }
}

/// A certificate serial number (a positive INTEGER of at most 20 content octets), kept
/// inline so that revocation lookups do not allocate.
///
/// Invariant: `bytes[..len]` is the minimal big-endian magnitude (no leading zero).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial {
    len: u8,
    bytes: [u8; 21],
}

impl Serial {
    /// From a big-endian magnitude (leading zeros are stripped).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PkiError> {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        let b = &bytes[start..];
        if b.is_empty() || b.len() > 21 {
            return Err(PkiError::malformed(
                "serial number",
                "empty or longer than 21 octets",
            ));
        }
        let mut out = [0; 21];
        out[..b.len()].copy_from_slice(b);
        Ok(Self {
            len: b.len() as u8,
            bytes: out,
        })
    }

    /// From a counter value (must not be 0).
    pub fn from_u64(v: u64) -> Result<Self, PkiError> {
        Self::from_bytes(&v.to_be_bytes())
    }

    /// The big-endian magnitude.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// Upper-case hex, at least 16 digits: the CN of JPKI end-entity subjects.
    pub fn to_hex(&self) -> String {
        let hex: String = self.as_bytes().iter().map(|b| format!("{b:02X}")).collect();
        format!("{hex:0>16}")
    }

    pub(crate) fn to_x509(self) -> Result<x509_cert::serial_number::SerialNumber, PkiError> {
        x509_cert::serial_number::SerialNumber::new(self.as_bytes())
            .map_err(PkiError::der("serial number"))
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serial({})", self.to_hex())
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Subject of a JPKI end-entity certificate (card or phone, auth or signing):
/// `C=JP, CN=<serial as 16+ upper-case hex digits>`. It carries no personal data; the
/// signing certificate's attributes are in its SubjectAltName.
pub fn jpki_subject(serial: Serial) -> Result<Name, PkiError> {
    Name::from_str(&format!("CN={},C=JP", serial.to_hex())).map_err(PkiError::der("subject"))
}

/// Subject of a terminal certificate: `C=JP, O=onshi, OU=<10-digit 医療機関コード>,
/// CN=<terminal id>`.
pub fn terminal_subject(institution_code: &str, terminal_id: &str) -> Result<Name, PkiError> {
    if institution_code.len() != 10 || !institution_code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PkiError::InvalidInput {
            field: "institution code",
            reason: format!("{institution_code:?} is not 10 digits"),
        });
    }
    if terminal_id.is_empty()
        || terminal_id.len() > 32
        || !terminal_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(PkiError::InvalidInput {
            field: "terminal id",
            reason: format!("{terminal_id:?}: 1-32 of A-Z a-z 0-9 - _ ."),
        });
    }
    Name::from_str(&format!(
        "CN={terminal_id},OU={institution_code},O={},C=JP",
        oid::INSTITUTION_ORG
    ))
    .map_err(PkiError::der("subject"))
}

/// Subject of a center server certificate: `C=JP, O=onshi, CN=<first DNS name or IP>`.
pub fn server_subject(cn: &str) -> Result<Name, PkiError> {
    if cn.is_empty() || cn.contains([',', '+', '=', '"', '\\', '<', '>', ';']) {
        return Err(PkiError::InvalidInput {
            field: "server name",
            reason: format!("{cn:?}"),
        });
    }
    Name::from_str(&format!("CN={cn},O={},C=JP", oid::INSTITUTION_ORG))
        .map_err(PkiError::der("subject"))
}

/// One DER extension.
pub(crate) fn ext<T: Encode + AssociatedOid>(
    critical: bool,
    value: &T,
) -> Result<Extension, PkiError> {
    let der = value.to_der().map_err(PkiError::der("extension"))?;
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(der).map_err(PkiError::der("extension"))?,
    })
}

/// RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING contents.
pub(crate) fn key_identifier(spki_der: &[u8]) -> Result<Vec<u8>, PkiError> {
    use der::Decode;
    let spki =
        spki::SubjectPublicKeyInfoRef::from_der(spki_der).map_err(PkiError::der("public key"))?;
    let d = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        spki.subject_public_key.raw_bytes(),
    );
    Ok(d.as_ref().to_vec())
}

pub(crate) fn ski_ext(ski: &[u8]) -> Result<Extension, PkiError> {
    let v = SubjectKeyIdentifier(OctetString::new(ski).map_err(PkiError::der("SKI"))?);
    ext(false, &v)
}

pub(crate) fn aki_ext(issuer_ski: &[u8]) -> Result<Extension, PkiError> {
    let v = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(issuer_ski).map_err(PkiError::der("AKI"))?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    ext(false, &v)
}

pub(crate) fn basic_constraints_ca() -> Result<Extension, PkiError> {
    ext(
        true,
        &BasicConstraints {
            ca: true,
            path_len_constraint: Some(0),
        },
    )
}

pub(crate) fn key_usage(
    flags: impl Into<der::flagset::FlagSet<KeyUsages>>,
) -> Result<Extension, PkiError> {
    ext(true, &KeyUsage(flags.into()))
}

pub(crate) fn policy_ext(policy: const_oid::ObjectIdentifier) -> Result<Extension, PkiError> {
    ext(
        false,
        &CertificatePolicies(vec![PolicyInformation {
            policy_identifier: policy,
            policy_qualifiers: None,
        }]),
    )
}

pub(crate) fn eku_ext(purpose: const_oid::ObjectIdentifier) -> Result<Extension, PkiError> {
    ext(false, &ExtendedKeyUsage(vec![purpose]))
}

pub(crate) fn crl_dp_ext(url: &str) -> Result<Extension, PkiError> {
    let uri = Ia5String::new(url).map_err(|_| PkiError::InvalidInput {
        field: "CRL URL",
        reason: format!("{url:?} is not ASCII"),
    })?;
    ext(
        false,
        &CrlDistributionPoints(vec![DistributionPoint {
            distribution_point: Some(DistributionPointName::FullName(vec![
                GeneralName::UniformResourceIdentifier(uri),
            ])),
            reasons: None,
            crl_issuer: None,
        }]),
    )
}

fn other_name(oid: const_oid::ObjectIdentifier, value: &str) -> Result<GeneralName, PkiError> {
    let s = Utf8StringRef::new(value).map_err(PkiError::der("attribute"))?;
    Ok(GeneralName::OtherName(OtherName {
        type_id: oid,
        value: der::Any::encode_from(&s).map_err(PkiError::der("attribute"))?,
    }))
}

/// The signing certificate's SubjectAltName: one otherName per JPKI attribute, in OID
/// order; substitute-character entries only when present.
pub(crate) fn jpki_attributes_san(a: &BasicAttributes) -> Result<Extension, PkiError> {
    if a.name.is_empty() || a.address.is_empty() {
        return Err(PkiError::InvalidInput {
            field: "basic attributes",
            reason: "name and address must not be empty".into(),
        });
    }
    let mut names = vec![other_name(oid::JPKI_ATTR_NAME, &a.name)?];
    if let Some(s) = &a.name_substitute {
        names.push(other_name(oid::JPKI_ATTR_NAME_SUBSTITUTE, s)?);
    }
    names.push(other_name(oid::JPKI_ATTR_SEX, &a.sex.code().to_string())?);
    names.push(other_name(
        oid::JPKI_ATTR_BIRTH_DATE,
        &encode_birth_date(a.birth_date)?,
    )?);
    names.push(other_name(oid::JPKI_ATTR_ADDRESS, &a.address)?);
    if let Some(s) = &a.address_substitute {
        names.push(other_name(oid::JPKI_ATTR_ADDRESS_SUBSTITUTE, s)?);
    }
    ext(false, &SubjectAltName(names))
}

/// A server certificate's SubjectAltName: dNSName and iPAddress entries.
pub(crate) fn server_san(dns: &[&str], ips: &[std::net::IpAddr]) -> Result<Extension, PkiError> {
    let mut names = Vec::with_capacity(dns.len() + ips.len());
    for d in dns {
        let ok = !d.is_empty()
            && d.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'*');
        if !ok {
            return Err(PkiError::InvalidInput {
                field: "DNS name",
                reason: format!("{d:?}"),
            });
        }
        names.push(GeneralName::DnsName(
            Ia5String::new(d).map_err(PkiError::der("DNS name"))?,
        ));
    }
    names.extend(ips.iter().map(|ip| GeneralName::from(*ip)));
    if names.is_empty() {
        return Err(PkiError::InvalidInput {
            field: "server names",
            reason: "at least one DNS name or IP address".into(),
        });
    }
    ext(false, &SubjectAltName(names))
}

/// Reads the JPKI attributes back from a signing certificate's SubjectAltName.
pub(crate) fn parse_jpki_attributes(san: &SubjectAltName) -> Result<BasicAttributes, PkiError> {
    let mut name = None;
    let mut name_substitute = None;
    let mut sex = None;
    let mut birth = None;
    let mut address = None;
    let mut address_substitute = None;
    for gn in &san.0 {
        let GeneralName::OtherName(on) = gn else {
            continue;
        };
        let v: Utf8StringRef<'_> = on
            .value
            .decode_as()
            .map_err(PkiError::der("JPKI attribute"))?;
        let v = v.as_str().to_owned();
        match on.type_id {
            oid::JPKI_ATTR_NAME => name = Some(v),
            oid::JPKI_ATTR_NAME_SUBSTITUTE => name_substitute = Some(v),
            oid::JPKI_ATTR_SEX => sex = Some(crate::attrs::Sex::from_code(&v)?),
            oid::JPKI_ATTR_BIRTH_DATE => birth = Some(crate::attrs::decode_birth_date(&v)?),
            oid::JPKI_ATTR_ADDRESS => address = Some(v),
            oid::JPKI_ATTR_ADDRESS_SUBSTITUTE => address_substitute = Some(v),
            _ => {}
        }
    }
    let missing = |what| PkiError::malformed("signing certificate", format!("no {what} attribute"));
    Ok(BasicAttributes {
        name: name.ok_or_else(|| missing("name"))?,
        name_substitute,
        sex: sex.ok_or_else(|| missing("sex"))?,
        birth_date: birth.ok_or_else(|| missing("birth date"))?,
        address: address.ok_or_else(|| missing("address"))?,
        address_substitute,
    })
}
