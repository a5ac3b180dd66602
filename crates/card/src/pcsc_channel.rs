//! PC/SC client channel (cargo feature `pcsc`): talks to a card in any reader pcscd
//! knows, real or the vpcd virtual reader. Handles `61xx` (GET RESPONSE) and `6Cxx`
//! (repeat with the right Le) for readers that use T=0.

use std::ffi::CString;

use pcsc::{Card, Context, Disposition, Protocols, Scope, ShareMode};

use crate::apdu::{Command, Response};
use crate::channel::CardChannel;

/// Errors of the PC/SC channel.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PcscError {
    /// The PC/SC layer failed.
    #[error("PC/SC: {0}")]
    Pcsc(#[from] pcsc::Error),
    /// No reader whose name contains the requested text has a card.
    #[error("no reader matching {0:?} with a card present")]
    NoReader(String),
    /// The card's answer is not a response APDU.
    #[error("malformed response APDU")]
    BadResponse,
}

/// Names of the readers pcscd knows.
pub fn list_readers() -> Result<Vec<String>, PcscError> {
    let ctx = Context::establish(Scope::User)?;
    Ok(ctx
        .list_readers_owned()?
        .into_iter()
        .map(|r| r.to_string_lossy().into_owned())
        .collect())
}

/// A connection to one card through pcscd.
pub struct PcscChannel {
    card: Card,
    reader: String,
    _ctx: Context,
}

impl std::fmt::Debug for PcscChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscChannel")
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

impl PcscChannel {
    /// Connects (shared mode, T=0 or T=1) to the card in the first reader whose name
    /// contains `reader_contains` (any reader when empty).
    pub fn connect(reader_contains: &str) -> Result<Self, PcscError> {
        let ctx = Context::establish(Scope::User)?;
        let readers: Vec<CString> = ctx.list_readers_owned()?;
        for r in readers {
            let name = r.to_string_lossy().into_owned();
            if !name.contains(reader_contains) {
                continue;
            }
            match ctx.connect(&r, ShareMode::Shared, Protocols::ANY) {
                Ok(card) => {
                    return Ok(Self {
                        card,
                        reader: name,
                        _ctx: ctx,
                    });
                }
                Err(pcsc::Error::NoSmartcard) | Err(pcsc::Error::RemovedCard) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(PcscError::NoReader(reader_contains.to_owned()))
    }

    /// The reader's name.
    pub fn reader(&self) -> &str {
        &self.reader
    }

    /// The card's ATR.
    pub fn atr(&self) -> Result<Vec<u8>, PcscError> {
        Ok(self.card.status2_owned()?.atr().to_vec())
    }

    fn raw(&self, apdu: &[u8]) -> Result<Response, PcscError> {
        let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        let out = self.card.transmit(apdu, &mut buf)?;
        Response::parse(out).map_err(|_| PcscError::BadResponse)
    }
}

impl CardChannel for PcscChannel {
    type Error = PcscError;

    fn transmit(&mut self, command: &Command) -> Result<Response, PcscError> {
        let mut bytes = command.to_bytes();
        let mut r = self.raw(&bytes)?;
        if r.sw.sw1() == 0x6C {
            // Wrong Le: repeat with the Le the card asks for (ISO/IEC 7816-3 §12.2.5).
            if let Some(last) = bytes.last_mut() {
                *last = r.sw.sw2();
            }
            r = self.raw(&bytes)?;
        }
        let mut data = std::mem::take(&mut r.data);
        while r.sw.sw1() == 0x61 {
            // GET RESPONSE for the remaining bytes (ISO/IEC 7816-4 §11.7.1).
            r = self.raw(&[0x00, 0xC0, 0x00, 0x00, r.sw.sw2()])?;
            data.extend_from_slice(&r.data);
        }
        Ok(Response::new(data, r.sw))
    }

    fn reset(&mut self) -> Result<Vec<u8>, PcscError> {
        self.card
            .reconnect(ShareMode::Shared, Protocols::ANY, Disposition::ResetCard)?;
        self.atr()
    }
}
