//! Contents of the input-support and card-face data files, and J-LIS's signatures over them.
//!
//! Layouts (*onshi design* where J-LIS publishes none; documented in `docs/card.md`):
//!
//! - input-support EF 0001: `DF 10 0C` + 12 ASCII digits.
//! - input-support EF 0002: `FF 20 L { DF 21 08 offsets, DF 22 name, DF 23 address,
//!   DF 24 birth date YYYYMMDD, DF 25 sex (ISO 5218 digit) }`, UTF-8; the header holds four
//!   big-endian u16 offsets, from the start of the EF, of the DF 22..DF 25 elements.
//! - input-support EF 0003: `FF 30 L { DF 31 20 SHA-256(EF 0001), DF 32 20 SHA-256(EF 0002),
//!   DF 33 L signature }`; the signature is RSA PKCS#1 v1.5 SHA-256 by J-LIS's card-data key
//!   over the encoded `DF 31` and `DF 32` elements, concatenated.
//! - card-face EF 0002: `FF 40 L { DF 22 birth date, DF 23 sex, DF 24 J-LIS card-data public
//!   key (SubjectPublicKeyInfo DER), DF 25 name image, DF 26 address image, DF 27 face photo,
//!   DF 28 signature, DF 29 expiry YYYYMMDD, DF 2A security-code image }`. The signature is
//!   RSA PKCS#1 v1.5 SHA-256 over the concatenation of every encoded inner element except
//!   `DF 28`, in the order above. A reader trusts the signature only if `DF 24` equals the
//!   J-LIS key it holds.

use aws_lc_rs::digest::{SHA256, digest};
use chrono::NaiveDate;
use onshi_pki::Signer;

use crate::tlv::{self, TlvError};

/// Errors in the card's data files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// TLV structure broken.
    #[error("data file: {0}")]
    Tlv(#[from] TlvError),
    /// The outer tag is not the one expected.
    #[error("expected outer tag {expected:04X}, found {actual:04X}")]
    WrongTag {
        /// Tag wanted.
        expected: u16,
        /// Tag found.
        actual: u16,
    },
    /// A text element is not valid UTF-8 or not in the expected form.
    #[error("element {tag:04X} is malformed")]
    Malformed {
        /// Its tag.
        tag: u16,
    },
    /// The J-LIS signature does not verify, or was made by another key.
    #[error("J-LIS signature over {what} does not verify")]
    BadSignature {
        /// What was signed.
        what: &'static str,
    },
    /// Signing failed.
    #[error("signing failed")]
    Sign,
}

pub use onshi_model::Sex;

/// 基本4情報: the four basic attributes as the input-support AP holds them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attributes {
    /// 氏名.
    pub name: String,
    /// 住所.
    pub address: String,
    /// 生年月日.
    pub birth_date: NaiveDate,
    /// 性別.
    pub sex: Sex,
}

/// Outer tag of input-support EF 0002.
pub const TAG_ATTRIBUTES: u16 = 0xFF20;
/// Outer tag of input-support EF 0003 (*onshi design*).
pub const TAG_INPUT_SIGNATURE: u16 = 0xFF30;
/// Outer tag of card-face EF 0002 (*onshi design*).
pub const TAG_CARD_FACE: u16 = 0xFF40;
/// Tag of the My Number in input-support EF 0001 (*onshi design*).
pub const TAG_MY_NUMBER: u16 = 0xDF10;

fn date_text(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

fn parse_date(tag: u16, v: &[u8]) -> Result<NaiveDate, DataError> {
    std::str::from_utf8(v)
        .ok()
        .filter(|s| s.len() == 8)
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y%m%d").ok())
        .ok_or(DataError::Malformed { tag })
}

fn text(tag: u16, v: &[u8]) -> Result<String, DataError> {
    String::from_utf8(v.to_vec()).map_err(|_| DataError::Malformed { tag })
}

fn sex(tag: u16, v: &[u8]) -> Result<Sex, DataError> {
    match v {
        [c] if c.is_ascii_digit() => {
            Sex::from_iso5218(c - b'0').map_err(|_| DataError::Malformed { tag })
        }
        _ => Err(DataError::Malformed { tag }),
    }
}

fn inner<'a>(data: &'a [u8], outer: u16) -> Result<Vec<tlv::Element<'a>>, DataError> {
    let (e, _) = tlv::parse_one(data, 0)?;
    if e.tag != outer {
        return Err(DataError::WrongTag {
            expected: outer,
            actual: e.tag,
        });
    }
    Ok(tlv::parse_all(e.value)?)
}

