//! The card on the reader, as the kiosk sees it: one [`CardChannel`] type for every
//! source (a card file placed from the simulation panel, or a card in a PC/SC reader),
//! and the list of virtual cards the simulation panel offers.

use std::path::{Path, PathBuf};

use onshi_card::apdu::{Command, Response};
use onshi_card::phone::{FileBackedPhone, PhoneFile};
use onshi_card::{CardChannel, CardFile, FileBackedCard};

/// A transport failure of the card on the reader.
#[derive(Debug, thiserror::Error)]
#[error("card I/O: {0}")]
pub struct CardIoError(String);

/// The card the reader talks to.
pub enum ReaderCard {
    /// A virtual card file, placed from the simulation panel (the hardware we lack).
    File(Box<FileBackedCard>),
    /// A virtual smartphone file held to the general-purpose reader (simulation panel).
    Phone(Box<FileBackedPhone>),
    /// A card in a PC/SC reader (real, or vpcd).
    #[cfg(feature = "pcsc")]
    Pcsc(onshi_card::PcscChannel),
}

impl std::fmt::Debug for ReaderCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(_) => f.write_str("ReaderCard::File"),
            Self::Phone(_) => f.write_str("ReaderCard::Phone"),
            #[cfg(feature = "pcsc")]
            Self::Pcsc(_) => f.write_str("ReaderCard::Pcsc"),
        }
    }
}

impl CardChannel for ReaderCard {
    type Error = CardIoError;

    fn transmit(&mut self, command: &Command) -> Result<Response, CardIoError> {
        match self {
            Self::File(c) => c.transmit(command).map_err(|e| CardIoError(e.to_string())),
            Self::Phone(p) => p.transmit(command).map_err(|e| CardIoError(e.to_string())),
            #[cfg(feature = "pcsc")]
            Self::Pcsc(c) => c.transmit(command).map_err(|e| CardIoError(e.to_string())),
        }
    }

    fn reset(&mut self) -> Result<Vec<u8>, CardIoError> {
        match self {
            Self::File(c) => CardChannel::reset(c.as_mut()).map_err(|e| CardIoError(e.to_string())),
            Self::Phone(p) => {
                CardChannel::reset(p.as_mut()).map_err(|e| CardIoError(e.to_string()))
            }
            #[cfg(feature = "pcsc")]
            Self::Pcsc(c) => CardChannel::reset(c).map_err(|e| CardIoError(e.to_string())),
        }
    }
}

/// A virtual card the simulation panel can place on the reader.
#[derive(Debug, Clone)]
pub struct SimCard {
    /// The file name, which is also how the panel names it.
    pub name: String,
    /// The holder's name as printed on the card.
    pub holder: String,
    pub path: PathBuf,
}

/// The card files (`*.card`, `*.onshi-card`) in `dir`, sorted by name. Files that are
/// not card files are skipped.
pub fn list_cards(dir: &Path) -> Vec<SimCard> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<SimCard> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e == "card" || e == "onshi-card")
        })
        .filter_map(|path| {
            let file = CardFile::load(&path).ok()?;
            Some(SimCard {
                name: path.file_name()?.to_str()?.to_owned(),
                holder: file.printed.name.clone(),
                path,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// A virtual smartphone the simulation panel can hold to the general-purpose reader.
#[derive(Debug, Clone)]
pub struct SimPhone {
    /// The file name, which is also how the panel names it.
    pub name: String,
    /// iPhone or Android.
    pub platform: &'static str,
    /// The handset's model.
    pub model: String,
    pub path: PathBuf,
}

/// The phone files (`*.phone`) in `dir`, sorted by name. Files that are not phone files
/// are skipped.
pub fn list_phones(dir: &Path) -> Vec<SimPhone> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<SimPhone> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("phone"))
        .filter_map(|path| {
            let file = PhoneFile::load(&path).ok()?;
            Some(SimPhone {
                name: path.file_name()?.to_str()?.to_owned(),
                platform: match file.platform() {
                    onshi_card::phone::Platform::Iphone => "iPhone",
                    onshi_card::phone::Platform::Android => "Android",
                },
                model: file.handset.model().to_owned(),
                path,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// What the kiosk knows about the placed card besides its APDUs.
#[derive(Debug, Clone, Default)]
pub struct PlacedCard {
    /// How the desk and the panel name it.
    pub label: String,
    /// 照合番号B as the reader's camera reads it from the printed face; `None` when the
    /// reader cannot read the printed face (then face recognition is not offered).
    pub matching_code_b: Option<String>,
}

impl PlacedCard {
    /// A card file: its printed face is known, so 照合番号B is too.
    pub fn of_file(name: &str, file: &CardFile) -> Self {
        Self {
            label: name.to_owned(),
            matching_code_b: Some(file.printed.matching_number_b()),
        }
    }
}

/// notAfter of a DER certificate (the card's user-authentication certificate).
pub fn certificate_not_after(der: &[u8]) -> Option<chrono::DateTime<chrono::Utc>> {
    use der::Decode;
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    let secs = cert
        .tbs_certificate()
        .validity()
        .not_after
        .to_unix_duration()
        .as_secs();
    chrono::DateTime::from_timestamp(i64::try_from(secs).ok()?, 0)
}
