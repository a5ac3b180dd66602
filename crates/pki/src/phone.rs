//! What the smartphone credentials need from the PKI: reading a certificate's public key
//! (so a phone can refuse a certificate that is not for its own key) and the document
//! signer of the iPhone's card substitute record.

use der::{Decode, Encode};

use crate::PkiError;

/// The SubjectPublicKeyInfo (DER) of a DER certificate.
pub fn certificate_public_key(cert_der: &[u8]) -> Result<Vec<u8>, PkiError> {
    let cert = x509_cert::Certificate::from_der(cert_der).map_err(PkiError::der("certificate"))?;
    cert.tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(PkiError::der("certificate"))
}

/// File-system label of the document signer in a J-LIS state directory:
/// `keys/doc-signer.pk8` (PKCS#8 P-256, mode 0600) and `doc-signer.der` / `.pem`.
pub const DOCUMENT_SIGNER_LABEL: &str = "doc-signer";

/// Subject (and issuer) of the document-signer certificate. *onshi design*: the issuer
/// of the real record and its certificate hierarchy are not published.
pub const NAME_DOCUMENT_SIGNER: &str = "OU=Japan Agency for Local Authority Information Systems,\
OU=Card substitute record document signer,O=JPKI,C=JP";

/// `id-mdl-kp-mdlDS` (ISO/IEC 18013-5 Annex B): extended key usage of an mdoc document
/// signer.
pub const KP_MDL_DS: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.0.18013.5.1.2");
/// `ecdsa-with-SHA256` (RFC 5758 §3.2), parameters absent.
const ECDSA_WITH_SHA256: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// The document signer of the iPhone's card substitute record (ISO/IEC 18013-5 mdoc): an
/// ECDSA P-256 key and its certificate, which readers pin as trusted.
///
/// Invariant: the certificate certifies the key. `Debug` shows no key material.
pub struct DocumentSignerKey {
    pkcs8: zeroize::Zeroizing<Vec<u8>>,
    cert_der: Vec<u8>,
}

impl std::fmt::Debug for DocumentSignerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentSignerKey")
            .field("cert_len", &self.cert_der.len())
            .finish_non_exhaustive()
    }
}

impl DocumentSignerKey {
    /// The private key, PKCS#8 DER.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The certificate, DER (what readers trust).
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The certificate, PEM.
    pub fn certificate_pem(&self) -> String {
        crate::to_pem("CERTIFICATE", &self.cert_der)
    }
}

fn ec_key(pkcs8: &[u8]) -> Result<aws_lc_rs::signature::EcdsaKeyPair, PkiError> {
    aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        pkcs8,
    )
    .map_err(|e| PkiError::Key(format!("document-signer key: {e}")))
}

/// Writes `bytes` to `path` only if it does not exist yet (mode 0600); returns what the
/// file holds afterwards, so that two processes creating it at once agree.
fn create_once(path: &std::path::Path, bytes: &[u8]) -> Result<Vec<u8>, PkiError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut f) => {
            f.write_all(bytes)
                .and_then(|_| f.sync_all())
                .map_err(PkiError::io(path))?;
            Ok(bytes.to_vec())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read(path).map_err(PkiError::io(path))
        }
        Err(e) => Err(PkiError::io(path)(e)),
    }
}