/// Encodes input-support EF 0001.
pub fn encode_my_number(my_number: &str) -> Vec<u8> {
    tlv::encode(TAG_MY_NUMBER, my_number.as_bytes())
}

/// Parses input-support EF 0001 into the 12-digit My Number.
pub fn parse_my_number(ef: &[u8]) -> Result<String, DataError> {
    let (e, _) = tlv::parse_one(ef, 0)?;
    if e.tag != TAG_MY_NUMBER {
        return Err(DataError::WrongTag {
            expected: TAG_MY_NUMBER,
            actual: e.tag,
        });
    }
    let s = text(e.tag, e.value)?;
    if s.len() != 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DataError::Malformed { tag: e.tag });
    }
    Ok(s)
}

impl Attributes {
    /// Encodes input-support EF 0002.
    pub fn encode_ef(&self) -> Vec<u8> {
        let elements = [
            tlv::encode(0xDF22, self.name.as_bytes()),
            tlv::encode(0xDF23, self.address.as_bytes()),
            tlv::encode(0xDF24, date_text(self.birth_date).as_bytes()),
            tlv::encode(0xDF25, &[b'0' + self.sex.iso5218()]),
        ];
        let body_len: usize = elements.iter().map(Vec::len).sum();
        // The outer header length depends on the body length: compute it, then the offsets.
        let header_len = 3 + 8;
        let total_inner = header_len + body_len;
        let outer_header = tlv::encode(TAG_ATTRIBUTES, &vec![0; total_inner]).len() - total_inner;
        let mut offsets = Vec::with_capacity(8);
        let mut at = outer_header + header_len;
        for e in &elements {
            offsets.extend_from_slice(&(at as u16).to_be_bytes());
            at += e.len();
        }
        let mut body = tlv::encode(0xDF21, &offsets);
        for e in &elements {
            body.extend_from_slice(e);
        }
        tlv::encode(TAG_ATTRIBUTES, &body)
    }

    /// Parses input-support EF 0002.
    pub fn parse_ef(ef: &[u8]) -> Result<Self, DataError> {
        let items = inner(ef, TAG_ATTRIBUTES)?;
        Ok(Self {
            name: text(0xDF22, tlv::find(&items, 0xDF22)?)?,
            address: text(0xDF23, tlv::find(&items, 0xDF23)?)?,
            birth_date: parse_date(0xDF24, tlv::find(&items, 0xDF24)?)?,
            sex: sex(0xDF25, tlv::find(&items, 0xDF25)?)?,
        })
    }
}

fn sign(key: &dyn Signer, content: &[u8]) -> Result<Vec<u8>, DataError> {
    key.sign_sha256(content).map_err(|_| DataError::Sign)
}

fn verify(
    public_key: &[u8],
    content: &[u8],
    sig: &[u8],
    what: &'static str,
) -> Result<(), DataError> {
    onshi_pki::verify_signature(public_key, content, sig)
        .map_err(|_| DataError::BadSignature { what })
}

/// Builds input-support EF 0003 for the given EF 0001 and EF 0002 contents.
pub fn sign_input_support(
    key: &dyn Signer,
    my_number_ef: &[u8],
    attributes_ef: &[u8],
) -> Result<Vec<u8>, DataError> {
    let mut signed = tlv::encode(0xDF31, digest(&SHA256, my_number_ef).as_ref());
    tlv::put(&mut signed, 0xDF32, digest(&SHA256, attributes_ef).as_ref());
    let mut body = signed.clone();
    tlv::put(&mut body, 0xDF33, &sign(key, &signed)?);
    Ok(tlv::encode(TAG_INPUT_SIGNATURE, &body))
}

