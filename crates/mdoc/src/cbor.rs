//! Small helpers over `ciborium::Value`: encoding, decoding, map look-ups by text key,
//! the `#6.24` embedded-CBOR tag and the date tags of ISO/IEC 18013-5.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use ciborium::Value;

use crate::MdocError;

/// RFC 8949 §3.4.5.1: tag 24, "encoded CBOR data item" (`#6.24(bstr .cbor X)`).
pub const TAG_ENCODED_CBOR: u64 = 24;
/// RFC 8949 §3.4.1: tag 0, date/time string (ISO 18013-5 `tdate`).
pub const TAG_TDATE: u64 = 0;
/// RFC 8943: tag 1004, full-date string (ISO 18013-5 `full-date`).
pub const TAG_FULL_DATE: u64 = 1004;

/// Encodes a value.
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    ciborium::into_writer(v, &mut out).expect("CBOR into a Vec");
    out
}

/// Decodes exactly one value from `bytes`.
pub fn decode(what: &'static str, bytes: &[u8]) -> Result<Value, MdocError> {
    let mut reader = bytes;
    let v: Value = ciborium::from_reader(&mut reader).map_err(|e| MdocError::malformed(what, e))?;
    if !reader.is_empty() {
        return Err(MdocError::malformed(what, "trailing bytes"));
    }
    Ok(v)
}

/// `#6.24(bstr .cbor v)`.
pub fn tag24(v: &Value) -> Value {
    Value::Tag(TAG_ENCODED_CBOR, Box::new(Value::Bytes(encode(v))))
}

/// The bytes inside a `#6.24(bstr)`.
pub fn untag24<'a>(what: &'static str, v: &'a Value) -> Result<&'a [u8], MdocError> {
    match v {
        Value::Tag(TAG_ENCODED_CBOR, inner) => match inner.as_ref() {
            Value::Bytes(b) => Ok(b),
            _ => Err(MdocError::malformed(what, "tag 24 without a byte string")),
        },
        _ => Err(MdocError::malformed(what, "not tag 24")),
    }
}

/// A text-keyed map entry.
pub fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// The entries of a map.
pub fn map<'a>(what: &'static str, v: &'a Value) -> Result<&'a [(Value, Value)], MdocError> {
    match v {
        Value::Map(m) => Ok(m),
        _ => Err(MdocError::malformed(what, "not a map")),
    }
}

/// The elements of an array.
pub fn array<'a>(what: &'static str, v: &'a Value) -> Result<&'a [Value], MdocError> {
    match v {
        Value::Array(a) => Ok(a),
        _ => Err(MdocError::malformed(what, "not an array")),
    }
}

/// The value under text key `key`, if present.
pub fn get<'a>(m: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    m.iter()
        .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
        .map(|(_, v)| v)
}

/// The value under integer key `key`, if present.
pub fn get_int(m: &[(Value, Value)], key: i64) -> Option<&Value> {
    m.iter()
        .find(|(k, _)| matches!(k, Value::Integer(i) if i128::from(*i) == i128::from(key)))
        .map(|(_, v)| v)
}

/// The value under text key `key`, required.
pub fn req<'a>(
    what: &'static str,
    m: &'a [(Value, Value)],
    key: &'static str,
) -> Result<&'a Value, MdocError> {
    get(m, key).ok_or_else(|| MdocError::malformed(what, format!("no {key:?}")))
}

/// A text string.
pub fn as_text<'a>(what: &'static str, v: &'a Value) -> Result<&'a str, MdocError> {
    match v {
        Value::Text(t) => Ok(t),
        _ => Err(MdocError::malformed(what, "not a text string")),
    }
}

/// A byte string.
pub fn as_bytes<'a>(what: &'static str, v: &'a Value) -> Result<&'a [u8], MdocError> {
    match v {
        Value::Bytes(b) => Ok(b),
        _ => Err(MdocError::malformed(what, "not a byte string")),
    }
}

/// An unsigned integer.
pub fn as_uint(what: &'static str, v: &Value) -> Result<u64, MdocError> {
    match v {
        Value::Integer(i) => {
            u64::try_from(i128::from(*i)).map_err(|_| MdocError::malformed(what, "negative"))
        }
        _ => Err(MdocError::malformed(what, "not an integer")),
    }
}

/// `tdate`: `#6.0("YYYY-MM-DDTHH:MM:SSZ")`, without fractions (ISO 18013-5 §9.1.2.4).
pub fn tdate(t: DateTime<Utc>) -> Value {
    Value::Tag(
        TAG_TDATE,
        Box::new(Value::Text(t.to_rfc3339_opts(SecondsFormat::Secs, true))),
    )
}

/// Reads a `tdate`.
pub fn from_tdate(what: &'static str, v: &Value) -> Result<DateTime<Utc>, MdocError> {
    match v {
        Value::Tag(TAG_TDATE, inner) => {
            let s = as_text(what, inner)?;
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| MdocError::malformed(what, e))
        }
        _ => Err(MdocError::malformed(what, "not a tdate (tag 0)")),
    }
}

/// `full-date`: `#6.1004("YYYY-MM-DD")`.
pub fn full_date(d: NaiveDate) -> Value {
    Value::Tag(
        TAG_FULL_DATE,
        Box::new(Value::Text(d.format("%Y-%m-%d").to_string())),
    )
}

/// Reads a `full-date`.
pub fn from_full_date(what: &'static str, v: &Value) -> Result<NaiveDate, MdocError> {
    match v {
        Value::Tag(TAG_FULL_DATE, inner) => {
            NaiveDate::parse_from_str(as_text(what, inner)?, "%Y-%m-%d")
                .map_err(|e| MdocError::malformed(what, e))
        }
        _ => Err(MdocError::malformed(what, "not a full-date (tag 1004)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn tags_round_trip() {
        let t = Utc.with_ymd_and_hms(2025, 10, 1, 1, 2, 3).unwrap();
        assert_eq!(from_tdate("t", &tdate(t)).unwrap(), t);
        let d = NaiveDate::from_ymd_opt(1980, 6, 15).unwrap();
        assert_eq!(from_full_date("d", &full_date(d)).unwrap(), d);
        let v = Value::Array(vec![text("a"), Value::Integer(7.into())]);
        let wrapped = tag24(&v);
        assert_eq!(decode("v", untag24("v", &wrapped).unwrap()).unwrap(), v);
        assert!(decode("x", &[0x82, 0x01]).is_err());
        assert!(decode("x", &[0x01, 0x01]).is_err());
    }
}
