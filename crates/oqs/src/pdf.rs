//! A small PDF 1.4 writer for the medication and check-up information (FileCategory 2):
//! A4 pages of text in Japanese.
//!
//! The text uses the standard Japanese font `HeiseiKakuGo-W5` of Adobe-Japan1, not
//! embedded (every Japanese PDF reader has it or substitutes its own gothic), with the
//! `UniJIS-UCS2-H` encoding: each character is written as its UCS-2 code. A `ToUnicode`
//! map (the identity over the BMP) lets text extraction and search return the exact
//! characters. Characters outside the BMP, which UCS-2 cannot carry, are written as 〓
//! (U+3013, the geta mark Japanese print uses for a missing glyph).

use std::fmt::Write as _;

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 42.0;
const SIZE: f32 = 9.0;
const TITLE_SIZE: f32 = 14.0;
const LEADING: f32 = 13.0;
/// Width of a line in em of the body size.
const LINE_EM: f32 = (PAGE_W - 2.0 * MARGIN) / SIZE;

/// A document: a title, then paragraphs (wrapped to the page width).
#[derive(Debug, Clone, Default)]
pub struct PdfText {
    pub title: String,
    pub paragraphs: Vec<String>,
}

/// Width of a character in em: ASCII and half-width katakana are half, the rest full.
fn em(c: char) -> f32 {
    if (' '..='~').contains(&c) || ('\u{FF61}'..='\u{FF9F}').contains(&c) {
        0.5
    } else {
        1.0
    }
}

fn wrap(text: &str, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut w = 0.0;
    for c in text.chars() {
        if w + em(c) > width && !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
            w = 0.0;
        }
        cur.push(c);
        w += em(c);
    }
    lines.push(cur);
    lines
}

/// The UCS-2 hex string of `s` for `Tj`.
fn ucs2_hex(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 4 + 2);
    out.push('<');
    for c in s.chars() {
        let c = if (c as u32) > 0xFFFF || c.is_control() {
            '\u{3013}'
        } else {
            c
        };
        let _ = write!(out, "{:04X}", c as u32);
    }
    out.push('>');
    out
}

fn to_unicode_cmap() -> String {
    let mut s = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    // bfrange entries may not cross a change of the first byte: one per high byte,
    // leaving out the surrogates.
    let highs: Vec<u32> = (0..=0xFFu32)
        .filter(|h| !(0xD8..=0xDF).contains(h))
        .collect();
    for chunk in highs.chunks(100) {
        let _ = writeln!(s, "{} beginbfrange", chunk.len());
        for h in chunk {
            let _ = writeln!(s, "<{h:02X}00> <{h:02X}FF> <{h:02X}00>");
        }
        s.push_str("endbfrange\n");
    }
    s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    s
}

/// The lines of each page.
fn paginate(doc: &PdfText) -> Vec<Vec<String>> {
    let per_page = ((PAGE_H - 2.0 * MARGIN - 2.0 * LEADING) / LEADING).floor() as usize;
    let mut lines = Vec::new();
    for p in &doc.paragraphs {
        lines.extend(wrap(p, LINE_EM));
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
        .chunks(per_page.max(1))
        .map(<[String]>::to_vec)
        .collect()
}

fn page_stream(doc: &PdfText, lines: &[String], page: usize, pages: usize) -> String {
    let mut s = String::from("BT\n");
    let mut y = PAGE_H - MARGIN - TITLE_SIZE;
    let _ = writeln!(
        s,
        "/F1 {TITLE_SIZE} Tf {MARGIN} {y} Td {} Tj",
        ucs2_hex(&doc.title)
    );
    let _ = writeln!(s, "/F1 {SIZE} Tf {LEADING} TL 0 -{} Td", 2.0 * LEADING);
    y -= 2.0 * LEADING;
    for l in lines {
        let _ = writeln!(s, "{} Tj T*", ucs2_hex(l));
        y -= LEADING;
    }
    let _ = y;
    s.push_str("ET\n");
    let _ = writeln!(
        s,
        "BT /F1 8 Tf {} 24 Td {} Tj ET",
        PAGE_W / 2.0 - 12.0,
        ucs2_hex(&format!("{}/{}", page + 1, pages))
    );
    s
}

/// The PDF bytes of `doc`.
pub fn write(doc: &PdfText) -> Vec<u8> {
    let pages = paginate(doc);
    // Objects: 1 catalog, 2 pages, 3 font, 4 CID font, 5 descriptor, 6 ToUnicode, 7 info,
    // then a page and its content per page.
    let first_page = 8;
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", first_page + 2 * i))
        .collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /HeiseiKakuGo-W5-UniJIS-UCS2-H \
          /Encoding /UniJIS-UCS2-H /DescendantFonts [4 0 R] /ToUnicode 6 0 R >>"
            .to_vec(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /HeiseiKakuGo-W5 \
          /CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 2 >> \
          /FontDescriptor 5 0 R /DW 1000 /W [1 95 500 327 389 500] >>"
            .to_vec(),
    );
    objects.push(
        b"<< /Type /FontDescriptor /FontName /HeiseiKakuGo-W5 /Flags 4 \
          /FontBBox [-92 -250 1010 922] /ItalicAngle 0 /Ascent 752 /Descent -221 \
          /CapHeight 737 /StemV 114 >>"
            .to_vec(),
    );
    let cmap = to_unicode_cmap();
    objects.push(format!("<< /Length {} >>\nstream\n{cmap}endstream", cmap.len()).into_bytes());
    objects.push(format!("<< /Producer (onshi) /Title {} >>", ucs2_title(&doc.title)).into_bytes());
    for (i, lines) in pages.iter().enumerate() {
        let content = page_stream(doc, lines, i, pages.len());
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] \
                 /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                first_page + 2 * i + 1
            )
            .into_bytes(),
        );
        objects.push(
            format!(
                "<< /Length {} >>\nstream\n{content}endstream",
                content.len()
            )
            .into_bytes(),
        );
    }
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let mut x = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for o in offsets {
        let _ = writeln!(x, "{o:010} 00000 n ");
    }
    let _ = write!(
        x,
        "trailer\n<< /Size {} /Root 1 0 R /Info 7 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(x.as_bytes());
    out
}

/// A text string in UTF-16BE with its byte-order mark, for the document information.
fn ucs2_title(s: &str) -> String {
    let mut out = String::from("<FEFF");
    for u in s.encode_utf16() {
        let _ = write!(out, "{u:04X}");
    }
    out.push('>');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure_and_text() {
        let doc = PdfText {
            title: "薬剤情報".into(),
            paragraphs: (0..200)
                .map(|i| format!("2025-05-{:02} ロキソプロフェンNa錠60mg 𠮷 {i}", i % 28 + 1))
                .collect(),
        };
        let pdf = write(&doc);
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.starts_with("%PDF-1.4"));
        assert!(text.ends_with("%%EOF\n"));
        assert!(text.contains("/Count 4"), "200 lines take four pages of 56");
        // 薬 is U+85AC; 𠮷 is outside UCS-2 and becomes 〓.
        assert!(text.contains("<85AC"));
        assert!(text.contains("3013"));
        let startxref: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(pdf[startxref..].starts_with(b"xref\n"));
        if let Some(out) = std::env::var_os("ONSHI_PDF_SAMPLE") {
            std::fs::write(out, &pdf).unwrap();
        }
    }
}
