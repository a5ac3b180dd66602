//! What a phone is, apart from its credentials: platform, model name, OS version and,
//! on an iPhone, the biometric sensor it has. The compatibility rules that decide which
//! handsets may be set up live with the center; here these are plain values.

use std::fmt;
use std::str::FromStr;

/// The two smartphone platforms of マイナ保険証.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// Android: the JPKI applet in the GlobalPlatform secure element, unlocked by the
    /// phone's own PIN (スマホ用電子証明書).
    Android,
    /// iPhone: the JPKI applet in Apple Wallet, unlocked by Face ID / Touch ID, plus the
    /// card substitute record (an ISO/IEC 18013-5 mdoc).
    Iphone,
}

impl Platform {
    /// `android` or `iphone`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Android => "android",
            Platform::Iphone => "iphone",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = HandsetError;
    fn from_str(s: &str) -> Result<Self, HandsetError> {
        match s.to_ascii_lowercase().as_str() {
            "android" => Ok(Platform::Android),
            "iphone" | "ios" => Ok(Platform::Iphone),
            _ => Err(HandsetError::Platform(s.to_owned())),
        }
    }
}

/// The biometric sensors an iPhone unlocks its credential with. A passcode is not one of
/// them: the iPhone credential refuses it (docs/reference.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Biometric {
    /// Face ID.
    FaceId,
    /// Touch ID.
    TouchId,
}

/// A handset value that does not parse or breaks its rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandsetError {
    /// Not `android` or `iphone`.
    #[error("unknown platform {0:?} (android or iphone)")]
    Platform(String),
    /// Not `MAJOR[.MINOR[.PATCH]]`.
    #[error("OS version {0:?} is not MAJOR[.MINOR[.PATCH]]")]
    OsVersion(String),
    /// Empty or over-long model name.
    #[error("model name must be 1-64 printable characters")]
    Model,
    /// An iPhone without Face ID or Touch ID, or an Android phone with one declared.
    #[error("{0}")]
    Biometric(&'static str),
}

/// An operating-system version such as `18.5` or `14`; compares numerically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OsVersion {
    /// Major version.
    pub major: u16,
    /// Minor version (0 when absent).
    pub minor: u16,
    /// Patch version (0 when absent).
    pub patch: u16,
}

impl OsVersion {
    /// `major.minor.patch`.
    pub const fn new(major: u16, minor: u16, patch: u16) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }
}

impl FromStr for OsVersion {
    type Err = HandsetError;
    fn from_str(s: &str) -> Result<Self, HandsetError> {
        let bad = || HandsetError::OsVersion(s.to_owned());
        let parts: Vec<&str> = s.trim().split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return Err(bad());
        }
        let mut n = [0u16; 3];
        for (slot, p) in n.iter_mut().zip(&parts) {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            *slot = p.parse().map_err(|_| bad())?;
        }
        Ok(Self::new(n[0], n[1], n[2]))
    }
}

impl fmt::Display for OsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.patch == 0 {
            write!(f, "{}.{}", self.major, self.minor)
        } else {
            write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
        }
    }
}

impl serde::Serialize for OsVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for OsVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A phone as a product: platform, model name (as the compatibility list spells it), OS
/// version and, for an iPhone, its biometric sensor.
///
/// Invariant: `model` is 1-64 characters without control characters; an iPhone has a
/// biometric sensor and an Android phone declares none (checked by [`Handset::new`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Handset {
    platform: Platform,
    model: String,
    os_version: OsVersion,
    biometric: Option<Biometric>,
}

impl Handset {
    /// A handset; see the invariant.
    pub fn new(
        platform: Platform,
        model: impl Into<String>,
        os_version: OsVersion,
        biometric: Option<Biometric>,
    ) -> Result<Self, HandsetError> {
        let model = model.into();
        let chars = model.chars().count();
        if !(1..=64).contains(&chars) || model.chars().any(char::is_control) {
            return Err(HandsetError::Model);
        }
        match (platform, biometric) {
            (Platform::Iphone, None) => {
                return Err(HandsetError::Biometric(
                    "an iPhone credential needs Face ID or Touch ID",
                ));
            }
            (Platform::Android, Some(_)) => {
                return Err(HandsetError::Biometric(
                    "the Android credential is unlocked by its PIN, not a biometric",
                ));
            }
            _ => {}
        }
        Ok(Self {
            platform,
            model,
            os_version,
            biometric,
        })
    }

    /// An Android phone.
    pub fn android(model: impl Into<String>, os_version: OsVersion) -> Result<Self, HandsetError> {
        Self::new(Platform::Android, model, os_version, None)
    }

    /// An iPhone with `biometric`.
    pub fn iphone(
        model: impl Into<String>,
        os_version: OsVersion,
        biometric: Biometric,
    ) -> Result<Self, HandsetError> {
        Self::new(Platform::Iphone, model, os_version, Some(biometric))
    }

    /// Android or iPhone.
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// Model name, e.g. `Pixel 8` or `iPhone 15`.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// OS version.
    pub fn os_version(&self) -> OsVersion {
        self.os_version
    }

    /// The biometric sensor (iPhone only).
    pub fn biometric(&self) -> Option<Biometric> {
        self.biometric
    }

    /// The same handset after an OS update.
    pub fn with_os_version(mut self, os_version: OsVersion) -> Self {
        self.os_version = os_version;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_versions_parse_and_compare_numerically() {
        let v: OsVersion = "18.5".parse().unwrap();
        assert_eq!(v, OsVersion::new(18, 5, 0));
        assert!("18.10".parse::<OsVersion>().unwrap() > v);
        assert!("9".parse::<OsVersion>().unwrap() < "14".parse::<OsVersion>().unwrap());
        assert_eq!("17.0.1".parse::<OsVersion>().unwrap().to_string(), "17.0.1");
        for bad in ["", "18.", "a.b", "1.2.3.4", "-1", "99999"] {
            assert!(bad.parse::<OsVersion>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn handset_rules() {
        assert!(Handset::android("Pixel 8", OsVersion::new(14, 0, 0)).is_ok());
        assert!(
            Handset::new(
                Platform::Iphone,
                "iPhone 15",
                OsVersion::new(18, 5, 0),
                None
            )
            .is_err()
        );
        assert!(
            Handset::new(
                Platform::Android,
                "Pixel 8",
                OsVersion::new(14, 0, 0),
                Some(Biometric::FaceId)
            )
            .is_err()
        );
        assert!(Handset::android("", OsVersion::new(14, 0, 0)).is_err());
        assert_eq!("iOS".parse::<Platform>().unwrap(), Platform::Iphone);
    }
}
