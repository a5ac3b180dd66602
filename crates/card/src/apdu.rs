//! ISO/IEC 7816-4 command and response APDUs.
//!
//! A [`Command`] is parsed from and encoded to every length form of ISO/IEC 7816-3
//! §12.1.3 / 7816-4 §5.1: case 1 (header only), case 2 (Le), case 3 (Lc + data) and case 4
//! (Lc + data + Le), each short (one-byte Lc/Le) or extended (`00` then two-byte Lc/Le).
//! Malformed input is an [`ApduError`], never a panic.

use std::fmt;

use crate::status::StatusWord;

/// Largest response length a short Le can ask for (`Le = 00`).
pub const SHORT_NE_MAX: usize = 256;
/// Largest response length an extended Le can ask for (`Le = 00 00`).
pub const EXTENDED_NE_MAX: usize = 65_536;
/// Largest command data field in the extended form.
pub const EXTENDED_NC_MAX: usize = 65_535;

/// Instruction bytes used by this crate (ISO/IEC 7816-4 §11 and the JPKI card).
pub mod ins {
    /// SELECT (ISO/IEC 7816-4 §11.1.1).
    pub const SELECT: u8 = 0xA4;
    /// READ BINARY (ISO/IEC 7816-4 §11.2.3).
    pub const READ_BINARY: u8 = 0xB0;
    /// VERIFY (ISO/IEC 7816-4 §11.5.6).
    pub const VERIFY: u8 = 0x20;
    /// CHANGE REFERENCE DATA (ISO/IEC 7816-4 §11.5.7).
    pub const CHANGE_REFERENCE_DATA: u8 = 0x24;
    /// PERFORM SECURITY OPERATION, used by the JPKI AP as `80 2A 00 80` = compute signature.
    pub const PSO: u8 = 0x2A;
}

/// Errors from parsing an APDU off the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApduError {
    /// Fewer bytes than the mandatory part of the APDU.
    #[error("APDU too short: {actual} bytes, at least {expected} needed")]
    TooShort {
        /// Minimum length for this form.
        expected: usize,
        /// Bytes received.
        actual: usize,
    },
    /// The length fields do not agree with the number of bytes received.
    #[error("APDU length fields say {expected} bytes, {actual} received")]
    LengthMismatch {
        /// Length implied by Lc/Le.
        expected: usize,
        /// Bytes received.
        actual: usize,
    },
    /// An extended Lc of zero (not allowed by ISO/IEC 7816-3 §12.1.3).
    #[error("extended Lc of zero")]
    ZeroLc,
    /// A command data field longer than any APDU form can carry.
    #[error("command data of {len} bytes exceeds 65535")]
    DataTooLong {
        /// Data length asked for.
        len: usize,
    },
    /// Ne outside 1..=65536.
    #[error("Ne of {ne} is outside 1..=65536")]
    BadNe {
        /// Ne asked for.
        ne: usize,
    },
}

/// A command APDU.
///
/// Invariant: `data.len() <= 65535` and `ne`, when present, is in `1..=65536`
/// (checked by [`Command::new`] and [`Command::parse`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    data: Vec<u8>,
    ne: Option<usize>,
}

impl Command {
    /// Builds a command; `ne` is the expected response length (Ne), `None` for no Le field.
    pub fn new(
        cla: u8,
        ins: u8,
        p1: u8,
        p2: u8,
        data: impl Into<Vec<u8>>,
        ne: Option<usize>,
    ) -> Result<Self, ApduError> {
        let data = data.into();
        if data.len() > EXTENDED_NC_MAX {
            return Err(ApduError::DataTooLong { len: data.len() });
        }
        if let Some(n) = ne
            && !(1..=EXTENDED_NE_MAX).contains(&n)
        {
            return Err(ApduError::BadNe { ne: n });
        }
        Ok(Self {
            cla,
            ins,
            p1,
            p2,
            data,
            ne,
        })
    }

    /// The command data field (empty for cases 1 and 2).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Ne, the maximum number of response data bytes expected, if Le is present.
    pub fn ne(&self) -> Option<usize> {
        self.ne
    }

    /// Whether the short form can carry this command.
    pub fn fits_short(&self) -> bool {
        self.data.len() <= 255 && self.ne.is_none_or(|n| n <= SHORT_NE_MAX)
    }

