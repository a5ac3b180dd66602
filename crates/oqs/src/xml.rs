//! A small element tree read with `quick-xml` from already-decoded text, and a writer
//! that escapes for the response encoding. No DOCTYPE, no entities beyond the five
//! predefined ones: nothing in a request can make the parser fetch or expand anything.

use onshi_model::CharacterCodeIdentifier;
use quick_xml::errors::{Error as QxError, SyntaxError};
use quick_xml::events::Event;

use crate::charset::{self, Charset};
use crate::error::OqsError;

/// Deepest nesting a message may have (the responses nest five levels).
const MAX_DEPTH: usize = 32;

/// One element: its local name, its text (concatenated, unescaped) and its children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The only child named `name`; an error when it appears twice.
    pub fn child(&self, name: &'static str) -> Result<Option<&Element>, OqsError> {
        let mut it = self.children.iter().filter(|c| c.name == name);
        let first = it.next();
        if it.next().is_some() {
            return Err(OqsError::DuplicateElement(name));
        }
        Ok(first)
    }

    /// A required container child.
    pub fn require(&self, name: &'static str) -> Result<&Element, OqsError> {
        self.child(name)?.ok_or(OqsError::MissingElement(name))
    }

    /// Every child named `name`.
    pub fn all<'a>(&'a self, name: &'static str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of an optional leaf, surrounding XML white space (tab, CR, LF) removed;
    /// an empty element counts as absent.
    pub fn opt_text(&self, name: &'static str) -> Result<Option<&str>, OqsError> {
        Ok(self
            .child(name)?
            .map(|c| c.text.trim_matches(['\t', '\r', '\n']))
            .filter(|t| !t.trim_matches(' ').is_empty()))
    }

    /// The text of a required leaf.
    pub fn text_of(&self, name: &'static str) -> Result<&str, OqsError> {
        self.opt_text(name)?.ok_or(OqsError::MissingElement(name))
    }
}

fn syntax(e: QxError) -> OqsError {
    match e {
        QxError::Syntax(SyntaxError::InvalidBangMarkup) => {
            OqsError::Malformed("不正な <! 記述".into())
        }
        // Every other syntax error is an unclosed construct at the end of the input.
        QxError::Syntax(_) => OqsError::Truncated,
        other => OqsError::Malformed(other.to_string()),
    }
}

fn reference(name: &str) -> Result<char, OqsError> {
    Ok(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ if name.starts_with('#') => {
            let (digits, radix) = match name[1..].strip_prefix('x') {
                Some(hex) => (hex, 16),
                None => (&name[1..], 10),
            };
            u32::from_str_radix(digits, radix)
                .ok()
                .and_then(char::from_u32)
                .filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
                .ok_or_else(|| OqsError::Malformed(format!("文字参照 &{name}; が不正です")))?
        }
        _ => {
            return Err(OqsError::ForbiddenMarkup(format!(
                "実体参照 &{name}; は使用できません"
            )));
        }
    })
}

/// Parses a decoded document into its root element.
pub fn parse(text: &str) -> Result<Element, OqsError> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader.read_event().map_err(syntax)?;
        match event {
            Event::DocType(_) => return Err(OqsError::ForbiddenMarkup("DOCTYPE".into())),
            Event::Start(s) => open(&mut stack, &root, s.local_name().as_ref())?,
            Event::Empty(s) => {
                open(&mut stack, &root, s.local_name().as_ref())?;
                close(&mut stack, &mut root)?;
            }
            Event::End(_) => close(&mut stack, &mut root)?,
            Event::Text(t) => {
                let content = t.xml10_content();
                push_text(&mut stack, &content)?;
            }
            Event::CData(c) => {
                push_text(&mut stack, &c.into_inner())?;
            }
            Event::GeneralRef(r) => {
                let name = r.into_inner();
                let c = reference(&name)?;
                push_text(&mut stack, c.encode_utf8(&mut [0; 4]))?;
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(OqsError::Truncated);
    }
    root.ok_or(OqsError::Truncated)
}

fn open(stack: &mut Vec<Element>, root: &Option<Element>, name: &str) -> Result<(), OqsError> {
    if root.is_some() {
        return Err(OqsError::Malformed("ルート要素の後に要素があります".into()));
    }
    if stack.len() >= MAX_DEPTH {
        return Err(OqsError::Malformed("要素の入れ子が深すぎます".into()));
    }
    stack.push(Element {
        name: name.to_owned(),
        ..Element::default()
    });
    Ok(())
}

fn close(stack: &mut Vec<Element>, root: &mut Option<Element>) -> Result<(), OqsError> {
    let done = stack
        .pop()
        .ok_or_else(|| OqsError::Malformed("対応しない終了タグ".into()))?;
    match stack.last_mut() {
        Some(parent) => parent.children.push(done),
        None => *root = Some(done),
    }
    Ok(())
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), OqsError> {
    match stack.last_mut() {
        Some(e) => {
            e.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(OqsError::Malformed("ルート要素の外に文字があります".into())),
    }
}

/// Writes a document element by element, escaping every value for the target encoding.
pub struct Writer {
    out: String,
    charset: Charset,
    depth: usize,
    error: Option<OqsError>,
}

impl Writer {
    /// Starts a document with its XML declaration.
    pub fn new(charset: Charset) -> Self {
        let out = format!(
            "<?xml version=\"1.0\" encoding=\"{}\" standalone=\"yes\"?>\n",
            charset::label(charset)
        );
        Self {
            out,
            charset,
            depth: 0,
            error: None,
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    pub fn open(&mut self, name: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    pub fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// `<name>value</name>`. In Shift_JIS a character without a Windows-31J code is
    /// written as a character reference, so it survives exactly.
    pub fn leaf(&mut self, name: &'static str, value: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        for c in value.chars() {
            match c {
                '&' => self.out.push_str("&amp;"),
                '<' => self.out.push_str("&lt;"),
                '>' => self.out.push_str("&gt;"),
                '\t' | '\n' | '\r' => self.out.push_str(&format!("&#x{:X};", c as u32)),
                c if c.is_control() => {
                    self.error.get_or_insert(OqsError::Unencodable {
                        element: name,
                        encoding: charset::label(self.charset),
                    });
                }
                c if self.charset == CharacterCodeIdentifier::ShiftJis
                    && charset::sjis_bytes(c).is_none() =>
                {
                    self.out.push_str(&format!("&#x{:X};", c as u32));
                }
                c => self.out.push(c),
            }
        }
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    pub fn leaf_opt(&mut self, name: &'static str, value: Option<&str>) {
        if let Some(v) = value {
            self.leaf(name, v);
        }
    }

    /// The encoded document.
    pub fn finish(self) -> Result<Vec<u8>, OqsError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        charset::encode(&self.out, self.charset)
    }
}