/// Checks input-support EF 0003 against EF 0001, EF 0002 and J-LIS's card-data key (SubjectPublicKeyInfo DER).
pub fn verify_input_support(
    jlis_key: &[u8],
    my_number_ef: &[u8],
    attributes_ef: &[u8],
    signature_ef: &[u8],
) -> Result<(), DataError> {
    let items = inner(signature_ef, TAG_INPUT_SIGNATURE)?;
    let h1 = tlv::find(&items, 0xDF31)?;
    let h2 = tlv::find(&items, 0xDF32)?;
    if h1 != digest(&SHA256, my_number_ef).as_ref() || h2 != digest(&SHA256, attributes_ef).as_ref()
    {
        return Err(DataError::BadSignature {
            what: "input-support hashes",
        });
    }
    let mut signed = tlv::encode(0xDF31, h1);
    tlv::put(&mut signed, 0xDF32, h2);
    verify(
        jlis_key,
        &signed,
        tlv::find(&items, 0xDF33)?,
        "input-support data",
    )
}

/// 券面事項確認AP EF 0002: the card face as J-LIS signed it.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CardFace {
    /// 生年月日.
    pub birth_date: NaiveDate,
    /// 性別.
    pub sex: Sex,
    /// J-LIS card-data public key (SubjectPublicKeyInfo DER) that made `signature`.
    #[serde(with = "crate::secret::b64")]
    pub public_key: Vec<u8>,
    /// 氏名 image (SVG in onshi).
    #[serde(with = "crate::secret::b64")]
    pub name_image: Vec<u8>,
    /// 住所 image (SVG in onshi).
    #[serde(with = "crate::secret::b64")]
    pub address_image: Vec<u8>,
    /// 顔写真 (JPEG 2000 on real cards; whatever the issuer was given in onshi).
    #[serde(with = "crate::secret::b64")]
    pub face_photo: Vec<u8>,
    /// 有効期限.
    pub expiry: NaiveDate,
    /// セキュリティコード image (SVG in onshi).
    #[serde(with = "crate::secret::b64")]
    pub security_code_image: Vec<u8>,
    /// J-LIS signature (see the module documentation for the signed content).
    #[serde(with = "crate::secret::b64")]
    pub signature: Vec<u8>,
}

impl std::fmt::Debug for CardFace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardFace")
            .field("birth_date", &self.birth_date)
            .field("sex", &self.sex)
            .field("expiry", &self.expiry)
            .field("face_photo_len", &self.face_photo.len())
            .finish_non_exhaustive()
    }
}

impl CardFace {
    fn elements(&self) -> [(u16, Vec<u8>); 9] {
        [
            (0xDF22, date_text(self.birth_date).into_bytes()),
            (0xDF23, vec![b'0' + self.sex.iso5218()]),
            (0xDF24, self.public_key.clone()),
            (0xDF25, self.name_image.clone()),
            (0xDF26, self.address_image.clone()),
            (0xDF27, self.face_photo.clone()),
            (0xDF28, self.signature.clone()),
            (0xDF29, date_text(self.expiry).into_bytes()),
            (0xDF2A, self.security_code_image.clone()),
        ]
    }

    /// The bytes J-LIS signs: every encoded element except `DF 28`, in tag order.
    pub fn signed_content(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (tag, v) in self.elements() {
            if tag != 0xDF28 {
                tlv::put(&mut out, tag, &v);
            }
        }
        out
    }

    /// Sets `public_key` to `key`'s public key and `signature` to its signature.
    pub fn sign(&mut self, key: &dyn Signer) -> Result<(), DataError> {
        self.public_key = key.public_key_spki().to_vec();
        self.signature = sign(key, &self.signed_content())?;
        Ok(())
    }

    /// Checks that `DF 24` is `trusted_key` (SubjectPublicKeyInfo DER) and the signature verifies with it.
    pub fn verify(&self, trusted_key: &[u8]) -> Result<(), DataError> {
        if self.public_key != trusted_key {
            return Err(DataError::BadSignature {
                what: "card face (unknown key)",
            });
        }
        verify(
            trusted_key,
            &self.signed_content(),
            &self.signature,
            "card face",
        )
    }

    /// Encodes card-face EF 0002.
    pub fn encode_ef(&self) -> Vec<u8> {
        let mut body = Vec::new();
        for (tag, v) in self.elements() {
            tlv::put(&mut body, tag, &v);
        }
        tlv::encode(TAG_CARD_FACE, &body)
    }

