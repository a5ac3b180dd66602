//! Transports: one trait, [`CardChannel`], with an in-process channel to a
//! [`VirtualCard`], recording and replaying channels for APDU transcripts, and (elsewhere)
//! the vpcd server and the PC/SC client.

use std::convert::Infallible;
use std::fmt;
use std::path::PathBuf;

use crate::apdu::{Command, Response, hex, unhex};
use crate::cardfile::{CardFile, CardFileError};
use crate::virtual_card::VirtualCard;

/// Something that carries command APDUs to a card and brings back its responses.
pub trait CardChannel {
    /// Transport failure (not a card status: those are in [`Response::sw`]).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Sends one command and returns the card's response.
    fn transmit(&mut self, command: &Command) -> Result<Response, Self::Error>;

    /// Resets the card (clearing its security state) and returns the ATR.
    fn reset(&mut self) -> Result<Vec<u8>, Self::Error>;
}

impl<C: CardChannel + ?Sized> CardChannel for &mut C {
    type Error = C::Error;
    fn transmit(&mut self, command: &Command) -> Result<Response, Self::Error> {
        (**self).transmit(command)
    }
    fn reset(&mut self) -> Result<Vec<u8>, Self::Error> {
        (**self).reset()
    }
}

/// The virtual card in the same process: no transport at all.
impl CardChannel for VirtualCard {
    type Error = Infallible;

    fn transmit(&mut self, command: &Command) -> Result<Response, Infallible> {
        Ok(self.process(command))
    }

    fn reset(&mut self) -> Result<Vec<u8>, Infallible> {
        VirtualCard::reset(self);
        Ok(self.atr().to_vec())
    }
}

/// A virtual card backed by its file: counter and PIN changes are saved after each command.
#[derive(Debug)]
pub struct FileBackedCard {
    card: VirtualCard,
    path: PathBuf,
}

impl FileBackedCard {
    /// Loads the card at `path`.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, CardFileError> {
        let path = path.into();
        let file = CardFile::load(&path)?;
        Ok(Self {
            card: VirtualCard::new(file),
            path,
        })
    }

    /// The card.
    pub fn card(&self) -> &VirtualCard {
        &self.card
    }

    /// Answers raw bytes (for vpcd), saving changes.
    pub fn process_bytes(&mut self, raw: &[u8]) -> Result<Vec<u8>, CardFileError> {
        let out = self.card.process_bytes(raw);
        self.save_if_changed()?;
        Ok(out)
    }

    fn save_if_changed(&mut self) -> Result<(), CardFileError> {
        if self.card.take_changed() {
            self.card.file().save(&self.path)?;
        }
        Ok(())
    }

    /// Power cycle.
    pub fn reset(&mut self) {
        self.card.reset();
    }
}

impl CardChannel for FileBackedCard {
    type Error = CardFileError;

    fn transmit(&mut self, command: &Command) -> Result<Response, CardFileError> {
        let r = self.card.process(command);
        self.save_if_changed()?;
        Ok(r)
    }

    fn reset(&mut self) -> Result<Vec<u8>, CardFileError> {
        self.card.reset();
        Ok(self.card.atr().to_vec())
    }
}

/// One exchange of a transcript.
#[derive(Clone, PartialEq, Eq)]
pub enum Exchange {
    /// A command and the response it got.
    Apdu {
        /// Command bytes.
        command: Vec<u8>,
        /// Response bytes (data + SW).
        response: Vec<u8>,
    },
    /// A reset and the ATR it got.
    Reset {
        /// ATR bytes.
        atr: Vec<u8>,
    },
}

impl fmt::Debug for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exchange::Apdu { command, response } => {
                write!(f, "> {}\n< {}", hex(command), hex(response))
            }
            Exchange::Reset { atr } => write!(f, "reset {}", hex(atr)),
        }
    }
}

/// A recorded sequence of exchanges.
///
/// Text form, one line each: `> COMMAND-HEX`, `< RESPONSE-HEX`, `reset ATR-HEX`; `#`
/// starts a comment line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript(pub Vec<Exchange>);

/// A transcript text that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transcript line {line}: {reason}")]
pub struct TranscriptParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: &'static str,
}

