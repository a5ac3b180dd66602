//! The two encodings of the interface and the name substitution for Shift_JIS.
//!
//! "Shift_JIS" here is what `encoding_rs` implements under that label: the WHATWG
//! Shift_JIS, which is Microsoft's Windows-31J (CP932) — JIS X 0201 and JIS X 0208 plus
//! the NEC special characters (row 13: ①, Ⅲ, ㈱ …), the NEC-selected and IBM extensions
//! (髙, 﨑, 德 …) and the user-defined area. That is what a Japanese Windows EMR writes
//! and reads, so requests decode with it and responses encode with it.
//!
//! Because the extensions are not in every Shift_JIS reader (receipt printers, older
//! レセコン), the `Name` element of a Shift_JIS response is kept within JIS X 0208: a
//! character outside it is replaced by its JIS X 0208 form from [`SUBSTITUTES`], and a
//! name part with a character the table does not know is replaced by its katakana
//! reading. The exact name then goes into `NameOfOther`, where the extensions are written
//! as bytes and characters outside CP932 as XML character references (`&#x20BB7;`) that
//! every XML parser restores. No character is ever written as "●" or "?".

use encoding_rs::SHIFT_JIS;
use onshi_model::CharacterCodeIdentifier;

use crate::error::OqsError;

/// Old-form and variant characters outside JIS X 0208 and the JIS X 0208 form printed
/// in their place (the forms the 住民基本台帳 and insurers commonly degrade to).
pub const SUBSTITUTES: &[(char, char)] = &[
    ('\u{9AD9}', '高'),  // 髙 はしごだか
    ('\u{FA11}', '崎'),  // 﨑 たつさき
    ('\u{20BB7}', '吉'), // 𠮷 つちよし
    ('\u{2123D}', '土'), // 𡈽 点付きの土
    ('\u{5FB7}', '徳'),  // 德
    ('\u{6FF5}', '濱'),  // 濵
    ('\u{69D7}', '橋'),  // 槗
    ('\u{6801}', '柳'),  // 栁
    ('\u{663B}', '昂'),  // 昻
    ('\u{F9DC}', '隆'),  // CJK compatibility 隆
    ('\u{FA10}', '塚'),  // CJK compatibility 塚
    ('\u{FA12}', '晴'),  // CJK compatibility 晴
    ('\u{FA19}', '神'),  // CJK compatibility 神
    ('\u{FA1B}', '福'),  // CJK compatibility 福
];

/// The encoding a request declared, as `CharacterCodeIdentifier` codes it.
pub type Charset = CharacterCodeIdentifier;

/// The label written in the XML declaration of a response.
pub fn label(cs: Charset) -> &'static str {
    match cs {
        CharacterCodeIdentifier::Utf8 => "UTF-8",
        CharacterCodeIdentifier::ShiftJis => "Shift_JIS",
    }
}

/// Reads the encoding a file declares: a UTF-8 byte-order mark, else the `encoding`
/// pseudo-attribute of the XML declaration, else UTF-8 (the XML default).
pub fn declared(bytes: &[u8]) -> Result<Charset, OqsError> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    if bytes.starts_with(b"\xFE\xFF") || bytes.starts_with(b"\xFF\xFE") {
        return Err(OqsError::UnsupportedEncoding("UTF-16".into()));
    }
    let has_bom = bytes.starts_with(BOM);
    let rest = if has_bom { &bytes[BOM.len()..] } else { bytes };
    let Some(decl) = rest.strip_prefix(b"<?xml") else {
        return Ok(CharacterCodeIdentifier::Utf8);
    };
    let end = decl
        .windows(2)
        .position(|w| w == b"?>")
        .ok_or(OqsError::Truncated)?;
    let decl = &decl[..end];
    let Some(at) = decl.windows(8).position(|w| w == b"encoding") else {
        return Ok(CharacterCodeIdentifier::Utf8);
    };
    let after = decl[at + 8..].trim_ascii_start();
    let value = after
        .strip_prefix(b"=")
        .map(<[u8]>::trim_ascii_start)
        .and_then(|v| {
            let q = *v.first()?;
            if q != b'"' && q != b'\'' {
                return None;
            }
            let close = v[1..].iter().position(|&b| b == q)?;
            Some(&v[1..1 + close])
        })
        .ok_or_else(|| OqsError::Malformed("XML 宣言の encoding が読めません".into()))?;
    let name = String::from_utf8_lossy(value).to_ascii_lowercase();
    let cs = match name.as_str() {
        "utf-8" | "utf8" => CharacterCodeIdentifier::Utf8,
        "shift_jis" | "shift-jis" | "sjis" | "x-sjis" | "windows-31j" | "cp932" | "ms932"
        | "ms_kanji" | "csshiftjis" | "windows-932" => CharacterCodeIdentifier::ShiftJis,
        _ => return Err(OqsError::UnsupportedEncoding(name)),
    };
    if has_bom && cs != CharacterCodeIdentifier::Utf8 {
        return Err(OqsError::Encoding {
            encoding: "Shift_JIS",
            offset: 0,
        });
    }
    Ok(cs)
}

