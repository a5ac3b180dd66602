//! The persisted card: one JSON file holding everything the chip holds.
//!
//! Written atomically (temporary file in the same directory, `fsync`, rename) with mode
//! 0600, because it contains private keys and PINs.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::data::{Attributes, CardFace, matching_number_b};
use crate::layout::{PinRef, jpki};
use crate::secret::{Pin, SecretBytes};

/// Current value of [`CardFile::format`].
pub const FORMAT: &str = "onshi-card/1";

/// Errors reading or writing a card file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CardFileError {
    /// File system error.
    #[error("card file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not a card file of a known format.
    #[error("card file {path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// A PIN and its retry counter.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PinRecord {
    /// The reference value.
    pub value: Pin,
    /// Tries left; 0 = blocked. Invariant: at most the policy's `max_tries`.
    pub tries_left: u8,
}

impl PinRecord {
    /// A fresh record with the full number of tries for `pin`.
    pub fn fresh(pin: PinRef, value: Pin) -> Self {
        Self {
            value,
            tries_left: pin.policy().max_tries.unwrap_or(0),
        }
    }
}

/// The holder's data as printed on the card (what a reader's camera or a person reads).
/// `Debug` masks the My Number and the security code.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Printed {
    /// 氏名.
    pub name: String,
    /// 氏名の振り仮名 (katakana).
    pub name_kana: String,
    /// 住所.
    pub address: String,
    /// 生年月日.
    pub birth_date: NaiveDate,
    /// 性別.
    pub sex: crate::data::Sex,
    /// 有効期限.
    pub expiry: NaiveDate,
    /// セキュリティコード: 4 digits printed on the face, part of 照合番号B.
    pub security_code: String,
    /// 個人番号 (printed on the back).
    pub my_number: String,
}

impl std::fmt::Debug for Printed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Printed")
            .field("name", &self.name)
            .field("birth_date", &self.birth_date)
            .field("expiry", &self.expiry)
            .finish_non_exhaustive()
    }
}

impl Printed {
    /// 照合番号B as a reader derives it from the printed face.
    pub fn matching_number_b(&self) -> String {
        matching_number_b(self.birth_date, self.expiry, &self.security_code)
    }

    /// The four basic attributes.
    pub fn attributes(&self) -> Attributes {
        Attributes {
            name: self.name.clone(),
            address: self.address.clone(),
            birth_date: self.birth_date,
            sex: self.sex,
        }
    }
}

/// The signing key, its certificate and its CA (absent for holders under 15).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SigningFiles {
    /// EF 001A: PKCS#8 RSA-2048 private key.
    pub key_pkcs8: SecretBytes,
    /// EF 0001: certificate DER.
    #[serde(with = "crate::secret::b64")]
    pub cert: Vec<u8>,
    /// EF 0002: CA certificate DER.
    #[serde(with = "crate::secret::b64")]
    pub ca_cert: Vec<u8>,
    /// EF 001B: the signing password and its counter.
    pub password: PinRecord,
}

/// The JPKI AP.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct JpkiFiles {
    /// EF 0006 text before space padding to 32 bytes.
    pub token: String,
    /// EF 0017: PKCS#8 RSA-2048 private key.
    pub auth_key_pkcs8: SecretBytes,
    /// EF 000A: certificate DER.
    #[serde(with = "crate::secret::b64")]
    pub auth_cert: Vec<u8>,
    /// EF 000B: CA certificate DER.
    #[serde(with = "crate::secret::b64")]
    pub auth_ca_cert: Vec<u8>,
    /// EF 0018: the PIN and its counter.
    pub auth_pin: PinRecord,
    /// Signing key, certificate, CA and password.
    pub signing: Option<SigningFiles>,
}

impl JpkiFiles {
    /// EF 0006 content: the token text space-padded to 32 bytes.
    pub fn token_info(&self) -> Vec<u8> {
        let mut t = self.token.as_bytes().to_vec();
        t.resize(jpki::TOKEN_LEN, b' ');
        t
    }
}

/// The input-support AP.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct InputSupportFiles {
    /// EF 0001.
    #[serde(with = "crate::secret::b64")]
    pub my_number_ef: Vec<u8>,
    /// EF 0002.
    #[serde(with = "crate::secret::b64")]
    pub attributes_ef: Vec<u8>,
    /// EF 0003.
    #[serde(with = "crate::secret::b64")]
    pub signature_ef: Vec<u8>,
    /// EF 0011: the PIN and its counter.
    pub pin: PinRecord,
}

