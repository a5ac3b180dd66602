//! A certificate authority: a key behind [`Signer`], its self-signed certificate, and
//! issuance of the end-entity certificates of its kind.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use der::asn1::{AnyRef, BitString, OctetString};
use der::{Decode, Encode, Sequence};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::certificate::Version;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::KeyUsages;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use crate::attrs::{BasicAttributes, check_signing_age, jpki_not_after};
use crate::key::{RsaKeyPair, Signer};
use crate::profile::{self, CaKind, Serial};
use crate::{PkiError, oid};

/// How long a CA certificate is valid: 20 years, longer than any certificate it issues.
pub const CA_VALIDITY: Duration = Duration::days(20 * 365 + 5);

/// Default lifetime of terminal and server TLS certificates.
pub const TLS_CERT_VALIDITY: Duration = Duration::days(397);

/// `TBSCertificate` (RFC 5280 §4.1) as onshi encodes it: always v3 with extensions.
#[derive(Sequence)]
pub(crate) struct TbsCertificate {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub(crate) version: Version,
    pub(crate) serial_number: SerialNumber,
    pub(crate) signature: AlgorithmIdentifierOwned,
    pub(crate) issuer: Name,
    pub(crate) validity: Validity,
    pub(crate) subject: Name,
    pub(crate) subject_public_key_info: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT")]
    pub(crate) extensions: Vec<Extension>,
}

/// `Certificate` / `CertificateList` outer structure around already-encoded TBS bytes.
#[derive(Sequence)]
pub(crate) struct Signed<'a> {
    pub(crate) tbs: AnyRef<'a>,
    pub(crate) signature_algorithm: AlgorithmIdentifierOwned,
    pub(crate) signature: BitString,
}

/// `sha256WithRSAEncryption` with the NULL parameters RFC 8017 requires.
pub(crate) fn sha256_with_rsa() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: oid::SHA256_WITH_RSA,
        parameters: Some(der::Any::null()),
    }
}

/// Encodes `time` as UTCTime before 2050 and GeneralizedTime after (RFC 5280 §4.1.2.5).
pub(crate) fn x509_time(t: DateTime<Utc>) -> Result<Time, PkiError> {
    let secs =
        u64::try_from(t.timestamp()).map_err(|_| PkiError::malformed("time", "before 1970"))?;
    let dt = der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map_err(PkiError::der("time"))?;
    if dt.year() < 2050 {
        let utc = der::asn1::UtcTime::from_date_time(dt).map_err(PkiError::der("time"))?;
        Ok(Time::UtcTime(utc))
    } else {
        Ok(Time::from(dt))
    }
}

/// Signs DER `tbs` bytes and wraps them with the algorithm and signature.
pub(crate) fn sign_tbs(signer: &dyn Signer, tbs: &[u8]) -> Result<Vec<u8>, PkiError> {
    let sig = signer.sign_sha256(tbs)?;
    Signed {
        tbs: AnyRef::from_der(tbs).map_err(PkiError::der("TBS"))?,
        signature_algorithm: sha256_with_rsa(),
        signature: BitString::from_bytes(&sig).map_err(PkiError::der("signature"))?,
    }
    .to_der()
    .map_err(PkiError::der("certificate"))
}

/// Parses an RSA-2048 SubjectPublicKeyInfo, rejecting other key types and sizes.
pub(crate) fn rsa2048_spki(spki_der: &[u8]) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
    let spki =
        SubjectPublicKeyInfoOwned::from_der(spki_der).map_err(PkiError::der("public key"))?;
    if spki.algorithm.oid != oid::RSA_ENCRYPTION {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "public key {}",
            spki.algorithm.oid
        )));
    }
    let rsa = spki.subject_public_key.raw_bytes();
    let bits = aws_lc_rs::signature::RsaParameters::public_modulus_len(rsa)
        .map_err(|_| PkiError::malformed("public key", "not an RSA public key"))?;
    if bits != 2048 {
        return Err(PkiError::UnsupportedAlgorithm(format!("RSA-{bits} key")));
    }
    Ok(spki)
}

