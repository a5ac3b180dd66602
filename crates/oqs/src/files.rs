//! The messages by file-name prefix, and the names of the files the terminal writes.

use chrono::NaiveDateTime;

use crate::error::OqsError;

/// A request message, named by the prefix of its file (`<prefix>req_*.xml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageKind {
    /// `OQSsiquc01`: 資格確認（個別照会）, one patient by insurance-card data.
    SingleCheck,
    /// `OQSmuquc01`: 一括照会 request, several patients; answered with a 受付番号.
    BulkSubmit,
    /// `OQSmuquc02`: 一括照会 result, fetched by the 受付番号.
    BulkFetch,
    /// `OQSsiimm01`: 照会番号登録, the clinic's patient id for a qualification.
    RegisterReference,
    /// `YZKsiquc01`: 薬剤情報, within the consent given at a reception.
    Medication,
    /// `TKKsiquc01`: 特定健診等情報, within the consent given at a reception.
    Checkups,
    /// `OQSmuhvq01`: 訪問診療の一括照会, the patients who consented at home, by consent date.
    HomeVisitSearch,
    /// `OQSmuhvq02`: its result, fetched by the 受付番号.
    HomeVisitFetch,
    /// `OQSmuonq01`: オンライン診療の一括照会, by consent or examination date.
    OnlineSearch,
    /// `OQSmuonq02`: its result, fetched by the 受付番号.
    OnlineFetch,
}

impl MessageKind {
    pub const ALL: &'static [MessageKind] = &[
        Self::SingleCheck,
        Self::BulkSubmit,
        Self::BulkFetch,
        Self::RegisterReference,
        Self::Medication,
        Self::Checkups,
        Self::HomeVisitSearch,
        Self::HomeVisitFetch,
        Self::OnlineSearch,
        Self::OnlineFetch,
    ];

    /// The file-name prefix.
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::SingleCheck => "OQSsiquc01",
            Self::BulkSubmit => "OQSmuquc01",
            Self::BulkFetch => "OQSmuquc02",
            Self::RegisterReference => "OQSsiimm01",
            Self::Medication => "YZKsiquc01",
            Self::Checkups => "TKKsiquc01",
            Self::HomeVisitSearch => "OQSmuhvq01",
            Self::HomeVisitFetch => "OQSmuhvq02",
            Self::OnlineSearch => "OQSmuonq01",
            Self::OnlineFetch => "OQSmuonq02",
        }
    }

    /// The kind of a request file from its name (`OQSsiquc01req_0001.xml`).
    pub fn from_request_file_name(name: &str) -> Result<Self, OqsError> {
        split_request_name(name).map(|(k, _)| k)
    }
}

/// The file's own part of a request file name: what follows `<prefix>req_`.
fn split_request_name(name: &str) -> Result<(MessageKind, &str), OqsError> {
    let bad = || OqsError::FileName(name.to_owned());
    let stem = name
        .strip_suffix(".xml")
        .or_else(|| name.strip_suffix(".XML"))
        .ok_or_else(bad)?;
    for kind in MessageKind::ALL {
        if let Some(rest) = stem.strip_prefix(kind.prefix())
            && let Some(id) = rest.strip_prefix("req_")
        {
            if id.is_empty() || !id.chars().all(file_char) {
                return Err(bad());
            }
            return Ok((*kind, id));
        }
    }
    Err(bad())
}

fn file_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// The `res/` file that answers a `req/` file: `OQSsiquc01req_X.xml` →
/// `OQSsiquc01res_X.xml`.
pub fn response_file_name(request_file_name: &str) -> Result<String, OqsError> {
    let (kind, id) = split_request_name(request_file_name)?;
    Ok(format!("{}res_{id}.xml", kind.prefix()))
}

/// The `face/` file of a reader result: `OQSsiquc01res_face_<id>_<yyyyMMddHHmmss>.xml`,
/// where `id` tells the file apart from others of the same second (the reader's or the
/// reception's identifier: ASCII letters, digits, `-` and `_`).
pub fn face_file_name(id: &str, at: NaiveDateTime) -> Result<String, OqsError> {
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| file_char(c) && c != '.') {
        return Err(OqsError::FileName(id.to_owned()));
    }
    Ok(format!(
        "{}res_face_{id}_{}.xml",
        MessageKind::SingleCheck.prefix(),
        at.format("%Y%m%d%H%M%S")
    ))
}

/// The messages public clients send that onshi does not implement, with what they are:
/// the 医療扶助 bulk search needs welfare medical tickets (医療券), which onshi does not
/// hold.
const UNSUPPORTED: &[(&str, &str)] = &[("OQSmutic", "医療扶助の一括照会")];

/// What an unsupported message prefix (`OQSmutic01`) is, when onshi knows it.
pub(crate) fn unsupported_label(prefix: &str) -> Option<&'static str> {
    UNSUPPORTED
        .iter()
        .find(|(p, _)| prefix.starts_with(p))
        .map(|(_, label)| *label)
}

/// A request file of a message shaped like the interface's (`<XXXxxxxx99>req_<id>.xml`,
/// three capitals, five lower-case letters, two digits) that is not one onshi implements:
/// its prefix and the name of the `res/` file that tells the EMR so. `None` for a known
/// message or a name of another shape.
pub fn unsupported_request(name: &str) -> Option<(String, String)> {
    if MessageKind::from_request_file_name(name).is_ok() {
        return None;
    }
    let stem = name
        .strip_suffix(".xml")
        .or_else(|| name.strip_suffix(".XML"))?;
    let (prefix, id) = stem.split_once("req_")?;
    let b = prefix.as_bytes();
    let shaped = b.len() == 10
        && b[..3].iter().all(u8::is_ascii_uppercase)
        && b[3..8].iter().all(u8::is_ascii_lowercase)
        && b[8..].iter().all(u8::is_ascii_digit);
    (shaped && !id.is_empty() && id.chars().all(file_char))
        .then(|| (prefix.to_owned(), format!("{prefix}res_{id}.xml")))
}