    /// Encodes in the short form when possible, else the extended form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + 3 + self.data.len() + 3);
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if self.fits_short() {
            if !self.data.is_empty() {
                out.push(self.data.len() as u8);
                out.extend_from_slice(&self.data);
            }
            if let Some(n) = self.ne {
                out.push(if n == SHORT_NE_MAX { 0 } else { n as u8 });
            }
        } else {
            out.push(0);
            if !self.data.is_empty() {
                out.extend_from_slice(&(self.data.len() as u16).to_be_bytes());
                out.extend_from_slice(&self.data);
            }
            if let Some(n) = self.ne {
                let le = if n == EXTENDED_NE_MAX { 0 } else { n as u16 };
                out.extend_from_slice(&le.to_be_bytes());
            }
        }
        out
    }

    /// Parses any of the seven length forms of ISO/IEC 7816-3 §12.1.3.
    pub fn parse(bytes: &[u8]) -> Result<Self, ApduError> {
        let Some((header, body)) = bytes.split_first_chunk::<4>() else {
            return Err(ApduError::TooShort {
                expected: 4,
                actual: bytes.len(),
            });
        };
        let [cla, ins, p1, p2] = *header;
        let (data, ne): (&[u8], Option<usize>) = match body {
            // Case 1.
            [] => (&[], None),
            // Case 2S.
            [le] => (&[], Some(short_ne(*le))),
            // Extended forms start with a zero byte followed by at least two more.
            [0, rest @ ..] if rest.len() >= 2 => {
                let n = u16::from_be_bytes([rest[0], rest[1]]) as usize;
                let tail = &rest[2..];
                if tail.is_empty() {
                    // Case 2E.
                    (&[], Some(extended_ne(n)))
                } else if n == 0 {
                    return Err(ApduError::ZeroLc);
                } else if tail.len() == n {
                    // Case 3E.
                    (tail, None)
                } else if tail.len() == n + 2 {
                    // Case 4E.
                    let le = u16::from_be_bytes([tail[n], tail[n + 1]]) as usize;
                    (&tail[..n], Some(extended_ne(le)))
                } else {
                    return Err(ApduError::LengthMismatch {
                        expected: 7 + n,
                        actual: bytes.len(),
                    });
                }
            }
            [0, ..] => {
                return Err(ApduError::TooShort {
                    expected: 7,
                    actual: bytes.len(),
                });
            }
            [lc, rest @ ..] => {
                let n = *lc as usize;
                if rest.len() == n {
                    // Case 3S.
                    (rest, None)
                } else if rest.len() == n + 1 {
                    // Case 4S.
                    (&rest[..n], Some(short_ne(rest[n])))
                } else {
                    return Err(ApduError::LengthMismatch {
                        expected: 5 + n,
                        actual: bytes.len(),
                    });
                }
            }
        };
        Ok(Self {
            cla,
            ins,
            p1,
            p2,
            data: data.to_vec(),
            ne,
        })
    }

    /// Whether the data field carries a secret (VERIFY, CHANGE REFERENCE DATA) and must be
    /// masked in logs.
    pub fn carries_secret(&self) -> bool {
        matches!(self.ins, ins::VERIFY | ins::CHANGE_REFERENCE_DATA)
    }
}

fn short_ne(le: u8) -> usize {
    if le == 0 { SHORT_NE_MAX } else { le as usize }
}

fn extended_ne(le: usize) -> usize {
    if le == 0 { EXTENDED_NE_MAX } else { le }
}

/// Shows the header and data in hex; VERIFY and CHANGE REFERENCE DATA bodies are masked.
impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Command({:02X} {:02X} {:02X} {:02X}",
            self.cla, self.ins, self.p1, self.p2
        )?;
        if !self.data.is_empty() {
            if self.carries_secret() {
                write!(f, " data=<{} secret bytes>", self.data.len())?;
            } else {
                write!(f, " data={}", hex(&self.data))?;
            }
        }
        if let Some(n) = self.ne {
            write!(f, " ne={n}")?;
        }
        f.write_str(")")
    }
}

/// A response APDU: data followed by the two status bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// Response data field.
    pub data: Vec<u8>,
    /// Trailer SW1-SW2.
    pub sw: StatusWord,
}

impl Response {
    /// A response with data and a status word.
    pub fn new(data: Vec<u8>, sw: StatusWord) -> Self {
        Self { data, sw }
    }

    /// A response without data.
    pub fn status(sw: StatusWord) -> Self {
        Self {
            data: Vec::new(),
            sw,
        }
    }

    /// Data with `9000`.
    pub fn ok(data: Vec<u8>) -> Self {
        Self::new(data, StatusWord::OK)
    }

    /// Splits off the trailing status word.
    pub fn parse(bytes: &[u8]) -> Result<Self, ApduError> {
        let Some((data, sw)) = bytes.split_last_chunk::<2>() else {
            return Err(ApduError::TooShort {
                expected: 2,
                actual: bytes.len(),
            });
        };
        Ok(Self {
            data: data.to_vec(),
            sw: StatusWord(u16::from_be_bytes(*sw)),
        })
    }