/// A certificate issued by a CA.
#[derive(Debug, Clone)]
pub struct IssuedCert {
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// Its serial number.
    pub serial: Serial,
    /// Its notAfter.
    pub not_after: DateTime<Utc>,
}

/// A TLS certificate with the key generated for it, ready for rustls
/// (`CertificateDer::from(cert.der)`, `PrivatePkcs8KeyDer::from(key.pkcs8_der())`).
#[derive(Debug)]
pub struct IssuedKeyPair {
    /// The certificate.
    pub cert: IssuedCert,
    /// Its private key.
    pub key: RsaKeyPair,
}

/// One CA: its kind, signing key, certificate and serial counter.
///
/// Invariant: `signer`'s public key is the one in `cert_der`.
pub struct CertificateAuthority {
    kind: CaKind,
    signer: Arc<dyn Signer>,
    cert_der: Vec<u8>,
    name: Name,
    ski: Vec<u8>,
    crl_url: Option<String>,
    next_serial: u64,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("kind", &self.kind)
            .field("next_serial", &self.next_serial)
            .field("crl_url", &self.crl_url)
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// Creates a CA with a new self-signed certificate valid from `now` for
    /// [`CA_VALIDITY`]. `crl_base_url` (e.g. `http://127.0.0.1:8080/crl`) makes issued
    /// certificates point at `<base>/<label>.crl`.
    pub fn create(
        kind: CaKind,
        signer: Arc<dyn Signer>,
        now: DateTime<Utc>,
        crl_base_url: Option<&str>,
    ) -> Result<Self, PkiError> {
        let spki = rsa2048_spki(signer.public_key_spki())?;
        let ski = profile::key_identifier(signer.public_key_spki())?;
        let name = kind.name();
        let tbs = TbsCertificate {
            version: Version::V3,
            serial_number: Serial::from_u64(1)?.to_x509()?,
            signature: sha256_with_rsa(),
            issuer: name.clone(),
            validity: Validity::new(x509_time(now)?, x509_time(now + CA_VALIDITY)?),
            subject: name.clone(),
            subject_public_key_info: spki,
            extensions: vec![
                profile::basic_constraints_ca()?,
                profile::key_usage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)?,
                profile::ski_ext(&ski)?,
            ],
        };
        let tbs = tbs.to_der().map_err(PkiError::der("TBS"))?;
        let cert_der = sign_tbs(signer.as_ref(), &tbs)?;
        Ok(Self {
            kind,
            signer,
            cert_der,
            name,
            ski,
            crl_url: crl_base_url.map(|b| crl_url(b, kind)),
            next_serial: 2,
        })
    }

    /// Reopens a CA from its stored certificate and key. Fails when the key does not
    /// match the certificate.
    pub fn from_parts(
        kind: CaKind,
        signer: Arc<dyn Signer>,
        cert_der: Vec<u8>,
        next_serial: u64,
        crl_base_url: Option<&str>,
    ) -> Result<Self, PkiError> {
        let cert =
            x509_cert::Certificate::from_der(&cert_der).map_err(PkiError::der("CA certificate"))?;
        let spki = cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(PkiError::der("CA certificate"))?;
        if spki != signer.public_key_spki() {
            return Err(PkiError::Key(format!(
                "the {kind:?} CA key does not match its certificate"
            )));
        }
        if cert.tbs_certificate().subject() != &kind.name() {
            return Err(PkiError::malformed(
                "CA certificate",
                format!("not the {kind:?} CA"),
            ));
        }
        Ok(Self {
            kind,
            ski: profile::key_identifier(&spki)?,
            signer,
            cert_der,
            name: kind.name(),
            crl_url: crl_base_url.map(|b| crl_url(b, kind)),
            next_serial: next_serial.max(2),
        })
    }

    /// Which CA this is.
    pub fn kind(&self) -> CaKind {
        self.kind
    }

    /// The CA's self-signed certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The CA's certificate, PEM.
    pub fn cert_pem(&self) -> String {
        to_pem("CERTIFICATE", &self.cert_der)
    }

    /// The serial number the next issued certificate will get.
    pub fn next_serial(&self) -> u64 {
        self.next_serial
    }

    /// Where issued certificates say this CA's CRL is published, if configured.
    pub fn crl_url(&self) -> Option<&str> {
        self.crl_url.as_deref()
    }

    pub(crate) fn name(&self) -> &Name {
        &self.name
    }

    pub(crate) fn ski(&self) -> &[u8] {
        &self.ski
    }

    pub(crate) fn signer(&self) -> &dyn Signer {
        self.signer.as_ref()
    }

    pub(crate) fn require(&self, allowed: &[CaKind], what: &str) -> Result<(), PkiError> {
        if allowed.contains(&self.kind) {
            Ok(())
        } else {
            Err(PkiError::InvalidInput {
                field: "issuing CA",
                reason: format!("the {:?} CA does not issue {what}", self.kind),
            })
        }
    }

    pub(crate) fn issue(
        &mut self,
        spki_der: &[u8],
        subject: impl FnOnce(Serial) -> Result<Name, PkiError>,
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
        mut extensions: Vec<Extension>,
    ) -> Result<IssuedCert, PkiError> {
        let spki = rsa2048_spki(spki_der)?;
        let serial = Serial::from_u64(self.next_serial)?;
        extensions.push(profile::aki_ext(&self.ski)?);
        extensions.push(profile::ski_ext(&profile::key_identifier(spki_der)?)?);
        if let Some(url) = &self.crl_url {
            extensions.push(profile::crl_dp_ext(url)?);
        }
        let tbs = TbsCertificate {
            version: Version::V3,
            serial_number: serial.to_x509()?,
            signature: sha256_with_rsa(),
            issuer: self.name.clone(),
            validity: Validity::new(x509_time(not_before)?, x509_time(not_after)?),
            subject: subject(serial)?,
            subject_public_key_info: spki,
            extensions,
        };
        let tbs = tbs.to_der().map_err(PkiError::der("TBS"))?;
        let der = sign_tbs(self.signer.as_ref(), &tbs)?;
        self.next_serial += 1;
        Ok(IssuedCert {
            der,
            serial,
            not_after,
        })
    }

    /// Issues a user-authentication certificate (card or phone CA) for the public key
    /// `spki_der`, valid until the holder's 5th birthday after `issued_at`. The birth
    /// date only sets the validity; it is not written into the certificate.
    pub fn issue_auth(
        &mut self,
        spki_der: &[u8],
        birth_date: NaiveDate,
        issued_at: DateTime<Utc>,
    ) -> Result<IssuedCert, PkiError> {
        self.require(
            &[CaKind::CardAuth, CaKind::PhoneAuth],
            "user-authentication certificates",
        )?;
        let not_after = jpki_not_after(birth_date, issued_at)?;
        let exts = vec![
            profile::key_usage(KeyUsages::DigitalSignature)?,
            profile::policy_ext(oid::JPKI_POLICY_AUTH)?,
        ];
        self.issue(spki_der, profile::jpki_subject, issued_at, not_after, exts)
    }

    /// Issues a signing certificate (card or phone CA) carrying the 基本4情報, valid
    /// until the holder's 5th birthday after `issued_at`. Holders under 15 get
    /// [`PkiError::TooYoungForSigning`].
    pub fn issue_signing(
        &mut self,
        spki_der: &[u8],
        attributes: &BasicAttributes,
        issued_at: DateTime<Utc>,
    ) -> Result<IssuedCert, PkiError> {
        self.require(
            &[CaKind::CardSigning, CaKind::PhoneSigning],
            "signing certificates",
        )?;
        check_signing_age(attributes.birth_date, issued_at)?;
        let not_after = jpki_not_after(attributes.birth_date, issued_at)?;
        let exts = vec![
            profile::key_usage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation)?,
            profile::policy_ext(oid::JPKI_POLICY_SIGNING)?,
            profile::jpki_attributes_san(attributes)?,
        ];
        self.issue(spki_der, profile::jpki_subject, issued_at, not_after, exts)
    }

    /// Issues a TLS client certificate for terminal `terminal_id` of the institution
    /// with the 10-digit code `institution_code` (EKU clientAuth).
    pub fn issue_terminal(
        &mut self,
        spki_der: &[u8],
        institution_code: &str,
        terminal_id: &str,
        issued_at: DateTime<Utc>,
        valid_for: Duration,
    ) -> Result<IssuedCert, PkiError> {
        self.require(&[CaKind::Institution], "terminal certificates")?;
        let subject = profile::terminal_subject(institution_code, terminal_id)?;
        let exts = vec![
            profile::key_usage(KeyUsages::DigitalSignature)?,
            profile::eku_ext(oid::KP_CLIENT_AUTH)?,
        ];
        self.issue(
            spki_der,
            |_| Ok(subject),
            issued_at,
            issued_at + valid_for,
            exts,
        )
    }

    /// Issues a TLS server certificate with the given DNS names and IP addresses as
    /// SubjectAltName (EKU serverAuth).
    pub fn issue_server(
        &mut self,
        spki_der: &[u8],
        dns_names: &[&str],
        ips: &[std::net::IpAddr],
        issued_at: DateTime<Utc>,
        valid_for: Duration,
    ) -> Result<IssuedCert, PkiError> {
        self.require(&[CaKind::Institution], "server certificates")?;
        let cn = match (dns_names.first(), ips.first()) {
            (Some(d), _) => d.to_string(),
            (None, Some(ip)) => ip.to_string(),
            (None, None) => String::new(),
        };
        let san = profile::server_san(dns_names, ips)?;
        let subject = profile::server_subject(&cn)?;
        let exts = vec![
            profile::key_usage(KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment)?,
            profile::eku_ext(oid::KP_SERVER_AUTH)?,
            san,
        ];
        self.issue(
            spki_der,
            |_| Ok(subject),
            issued_at,
            issued_at + valid_for,
            exts,
        )
    }

    /// Generates a key and issues a terminal certificate for it.
    pub fn issue_terminal_with_key(
        &mut self,
        institution_code: &str,
        terminal_id: &str,
        issued_at: DateTime<Utc>,
    ) -> Result<IssuedKeyPair, PkiError> {
        let key = RsaKeyPair::generate()?;
        let cert = self.issue_terminal(
            key.public_key_spki(),
            institution_code,
            terminal_id,
            issued_at,
            TLS_CERT_VALIDITY,
        )?;
        Ok(IssuedKeyPair { cert, key })
    }

    /// Generates a key and issues a server certificate for it.
    pub fn issue_server_with_key(
        &mut self,
        dns_names: &[&str],
        ips: &[std::net::IpAddr],
        issued_at: DateTime<Utc>,
    ) -> Result<IssuedKeyPair, PkiError> {
        let key = RsaKeyPair::generate()?;
        let cert = self.issue_server(
            key.public_key_spki(),
            dns_names,
            ips,
            issued_at,
            TLS_CERT_VALIDITY,
        )?;
        Ok(IssuedKeyPair { cert, key })
    }
}

/// `<base>/<label>.crl`.
pub fn crl_url(base: &str, kind: CaKind) -> String {
    format!("{}/{}.crl", base.trim_end_matches('/'), kind.label())
}

pub(crate) fn octets(bytes: &[u8]) -> Result<OctetString, PkiError> {
    OctetString::new(bytes).map_err(PkiError::der("octets"))
}

/// PEM armour (RFC 7468) for DER `bytes`.
pub fn to_pem(label: &str, der_bytes: &[u8]) -> String {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der_bytes).expect("PEM of DER")
}