/// Decodes a whole file in the encoding it declares; any byte sequence that is not valid
/// in that encoding is an error, never replaced.
pub fn decode(bytes: &[u8]) -> Result<(Charset, String), OqsError> {
    let cs = declared(bytes)?;
    let text = match cs {
        CharacterCodeIdentifier::Utf8 => {
            let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            std::str::from_utf8(body)
                .map_err(|e| OqsError::Encoding {
                    encoding: "UTF-8",
                    offset: e.valid_up_to() + (bytes.len() - body.len()),
                })?
                .to_owned()
        }
        CharacterCodeIdentifier::ShiftJis => {
            let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
            let cap = decoder
                .max_utf8_buffer_length_without_replacement(bytes.len())
                .ok_or(OqsError::TooLarge {
                    actual: bytes.len(),
                    limit: crate::MAX_FILE_BYTES,
                })?;
            let mut out = String::with_capacity(cap);
            let (result, read) =
                decoder.decode_to_string_without_replacement(bytes, &mut out, true);
            match result {
                encoding_rs::DecoderResult::InputEmpty => out,
                _ => {
                    return Err(OqsError::Encoding {
                        encoding: "Shift_JIS",
                        offset: read.saturating_sub(1),
                    });
                }
            }
        }
    };
    Ok((cs, text))
}

/// The Windows-31J bytes of one character, or `None` when it has none that decodes back
/// to the same character. The encoder maps a few characters one way only (U+00A5 ¥ to
/// 0x5C, which reads back as `\`; U+203E ‾ to 0x7E): those count as unencodable, so the
/// writer sends them as character references.
pub fn sjis_bytes(c: char) -> Option<Vec<u8>> {
    let mut buf = [0u8; 4];
    let s = c.encode_utf8(&mut buf);
    let (bytes, _, unmappable) = SHIFT_JIS.encode(s);
    if unmappable {
        return None;
    }
    let (back, malformed) = SHIFT_JIS.decode_without_bom_handling(&bytes);
    (!malformed && back == *s).then(|| bytes.into_owned())
}

/// True when `c` is in JIS X 0201 or JIS X 0208 (not in the CP932 extensions).
pub fn is_jis_x0208(c: char) -> bool {
    match sjis_bytes(c).as_deref() {
        Some([_]) => true,
        Some([lead, _]) => matches!(lead, 0x81..=0x84 | 0x88..=0x9F | 0xE0..=0xEA),
        _ => false,
    }
}

/// `Name` for a Shift_JIS response: each part (split at the full-width space) within
/// JIS X 0208 by [`SUBSTITUTES`], or else that part's reading from `kana` (half-width,
/// parts split at a half-width space) in full-width katakana. Returns `None` when the
/// name needs no change.
pub fn substitute_name(name: &str, kana: &str) -> Option<String> {
    if name.chars().all(is_jis_x0208) {
        return None;
    }
    let parts: Vec<&str> = name.split('\u{3000}').collect();
    let readings: Vec<&str> = kana.split(' ').collect();
    let mut out = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let mapped: Option<String> = part
            .chars()
            .map(|c| {
                if is_jis_x0208(c) {
                    Some(c)
                } else {
                    SUBSTITUTES.iter().find(|(old, _)| *old == c).map(|p| p.1)
                }
            })
            .collect();
        let reading = if parts.len() == readings.len() {
            readings[i].to_owned()
        } else if i == 0 {
            kana.to_owned()
        } else {
            String::new()
        };
        let part_out = match mapped {
            Some(m) => m,
            None => to_fullwidth_katakana(&reading),
        };
        out.push(part_out);
    }
    let joined = out
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\u{3000}");
    Some(joined)
}