    /// Data followed by SW1 SW2.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.sw.0.to_be_bytes());
        out
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Response({} bytes, {:?})", self.data.len(), self.sw)
    }
}

/// Upper-case hex without separators.
pub fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02X}");
    }
    s
}

/// Parses hex, ignoring ASCII whitespace; `None` on any other non-hex character or an odd
/// number of digits.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|p| {
            let s = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(bytes: &[u8]) -> Command {
        let c = Command::parse(bytes).unwrap();
        assert_eq!(c.to_bytes(), bytes, "{c:?}");
        c
    }

    #[test]
    fn all_seven_forms_roundtrip() {
        let c = roundtrip(&[0x00, 0x20, 0x00, 0x80]);
        assert_eq!((c.data(), c.ne()), (&[][..], None));
        let c = roundtrip(&[0x00, 0xB0, 0x00, 0x00, 0x04]);
        assert_eq!(c.ne(), Some(4));
        let c = roundtrip(&[0x00, 0xB0, 0x00, 0x00, 0x00]);
        assert_eq!(c.ne(), Some(256));
        let c = roundtrip(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A]);
        assert_eq!((c.data(), c.ne()), (&[0x00, 0x0A][..], None));
        let c = roundtrip(&[0x80, 0x2A, 0x00, 0x80, 0x02, 0xAA, 0xBB, 0x00]);
        assert_eq!((c.data(), c.ne()), (&[0xAA, 0xBB][..], Some(256)));
        let c = roundtrip(&[0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x01]);
        assert_eq!(c.ne(), Some(257));
        let c = roundtrip(&[0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00]);
        assert_eq!(c.ne(), Some(65_536));
        let data = vec![7u8; 300];
        let mut ext3 = vec![0x00, 0x2A, 0x00, 0x80, 0x00, 0x01, 0x2C];
        ext3.extend_from_slice(&data);
        let c = roundtrip(&ext3);
        assert_eq!((c.data().len(), c.ne()), (300, None));
        let mut ext4 = ext3.clone();
        ext4.extend_from_slice(&[0x02, 0x00]);
        let c = roundtrip(&ext4);
        assert_eq!(c.ne(), Some(512));
    }

    #[test]
    fn builder_picks_extended_when_needed() {
        let c = Command::new(0, 0xB0, 0, 0, vec![], Some(1000)).unwrap();
        assert_eq!(c.to_bytes(), [0, 0xB0, 0, 0, 0, 0x03, 0xE8]);
        let c = Command::new(0, 0x2A, 0, 0, vec![1; 256], Some(256)).unwrap();
        assert_eq!(&c.to_bytes()[4..7], &[0, 1, 0]);
        assert_eq!(&c.to_bytes()[263..], &[1, 0]);
        assert!(Command::new(0, 0, 0, 0, vec![], Some(0)).is_err());
        assert!(Command::new(0, 0, 0, 0, vec![0; 65_536], None).is_err());
    }

    #[test]
    fn malformed_inputs_are_errors() {
        assert!(matches!(
            Command::parse(&[0, 1, 2]),
            Err(ApduError::TooShort { .. })
        ));
        assert!(matches!(
            Command::parse(&[0, 0xA4, 4, 0x0C, 5, 1, 2]),
            Err(ApduError::LengthMismatch { .. })
        ));
        assert!(matches!(
            Command::parse(&[0, 0xA4, 4, 0x0C, 0, 1]),
            Err(ApduError::TooShort { .. })
        ));
        assert!(matches!(
            Command::parse(&[0, 0xA4, 4, 0x0C, 0, 0, 0, 1]),
            Err(ApduError::ZeroLc)
        ));
        assert!(Response::parse(&[0x90]).is_err());
    }

    #[test]
    fn verify_body_is_masked_in_debug() {
        let c = Command::parse(&[0, 0x20, 0, 0x80, 4, b'1', b'2', b'3', b'4']).unwrap();
        let shown = format!("{c:?}");
        assert!(shown.contains("4 secret bytes"), "{shown}");
        assert!(!shown.contains("31323334"), "{shown}");
    }

    #[test]
    fn response_roundtrip() {
        let r = Response::parse(&[1, 2, 0x63, 0xC2]).unwrap();
        assert_eq!(r.data, [1, 2]);
        assert_eq!(r.sw.tries_left(), Some(2));
        assert_eq!(r.to_bytes(), [1, 2, 0x63, 0xC2]);
    }

    #[test]
    fn hex_roundtrip() {
        assert_eq!(hex(&[0x3B, 0xE0]), "3BE0");
        assert_eq!(unhex("3b e0\n00"), Some(vec![0x3B, 0xE0, 0]));
        assert_eq!(unhex("3"), None);
        assert_eq!(unhex("zz"), None);
    }
}
