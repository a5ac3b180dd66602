//! The small BER-TLV subset the card's data files use (ISO/IEC 7816-4 §5.2, ISO/IEC 8825-1).
//!
//! Tags are one byte, or two when the first byte's low five bits are all set (`DF 21`,
//! `FF 20`); lengths are short (`< 80`) or long (`81 xx`, `82 xx xx`, `83 xx xx xx`).

/// Errors from parsing TLV data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlvError {
    /// The data ended inside a tag, length or value.
    #[error("TLV truncated at offset {offset}")]
    Truncated {
        /// Where parsing stopped.
        offset: usize,
    },
    /// A length form this subset does not use.
    #[error("unsupported TLV length byte {byte:#04x} at offset {offset}")]
    BadLength {
        /// The first length byte.
        byte: u8,
        /// Where it was.
        offset: usize,
    },
    /// A tag longer than two bytes.
    #[error("unsupported multi-byte tag at offset {offset}")]
    BadTag {
        /// Where it was.
        offset: usize,
    },
    /// A required element is missing.
    #[error("missing element {tag:04X}")]
    Missing {
        /// Its tag.
        tag: u16,
    },
}

/// Appends `tag`, the BER length of `value`, and `value`.
pub fn put(out: &mut Vec<u8>, tag: u16, value: &[u8]) {
    if tag > 0xFF {
        out.extend_from_slice(&tag.to_be_bytes());
    } else {
        out.push(tag as u8);
    }
    put_len(out, value.len());
    out.extend_from_slice(value);
}

/// `put` into a fresh vector.
pub fn encode(tag: u16, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    put(&mut out, tag, value);
    out
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    match len {
        0..=0x7F => out.push(len as u8),
        0x80..=0xFF => out.extend_from_slice(&[0x81, len as u8]),
        0x100..=0xFFFF => {
            out.push(0x82);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(0x83);
            out.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
        }
    }
}

/// One element: its tag, its value, and the byte range of the whole element in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element<'a> {
    /// Tag (one or two bytes).
    pub tag: u16,
    /// Value bytes.
    pub value: &'a [u8],
    /// The encoded element (tag, length and value).
    pub raw: &'a [u8],
}

/// Parses one element at the start of `data`; returns it and the rest.
pub fn parse_one(data: &[u8], base: usize) -> Result<(Element<'_>, &[u8]), TlvError> {
    let trunc = |i: usize| TlvError::Truncated { offset: base + i };
    let first = *data.first().ok_or(trunc(0))?;
    let (tag, mut i) = if first & 0x1F == 0x1F {
        let second = *data.get(1).ok_or(trunc(1))?;
        if second & 0x80 != 0 {
            return Err(TlvError::BadTag { offset: base });
        }
        (u16::from_be_bytes([first, second]), 2)
    } else {
        (u16::from(first), 1)
    };
    let l0 = *data.get(i).ok_or(trunc(i))?;
    i += 1;
    let len = match l0 {
        0..=0x7F => l0 as usize,
        0x81..=0x83 => {
            let n = (l0 - 0x80) as usize;
            let bytes = data.get(i..i + n).ok_or(trunc(i))?;
            i += n;
            bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize)
        }
        _ => {
            return Err(TlvError::BadLength {
                byte: l0,
                offset: base + i - 1,
            });
        }
    };
    let end = i.checked_add(len).ok_or(trunc(i))?;
    let value = data.get(i..end).ok_or(trunc(i))?;
    Ok((
        Element {
            tag,
            value,
            raw: &data[..end],
        },
        &data[end..],
    ))
}

/// Parses a sequence of elements filling `data` exactly.
pub fn parse_all(data: &[u8]) -> Result<Vec<Element<'_>>, TlvError> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let base = data.len() - rest.len();
        let (e, r) = parse_one(rest, base)?;
        out.push(e);
        rest = r;
    }
    Ok(out)
}

/// The value of the first element with `tag`.
pub fn find<'a>(elements: &[Element<'a>], tag: u16) -> Result<&'a [u8], TlvError> {
    elements
        .iter()
        .find(|e| e.tag == tag)
        .map(|e| e.value)
        .ok_or(TlvError::Missing { tag })
}

/// The total encoded length of the element starting `header` (which must hold at least its
/// tag and length bytes), or `None` if more header bytes are needed.
pub fn total_len(header: &[u8]) -> Option<usize> {
    let first = *header.first()?;
    let mut i = if first & 0x1F == 0x1F { 2 } else { 1 };
    let l0 = *header.get(i)?;
    i += 1;
    let len = match l0 {
        0..=0x7F => l0 as usize,
        0x81..=0x84 => {
            let n = (l0 - 0x80) as usize;
            let bytes = header.get(i..i + n)?;
            i += n;
            bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize)
        }
        _ => return None,
    };
    Some(i + len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_lengths_and_tags() {
        for len in [0usize, 1, 0x7F, 0x80, 0xFF, 0x100, 3000, 70_000] {
            let v = vec![0xAB; len];
            let enc = encode(0xDF22, &v);
            let (e, rest) = parse_one(&enc, 0).unwrap();
            assert_eq!((e.tag, e.value.len(), rest.len()), (0xDF22, len, 0));
            assert_eq!(total_len(&enc[..8.min(enc.len())]), Some(enc.len()));
        }
        let enc = encode(0x30, &[1, 2]);
        assert_eq!(parse_one(&enc, 0).unwrap().0.tag, 0x30);
    }

    #[test]
    fn truncated_is_an_error() {
        let enc = encode(0xDF22, &[1, 2, 3]);
        for cut in 0..enc.len() {
            assert!(parse_all(&enc[..cut]).is_err() || cut == 0);
        }
        assert!(parse_one(&[0xDF, 0x81, 0x80, 0x00], 0).is_err());
        assert!(parse_one(&[0x30, 0x85, 0, 0, 0, 0, 1], 0).is_err());
    }
}
