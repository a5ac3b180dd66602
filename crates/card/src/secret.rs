//! Secrets that zeroize on drop and whose `Debug` shows only their length.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A PIN, password or matching code as the ASCII bytes sent in VERIFY.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Pin(Vec<u8>);

impl Pin {
    /// Wraps the ASCII bytes of a PIN.
    pub fn new(value: impl Into<Vec<u8>>) -> Self {
        Self(value.into())
    }

    /// The signing password as clients send it: upper-cased.
    pub fn upper(value: &str) -> Self {
        Self(value.to_ascii_uppercase().into_bytes())
    }

    /// The bytes for VERIFY.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Compares in time independent of where the first difference is.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        if self.0.len() != other.len() {
            return false;
        }
        self.0
            .iter()
            .zip(other)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl From<&str> for Pin {
    fn from(s: &str) -> Self {
        Self::new(s.as_bytes())
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pin(len={})", self.0.len())
    }
}

impl serde::Serialize for Pin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = Zeroizing::new(String::from_utf8_lossy(&self.0).into_owned());
        s.serialize_str(&text)
    }
}

impl<'de> serde::Deserialize<'de> for Pin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(d)?);
        Ok(Self(text.as_bytes().to_vec()))
    }
}

/// Secret bytes such as a PKCS#8 private key; base64 in the card file.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Wraps the bytes.
    pub fn new(value: Vec<u8>) -> Self {
        Self(value)
    }

    /// The bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(len={})", self.0.len())
    }
}

impl serde::Serialize for SecretBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = Zeroizing::new(STANDARD.encode(&self.0));
        s.serialize_str(&text)
    }
}

impl<'de> serde::Deserialize<'de> for SecretBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(d)?);
        STANDARD
            .decode(text.as_bytes())
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

/// Serde helper: `Vec<u8>` as base64 text.
pub mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    /// Serializes as base64.
    pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }

    /// Deserializes from base64.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text: String = serde::Deserialize::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// Serde helper: `Option<Vec<u8>>` as base64 text or null.
pub mod b64_opt {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    /// Serializes as base64 or null.
    pub fn serialize<S: serde::Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(&STANDARD.encode(v)),
            None => s.serialize_none(),
        }
    }

    /// Deserializes from base64 or null.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let text: Option<String> = serde::Deserialize::deserialize(d)?;
        text.map(|t| STANDARD.decode(t.as_bytes()))
            .transpose()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_only_length() {
        let p = Pin::from("1234");
        assert_eq!(format!("{p:?}"), "Pin(len=4)");
        let k = SecretBytes::new(vec![1, 2, 3]);
        assert_eq!(format!("{k:?}"), "SecretBytes(len=3)");
    }

    #[test]
    fn constant_time_compare() {
        let p = Pin::from("1234");
        assert!(p.ct_eq(b"1234"));
        assert!(!p.ct_eq(b"1235"));
        assert!(!p.ct_eq(b"12345"));
        assert_eq!(Pin::upper("abc123").expose(), b"ABC123");
    }
}
