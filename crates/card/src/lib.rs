//! onshi-card: the My Number Card (マイナンバーカード) as APDUs. It holds the ISO/IEC
//! 7816-4 command and response types, the virtual card with its three applications (JPKI,
//! 券面事項入力補助, 券面事項確認), PIN counters and on-card signing, the card's persisted file,
//! issuance from the J-LIS CAs of `onshi-pki`, the reader-side client the clinic terminal
//! uses, and the transports behind one [`CardChannel`] trait: in-process, vpcd (so a virtual
//! card appears in a real PC/SC reader), PC/SC (feature `pcsc`) and transcript
//! recording/replay. Its `phone` module holds the smartphone credentials: the Android and
//! iPhone JPKI applets and the iPhone's card substitute record applet, on the same
//! transports.
//!
//! It is a pure protocol library: it must not speak HTTP, touch SQL, or know about the
//! center's protocol. The only files it writes are card and phone files, and the only
//! sockets it opens are to vpcd.

pub mod apdu;
pub mod cardfile;
pub mod channel;
pub mod client;
pub mod data;
pub mod issue;
pub mod layout;
pub mod onsign;
#[cfg(feature = "pcsc")]
pub mod pcsc_channel;
pub mod phone;
pub mod secret;
pub mod status;
pub mod tlv;
pub mod virtual_card;
pub mod vpcd;

#[cfg(test)]
mod test_support;

pub use apdu::{ApduError, Command, Response};
pub use cardfile::{CardFile, CardFileError, PinRecord, Printed};
pub use channel::{CardChannel, FileBackedCard, Recording, Replaying, Transcript};
pub use client::{ClientError, JpkiClient, VerifiedCardFace, VerifyOutcome};
pub use data::{Attributes, CardFace, Sex};
pub use issue::{CardPins, IssueError, IssueOptions, Person, card_data_key, issue_card};
pub use layout::{Ap, CertRef, KeyRef, PinRef};
#[cfg(feature = "pcsc")]
pub use pcsc_channel::{PcscChannel, PcscError};
pub use secret::Pin;
pub use status::StatusWord;
pub use virtual_card::VirtualCard;
