//! The one error type of this crate, with the OQS-style `ErrorCode` and the Japanese
//! `ErrorMessage` that an error response carries back to the EMR.

use onshi_model::ModelError;
use thiserror::Error;

/// An `ErrorCode` of a response header (`SegmentOfResult` 9).
///
/// onshi's own codes, shaped like the codes of the real terminal (a letter and four
/// digits): `E1xxx` the file could not be read as XML, `E2xxx` the XML is not the message
/// it should be, `E3xxx` the response could not be written. The full table is in
/// `docs/emr-interface.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(&'static str);

impl ErrorCode {
    /// The bytes are not valid in the declared encoding.
    pub const ENCODING: ErrorCode = ErrorCode("E1001");
    /// The declared encoding is neither UTF-8 nor Shift_JIS.
    pub const UNSUPPORTED_ENCODING: ErrorCode = ErrorCode("E1002");
    /// Not well-formed XML.
    pub const MALFORMED: ErrorCode = ErrorCode("E1003");
    /// The file ends before the root element is closed (a file still being written).
    pub const TRUNCATED: ErrorCode = ErrorCode("E1004");
    /// A DOCTYPE or an entity reference other than the five predefined ones.
    pub const FORBIDDEN_MARKUP: ErrorCode = ErrorCode("E1005");
    /// The file is larger than any request can be.
    pub const TOO_LARGE: ErrorCode = ErrorCode("E1006");
    /// The root or a container element is not the one the message needs.
    pub const WRONG_MESSAGE: ErrorCode = ErrorCode("E2001");
    /// A required element is absent or empty.
    pub const MISSING_ELEMENT: ErrorCode = ErrorCode("E2002");
    /// An element that may appear once appears several times.
    pub const DUPLICATE_ELEMENT: ErrorCode = ErrorCode("E2003");
    /// An element's value is not valid (format, check digit, code, length).
    pub const INVALID_VALUE: ErrorCode = ErrorCode("E2004");
    /// A file name that is not one of the interface's.
    pub const FILE_NAME: ErrorCode = ErrorCode("E2005");
    /// A message of the interface that this terminal does not implement.
    pub const UNSUPPORTED_MESSAGE: ErrorCode = ErrorCode("E2006");
    /// A value cannot be written in the response encoding.
    pub const UNENCODABLE: ErrorCode = ErrorCode("E3001");

    /// Every code, in order.
    pub const ALL: &'static [ErrorCode] = &[
        Self::ENCODING,
        Self::UNSUPPORTED_ENCODING,
        Self::MALFORMED,
        Self::TRUNCATED,
        Self::FORBIDDEN_MARKUP,
        Self::TOO_LARGE,
        Self::WRONG_MESSAGE,
        Self::MISSING_ELEMENT,
        Self::DUPLICATE_ELEMENT,
        Self::INVALID_VALUE,
        Self::FILE_NAME,
        Self::UNSUPPORTED_MESSAGE,
        Self::UNENCODABLE,
    ];

    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Why a request could not be read or a response not be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum OqsError {
    #[error("bytes at offset {offset} are not valid {encoding}")]
    Encoding {
        encoding: &'static str,
        offset: usize,
    },
    #[error("unsupported encoding {0:?}")]
    UnsupportedEncoding(String),
    #[error("malformed XML: {0}")]
    Malformed(String),
    #[error("the file ends before the document does")]
    Truncated,
    #[error("forbidden markup: {0}")]
    ForbiddenMarkup(String),
    #[error("file of {actual} bytes is larger than {limit}")]
    TooLarge { actual: usize, limit: usize },
    #[error("expected element {expected}, found {found}")]
    WrongMessage {
        expected: &'static str,
        found: String,
    },
    #[error("missing element {0}")]
    MissingElement(&'static str),
    #[error("element {0} appears more than once")]
    DuplicateElement(&'static str),
    #[error("element {element}: {detail}")]
    InvalidValue {
        element: &'static str,
        detail: String,
    },
    #[error("file name {0:?} is not one of the interface")]
    FileName(String),
    /// A request of a message this terminal does not implement, by its prefix.
    #[error("message {0} is not supported")]
    UnsupportedMessage(String),
    #[error("{element} cannot be written in {encoding}")]
    Unencodable {
        element: &'static str,
        encoding: &'static str,
    },
}

impl OqsError {
    /// A model constructor refused an element's value.
    pub(crate) fn invalid(element: &'static str, e: ModelError) -> Self {
        Self::InvalidValue {
            element,
            detail: e.to_string(),
        }
    }

    /// The `ErrorCode` of the response that answers this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Encoding { .. } => ErrorCode::ENCODING,
            Self::UnsupportedEncoding(_) => ErrorCode::UNSUPPORTED_ENCODING,
            Self::Malformed(_) => ErrorCode::MALFORMED,
            Self::Truncated => ErrorCode::TRUNCATED,
            Self::ForbiddenMarkup(_) => ErrorCode::FORBIDDEN_MARKUP,
            Self::TooLarge { .. } => ErrorCode::TOO_LARGE,
            Self::WrongMessage { .. } => ErrorCode::WRONG_MESSAGE,
            Self::MissingElement(_) => ErrorCode::MISSING_ELEMENT,
            Self::DuplicateElement(_) => ErrorCode::DUPLICATE_ELEMENT,
            Self::InvalidValue { .. } => ErrorCode::INVALID_VALUE,
            Self::FileName(_) => ErrorCode::FILE_NAME,
            Self::UnsupportedMessage(_) => ErrorCode::UNSUPPORTED_MESSAGE,
            Self::Unencodable { .. } => ErrorCode::UNENCODABLE,
        }
    }

    /// The `ErrorMessage` of the response: Japanese, for the clinic's staff.
    pub fn message_ja(&self) -> String {
        match self {
            Self::Encoding { encoding, offset } => format!(
                "要求ファイルの文字コードが不正です（{encoding} として読めないバイトが {offset} バイト目にあります）。"
            ),
            Self::UnsupportedEncoding(e) => format!(
                "要求ファイルの文字コード「{e}」には対応していません（UTF-8 または Shift_JIS）。"
            ),
            Self::Malformed(d) => format!("要求ファイルが XML として正しくありません（{d}）。"),
            Self::Truncated => "要求ファイルが途中で終わっています。".to_owned(),
            Self::ForbiddenMarkup(d) => {
                format!("要求ファイルに使用できない記述（DOCTYPE・実体参照）があります（{d}）。")
            }
            Self::TooLarge { actual, limit } => {
                format!("要求ファイルが大きすぎます（{actual} バイト、上限 {limit} バイト）。")
            }
            Self::WrongMessage { expected, found } => format!(
                "要求ファイルの電文が正しくありません（{expected} が必要ですが {found} があります）。"
            ),
            Self::MissingElement(e) => format!("必須項目「{e}」が設定されていません。"),
            Self::DuplicateElement(e) => format!("項目「{e}」が重複しています。"),
            Self::InvalidValue { element, detail } => {
                format!("項目「{element}」の値が正しくありません（{detail}）。")
            }
            Self::FileName(n) => format!("ファイル名「{n}」が正しくありません。"),
            Self::UnsupportedMessage(prefix) => format!(
                "この端末は電文「{prefix}」{}に対応していません。対応する電文は {} です。",
                crate::files::unsupported_label(prefix)
                    .map(|l| format!("（{l}）"))
                    .unwrap_or_default(),
                crate::files::MessageKind::ALL
                    .iter()
                    .map(|k| k.prefix())
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            Self::Unencodable { element, encoding } => {
                format!("項目「{element}」を {encoding} で出力できません。")
            }
        }
    }
}
