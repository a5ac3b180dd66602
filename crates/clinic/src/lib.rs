//! onshi-clinic: the clinic's 資格確認端末 and its 顔認証付きカードリーダー. It runs the
//! reception at the reader (card placed → identity by PIN, face or staff → the five
//! consent screens → the eligibility result) as a state machine over any
//! [`onshi_card::CardChannel`], shows every prompt and failure in plain Japanese (English on
//! request) with the patient's next step, and talks to the center over HTTPS with mutual
//! TLS, authenticated by the terminal's institution certificate.
//!
//! It must not touch SQL or reach into the center's tables: it knows the center only
//! through the center's HTTP API, and the card only through its APDUs. It never logs or
//! stores a PIN (PINs stay in the card crate's zeroizing [`onshi_card::Pin`]), and keeps
//! nothing of a reception beyond what staff need when the center could not be reached.

pub mod center;
pub mod emr;
pub mod folder;
pub mod message;
pub mod reception;
pub mod script;
pub mod web;
pub mod wire;

pub use center::{
    BlockingCenter, Center, CenterClient, CenterError, ProblemCode, SetupError, TerminalCredentials,
};
pub use folder::{Folder, FolderConfig, FolderError, InsuranceCenter};
pub use message::{Lang, Message};
pub use reception::{
    DEFAULT_FACE_ATTEMPTS, Done, ExpectCard, ExpectConsent, ExpectFace, ExpectIdentity,
    ExpectLinkConsent, ExpectLinkPin, ExpectPin, ExpectStaff, Failed, PendingReception, Reader,
    ReaderConfig, Reception,
};
pub use wire::{CardCheck, Challenge, Method, SignedAt};

/// The name the built-in matcher is reported under in face evidence.
pub const CLASSIC_MATCHER_NAME: &str = "onshi-face/classic-lbp-hog";