fn self_signed_document_signer(
    key: &aws_lc_rs::signature::EcdsaKeyPair,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<u8>, PkiError> {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::KeyPair;
    use std::str::FromStr;
    use x509_cert::ext::pkix::KeyUsages;

    let spki_der = key
        .public_key()
        .as_der()
        .map_err(|e| PkiError::Key(format!("document-signer public key: {e}")))?;
    let spki = spki::SubjectPublicKeyInfoOwned::from_der(spki_der.as_ref())
        .map_err(PkiError::der("public key"))?;
    let ski = crate::profile::key_identifier(spki_der.as_ref())?;
    let name =
        x509_cert::name::Name::from_str(NAME_DOCUMENT_SIGNER).map_err(PkiError::der("subject"))?;
    let alg = spki::AlgorithmIdentifierOwned {
        oid: ECDSA_WITH_SHA256,
        parameters: None,
    };
    let tbs = crate::ca::TbsCertificate {
        version: x509_cert::certificate::Version::V3,
        serial_number: crate::Serial::from_u64(1)?.to_x509()?,
        signature: alg.clone(),
        issuer: name.clone(),
        validity: x509_cert::time::Validity::new(
            crate::ca::x509_time(now)?,
            crate::ca::x509_time(now + crate::CA_VALIDITY)?,
        ),
        subject: name,
        subject_public_key_info: spki,
        extensions: vec![
            crate::profile::key_usage(KeyUsages::DigitalSignature)?,
            crate::profile::eku_ext(KP_MDL_DS)?,
            crate::profile::ski_ext(&ski)?,
        ],
    }
    .to_der()
    .map_err(PkiError::der("TBS"))?;
    let sig = key
        .sign(&aws_lc_rs::rand::SystemRandom::new(), &tbs)
        .map_err(|e| PkiError::Key(format!("document-signer signature: {e}")))?;
    crate::ca::Signed {
        tbs: der::asn1::AnyRef::from_der(&tbs).map_err(PkiError::der("TBS"))?,
        signature_algorithm: alg,
        signature: der::asn1::BitString::from_bytes(sig.as_ref())
            .map_err(PkiError::der("signature"))?,
    }
    .to_der()
    .map_err(PkiError::der("certificate"))
}

impl crate::Jlis {
    /// The document signer of the card substitute record, created in the state
    /// directory on first use (a self-signed P-256 certificate dated `now`, extended key
    /// usage mdlDS) and the same on every later call, from any process.
    pub fn document_signer(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<DocumentSignerKey, PkiError> {
        use aws_lc_rs::encoding::AsDer;
        let keys = self.dir().join("keys");
        std::fs::create_dir_all(&keys).map_err(PkiError::io(&keys))?;
        let key_path = keys.join(format!("{DOCUMENT_SIGNER_LABEL}.pk8"));
        let pkcs8 = match std::fs::read(&key_path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let fresh = aws_lc_rs::signature::EcdsaKeyPair::generate(
                    &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                )
                .map_err(|e| PkiError::Key(format!("document-signer key: {e}")))?;
                let der = fresh
                    .to_pkcs8v1()
                    .map_err(|e| PkiError::Key(format!("document-signer key: {e}")))?;
                create_once(&key_path, der.as_ref())?
            }
            Err(e) => return Err(PkiError::io(&key_path)(e)),
        };
        let pkcs8 = zeroize::Zeroizing::new(pkcs8);
        let key = ec_key(&pkcs8)?;
        let cert_path = self.dir().join(format!("{DOCUMENT_SIGNER_LABEL}.der"));
        let cert_der = match std::fs::read(&cert_path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let cert = create_once(&cert_path, &self_signed_document_signer(&key, now)?)?;
                let pem = crate::to_pem("CERTIFICATE", &cert);
                std::fs::write(cert_path.with_extension("pem"), pem)
                    .map_err(PkiError::io(&cert_path))?;
                cert
            }
            Err(e) => return Err(PkiError::io(&cert_path)(e)),
        };
        let public = aws_lc_rs::signature::KeyPair::public_key(&key)
            .as_der()
            .map_err(|e| PkiError::Key(format!("document-signer public key: {e}")))?;
        if certificate_public_key(&cert_der)? != public.as_ref() {
            return Err(PkiError::Key(
                "the document-signer certificate does not match its key".into(),
            ));
        }
        Ok(DocumentSignerKey { pkcs8, cert_der })
    }
}

impl crate::Jlis {
    /// Issues a smartphone user-authentication certificate (`PhoneAuth` CA) valid until
    /// the holder's 5th birthday after issue or `until` (the card certificate's notAfter:
    /// a phone credential ends with the card's, docs/reference.md §2), whichever is first.
    pub fn issue_phone_auth(
        &mut self,
        spki_der: &[u8],
        birth_date: chrono::NaiveDate,
        issued_at: chrono::DateTime<chrono::Utc>,
        until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<crate::IssuedCert, PkiError> {
        use x509_cert::ext::pkix::KeyUsages;
        let not_after = capped(
            crate::jpki_not_after(birth_date, issued_at)?,
            until,
            issued_at,
        )?;
        self.with_ca(crate::CaKind::PhoneAuth, |ca| {
            let exts = vec![
                crate::profile::key_usage(KeyUsages::DigitalSignature)?,
                crate::profile::policy_ext(crate::oid::JPKI_POLICY_AUTH)?,
            ];
            ca.issue(
                spki_der,
                crate::profile::jpki_subject,
                issued_at,
                not_after,
                exts,
            )
        })
    }

    /// Issues a smartphone signing certificate (`PhoneSigning` CA) with the 基本4情報,
    /// valid as [`Self::issue_phone_auth`]. Holders under 15 get
    /// [`PkiError::TooYoungForSigning`].
    pub fn issue_phone_signing(
        &mut self,
        spki_der: &[u8],
        attributes: &crate::BasicAttributes,
        issued_at: chrono::DateTime<chrono::Utc>,
        until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<crate::IssuedCert, PkiError> {
        use x509_cert::ext::pkix::KeyUsages;
        crate::attrs::check_signing_age(attributes.birth_date, issued_at)?;
        let not_after = capped(
            crate::jpki_not_after(attributes.birth_date, issued_at)?,
            until,
            issued_at,
        )?;
        self.with_ca(crate::CaKind::PhoneSigning, |ca| {
            let exts = vec![
                crate::profile::key_usage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation)?,
                crate::profile::policy_ext(crate::oid::JPKI_POLICY_SIGNING)?,
                crate::profile::jpki_attributes_san(attributes)?,
            ];
            ca.issue(
                spki_der,
                crate::profile::jpki_subject,
                issued_at,
                not_after,
                exts,
            )
        })
    }
}

fn capped(
    not_after: chrono::DateTime<chrono::Utc>,
    until: Option<chrono::DateTime<chrono::Utc>>,
    issued_at: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, PkiError> {
    let n = until.map_or(not_after, |u| u.min(not_after));
    if n <= issued_at {
        return Err(PkiError::InvalidInput {
            field: "validity",
            reason: "the card certificate has already expired".into(),
        });
    }
    Ok(n)
}
