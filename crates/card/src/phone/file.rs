//! The persisted phone: one JSON file holding what the phone's secure element (and, on an
//! iPhone, its Wallet) holds, so that a phone survives across processes.
//!
//! Written atomically (temporary file in the same directory, `fsync`, rename) with mode
//! 0600, because it contains private keys and PINs.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cardfile::PinRecord;
use crate::layout::PinRef;
use crate::secret::{Pin, SecretBytes};

use super::handset::{Handset, Platform};

/// Current value of [`PhoneFile::format`].
pub const PHONE_FORMAT: &str = "onshi-phone/1";

/// Errors reading or writing a phone file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneFileError {
    /// File system error.
    #[error("phone file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not a phone file of a known format.
    #[error("phone file {path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// The four certificates installed in the phone's JPKI applet after issuance.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PhoneCertificates {
    /// EF 000A: スマホ用利用者証明用電子証明書 (from the `PhoneAuth` CA), DER.
    #[serde(with = "crate::secret::b64")]
    pub auth_cert: Vec<u8>,
    /// EF 000B: its CA certificate, DER.
    #[serde(with = "crate::secret::b64")]
    pub auth_ca_cert: Vec<u8>,
    /// EF 0001: スマホ用署名用電子証明書 (from the `PhoneSigning` CA), DER.
    #[serde(with = "crate::secret::b64")]
    pub sign_cert: Vec<u8>,
    /// EF 0002: its CA certificate, DER.
    #[serde(with = "crate::secret::b64")]
    pub sign_ca_cert: Vec<u8>,
}

/// The phone's JPKI applet: keys generated inside the phone, PINs (Android) and, once
/// issued, certificates.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PhoneJpkiFiles {
    /// EF 0017: user-authentication key, PKCS#8 RSA-2048, generated in the phone.
    pub auth_key_pkcs8: SecretBytes,
    /// Its public key, SubjectPublicKeyInfo DER.
    #[serde(with = "crate::secret::b64")]
    pub auth_spki: Vec<u8>,
    /// EF 001A: signing key, PKCS#8 RSA-2048, generated in the phone.
    pub sign_key_pkcs8: SecretBytes,
    /// Its public key, SubjectPublicKeyInfo DER.
    #[serde(with = "crate::secret::b64")]
    pub sign_spki: Vec<u8>,
    /// EF 0018 (Android): the phone's 4-digit user-authentication PIN and its counter.
    pub auth_pin: Option<PinRecord>,
    /// EF 001B (Android): the phone's signing password and its counter.
    pub sign_password: Option<PinRecord>,
    /// Installed after issuance; `None` before.
    pub certificates: Option<PhoneCertificates>,
}

/// The iPhone's card substitute record (ISO/IEC 18013-5 mdoc).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PhoneMdocFiles {
    /// The device key (ECDSA P-256, PKCS#8), generated in the phone; the issuer binds it
    /// in the mobile security object.
    pub device_key_pkcs8: SecretBytes,
    /// Its public key, SubjectPublicKeyInfo DER.
    #[serde(with = "crate::secret::b64")]
    pub device_spki: Vec<u8>,
    /// The issuer-signed part (CBOR `IssuerSigned`), installed after issuance.
    #[serde(with = "crate::secret::b64_opt", default)]
    pub issuer_signed: Option<Vec<u8>>,
}

/// The whole phone.
///
/// Invariant: an Android phone has both PINs and no mdoc; an iPhone has no PINs (its
/// keys are unlocked by a biometric) and an mdoc device key. [`super::new_phone`] makes
/// phones that way and [`PhoneFile::load`] refuses files that are not.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct PhoneFile {
    /// [`PHONE_FORMAT`].
    pub format: String,
    /// Random identifier of this phone (32 hex digits), e.g. for the center's push channel.
    pub id: String,
    /// Platform, model, OS version, biometric sensor.
    pub handset: Handset,
    /// The JPKI applet.
    pub jpki: PhoneJpkiFiles,
    /// The card substitute record (iPhone only).
    pub mdoc: Option<PhoneMdocFiles>,
}

/// Shows what identifies the phone and its counters; no keys or PINs.
impl std::fmt::Debug for PhoneFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneFile")
            .field("id", &self.id)
            .field("handset", &self.handset)
            .field("auth_pin", &self.jpki.auth_pin)
            .field("sign_password", &self.jpki.sign_password)
            .field("issued", &self.jpki.certificates.is_some())
            .finish_non_exhaustive()
    }
}

