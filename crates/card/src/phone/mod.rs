//! マイナ保険証 on a smartphone: virtual phones that speak the real protocols.
//!
//! - **Android** ([`Platform::Android`]): a JPKI applet in a simulated GlobalPlatform
//!   secure element. Token `JPKIAPGPSETOKEN`, the JPKI AP only, its own RSA-2048 keys
//!   generated inside the phone, the smartphone certificates from the `PhoneAuth` and
//!   `PhoneSigning` CAs, a 4-digit phone PIN (3 tries) that also guards the
//!   user-authentication certificate, and a signing password (5 tries).
//! - **iPhone** ([`Platform::Iphone`]): the same JPKI applet with no PINs: its
//!   certificates and keys are usable only for a short while after a matching Face ID /
//!   Touch ID on the phone ([`VirtualPhone::present_biometric`]; a passcode is refused).
//!   It also holds the card substitute record, an ISO/IEC 18013-5 mdoc bound to a P-256
//!   device key generated in the phone, presented through a second applet
//!   ([`mdoc_applet`]).
//!
//! A phone is a [`PhoneFile`] (persisted, mode 0600) inside a [`VirtualPhone`] (the
//! volatile session state), reachable through the same transports as the card:
//! in-process ([`crate::CardChannel`] for [`VirtualPhone`] and [`FileBackedPhone`]) and
//! vpcd ([`crate::vpcd::serve`]), where a PC/SC reader sees it with [`PHONE_ATR`].
//!
//! Issuance: [`new_phone`] makes the keys; the center certifies the public keys the phone
//! shows ([`issue_phone_certificates`], [`issue_mdoc`]) and the phone installs the results
//! ([`install_certificates`], [`install_mdoc`]). The reader side is in [`reader`].
//! docs/smartphone.md describes the APDUs and structures and what is simulated.

mod channel;
mod device;
mod file;
mod handset;
pub mod mdoc_applet;
mod provision;
pub mod reader;

pub use channel::FileBackedPhone;
pub use device::{
    BIOMETRIC_MAX_FAILURES, BIOMETRIC_WINDOW, BiometricOutcome, PHONE_ATR, TOKEN_IPHONE,
    VirtualPhone,
};
pub use file::{
    PHONE_FORMAT, PhoneCertificates, PhoneFile, PhoneFileError, PhoneJpkiFiles, PhoneMdocFiles,
};
pub use handset::{Biometric, Handset, HandsetError, OsVersion, Platform};
pub use provision::{
    PhoneError, PhonePins, card_record, install_certificates, install_mdoc, issue_mdoc,
    issue_phone_certificates, new_phone, remove_credentials,
};