/// The whole card.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct CardFile {
    /// [`FORMAT`].
    pub format: String,
    /// Card serial number (hex), unique per issued card.
    pub serial: String,
    /// Issue date.
    pub issued_on: NaiveDate,
    /// Printed face.
    pub printed: Printed,
    /// JPKI AP.
    pub jpki: JpkiFiles,
    /// 券面事項入力補助AP.
    pub input_support: InputSupportFiles,
    /// 券面事項確認AP EF 0002.
    pub card_face: CardFace,
}

/// Shows what identifies the card and its counters; no keys, PINs or My Number.
impl std::fmt::Debug for CardFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardFile")
            .field("serial", &self.serial)
            .field("issued_on", &self.issued_on)
            .field("expiry", &self.printed.expiry)
            .field("auth_pin", &self.jpki.auth_pin)
            .field(
                "sign_password",
                &self.jpki.signing.as_ref().map(|s| &s.password),
            )
            .field("input_support_pin", &self.input_support.pin)
            .finish_non_exhaustive()
    }
}

impl CardFile {
    /// The counter record of `pin`, if the card has it (matching codes have none).
    pub fn pin_record(&self, pin: PinRef) -> Option<&PinRecord> {
        match pin {
            PinRef::Auth => Some(&self.jpki.auth_pin),
            PinRef::Sign => self.jpki.signing.as_ref().map(|s| &s.password),
            PinRef::InputSupport => Some(&self.input_support.pin),
            PinRef::MatchA | PinRef::MatchB => None,
        }
    }

    /// Mutable counter record of `pin`.
    pub fn pin_record_mut(&mut self, pin: PinRef) -> Option<&mut PinRecord> {
        match pin {
            PinRef::Auth => Some(&mut self.jpki.auth_pin),
            PinRef::Sign => self.jpki.signing.as_mut().map(|s| &mut s.password),
            PinRef::InputSupport => Some(&mut self.input_support.pin),
            PinRef::MatchA | PinRef::MatchB => None,
        }
    }

    /// The reference value for a matching code (照合番号A / B).
    pub fn matching_code(&self, pin: PinRef) -> Option<Pin> {
        match pin {
            PinRef::MatchA => Some(Pin::from(self.printed.my_number.as_str())),
            PinRef::MatchB => Some(Pin::new(self.printed.matching_number_b().into_bytes())),
            _ => None,
        }
    }

    /// 市区町村窓口 operation: sets a new value for `pin` and restores its tries.
    /// Fails when the card has no such PIN or the value breaks the PIN's rules.
    pub fn reset_pin(&mut self, pin: PinRef, new_value: Pin) -> Result<(), String> {
        if !pin.policy().accepts(new_value.expose()) {
            return Err(format!("the new value breaks the rules of {pin:?}"));
        }
        let rec = self
            .pin_record_mut(pin)
            .ok_or_else(|| format!("this card has no {pin:?} PIN"))?;
        *rec = PinRecord::fresh(pin, new_value);
        Ok(())
    }

    /// Reads a card file.
    pub fn load(path: &Path) -> Result<Self, CardFileError> {
        let text = zeroize::Zeroizing::new(fs::read(path).map_err(|source| CardFileError::Io {
            path: path.to_owned(),
            source,
        })?);
        let card: CardFile = serde_json::from_slice(&text).map_err(|e| CardFileError::Invalid {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        if card.format != FORMAT {
            return Err(CardFileError::Invalid {
                path: path.to_owned(),
                reason: format!("format {:?}, expected {FORMAT:?}", card.format),
            });
        }
        Ok(card)
    }

    /// Writes the card file atomically with mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), CardFileError> {
        let io = |source| CardFileError::Io {
            path: path.to_owned(),
            source,
        };
        let json = zeroize::Zeroizing::new(serde_json::to_vec_pretty(self).map_err(|e| {
            CardFileError::Invalid {
                path: path.to_owned(),
                reason: e.to_string(),
            }
        })?);
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path.file_name().ok_or_else(|| CardFileError::Invalid {
            path: path.to_owned(),
            reason: "no file name".into(),
        })?;
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
            f.write_all(&json)?;
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
        result.map_err(io)
    }
}
