//! Fuzzes the APDU, TLV and card-data parsers: no input may panic, and whatever parses
//! must re-encode to something that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onshi_card::apdu::{Command, Response};
use onshi_card::{Attributes, CardFace, tlv};

fuzz_target!(|data: &[u8]| {
    if let Ok(cmd) = Command::parse(data) {
        let again = Command::parse(&cmd.to_bytes()).expect("re-encoded command parses");
        assert_eq!(again, cmd);
        let _ = format!("{cmd:?}");
    }
    if let Ok(r) = Response::parse(data) {
        assert_eq!(r.to_bytes(), data);
    }
    let _ = tlv::parse_all(data);
    let _ = tlv::total_len(data);
    let _ = Attributes::parse_ef(data);
    let _ = CardFace::parse_ef(data);
    let _ = onshi_card::data::parse_my_number(data);
});
