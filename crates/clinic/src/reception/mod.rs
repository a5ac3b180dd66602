//! The reception at the face-auth card reader (docs/reference.md §4) as a state machine: card
//! placed → identity (PIN, face or staff) → consent → result. Each state is a type named
//! for what the reader expects next; each input consumes the state and returns the next
//! one as a [`Reception`]. Expected card and center outcomes (wrong PIN, no face, card not
//! linked, center unreachable) are states with a [`Message`], not errors.

mod identity;
mod outcome;
mod phone;
#[cfg(test)]
mod tests;

use chrono::{DateTime, NaiveDate, Utc};
use onshi_card::{CardChannel, JpkiClient, VerifiedCardFace};
use onshi_face::FaceMatcher;
use onshi_model::{ConsentKind, InstitutionCode};
use serde::Serialize;

pub use identity::{ExpectCard, ExpectFace, ExpectIdentity, ExpectPin, ExpectStaff};
pub use outcome::{Done, ExpectConsent, ExpectLinkConsent, ExpectLinkPin, Failed};
pub use phone::{
    BIOMETRIC_ATTEMPTS, ExpectBiometric, ExpectPhone, ExpectPhoneConsent, ExpectPhoneKind,
    ExpectPhonePin, PhoneCheckRequest, PhoneDone, PhoneKind, PhoneMessage, PhoneMethod,
    PhoneReception, PhoneSession, PhoneTrust, RECORD_ELEMENTS,
};

use crate::center::Center;
use crate::message::{Lang, Message};
use crate::wire::{Challenge, FaceEvidence, Method, SignedAt, VisualEvidence};

/// Default number of face attempts before the reader falls back to the PIN.
pub const DEFAULT_FACE_ATTEMPTS: u8 = 2;

/// The reader's settings.
#[derive(Debug, Clone)]
pub struct ReaderConfig {
    /// The institution this terminal belongs to (as in its certificate).
    pub institution: InstitutionCode,
    /// J-LIS card-data public key (SubjectPublicKeyInfo DER) the card face must be signed with.
    pub card_data_key: Vec<u8>,
    /// Face attempts before falling back to the PIN (at least 1).
    pub face_attempts: u8,
    /// Display language.
    pub lang: Lang,
    /// Evaluation date sent to the center; the center's today when `None`.
    pub as_of: Option<NaiveDate>,
}

/// A clock: the reader asks it for `signed_at` and to judge a challenge's age.
pub type Clock = Box<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The terminal and its reader between receptions: the center, the settings, the face
/// matcher and the 目視確認モード switch, plus receptions kept for staff when the center
/// could not be reached.
pub struct Reader<S> {
    center: S,
    config: ReaderConfig,
    matcher: Box<dyn FaceMatcher>,
    matcher_name: String,
    clock: Clock,
    visual_mode: bool,
    pending: Vec<PendingReception>,
}