impl PhoneFile {
    /// Android or iPhone.
    pub fn platform(&self) -> Platform {
        self.handset.platform()
    }

    /// The user-authentication public key (SubjectPublicKeyInfo DER), for the
    /// `PhoneAuth` CA to certify.
    pub fn auth_public_key(&self) -> &[u8] {
        &self.jpki.auth_spki
    }

    /// The signing public key (SubjectPublicKeyInfo DER), for the `PhoneSigning` CA.
    pub fn signing_public_key(&self) -> &[u8] {
        &self.jpki.sign_spki
    }

    /// The mdoc device public key (SubjectPublicKeyInfo DER, P-256); iPhone only.
    pub fn device_public_key(&self) -> Option<&[u8]> {
        self.mdoc.as_ref().map(|m| m.device_spki.as_slice())
    }

    /// Whether the JPKI certificates are installed.
    pub fn is_issued(&self) -> bool {
        self.jpki.certificates.is_some()
    }

    /// The installed user-authentication certificate, DER.
    pub fn auth_certificate(&self) -> Option<&[u8]> {
        self.jpki
            .certificates
            .as_ref()
            .map(|c| c.auth_cert.as_slice())
    }

    /// The counter record of `pin` (Android phones hold [`PinRef::Auth`] and
    /// [`PinRef::Sign`]; iPhones none).
    pub fn pin_record(&self, pin: PinRef) -> Option<&PinRecord> {
        match pin {
            PinRef::Auth => self.jpki.auth_pin.as_ref(),
            PinRef::Sign => self.jpki.sign_password.as_ref(),
            _ => None,
        }
    }

    pub(crate) fn pin_record_mut(&mut self, pin: PinRef) -> Option<&mut PinRecord> {
        match pin {
            PinRef::Auth => self.jpki.auth_pin.as_mut(),
            PinRef::Sign => self.jpki.sign_password.as_mut(),
            _ => None,
        }
    }

    /// Re-initialises a blocked or forgotten phone PIN (done in the portal app after
    /// re-authenticating with the card). Fails on an iPhone or when the value breaks the
    /// PIN's rules.
    pub fn reset_pin(&mut self, pin: PinRef, new_value: Pin) -> Result<(), String> {
        if !pin.policy().accepts(new_value.expose()) {
            return Err(format!("the new value breaks the rules of {pin:?}"));
        }
        let rec = self
            .pin_record_mut(pin)
            .ok_or_else(|| format!("this phone has no {pin:?} PIN"))?;
        *rec = PinRecord::fresh(pin, new_value);
        Ok(())
    }

    fn check(&self) -> Result<(), String> {
        if self.format != PHONE_FORMAT {
            return Err(format!(
                "format {:?}, expected {PHONE_FORMAT:?}",
                self.format
            ));
        }
        let pins = self.jpki.auth_pin.is_some() && self.jpki.sign_password.is_some();
        let no_pins = self.jpki.auth_pin.is_none() && self.jpki.sign_password.is_none();
        match self.platform() {
            Platform::Android if !pins || self.mdoc.is_some() => {
                Err("an Android phone needs both PINs and no mdoc".into())
            }
            Platform::Iphone if !no_pins || self.mdoc.is_none() => {
                Err("an iPhone has no PINs and needs an mdoc device key".into())
            }
            _ => Ok(()),
        }
    }

    /// Reads a phone file.
    pub fn load(path: &Path) -> Result<Self, PhoneFileError> {
        let text =
            zeroize::Zeroizing::new(fs::read(path).map_err(|source| PhoneFileError::Io {
                path: path.to_owned(),
                source,
            })?);
        let invalid = |reason: String| PhoneFileError::Invalid {
            path: path.to_owned(),
            reason,
        };
        let phone: PhoneFile = serde_json::from_slice(&text).map_err(|e| invalid(e.to_string()))?;
        phone.check().map_err(invalid)?;
        Ok(phone)
    }

    /// Writes the phone file atomically with mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), PhoneFileError> {
        let json = zeroize::Zeroizing::new(serde_json::to_vec_pretty(self).map_err(|e| {
            PhoneFileError::Invalid {
                path: path.to_owned(),
                reason: e.to_string(),
            }
        })?);
        write_private(path, &json).map_err(|source| PhoneFileError::Io {
            path: path.to_owned(),
            source,
        })
    }
}

/// Atomic write with mode 0600: temporary file beside `path`, fsync, rename.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
