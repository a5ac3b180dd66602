//! 交付: issuing a My Number Card for a person.
//!
//! Generates the two RSA-2048 key pairs, has J-LIS's CAs ([`onshi_pki::Jlis`]) certify
//! them, writes the input-support and card-face data signed with J-LIS's card-data key,
//! and returns the [`CardFile`]. The card expires on the holder's 10th birthday after issue
//! (5th under 18); holders under 15 get no signing key, certificate or password.

use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use onshi_model::MyNumber;
use onshi_pki::{BasicAttributes, CaKind, Jlis, KeyStore, RsaKeyPair, Signer, SoftwareKeyStore};

use crate::cardfile::{
    CardFile, FORMAT, InputSupportFiles, JpkiFiles, PinRecord, Printed, SigningFiles,
};
use crate::data::{self, CardFace, Sex};
use crate::layout::{PinRef, jpki};
use crate::secret::{Pin, SecretBytes};

/// Label of J-LIS's card-data key (signs input-support and card-face data) in the J-LIS
/// key store (`<state dir>/keys/card-data.pk8`).
pub const CARD_DATA_KEY_LABEL: &str = "card-data";
/// File in the J-LIS state directory holding the card-data public key
/// (SubjectPublicKeyInfo DER), which readers need to check card-face signatures.
pub const CARD_DATA_PUBLIC_KEY_FILE: &str = "card-data-key.der";
/// Largest card-face EF: READ BINARY's 15-bit offset must reach every byte.
pub const MAX_FACE_EF: usize = 0x7FFF;

/// Errors while issuing a card.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// A field of the request is invalid.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// J-LIS refused or failed.
    #[error("J-LIS: {0}")]
    Pki(#[from] onshi_pki::PkiError),
    /// Building the card data failed.
    #[error("card data: {0}")]
    Data(#[from] data::DataError),
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// The person the card is for, as registered.
#[derive(Debug, Clone)]
pub struct Person {
    /// 氏名.
    pub name: String,
    /// 氏名の振り仮名 (katakana).
    pub name_kana: String,
    /// 住所.
    pub address: String,
    /// 生年月日.
    pub birth_date: NaiveDate,
    /// 性別.
    pub sex: Sex,
    /// 個人番号.
    pub my_number: MyNumber,
}

/// The PINs the holder chose at the counter.
#[derive(Debug, Clone)]
pub struct CardPins {
    /// 利用者証明用パスワード (4 digits).
    pub auth: Pin,
    /// 署名用パスワード (6-16 of A-Z 0-9); required from age 15, ignored below.
    pub sign: Option<Pin>,
    /// 券面事項入力補助用暗証番号 (4 digits).
    pub input_support: Pin,
}

/// Everything else issuance needs.
#[derive(Debug, Clone)]
pub struct IssueOptions {
    /// Issue time (certificate notBefore, card issue date in JST).
    pub issued_at: DateTime<Utc>,
    /// 顔写真 as stored in card-face tag 27 (JPEG 2000 on real cards).
    pub face_photo: Vec<u8>,
    /// セキュリティコード; random when `None`.
    pub security_code: Option<String>,
}

/// Opens (creating on first use) J-LIS's card-data key in the J-LIS state directory and
/// writes its public key to [`CARD_DATA_PUBLIC_KEY_FILE`] there.
pub fn card_data_key(jlis_dir: &Path) -> Result<Arc<dyn Signer>, IssueError> {
    let key = SoftwareKeyStore::new(jlis_dir.join("keys")).load_or_generate(CARD_DATA_KEY_LABEL)?;
    let path = jlis_dir.join(CARD_DATA_PUBLIC_KEY_FILE);
    if std::fs::read(&path).ok().as_deref() != Some(key.public_key_spki()) {
        std::fs::write(&path, key.public_key_spki())
            .map_err(|source| IssueError::Io { path, source })?;
    }
    Ok(key)
}

/// The holder's `n`th birthday strictly after `issue_date` (29 February → 28 February).
fn nth_birthday_after(birth: NaiveDate, issue_date: NaiveDate, n: i32) -> NaiveDate {
    let on = |year: i32| {
        NaiveDate::from_ymd_opt(year, birth.month(), birth.day())
            .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
            .unwrap_or(issue_date)
    };
    let first = if on(issue_date.year()) > issue_date {
        issue_date.year()
    } else {
        issue_date.year() + 1
    };
    on(first + n - 1)
}

fn random_digits(n: usize) -> Result<String, IssueError> {
    let rng = SystemRandom::new();
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let mut b = [0u8; 1];
        rng.fill(&mut b).map_err(|_| IssueError::Invalid {
            field: "randomness",
            reason: "system RNG failed".into(),
        })?;
        // Rejection sampling: 250 = 25 × 10 keeps every digit equally likely.
        if b[0] < 250 {
            out.push(char::from(b'0' + b[0] % 10));
        }
    }
    Ok(out)
}

fn random_hex(n: usize) -> Result<String, IssueError> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| IssueError::Invalid {
            field: "randomness",
            reason: "system RNG failed".into(),
        })?;
    Ok(crate::apdu::hex(&bytes))
}

fn check_pin(field: &'static str, pin: PinRef, value: &Pin) -> Result<(), IssueError> {
    if pin.policy().accepts(value.expose()) {
        Ok(())
    } else {
        let p = pin.policy();
        Err(IssueError::Invalid {
            field,
            reason: format!(
                "must be {}-{} characters of {:?}",
                p.min_len, p.max_len, p.charset
            ),
        })
    }
}