    /// Parses card-face EF 0002 (without checking the signature).
    pub fn parse_ef(ef: &[u8]) -> Result<Self, DataError> {
        let items = inner(ef, TAG_CARD_FACE)?;
        let bytes = |tag| tlv::find(&items, tag).map(<[u8]>::to_vec);
        Ok(Self {
            birth_date: parse_date(0xDF22, tlv::find(&items, 0xDF22)?)?,
            sex: sex(0xDF23, tlv::find(&items, 0xDF23)?)?,
            public_key: bytes(0xDF24)?,
            name_image: bytes(0xDF25)?,
            address_image: bytes(0xDF26)?,
            face_photo: bytes(0xDF27)?,
            signature: bytes(0xDF28)?,
            expiry: parse_date(0xDF29, tlv::find(&items, 0xDF29)?)?,
            security_code_image: bytes(0xDF2A)?,
        })
    }
}

/// 照合番号B: birth date YYMMDD + expiry year YYYY + 4-digit security code.
pub fn matching_number_b(birth_date: NaiveDate, expiry: NaiveDate, security_code: &str) -> String {
    format!(
        "{}{}{}",
        birth_date.format("%y%m%d"),
        expiry.format("%Y"),
        security_code
    )
}

/// A minimal SVG image of one line of text, standing in for the card's printed images.
pub fn text_image(text: &str) -> Vec<u8> {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let width = 24 * text.chars().count().max(1) + 16;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"40\">\
         <text x=\"8\" y=\"28\" font-size=\"22\">{escaped}</text></svg>"
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use onshi_pki::RsaKeyPair;

    fn attrs() -> Attributes {
        Attributes {
            name: "診療　太郎".into(),
            address: "東京都千代田区霞が関１－２－２".into(),
            birth_date: NaiveDate::from_ymd_opt(1980, 4, 1).unwrap(),
            sex: Sex::Male,
        }
    }

    #[test]
    fn attributes_roundtrip_and_offsets_point_at_elements() {
        let ef = attrs().encode_ef();
        assert_eq!(&ef[..2], &[0xFF, 0x20]);
        assert_eq!(Attributes::parse_ef(&ef).unwrap(), attrs());
        let items = inner(&ef, TAG_ATTRIBUTES).unwrap();
        let offsets = tlv::find(&items, 0xDF21).unwrap();
        for (i, tag) in [0xDF22u16, 0xDF23, 0xDF24, 0xDF25].iter().enumerate() {
            let at = u16::from_be_bytes([offsets[2 * i], offsets[2 * i + 1]]) as usize;
            assert_eq!(&ef[at..at + 2], &tag.to_be_bytes());
        }
    }

    #[test]
    fn signatures_verify_and_detect_changes() {
        let key = RsaKeyPair::generate().unwrap();
        let pk = key.public_key_spki().to_vec();
        let mn = encode_my_number("123456789018");
        assert_eq!(parse_my_number(&mn).unwrap(), "123456789018");
        let at = attrs().encode_ef();
        let sig = sign_input_support(&key, &mn, &at).unwrap();
        verify_input_support(&pk, &mn, &at, &sig).unwrap();
        let mut other = attrs();
        other.address.push('X');
        assert!(verify_input_support(&pk, &mn, &other.encode_ef(), &sig).is_err());

        let mut face = CardFace {
            birth_date: attrs().birth_date,
            sex: Sex::Male,
            public_key: vec![],
            name_image: text_image("診療　太郎"),
            address_image: text_image("東京都"),
            face_photo: vec![0xFF, 0x4F, 0xFF, 0x51],
            expiry: NaiveDate::from_ymd_opt(2035, 4, 1).unwrap(),
            security_code_image: text_image("1234"),
            signature: vec![],
        };
        face.sign(&key).unwrap();
        let parsed = CardFace::parse_ef(&face.encode_ef()).unwrap();
        assert_eq!(parsed, face);
        parsed.verify(&pk).unwrap();
        let mut tampered = parsed.clone();
        tampered.face_photo[3] ^= 1;
        assert!(tampered.verify(&pk).is_err());
        let other_key = RsaKeyPair::generate().unwrap();
        assert!(parsed.verify(other_key.public_key_spki()).is_err());
    }

    #[test]
    fn matching_number_b_layout() {
        let b = matching_number_b(
            NaiveDate::from_ymd_opt(1980, 4, 1).unwrap(),
            NaiveDate::from_ymd_opt(2035, 4, 1).unwrap(),
            "0042",
        );
        assert_eq!(b, "80040120350042");
        assert_eq!(b.len(), 14);
    }
}
