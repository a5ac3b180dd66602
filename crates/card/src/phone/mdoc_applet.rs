//! The iPhone's mdoc applet: presents the card substitute record (ISO/IEC 18013-5) to a
//! reader over APDUs.

use crate::apdu::{Command, Response};
use crate::status::StatusWord;

use super::file::PhoneMdocFiles;

/// ISO/IEC 18013-5 §8.3.3.1.2: the AID of mdoc NFC data retrieval.
pub const AID_MDOC: [u8; 7] = [0xA0, 0x00, 0x00, 0x02, 0x48, 0x04, 0x00];

/// ISO/IEC 7816-4 command chaining: CLA bit 5 set on every ENVELOPE but the last.
pub const CLA_CHAINING: u8 = 0x10;

/// The volatile state of one reader session.
#[derive(Debug, Default)]
pub struct MdocSession {}

impl MdocSession {
    /// Answers one command of the session.
    pub fn process(
        &mut self,
        _cmd: &Command,
        _files: &PhoneMdocFiles,
        _unlocked: bool,
    ) -> Response {
        Response::status(StatusWord::INS_NOT_SUPPORTED)
    }
}