impl Transcript {
    /// The text form.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for e in &self.0 {
            s.push_str(&format!("{e:?}\n"));
        }
        s
    }

    /// Parses the text form.
    pub fn parse(text: &str) -> Result<Self, TranscriptParseError> {
        let mut out = Vec::new();
        let mut pending: Option<Vec<u8>> = None;
        for (i, line) in text.lines().enumerate() {
            let err = |reason| TranscriptParseError {
                line: i + 1,
                reason,
            };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('>') {
                if pending.is_some() {
                    return Err(err("command without response"));
                }
                pending = Some(unhex(rest).ok_or(err("bad hex"))?);
            } else if let Some(rest) = line.strip_prefix('<') {
                let command = pending.take().ok_or(err("response without command"))?;
                let response = unhex(rest).ok_or(err("bad hex"))?;
                out.push(Exchange::Apdu { command, response });
            } else if let Some(rest) = line.strip_prefix("reset") {
                if pending.is_some() {
                    return Err(err("command without response"));
                }
                out.push(Exchange::Reset {
                    atr: unhex(rest).ok_or(err("bad hex"))?,
                });
            } else {
                return Err(err("expected '>', '<' or 'reset'"));
            }
        }
        if pending.is_some() {
            return Err(TranscriptParseError {
                line: text.lines().count(),
                reason: "command without response",
            });
        }
        Ok(Self(out))
    }
}

/// Wraps a channel and records every exchange.
#[derive(Debug)]
pub struct Recording<C> {
    inner: C,
    transcript: Transcript,
}

impl<C: CardChannel> Recording<C> {
    /// Starts recording `inner`.
    pub fn new(inner: C) -> Self {
        Self {
            inner,
            transcript: Transcript::default(),
        }
    }

    /// What was recorded so far.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// Stops recording.
    pub fn into_parts(self) -> (C, Transcript) {
        (self.inner, self.transcript)
    }
}

impl<C: CardChannel> CardChannel for Recording<C> {
    type Error = C::Error;

    fn transmit(&mut self, command: &Command) -> Result<Response, C::Error> {
        let r = self.inner.transmit(command)?;
        self.transcript.0.push(Exchange::Apdu {
            command: command.to_bytes(),
            response: r.to_bytes(),
        });
        Ok(r)
    }

    fn reset(&mut self) -> Result<Vec<u8>, C::Error> {
        let atr = self.inner.reset()?;
        self.transcript.0.push(Exchange::Reset { atr: atr.clone() });
        Ok(atr)
    }
}

/// A replayed conversation went differently from the transcript.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The client sent something other than what was recorded.
    #[error("exchange {index}: expected {expected}, got {actual}")]
    Mismatch {
        /// 0-based exchange index.
        index: usize,
        /// Recorded (hex, or "reset").
        expected: String,
        /// Sent (hex, or "reset").
        actual: String,
    },
    /// The client went on after the transcript ended.
    #[error("transcript exhausted after {len} exchanges")]
    Exhausted {
        /// Transcript length.
        len: usize,
    },
    /// A recorded response is not a valid response APDU.
    #[error("recorded response {index} is malformed")]
    BadResponse {
        /// 0-based exchange index.
        index: usize,
    },
}

/// Plays the card's side of a transcript: each command must be the recorded one.
#[derive(Debug)]
pub struct Replaying {
    transcript: Transcript,
    next: usize,
}

impl Replaying {
    /// Replays `transcript` from the start.
    pub fn new(transcript: Transcript) -> Self {
        Self {
            transcript,
            next: 0,
        }
    }

    /// Whether every recorded exchange was consumed.
    pub fn finished(&self) -> bool {
        self.next == self.transcript.0.len()
    }

    fn take(&mut self) -> Result<(usize, &Exchange), ReplayError> {
        let index = self.next;
        let e = self.transcript.0.get(index).ok_or(ReplayError::Exhausted {
            len: self.transcript.0.len(),
        })?;
        self.next += 1;
        Ok((index, e))
    }
}

fn describe(e: &Exchange) -> String {
    match e {
        Exchange::Apdu { command, .. } => hex(command),
        Exchange::Reset { .. } => "reset".into(),
    }
}

impl CardChannel for Replaying {
    type Error = ReplayError;

    fn transmit(&mut self, command: &Command) -> Result<Response, ReplayError> {
        let sent = command.to_bytes();
        let (index, e) = self.take()?;
        match e {
            Exchange::Apdu {
                command: recorded,
                response,
            } if *recorded == sent => {
                Response::parse(response).map_err(|_| ReplayError::BadResponse { index })
            }
            other => Err(ReplayError::Mismatch {
                index,
                expected: describe(other),
                actual: hex(&sent),
            }),
        }
    }

    fn reset(&mut self) -> Result<Vec<u8>, ReplayError> {
        let (index, e) = self.take()?;
        match e {
            Exchange::Reset { atr } => Ok(atr.clone()),
            other => Err(ReplayError::Mismatch {
                index,
                expected: describe(other),
                actual: "reset".into(),
            }),
        }
    }
}
