//! Making a phone and putting credentials on it: the phone generates its keys (they never
//! leave it), shows its public keys for certification, and installs what the center
//! issues.
//!
//! The center's side of issuance (jobs, push, lifecycle) is not here: it calls
//! [`issue_phone_certificates`] (and, for an iPhone, [`super::issue_mdoc`]) with the
//! public keys the phone showed, and hands the results to [`install_certificates`] /
//! [`super::install_mdoc`] on the phone.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use chrono::{DateTime, Utc};
use onshi_pki::{BasicAttributes, CaKind, Jlis, PkiError, RsaKeyPair};

use crate::cardfile::PinRecord;
use crate::layout::PinRef;
use crate::secret::{Pin, SecretBytes};

use super::file::{PHONE_FORMAT, PhoneCertificates, PhoneFile, PhoneJpkiFiles, PhoneMdocFiles};
use super::handset::{Handset, Platform};

/// Errors making a phone or installing credentials on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// A request value breaks its rules.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which value.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// Key generation or a key operation failed.
    #[error("key: {0}")]
    Key(String),
    /// J-LIS refused or failed, or a certificate does not parse.
    #[error("J-LIS: {0}")]
    Pki(#[from] PkiError),
    /// A certificate (or mdoc) certifies a key that is not this phone's.
    #[error("the {which} is not for this phone's key")]
    NotThisPhone {
        /// What was offered.
        which: &'static str,
    },
    /// The operation needs the other platform (e.g. an mdoc on an Android phone).
    #[error("not possible on {platform}: {what}")]
    WrongPlatform {
        /// The phone's platform.
        platform: Platform,
        /// What was asked.
        what: &'static str,
    },
    /// The card substitute record is malformed or could not be built.
    #[error("card substitute record: {0}")]
    Mdoc(#[from] onshi_mdoc::MdocError),
}

/// The Android phone's own PINs, chosen by the holder in the portal app at set-up
/// (they are not the card's).
#[derive(Debug, Clone)]
pub struct PhonePins {
    /// スマホ用利用者証明用パスワード: 4 digits, 3 tries.
    pub auth: Pin,
    /// スマホ用署名用パスワード: 6-16 of A-Z 0-9, 5 tries.
    pub sign: Pin,
}

fn check_pin(field: &'static str, pin: PinRef, value: &Pin) -> Result<(), PhoneError> {
    let p = pin.policy();
    if p.accepts(value.expose()) {
        Ok(())
    } else {
        Err(PhoneError::Invalid {
            field,
            reason: format!(
                "must be {}-{} characters of {:?}",
                p.min_len, p.max_len, p.charset
            ),
        })
    }
}

fn random_hex(n: usize) -> Result<String, PhoneError> {
    let mut b = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| PhoneError::Key("system RNG failed".into()))?;
    Ok(crate::apdu::hex(&b))
}

/// A new phone with its credential applet provisioned but not yet issued: two RSA-2048
/// JPKI key pairs generated inside it, and on an iPhone also the P-256 mdoc device key.
/// An Android phone needs `pins`; an iPhone takes none (its keys are unlocked by Face ID
/// / Touch ID).
pub fn new_phone(handset: Handset, pins: Option<PhonePins>) -> Result<PhoneFile, PhoneError> {
    let (auth_pin, sign_password) = match (handset.platform(), pins) {
        (Platform::Android, Some(p)) => {
            check_pin("phone PIN", PinRef::Auth, &p.auth)?;
            check_pin("phone signing password", PinRef::Sign, &p.sign)?;
            (
                Some(PinRecord::fresh(PinRef::Auth, p.auth)),
                Some(PinRecord::fresh(PinRef::Sign, p.sign)),
            )
        }
        (Platform::Android, None) => {
            return Err(PhoneError::Invalid {
                field: "phone PINs",
                reason: "an Android phone needs its PIN and signing password".into(),
            });
        }
        (Platform::Iphone, Some(_)) => {
            return Err(PhoneError::WrongPlatform {
                platform: Platform::Iphone,
                what: "PINs (the iPhone uses Face ID / Touch ID)",
            });
        }
        (Platform::Iphone, None) => (None, None),
    };
    let auth = RsaKeyPair::generate()?;
    let sign = RsaKeyPair::generate()?;
    let mdoc = match handset.platform() {
        Platform::Android => None,
        Platform::Iphone => Some(new_device_key()?),
    };
    Ok(PhoneFile {
        format: PHONE_FORMAT.into(),
        id: random_hex(16)?,
        handset,
        jpki: PhoneJpkiFiles {
            auth_key_pkcs8: SecretBytes::new(auth.pkcs8_der().to_vec()),
            auth_spki: auth.public_key_spki().to_vec(),
            sign_key_pkcs8: SecretBytes::new(sign.pkcs8_der().to_vec()),
            sign_spki: sign.public_key_spki().to_vec(),
            auth_pin,
            sign_password,
            certificates: None,
        },
        mdoc,
    })
}

fn new_device_key() -> Result<PhoneMdocFiles, PhoneError> {
    let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
        .map_err(|_| PhoneError::Key("P-256 key generation failed".into()))?;
    let pkcs8 = key
        .to_pkcs8v1()
        .map_err(|_| PhoneError::Key("P-256 PKCS#8 export failed".into()))?;
    let spki = key
        .public_key()
        .as_der()
        .map_err(|_| PhoneError::Key("P-256 public key export failed".into()))?;
    Ok(PhoneMdocFiles {
        device_key_pkcs8: SecretBytes::new(pkcs8.as_ref().to_vec()),
        device_spki: spki.as_ref().to_vec(),
        issuer_signed: None,
    })
}

