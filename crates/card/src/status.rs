//! Status words (SW1-SW2) of ISO/IEC 7816-4 §5.6, as the My Number Card uses them.

use std::fmt;

/// A status word. Unknown values are kept as they are and print in hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct StatusWord(pub u16);

impl StatusWord {
    /// `9000`: normal processing (ISO/IEC 7816-4 §5.6).
    pub const OK: Self = Self(0x9000);
    /// `6282`: end of file reached before reading Ne bytes (ISO/IEC 7816-4 table 6).
    pub const END_OF_FILE: Self = Self(0x6282);
    /// `63C0`: verification failed, no try left: the reference data is now blocked
    /// (ISO/IEC 7816-4 table 7; the JPKI card's `63C0`).
    pub const WRONG_PIN_BLOCKED: Self = Self(0x63C0);
    /// `6700`: wrong length (ISO/IEC 7816-4 table 8).
    pub const WRONG_LENGTH: Self = Self(0x6700);
    /// `6981`: command incompatible with file structure (ISO/IEC 7816-4 table 11).
    pub const INCOMPATIBLE_FILE: Self = Self(0x6981);
    /// `6982`: security status not satisfied (ISO/IEC 7816-4 table 11; JPKI: VERIFY first).
    pub const SECURITY_NOT_SATISFIED: Self = Self(0x6982);
    /// `6984`: reference data not usable, i.e. the PIN is blocked (JPKI card).
    pub const BLOCKED: Self = Self(0x6984);
    /// `6985`: conditions of use not satisfied (ISO/IEC 7816-4 table 11).
    pub const CONDITIONS_NOT_SATISFIED: Self = Self(0x6985);
    /// `6986`: command not allowed, no current EF (ISO/IEC 7816-4 table 11).
    pub const NO_CURRENT_EF: Self = Self(0x6986);
    /// `6A80`: incorrect parameters in the data field (ISO/IEC 7816-4 table 12).
    pub const WRONG_DATA: Self = Self(0x6A80);
    /// `6A81`: function not supported (ISO/IEC 7816-4 table 12).
    pub const FUNCTION_NOT_SUPPORTED: Self = Self(0x6A81);
    /// `6A82`: file or application not found (ISO/IEC 7816-4 table 12; JPKI card).
    pub const FILE_NOT_FOUND: Self = Self(0x6A82);
    /// `6A86`: incorrect parameters P1-P2 (ISO/IEC 7816-4 table 12).
    pub const WRONG_P1P2: Self = Self(0x6A86);
    /// `6B00`: wrong parameters P1-P2, e.g. an offset outside the EF (ISO/IEC 7816-4 table 8).
    pub const OFFSET_OUTSIDE_EF: Self = Self(0x6B00);
    /// `6D00`: instruction code not supported (ISO/IEC 7816-4 table 8).
    pub const INS_NOT_SUPPORTED: Self = Self(0x6D00);
    /// `6E00`: class not supported (ISO/IEC 7816-4 table 8).
    pub const CLA_NOT_SUPPORTED: Self = Self(0x6E00);
    /// `6F00`: no precise diagnosis (ISO/IEC 7816-4 table 8).
    pub const NO_PRECISE_DIAGNOSIS: Self = Self(0x6F00);

    /// `63Cx` for a wrong PIN with `tries_left` tries remaining (0..=15).
    pub fn wrong_pin(tries_left: u8) -> Self {
        Self(0x63C0 | u16::from(tries_left.min(15)))
    }

    /// SW1.
    pub fn sw1(self) -> u8 {
        (self.0 >> 8) as u8
    }

    /// SW2.
    pub fn sw2(self) -> u8 {
        self.0 as u8
    }

    /// Whether this is `9000`.
    pub fn is_ok(self) -> bool {
        self == Self::OK
    }

    /// For `63Cx`, the `x` (tries left); `None` for anything else.
    pub fn tries_left(self) -> Option<u8> {
        (self.0 & 0xFFF0 == 0x63C0).then_some((self.0 & 0x0F) as u8)
    }

    /// A short English description of the known values.
    pub fn description(self) -> Option<&'static str> {
        Some(match self {
            Self::OK => "ok",
            Self::END_OF_FILE => "end of file",
            Self::WRONG_LENGTH => "wrong length",
            Self::INCOMPATIBLE_FILE => "command incompatible with file",
            Self::SECURITY_NOT_SATISFIED => "security status not satisfied",
            Self::BLOCKED => "reference data blocked",
            Self::CONDITIONS_NOT_SATISFIED => "conditions of use not satisfied",
            Self::NO_CURRENT_EF => "no current EF",
            Self::WRONG_DATA => "wrong data",
            Self::FUNCTION_NOT_SUPPORTED => "function not supported",
            Self::FILE_NOT_FOUND => "file not found",
            Self::WRONG_P1P2 => "incorrect P1-P2",
            Self::OFFSET_OUTSIDE_EF => "offset outside EF",
            Self::INS_NOT_SUPPORTED => "INS not supported",
            Self::CLA_NOT_SUPPORTED => "CLA not supported",
            Self::NO_PRECISE_DIAGNOSIS => "no precise diagnosis",
            sw if sw.tries_left().is_some() => "wrong PIN",
            _ => return None,
        })
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.description() {
            Some(d) => write!(f, "StatusWord({:04X} {d})", self.0),
            None => write!(f, "StatusWord({:04X})", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_unknown_values_and_prints_hex() {
        let sw = StatusWord(0x6A8C);
        assert_eq!(sw.to_string(), "6A8C");
        assert_eq!(format!("{sw:?}"), "StatusWord(6A8C)");
        assert_eq!(
            format!("{:?}", StatusWord::FILE_NOT_FOUND),
            "StatusWord(6A82 file not found)"
        );
    }

    #[test]
    fn retry_counter_nibble() {
        assert_eq!(StatusWord::wrong_pin(2), StatusWord(0x63C2));
        assert_eq!(StatusWord(0x63C2).tries_left(), Some(2));
        assert_eq!(StatusWord::WRONG_PIN_BLOCKED.tries_left(), Some(0));
        assert_eq!(StatusWord::BLOCKED.tries_left(), None);
        assert_eq!(StatusWord(0x6300).tries_left(), None);
        assert_eq!((StatusWord::OK.sw1(), StatusWord::OK.sw2()), (0x90, 0x00));
    }
}
