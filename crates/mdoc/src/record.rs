//! What the card substitute record holds: document type, namespace, the six data
//! elements and their CBOR values.
//!
//! *onshi design*: the document type and element identifiers of the real record are not
//! published; these follow ISO/IEC 18013-5's naming style in onshi's own namespace.

use chrono::NaiveDate;
use ciborium::Value;

use crate::MdocError;
use crate::cbor;

/// The document type (and the one namespace) of the card substitute record.
pub const DOC_TYPE: &str = "org.onshi.jp.mynumbercard.1";
/// The namespace of its data elements.
pub const NAMESPACE: &str = DOC_TYPE;

/// The data elements of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Element {
    /// 氏名, `tstr`.
    Name,
    /// 住所, `tstr`.
    Address,
    /// 生年月日, `full-date`.
    BirthDate,
    /// 性別, ISO 5218 code as `uint` (1 male, 2 female, 9 not applicable, 0 not known).
    Sex,
    /// 個人番号, 12 digits as `tstr`.
    MyNumber,
    /// 顔写真, `bstr` (the image bytes as on the card face).
    Portrait,
}

impl Element {
    /// All elements, in issuance order.
    pub const ALL: [Element; 6] = [
        Element::Name,
        Element::Address,
        Element::BirthDate,
        Element::Sex,
        Element::MyNumber,
        Element::Portrait,
    ];

    /// The element identifier.
    pub fn id(self) -> &'static str {
        match self {
            Element::Name => "name",
            Element::Address => "address",
            Element::BirthDate => "birth_date",
            Element::Sex => "sex",
            Element::MyNumber => "my_number",
            Element::Portrait => "portrait",
        }
    }

    /// The element with identifier `id`.
    pub fn from_id(id: &str) -> Option<Element> {
        Element::ALL.into_iter().find(|e| e.id() == id)
    }
}

/// The holder's data for the record. `Debug` masks the My Number.
#[derive(Clone, PartialEq, Eq)]
pub struct CardRecord {
    /// 氏名.
    pub name: String,
    /// 住所.
    pub address: String,
    /// 生年月日.
    pub birth_date: NaiveDate,
    /// 性別 (ISO 5218: 0, 1, 2 or 9).
    pub sex: u8,
    /// 個人番号 (12 digits).
    pub my_number: String,
    /// 顔写真.
    pub portrait: Vec<u8>,
}

impl std::fmt::Debug for CardRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardRecord")
            .field("name", &self.name)
            .field("birth_date", &self.birth_date)
            .field("sex", &self.sex)
            .field("portrait_len", &self.portrait.len())
            .finish_non_exhaustive()
    }
}

impl CardRecord {
    /// Checks the values' rules.
    pub fn check(&self) -> Result<(), MdocError> {
        let invalid = |field, reason: &str| MdocError::Invalid {
            field,
            reason: reason.into(),
        };
        if self.name.trim().is_empty() {
            return Err(invalid("name", "empty"));
        }
        if self.address.trim().is_empty() {
            return Err(invalid("address", "empty"));
        }
        if !matches!(self.sex, 0 | 1 | 2 | 9) {
            return Err(invalid("sex", "not an ISO 5218 code"));
        }
        if self.my_number.len() != 12 || !self.my_number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("my number", "not 12 digits"));
        }
        if self.portrait.is_empty() {
            return Err(invalid("portrait", "empty"));
        }
        Ok(())
    }

    /// The CBOR value of one element.
    pub(crate) fn value(&self, e: Element) -> Value {
        match e {
            Element::Name => Value::Text(self.name.clone()),
            Element::Address => Value::Text(self.address.clone()),
            Element::BirthDate => cbor::full_date(self.birth_date),
            Element::Sex => Value::Integer(self.sex.into()),
            Element::MyNumber => Value::Text(self.my_number.clone()),
            Element::Portrait => Value::Bytes(self.portrait.clone()),
        }
    }
}