/// Issues a card for `person`: keys, certificates from `jlis`, data signed by `card_data`.
pub fn issue_card(
    jlis: &mut Jlis,
    card_data: &dyn Signer,
    person: &Person,
    pins: &CardPins,
    options: &IssueOptions,
) -> Result<CardFile, IssueError> {
    let issue_date = options
        .issued_at
        .with_timezone(&onshi_pki::jst())
        .date_naive();
    if person.birth_date > issue_date {
        return Err(IssueError::Invalid {
            field: "birth date",
            reason: "after the issue date".into(),
        });
    }
    for (field, text) in [
        ("name", &person.name),
        ("name kana", &person.name_kana),
        ("address", &person.address),
    ] {
        if text.trim().is_empty() {
            return Err(IssueError::Invalid {
                field,
                reason: "empty".into(),
            });
        }
    }
    let age = onshi_pki::age_on(person.birth_date, issue_date);
    let with_signing = age >= onshi_pki::SIGNING_MIN_AGE;
    check_pin("user-authentication PIN", PinRef::Auth, &pins.auth)?;
    check_pin(
        "input-support PIN",
        PinRef::InputSupport,
        &pins.input_support,
    )?;
    let sign_pin = match (&pins.sign, with_signing) {
        (Some(p), true) => {
            check_pin("signing password", PinRef::Sign, p)?;
            Some(p.clone())
        }
        (None, true) => {
            return Err(IssueError::Invalid {
                field: "signing password",
                reason: format!("required from age {}", onshi_pki::SIGNING_MIN_AGE),
            });
        }
        (_, false) => None,
    };
    let security_code = match &options.security_code {
        Some(c) if c.len() == 4 && c.bytes().all(|b| b.is_ascii_digit()) => c.clone(),
        Some(_) => {
            return Err(IssueError::Invalid {
                field: "security code",
                reason: "must be 4 digits".into(),
            });
        }
        None => random_digits(4)?,
    };
    let expiry = nth_birthday_after(person.birth_date, issue_date, if age < 18 { 5 } else { 10 });

    let auth_key = RsaKeyPair::generate()?;
    let auth_cert = jlis.issue_auth(
        CaKind::CardAuth,
        auth_key.public_key_spki(),
        person.birth_date,
        options.issued_at,
    )?;
    let signing = match sign_pin {
        Some(password) => {
            let key = RsaKeyPair::generate()?;
            let attrs = BasicAttributes {
                name: person.name.clone(),
                name_substitute: None,
                sex: match person.sex {
                    Sex::Male => onshi_pki::Sex::Male,
                    Sex::Female => onshi_pki::Sex::Female,
                    Sex::NotApplicable => onshi_pki::Sex::NotApplicable,
                },
                birth_date: person.birth_date,
                address: person.address.clone(),
                address_substitute: None,
            };
            let cert = jlis.issue_signing(
                CaKind::CardSigning,
                key.public_key_spki(),
                &attrs,
                options.issued_at,
            )?;
            Some(SigningFiles {
                key_pkcs8: SecretBytes::new(key.pkcs8_der().to_vec()),
                cert: cert.der,
                ca_cert: jlis.ca(CaKind::CardSigning).cert_der().to_vec(),
                password: PinRecord::fresh(PinRef::Sign, password),
            })
        }
        None => None,
    };

    let printed = Printed {
        name: person.name.clone(),
        name_kana: person.name_kana.clone(),
        address: person.address.clone(),
        birth_date: person.birth_date,
        sex: person.sex,
        expiry,
        security_code: security_code.clone(),
        my_number: person.my_number.as_str().to_owned(),
    };
    let my_number_ef = data::encode_my_number(person.my_number.as_str());
    let attributes_ef = printed.attributes().encode_ef();
    let signature_ef = data::sign_input_support(card_data, &my_number_ef, &attributes_ef)?;

    let mut card_face = CardFace {
        birth_date: person.birth_date,
        sex: person.sex,
        public_key: Vec::new(),
        name_image: data::text_image(&person.name),
        address_image: data::text_image(&person.address),
        face_photo: options.face_photo.clone(),
        expiry,
        security_code_image: data::text_image(&security_code),
        signature: Vec::new(),
    };
    card_face.sign(card_data)?;
    let face_len = card_face.encode_ef().len();
    if face_len > MAX_FACE_EF {
        return Err(IssueError::Invalid {
            field: "face photo",
            reason: format!("card-face data of {face_len} bytes exceeds {MAX_FACE_EF}"),
        });
    }

    Ok(CardFile {
        format: FORMAT.to_owned(),
        serial: random_hex(8)?,
        issued_on: issue_date,
        printed,
        jpki: JpkiFiles {
            token: jpki::TOKEN_CARD.to_owned(),
            auth_key_pkcs8: SecretBytes::new(auth_key.pkcs8_der().to_vec()),
            auth_cert: auth_cert.der,
            auth_ca_cert: jlis.ca(CaKind::CardAuth).cert_der().to_vec(),
            auth_pin: PinRecord::fresh(PinRef::Auth, pins.auth.clone()),
            signing,
        },
        input_support: InputSupportFiles {
            my_number_ef,
            attributes_ef,
            signature_ef,
            pin: PinRecord::fresh(PinRef::InputSupport, pins.input_support.clone()),
        },
        card_face,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_the_nth_birthday_after_issue() {
        let b = NaiveDate::from_ymd_opt(1980, 4, 1).unwrap();
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(nth_birthday_after(b, d(2025, 3, 1), 10), d(2034, 4, 1));
        assert_eq!(nth_birthday_after(b, d(2025, 4, 1), 10), d(2035, 4, 1));
        let leap = d(2008, 2, 29);
        assert_eq!(nth_birthday_after(leap, d(2025, 1, 1), 5), d(2029, 2, 28));
    }
}
