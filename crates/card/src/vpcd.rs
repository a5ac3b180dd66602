//! Serving a virtual card to pcscd through the vsmartcard `vpcd` reader driver, so that
//! every PC/SC application (OpenSC, browsers, the clinic terminal's PC/SC channel) sees it
//! as a card in a reader.
//!
//! The card side (vpicc) connects to vpcd's TCP port. Every message either way is a
//! 2-byte big-endian length followed by the payload. A 1-byte payload from vpcd is a
//! control message ([`CTRL_OFF`], [`CTRL_ON`], [`CTRL_RESET`], [`CTRL_ATR`]); anything
//! longer is a command APDU, answered with a length-prefixed response APDU.
//! (vsmartcard `vpcd/vpcd.c` and `virtualsmartcard/VirtualSmartcard.py`.)

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::cardfile::CardFileError;
use crate::channel::FileBackedCard;

/// vpcd's default host (Debian's `vsmartcard-vpcd` reader.conf: `DEVICENAME /dev/null:0x8C7B`).
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// vpcd's default port for the first virtual reader (0x8C7B).
pub const DEFAULT_PORT: u16 = 35963;
/// Control message: power off.
pub const CTRL_OFF: u8 = 0x00;
/// Control message: power on.
pub const CTRL_ON: u8 = 0x01;
/// Control message: reset.
pub const CTRL_RESET: u8 = 0x02;
/// Control message: send the ATR.
pub const CTRL_ATR: u8 = 0x04;

/// How often a blocked read wakes up to look at the stop flag.
const POLL: Duration = Duration::from_millis(200);

/// Errors of the vpcd link.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VpcdError {
    /// Could not connect, or the connection failed.
    #[error("vpcd connection: {0}")]
    Io(#[from] io::Error),
    /// vpcd closed the connection (pcscd stopped).
    #[error("vpcd closed the connection")]
    Closed,
    /// Saving the card's counters failed.
    #[error(transparent)]
    CardFile(#[from] CardFileError),
    /// An unknown control byte.
    #[error("unknown vpcd control message {0:#04x}")]
    UnknownControl(u8),
    /// Another virtual device (a phone) failed to save its state.
    #[error("device: {0}")]
    Device(Box<dyn std::error::Error + Send + Sync>),
}

/// What vpcd can serve: a virtual card or phone that answers raw APDUs and power events
/// and saves its own state.
pub trait VirtualIcc {
    /// The answer-to-reset.
    fn atr(&self) -> Vec<u8>;
    /// Power on, power off or reset: clears the session state.
    fn power_event(&mut self);
    /// Answers one raw command APDU.
    fn answer(&mut self, apdu: &[u8]) -> Result<Vec<u8>, VpcdError>;
}

impl VirtualIcc for FileBackedCard {
    fn atr(&self) -> Vec<u8> {
        self.card().atr().to_vec()
    }
    fn power_event(&mut self) {
        self.reset();
    }
    fn answer(&mut self, apdu: &[u8]) -> Result<Vec<u8>, VpcdError> {
        Ok(self.process_bytes(apdu)?)
    }
}

/// Connects to vpcd at `addr` (`host:port`), retrying until `timeout`.
pub fn connect(addr: &str, timeout: Duration) -> Result<TcpStream, VpcdError> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match TcpStream::connect(addr) {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) if std::time::Instant::now() >= deadline => return Err(e.into()),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Reads exactly `buf.len()` bytes, checking `stop` while idle. `Ok(false)` = stopped
/// before the first byte.
fn read_full(s: &mut TcpStream, buf: &mut [u8], stop: &AtomicBool) -> Result<bool, VpcdError> {
    let mut got = 0;
    while got < buf.len() {
        match s.read(&mut buf[got..]) {
            Ok(0) => return Err(VpcdError::Closed),
            Ok(n) => got += n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if got == 0 && stop.load(Ordering::Relaxed) {
                    return Ok(false);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}

fn send(s: &mut TcpStream, payload: &[u8]) -> Result<(), VpcdError> {
    let len = u16::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "payload over 65535 bytes"))?;
    let mut msg = Vec::with_capacity(payload.len() + 2);
    msg.extend_from_slice(&len.to_be_bytes());
    msg.extend_from_slice(payload);
    s.write_all(&msg)?;
    Ok(())
}

/// Serves `card` on an established vpcd connection until `stop` is set (`Ok`) or the
/// connection ends (`Err(Closed)`). Counter changes are saved to the card file as they
/// happen.
pub fn serve<I: VirtualIcc + ?Sized>(
    stream: &mut TcpStream,
    card: &mut I,
    stop: &AtomicBool,
) -> Result<(), VpcdError> {
    stream.set_read_timeout(Some(POLL))?;
    loop {
        let mut len = [0u8; 2];
        if !read_full(stream, &mut len, stop)? {
            return Ok(());
        }
        let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
        read_full(stream, &mut payload, &AtomicBool::new(false))?;
        match payload.as_slice() {
            [] => {}
            [CTRL_OFF] | [CTRL_ON] | [CTRL_RESET] => card.power_event(),
            [CTRL_ATR] => send(stream, &card.atr())?,
            [other] => return Err(VpcdError::UnknownControl(*other)),
            apdu => {
                let response = card.answer(apdu)?;
                send(stream, &response)?;
            }
        }
    }
}

/// Connects to vpcd at `addr` and serves `card` until `stop` is set, reconnecting when
/// pcscd restarts.
pub fn attach<I: VirtualIcc + ?Sized>(
    addr: &str,
    card: &mut I,
    stop: &AtomicBool,
) -> Result<(), VpcdError> {
    while !stop.load(Ordering::Relaxed) {
        let mut stream = match connect(addr, Duration::from_secs(1)) {
            Ok(s) => s,
            Err(_) => continue,
        };
        card.power_event();
        match serve(&mut stream, card, stop) {
            Ok(()) => return Ok(()),
            Err(VpcdError::Closed) | Err(VpcdError::Io(_)) => {
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