impl<S> std::fmt::Debug for Reader<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("institution", &self.config.institution)
            .field("matcher", &self.matcher_name)
            .field("visual_mode", &self.visual_mode)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl<S: Center> Reader<S> {
    /// A reader talking to `center`, comparing faces with `matcher` (named `matcher_name`
    /// in the evidence sent to the center).
    pub fn new(
        center: S,
        config: ReaderConfig,
        matcher: Box<dyn FaceMatcher>,
        matcher_name: impl Into<String>,
    ) -> Self {
        Self {
            center,
            config,
            matcher,
            matcher_name: matcher_name.into(),
            clock: Box::new(Utc::now),
            visual_mode: false,
            pending: Vec::new(),
        }
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Staff switch 目視確認モード on or off. It stays as set until switched again.
    pub fn set_visual_mode(&mut self, on: bool) {
        self.visual_mode = on;
    }

    /// Whether 目視確認モード is on.
    pub fn visual_mode(&self) -> bool {
        self.visual_mode
    }

    /// The settings.
    pub fn config(&self) -> &ReaderConfig {
        &self.config
    }

    /// The center.
    pub fn center_mut(&mut self) -> &mut S {
        &mut self.center
    }

    /// Receptions the center did not answer, oldest first, for staff to check later.
    pub fn pending(&self) -> &[PendingReception] {
        &self.pending
    }

    /// Staff took over the pending receptions.
    pub fn take_pending(&mut self) -> Vec<PendingReception> {
        std::mem::take(&mut self.pending)
    }

    /// The reader waits for a card.
    pub fn start(self) -> ExpectCard<S> {
        ExpectCard::new(self, None)
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}

/// A reception the center could not answer: kept so that staff can check the patient's
/// eligibility later (for example by 資格確認書) and nothing the patient did is lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingReception {
    /// When the reader gave up.
    pub at: DateTime<Utc>,
    /// How identity was established.
    pub method: Method,
    /// SHA-256 of the user-authentication certificate (hex): identifies the card.
    pub certificate_sha256: String,
    /// The consents the patient gave, by the center's names.
    pub consents: Vec<String>,
    /// Why the center did not answer.
    pub reason: String,
}

/// Every state of a reception.
#[derive(Debug)]
pub enum Reception<C, S> {
    ExpectCard(ExpectCard<S>),
    ExpectIdentity(ExpectIdentity<C, S>),
    ExpectPin(ExpectPin<C, S>),
    ExpectFace(ExpectFace<C, S>),
    ExpectStaff(ExpectStaff<C, S>),
    ExpectConsent(ExpectConsent<C, S>),
    ExpectLinkConsent(ExpectLinkConsent<C, S>),
    ExpectLinkPin(ExpectLinkPin<C, S>),
    Done(Done<S>),
    Failed(Failed<S>),
}

impl<C: CardChannel, S: Center> Reception<C, S> {
    /// The state's name (`ExpectPin`, `Done`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Self::ExpectCard(_) => "ExpectCard",
            Self::ExpectIdentity(_) => "ExpectIdentity",
            Self::ExpectPin(_) => "ExpectPin",
            Self::ExpectFace(_) => "ExpectFace",
            Self::ExpectStaff(_) => "ExpectStaff",
            Self::ExpectConsent(_) => "ExpectConsent",
            Self::ExpectLinkConsent(_) => "ExpectLinkConsent",
            Self::ExpectLinkPin(_) => "ExpectLinkPin",
            Self::Done(_) => "Done",
            Self::Failed(_) => "Failed",
        }
    }

    /// What the reader shows now: the notice left by the last step (if any), then the
    /// state's own prompt or result.
    pub fn messages(&self) -> Vec<Message> {
        let (notice, prompt) = match self {
            Self::ExpectCard(s) => (s.notice.clone(), s.prompt()),
            Self::ExpectIdentity(s) => (s.notice.clone(), s.prompt()),
            Self::ExpectPin(s) => (s.notice.clone(), s.prompt()),
            Self::ExpectFace(s) => (s.notice.clone(), s.prompt()),
            Self::ExpectStaff(s) => (s.notice.clone(), s.prompt()),
            Self::ExpectConsent(s) => (s.notice.clone(), s.prompt()),
            Self::ExpectLinkConsent(s) => (None, s.prompt()),
            Self::ExpectLinkPin(s) => (s.notice.clone(), s.prompt()),
            Self::Done(s) => (None, s.prompt()),
            Self::Failed(s) => (None, s.failure.clone()),
        };
        let mut out: Vec<Message> = Vec::new();
        out.extend(notice);
        if let Self::Done(d) = self {
            out.extend(d.notices.iter().cloned());
        }
        if out.last() != Some(&prompt) {
            out.push(prompt);
        }
        out
    }

    /// The reader, when the reception is over (done or failed) or waits for a card.
    pub fn into_reader(self) -> Option<Reader<S>> {
        match self {
            Self::ExpectCard(s) => Some(s.reader),
            Self::Done(s) => Some(s.reader),
            Self::Failed(s) => Some(s.reader),
            _ => None,
        }
    }
}

/// How the patient's identity was established, ready for the center.
#[derive(Debug, Clone)]
pub(crate) enum Evidence {
    /// The card signed `challenge ‖ institution ‖ signed_at` after its PIN.
    Pin {
        challenge: Challenge,
        signed_at: SignedAt,
        signature: Vec<u8>,
    },
    /// The reader matched the card's photo with its camera.
    Face(FaceEvidence),
    /// Staff compared the face with the photo.
    Visual(VisualEvidence),
}

impl Evidence {
    fn method(&self) -> Method {
        match self {
            Self::Pin { .. } => Method::Pin,
            Self::Face(_) => Method::Face,
            Self::Visual(_) => Method::Visual,
        }
    }
}

/// One card on the reader: everything the states share.
pub(crate) struct Session<C, S> {
    reader: Reader<S>,
    card: JpkiClient<C>,
    /// EF 000A, DER.
    certificate: Vec<u8>,
    face_attempts_left: u8,
    face_unavailable: bool,
    /// The card answered `63C0`/`6984` in this session.
    pin_blocked: bool,
    card_face: Option<VerifiedCardFace>,
}

impl<C, S> std::fmt::Debug for Session<C, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("reader", &self.reader)
            .field("certificate_len", &self.certificate.len())
            .field("face_attempts_left", &self.face_attempts_left)
            .field("face_unavailable", &self.face_unavailable)
            .field("pin_blocked", &self.pin_blocked)
            .finish_non_exhaustive()
    }
}

impl<C: CardChannel, S: Center> Session<C, S> {
    fn face_possible(&self) -> bool {
        !self.face_unavailable && self.face_attempts_left > 0
    }

    /// The card could not be read: the reception starts again at the card.
    fn card_lost(self) -> Reception<C, S> {
        Reception::ExpectCard(ExpectCard::new(self.reader, Some(Message::CardUnreadable)))
    }

    fn pending(&mut self, method: Method, consents: &[ConsentKind], reason: String) {
        let entry = PendingReception {
            at: self.reader.now(),
            method,
            certificate_sha256: crate::wire::hex(&onshi_card::onsign::sha256(&self.certificate)),
            consents: consents
                .iter()
                .map(|k| crate::wire::consent_name(*k).to_owned())
                .collect(),
            reason,
        };
        self.reader.pending.push(entry);
    }
}
