//! The published compatibility list (対応機種一覧): which phone models and OS versions may
//! hold the smartphone credential. The list is data (`data/phone-compatibility.json`),
//! read once; [`Compatibility::check`] answers "is my phone supported?" with the reason
//! in Japanese and English when it is not.

use serde::{Deserialize, Serialize};

/// The list shipped with the center.
pub const DEFAULT_LIST: &str = include_str!("../../data/phone-compatibility.json");

/// A dotted OS version compared numerically (`18.5` < `18.10`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version([u16; 3]);

impl Version {
    /// `MAJOR[.MINOR[.PATCH]]`; `None` otherwise.
    pub fn parse(s: &str) -> Option<Self> {
        let parts: Vec<&str> = s.trim().split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return None;
        }
        let mut v = [0u16; 3];
        for (slot, p) in v.iter_mut().zip(&parts) {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            *slot = p.parse().ok()?;
        }
        Some(Self(v))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c] = self.0;
        if b == 0 && c == 0 {
            write!(f, "{a}")
        } else if c == 0 {
            write!(f, "{a}.{b}")
        } else {
            write!(f, "{a}.{b}.{c}")
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ModelEntry {
    Name(String),
    WithMin { model: String, min_os: String },
}

#[derive(Debug, Deserialize)]
struct PlatformFile {
    platform: String,
    label_ja: String,
    min_os: String,
    models: Vec<ModelEntry>,
    unlisted_ja: String,
}

#[derive(Debug, Deserialize)]
struct ListFile {
    updated: String,
    platforms: Vec<PlatformFile>,
}

/// One supported model.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub model: String,
    pub min_os: String,
    #[serde(skip)]
    min: Version,
}

/// One platform of the list.
#[derive(Debug, Clone, Serialize)]
pub struct PlatformRules {
    pub platform: String,
    pub label_ja: String,
    pub min_os: String,
    pub models: Vec<Model>,
    #[serde(skip)]
    unlisted_ja: String,
}

/// The compatibility list.
#[derive(Debug, Clone, Serialize)]
pub struct Compatibility {
    pub updated: String,
    pub platforms: Vec<PlatformRules>,
}

/// Why a phone is not supported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Unsupported {
    /// Neither `android` nor `iphone`.
    UnknownPlatform,
    /// The model is not on the list.
    ModelNotListed,
    /// The OS is older than the model's minimum.
    OsTooOld { min_os: String },
    /// The OS version does not parse.
    OsVersionInvalid,
}

/// The answer to "is my phone supported?".
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub supported: bool,
    pub platform: String,
    pub model: String,
    pub os_version: String,
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    pub unsupported: Option<Unsupported>,
    /// The answer in Japanese, with what to do when not supported.
    pub message_ja: String,
    pub message: String,
}