/// Half-width (JIS X 0201) katakana → full-width, joining ﾞ and ﾟ with the preceding
/// kana; a half-width space becomes a full-width space. Other characters are kept.
pub fn to_fullwidth_katakana(s: &str) -> String {
    // U+FF66 ｦ … U+FF9D ﾝ, in order.
    const FULL: &str = "ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン";
    let full: Vec<char> = FULL.chars().collect();
    let mut out: Vec<char> = Vec::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\u{FF66}'..='\u{FF9D}' => out.push(full[(c as u32 - 0xFF66) as usize]),
            'ﾞ' => match out.last().copied() {
                Some('ウ') => *out.last_mut().expect("non-empty") = 'ヴ',
                Some(p) if "カキクケコサシスセソタチツテトハヒフヘホ".contains(p) => {
                    *out.last_mut().expect("non-empty") = char::from_u32(p as u32 + 1).unwrap_or(p)
                }
                _ => out.push('゛'),
            },
            'ﾟ' => match out.last().copied() {
                Some(p) if "ハヒフヘホ".contains(p) => {
                    *out.last_mut().expect("non-empty") = char::from_u32(p as u32 + 2).unwrap_or(p)
                }
                _ => out.push('゜'),
            },
            '･' => out.push('・'),
            ' ' => out.push('\u{3000}'),
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

/// Encodes a finished document. Every character was made encodable when the document
/// was written (the writer turns the others into character references), so an
/// unmappable one here is an error.
pub fn encode(text: &str, cs: Charset) -> Result<Vec<u8>, OqsError> {
    match cs {
        CharacterCodeIdentifier::Utf8 => Ok(text.as_bytes().to_vec()),
        CharacterCodeIdentifier::ShiftJis => {
            let (bytes, _, unmappable) = SHIFT_JIS.encode(text);
            if unmappable {
                return Err(OqsError::Unencodable {
                    element: "XmlMsg",
                    encoding: "Shift_JIS",
                });
            }
            Ok(bytes.into_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_shift_jis_this_is() {
        // NEC special characters and IBM extensions: present in Windows-31J only.
        assert_eq!(sjis_bytes('①').as_deref(), Some(&[0x87, 0x40][..]));
        // 髙 is written with its IBM-extension code; the NEC-selected duplicate reads the same.
        assert_eq!(sjis_bytes('\u{9AD9}').as_deref(), Some(&[0xFB, 0xFC][..]));
        assert_eq!(SHIFT_JIS.decode(&[0xEE, 0xE0]).0, "\u{9AD9}");
        assert_eq!(sjis_bytes('高').as_deref(), Some(&[0x8D, 0x82][..]));
        assert!(sjis_bytes('﨑').is_some());
        assert!(sjis_bytes('𠮷').is_none());
        // One-way mappings of the encoder are not used.
        assert!(sjis_bytes('¥').is_none() && sjis_bytes('‾').is_none());
        assert_eq!(sjis_bytes('\\').as_deref(), Some(&[0x5C][..]));
        assert!(is_jis_x0208('邊') && is_jis_x0208('高') && is_jis_x0208('ｱ'));
        assert!(!is_jis_x0208('髙') && !is_jis_x0208('①') && !is_jis_x0208('𠮷'));
    }

    #[test]
    fn substitution_table_targets_are_jis_x0208() {
        for (old, new) in SUBSTITUTES {
            assert!(!is_jis_x0208(*old), "{old} needs no substitute");
            assert!(is_jis_x0208(*new), "{new} is not JIS X 0208");
        }
    }

    #[test]
    fn names_are_substituted_part_by_part() {
        assert_eq!(
            substitute_name("髙橋\u{3000}𠮷男", "ﾀｶﾊｼ ﾖｼｵ").as_deref(),
            Some("高橋\u{3000}吉男")
        );
        assert_eq!(substitute_name("渡邊\u{3000}花子", "ﾜﾀﾅﾍﾞ ﾊﾅｺ"), None);
        // 𩸽 (ほっけ) is in no table: that part becomes its reading.
        assert_eq!(
            substitute_name("山﨑\u{3000}𩸽太", "ﾔﾏｻﾞｷ ﾎｯｹﾀ").as_deref(),
            Some("山崎\u{3000}ホッケタ")
        );
        assert_eq!(
            to_fullwidth_katakana("ｶﾞｯｺｳ ﾊﾟﾝﾀﾞ ｳﾞｨｰﾅｽ"),
            "ガッコウ　パンダ　ヴィーナス"
        );
    }
}