/// The center's issuance of a phone's two JPKI certificates from the smartphone CAs
/// (`PhoneAuth`, `PhoneSigning`) for the public keys the phone showed
/// ([`PhoneFile::auth_public_key`], [`PhoneFile::signing_public_key`]). `card_not_after`
/// (the card certificate's notAfter) caps their validity: a phone credential ends with
/// the card's.
pub fn issue_phone_certificates(
    jlis: &mut Jlis,
    auth_public_key: &[u8],
    signing_public_key: &[u8],
    attributes: &BasicAttributes,
    issued_at: DateTime<Utc>,
    card_not_after: Option<DateTime<Utc>>,
) -> Result<PhoneCertificates, PhoneError> {
    let auth = jlis.issue_phone_auth(
        auth_public_key,
        attributes.birth_date,
        issued_at,
        card_not_after,
    )?;
    let sign =
        jlis.issue_phone_signing(signing_public_key, attributes, issued_at, card_not_after)?;
    Ok(PhoneCertificates {
        auth_cert: auth.der,
        auth_ca_cert: jlis.ca(CaKind::PhoneAuth).cert_der().to_vec(),
        sign_cert: sign.der,
        sign_ca_cert: jlis.ca(CaKind::PhoneSigning).cert_der().to_vec(),
    })
}

/// Installs issued certificates in the phone's JPKI applet, replacing earlier ones
/// (renewal). Refuses certificates whose keys are not the phone's.
pub fn install_certificates(
    phone: &mut PhoneFile,
    certificates: PhoneCertificates,
) -> Result<(), PhoneError> {
    if onshi_pki::certificate_public_key(&certificates.auth_cert)? != phone.jpki.auth_spki {
        return Err(PhoneError::NotThisPhone {
            which: "user-authentication certificate",
        });
    }
    if onshi_pki::certificate_public_key(&certificates.sign_cert)? != phone.jpki.sign_spki {
        return Err(PhoneError::NotThisPhone {
            which: "signing certificate",
        });
    }
    for (which, der) in [
        (
            "user-authentication CA certificate",
            &certificates.auth_ca_cert,
        ),
        ("signing CA certificate", &certificates.sign_ca_cert),
    ] {
        onshi_pki::certificate_public_key(der).map_err(|_| PhoneError::Invalid {
            field: which,
            reason: "not a DER certificate".into(),
        })?;
    }
    phone.jpki.certificates = Some(certificates);
    Ok(())
}

/// Removes every credential from the phone (the holder deletes it, or a new phone
/// replaces this one). The keys stay; a new issuance certifies them again.
pub fn remove_credentials(phone: &mut PhoneFile) {
    phone.jpki.certificates = None;
    if let Some(m) = phone.mdoc.as_mut() {
        m.issuer_signed = None;
    }
}

/// The center's issuance of an iPhone's card substitute record: the ISO/IEC 18013-5
/// `IssuerSigned` (CBOR) for `record`, bound to the device key the phone showed
/// ([`PhoneFile::device_public_key`]), signed by J-LIS's document signer
/// ([`Jlis::document_signer`]) and valid for `validity`.
pub fn issue_mdoc(
    signer: &onshi_pki::DocumentSignerKey,
    record: &onshi_mdoc::CardRecord,
    device_public_key: &[u8],
    validity: onshi_mdoc::Validity,
) -> Result<Vec<u8>, PhoneError> {
    let signer =
        onshi_mdoc::DocumentSigner::new(signer.pkcs8_der(), signer.certificate_der().to_vec())?;
    Ok(onshi_mdoc::issue(record, device_public_key, &signer, validity)?.to_bytes())
}

/// Installs an issued card substitute record (CBOR `IssuerSigned`) on an iPhone,
/// replacing an earlier one. Refuses a record bound to another phone's device key.
pub fn install_mdoc(phone: &mut PhoneFile, issuer_signed: Vec<u8>) -> Result<(), PhoneError> {
    let platform = phone.platform();
    let Some(mdoc) = phone.mdoc.as_mut() else {
        return Err(PhoneError::WrongPlatform {
            platform,
            what: "a card substitute record (iPhone only)",
        });
    };
    let parsed = onshi_mdoc::IssuerSigned::from_bytes(&issuer_signed)?;
    if parsed.device_key()? != onshi_mdoc::PublicKey::from_spki(&mdoc.device_spki)? {
        return Err(PhoneError::NotThisPhone {
            which: "card substitute record",
        });
    }
    mdoc.issuer_signed = Some(issuer_signed);
    Ok(())
}

/// The card substitute record's data from what the set-up read off the card: the 4
/// attributes and the My Number (input-support AP) and the face photo (card-face AP).
pub fn card_record(
    attributes: &crate::data::Attributes,
    my_number: &str,
    face_photo: Vec<u8>,
) -> onshi_mdoc::CardRecord {
    onshi_mdoc::CardRecord {
        name: attributes.name.clone(),
        address: attributes.address.clone(),
        birth_date: attributes.birth_date,
        sex: attributes.sex.iso5218(),
        my_number: my_number.to_owned(),
        portrait: face_photo,
    }
}