/// Model names compare without case, spaces or the difference between full-width and
/// ASCII forms (`iphone15pro` = `iPhone 15 Pro`).
fn normalize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Compatibility {
    /// Parses a list (the format of `data/phone-compatibility.json`).
    pub fn parse(json: &str) -> Result<Self, String> {
        let file: ListFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let mut platforms = Vec::new();
        for p in file.platforms {
            let base = Version::parse(&p.min_os)
                .ok_or_else(|| format!("{}: min_os {:?}", p.platform, p.min_os))?;
            let mut models = Vec::new();
            for m in p.models {
                let (model, min) = match m {
                    ModelEntry::Name(n) => (n, base),
                    ModelEntry::WithMin { model, min_os } => {
                        let v = Version::parse(&min_os)
                            .ok_or_else(|| format!("{model}: min_os {min_os:?}"))?;
                        (model, v.max(base))
                    }
                };
                models.push(Model {
                    model,
                    min_os: min.to_string(),
                    min,
                });
            }
            platforms.push(PlatformRules {
                platform: p.platform,
                label_ja: p.label_ja,
                min_os: base.to_string(),
                models,
                unlisted_ja: p.unlisted_ja,
            });
        }
        Ok(Self {
            updated: file.updated,
            platforms,
        })
    }

    /// The list shipped with the center.
    pub fn shipped() -> Self {
        Self::parse(DEFAULT_LIST).expect("the shipped compatibility list parses")
    }

    /// Whether `model` on `os_version` of `platform` may hold the credential, and why not.
    pub fn check(&self, platform: &str, model: &str, os_version: &str) -> Verdict {
        let verdict = |unsupported: Option<Unsupported>, ja: String, en: String| Verdict {
            supported: unsupported.is_none(),
            platform: platform.to_owned(),
            model: model.to_owned(),
            os_version: os_version.to_owned(),
            unsupported,
            message_ja: ja,
            message: en,
        };
        let wanted = normalize(platform);
        let Some(rules) = self.platforms.iter().find(|p| {
            normalize(&p.platform) == wanted || (wanted == "ios" && p.platform == "iphone")
        }) else {
            return verdict(
                Some(Unsupported::UnknownPlatform),
                "スマートフォンの種類は iPhone か Android を選んでください。".into(),
                format!("Unknown platform {platform:?}: choose iphone or android."),
            );
        };
        let os_name = if rules.platform == "iphone" {
            "iOS"
        } else {
            "Android"
        };
        let key = normalize(model);
        let Some(m) = rules.models.iter().find(|m| normalize(&m.model) == key) else {
            return verdict(
                Some(Unsupported::ModelNotListed),
                format!(
                    "「{model}」は対応機種ではありません。{} マイナンバーカードで受付できます。",
                    rules.unlisted_ja
                ),
                format!(
                    "{model} is not on the compatibility list for {}.",
                    rules.platform
                ),
            );
        };
        let Some(v) = Version::parse(os_version) else {
            return verdict(
                Some(Unsupported::OsVersionInvalid),
                format!("{os_name} のバージョン「{os_version}」を読み取れません（例: 18.5）。"),
                format!("OS version {os_version:?} is not MAJOR[.MINOR[.PATCH]]."),
            );
        };
        if v < m.min {
            return verdict(
                Some(Unsupported::OsTooOld {
                    min_os: m.min_os.clone(),
                }),
                format!(
                    "{} は対応機種ですが、{os_name} {} 以降が必要です（お使いの端末は {os_name} {os_version}）。設定アプリからソフトウェアを更新してから、もう一度お試しください。",
                    m.model, m.min_os
                ),
                format!("{} needs {os_name} {} or later.", m.model, m.min_os),
            );
        }
        verdict(
            None,
            format!(
                "{}（{os_name} {os_version}）はスマホ用電子証明書に対応しています。マイナポータルアプリから登録できます。",
                m.model
            ),
            format!("{} on {os_name} {os_version} is supported.", m.model),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_by_model_and_os() {
        let c = Compatibility::shipped();
        assert!(c.check("iphone", "iPhone 15", "18.5").supported);
        assert!(c.check("iphone", "ｉＰｈｏｎｅ１５", "18.6.1").supported);
        let old = c.check("iphone", "iPhone 15", "18.4");
        assert_eq!(
            old.unsupported,
            Some(Unsupported::OsTooOld {
                min_os: "18.5".into()
            })
        );
        assert!(old.message_ja.contains("18.5 以降"));
        assert_eq!(
            c.check("iphone", "iPhone X", "18.5").unsupported,
            Some(Unsupported::ModelNotListed)
        );
        assert!(c.check("android", "Pixel 8", "14").supported);
        assert!(!c.check("android", "Pixel 8", "13").supported);
        assert_eq!(
            c.check("android", "Nexus 5", "14").unsupported,
            Some(Unsupported::ModelNotListed)
        );
        assert_eq!(
            c.check("android", "Pixel 8", "fourteen").unsupported,
            Some(Unsupported::OsVersionInvalid)
        );
        assert_eq!(
            c.check("blackberry", "Q10", "10").unsupported,
            Some(Unsupported::UnknownPlatform)
        );
        assert!(Version::parse("18.10").unwrap() > Version::parse("18.9").unwrap());
    }
}
