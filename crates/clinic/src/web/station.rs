//! The reader behind the kiosk: one [`Reception`] kept on the server, moved by the
//! patient's taps (and by staff from the desk), and published after every step as a
//! [`Screen`] that the kiosk page and the desk render. Every step that talks to the card
//! or the center blocks, so the web handlers call [`Station::apply`] on a blocking thread.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use onshi_card::{JpkiClient, Pin};
use onshi_face::FaceImage;
use onshi_model::ConsentKind;
use tokio::sync::watch;

use super::card::{PlacedCard, ReaderCard, certificate_not_after};
use super::desk::{DeskLog, Entry};
use crate::center::{Center, CenterClient, CenterError};
use crate::message::{Lang, Message};
use crate::reception::{Reader, Reception};
use crate::wire::{CardCheck, CardCheckRequest, Challenge, LinkRequest, Linked, Method};

/// The center for the state machine, on the web server's own runtime: each call blocks
/// the calling thread, which must be a blocking one (`spawn_blocking`).
#[derive(Debug, Clone)]
pub struct HandleCenter {
    client: CenterClient,
    handle: tokio::runtime::Handle,
}

impl HandleCenter {
    /// `client` driven on `handle`.
    pub fn new(client: CenterClient, handle: tokio::runtime::Handle) -> Self {
        Self { client, handle }
    }
}

impl Center for HandleCenter {
    fn challenge(&mut self) -> Result<Challenge, CenterError> {
        self.handle.block_on(self.client.challenge())
    }
    fn check_card(&mut self, request: &CardCheckRequest) -> Result<CardCheck, CenterError> {
        self.handle.block_on(self.client.check_card(request))
    }
    fn link_card(&mut self, request: &LinkRequest) -> Result<Linked, CenterError> {
        self.handle.block_on(self.client.link_card(request))
    }
}

/// The reception as the kiosk drives it.
pub type KioskReception = Reception<ReaderCard, HandleCenter>;

/// Which phone the patient has (the smartphone path of the reader).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Iphone,
    Android,
}

impl Platform {
    /// As the page names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Iphone => "iPhone",
            Self::Android => "Android",
        }
    }
}

/// What the kiosk shows: one per state of the reader, plus the smartphone choice.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// 「カードを置いてください」 / 「スマートフォンを利用」.
    Card,
    /// iPhone or Android.
    PhoneChoice,
    /// This reader has no smartphone path: the card instead.
    PhoneUnavailable(Platform),
    /// Face or PIN.
    Identity { face: bool, pin: bool },
    /// The PIN pad (`link`: for 利用登録).
    Pin { tries_left: u8, link: bool },
    /// The camera.
    Face { attempts_left: u8 },
    /// Staff confirm (目視確認), or call staff when the mode is off.
    Staff { visual_mode: bool },
    /// One consent screen.
    Consent { kind: ConsentKind, number: usize },
    /// Offer 利用登録.
    Link,
    /// The reception is complete.
    Done(Box<DoneSummary>),
    /// The reception ended without a result.
    Failed(Message),
}

impl Step {
    /// A stable name for the page (`data-step`) and the tests.
    pub fn id(&self) -> &'static str {
        match self {
            Self::Card => "card",
            Self::PhoneChoice => "phone",
            Self::PhoneUnavailable(_) => "phone-unavailable",
            Self::Identity { .. } => "identity",
            Self::Pin { link: false, .. } => "pin",
            Self::Pin { link: true, .. } => "link-pin",
            Self::Face { .. } => "face",
            Self::Staff { .. } => "staff",
            Self::Consent { .. } => "consent",
            Self::Link => "link",
            Self::Done(_) => "done",
            Self::Failed(_) => "failed",
        }
    }
}

/// What the result screen shows the patient.
#[derive(Debug, Clone, PartialEq)]
pub struct DoneSummary {
    pub name: Option<String>,
    pub insurer: Option<String>,
    pub burden_percent: Option<u8>,
    pub valid: bool,
    pub method: Method,
    pub consents: Vec<ConsentKind>,
}

/// One published picture of the reader.
#[derive(Debug, Clone, PartialEq)]
pub struct Screen {
    /// Increases with every change.
    pub seq: u64,
    pub lang: Lang,
    pub step: Step,
    /// Notices and the prompt, in order (see [`Reception::messages`]).
    pub messages: Vec<Message>,
    /// 目視確認モード as staff set it.
    pub visual_mode: bool,
    /// The card on the reader, as the simulation panel names it.
    pub card: Option<String>,
}

/// An input to the reader.
#[derive(Debug)]
pub enum Action {
    /// A card was put on the reader.
    Place(Box<ReaderCard>, PlacedCard),
    /// The card was taken off (or "back to the start" after the result).
    Remove,
    /// 顔認証 chosen.
    ChooseFace,
    /// 暗証番号 chosen.
    ChoosePin,
    /// The patient asks for staff.
    ChooseStaff,
    /// The PIN pad's entry (kept in a zeroizing [`Pin`]).
    Pin(Pin),
    /// Back from the PIN pad.
    PinCancel,
    /// One camera frame (JPEG or PNG).
    Frame(Vec<u8>),
    /// Give up on the face.
    UsePin,
    /// はい / いいえ on a consent screen.
    Consent(bool),
    /// はい / いいえ to 利用登録.
    Link(bool),
    /// スマートフォンを利用.
    Phone,
    /// iPhone or Android.
    PhoneChoose(Platform),
    /// Back to the card.
    PhoneBack,
    /// 日本語 / English.
    Lang(Lang),
    /// Staff switch 目視確認モード.
    VisualMode(bool),
    /// Staff confirm the patient.
    StaffConfirm(String),
}

/// Why an input was not taken: it does not belong to the current screen (a stale page,
/// a double tap) or it is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("この画面ではその操作はできません。 / Not possible on this screen.")]
    NotNow,
    #[error("カメラの画像を読み取れませんでした。 / The camera image could not be read.")]
    BadImage,
    #[error(
        "このカードでは顔認証を利用できません。 / Face recognition is not available for this card."
    )]
    NoMatchingCode,
    #[error("職員IDを入力してください。 / Enter the staff id.")]
    StaffId,
}

/// The reader with its reception, the screen it publishes, and the desk log it feeds.
pub struct Station {
    reception: Option<KioskReception>,
    placed: Option<PlacedCard>,
    card_not_after: Option<DateTime<Utc>>,
    phone: Option<Step>,
    want_visual: bool,
    lang: Lang,
    seq: u64,
    screen: watch::Sender<Screen>,
    desk: Arc<DeskLog>,
}

impl std::fmt::Debug for Station {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Station")
            .field("screen", &*self.screen.borrow())
            .finish_non_exhaustive()
    }
}

impl Station {
    /// A station around `reader`, waiting for a card.
    pub fn new(
        reader: Reader<HandleCenter>,
        desk: Arc<DeskLog>,
    ) -> (Self, watch::Receiver<Screen>) {
        let lang = reader.config().lang;
        let visual = reader.visual_mode();
        let start: KioskReception = Reception::ExpectCard(reader.start());
        let first = Screen {
            seq: 0,
            lang,
            step: Step::Card,
            messages: start.messages(),
            visual_mode: visual,
            card: None,
        };
        let (tx, rx) = watch::channel(first);
        let station = Self {
            reception: Some(start),
            placed: None,
            card_not_after: None,
            phone: None,
            want_visual: visual,
            lang,
            seq: 0,
            screen: tx,
            desk,
        };
        (station, rx)
    }

    /// Takes one input, moves the reception, publishes the new screen.
    pub fn apply(&mut self, action: Action) -> Result<(), Refusal> {
        let Some(current) = self.reception.take() else {
            // Only a panic inside a step could leave the station empty.
            return Err(Refusal::NotNow);
        };
        let (next, result) = self.step(current, action);
        self.reception = Some(next);
        self.apply_visual_mode();
        self.publish();
        result
    }

    fn step(
        &mut self,
        current: KioskReception,
        action: Action,
    ) -> (KioskReception, Result<(), Refusal>) {
        use Reception as R;
        match (current, action) {
            (r, Action::Lang(lang)) => {
                self.lang = lang;
                (r, Ok(()))
            }
            (r, Action::VisualMode(on)) => {
                self.want_visual = on;
                (r, Ok(()))
            }
            (R::ExpectCard(s), Action::Phone) => {
                self.phone = Some(Step::PhoneChoice);
                (R::ExpectCard(s), Ok(()))
            }
            (R::ExpectCard(s), Action::PhoneChoose(p)) if self.phone.is_some() => {
                self.phone = Some(Step::PhoneUnavailable(p));
                (R::ExpectCard(s), Ok(()))
            }
            (R::ExpectCard(s), Action::PhoneBack) => {
                self.phone = None;
                (R::ExpectCard(s), Ok(()))
            }
            (R::ExpectCard(s), Action::Place(card, placed)) => {
                self.phone = None;
                // The certificate's notAfter for the desk's warning (EF 000A is free to read).
                let mut client = JpkiClient::new(*card);
                self.card_not_after = client
                    .auth_certificate()
                    .ok()
                    .and_then(|der| certificate_not_after(&der));
                self.placed = Some(placed);
                let next = s.card_placed(client.into_inner());
                if matches!(next, R::ExpectCard(_)) {
                    self.placed = None;
                }
                (next, Ok(()))
            }
            (R::ExpectCard(s), Action::Remove) => {
                self.placed = None;
                (R::ExpectCard(s), Ok(()))
            }
            (R::Done(d), Action::Remove) => {
                self.placed = None;
                (R::ExpectCard(d.next()), Ok(()))
            }
            (R::Failed(f), Action::Remove) => {
                self.placed = None;
                (R::ExpectCard(f.next()), Ok(()))
            }
            (R::ExpectIdentity(s), Action::ChooseFace) => {
                match self.placed.as_ref().and_then(|p| p.matching_code_b.clone()) {
                    Some(code) => self.record(s.face(Pin::from(code.as_str()))),
                    None => (R::ExpectIdentity(s), Err(Refusal::NoMatchingCode)),
                }
            }
            (R::ExpectIdentity(s), Action::ChoosePin) => self.record(s.pin()),
            (R::ExpectIdentity(s), Action::ChooseStaff) => (s.staff(), Ok(())),
            (R::ExpectPin(s), Action::ChooseStaff) => match s.cancel() {
                R::ExpectIdentity(i) => (i.staff(), Ok(())),
                other => (other, Err(Refusal::NotNow)),
            },
            (R::ExpectPin(s), Action::Pin(pin)) => self.record(s.enter(pin)),
            (R::ExpectPin(s), Action::PinCancel) => (s.cancel(), Ok(())),
            (R::ExpectLinkPin(s), Action::Pin(pin)) => self.record(s.enter(pin)),
            (R::ExpectFace(s), Action::Frame(bytes)) => match FaceImage::decode(&bytes) {
                Ok(frame) => self.record(s.frame(&frame)),
                Err(_) => (R::ExpectFace(s), Err(Refusal::BadImage)),
            },
            (R::ExpectFace(s), Action::UsePin) => self.record(s.use_pin()),
            (R::ExpectStaff(s), Action::StaffConfirm(id)) => {
                if id.trim().is_empty() {
                    (R::ExpectStaff(s), Err(Refusal::StaffId))
                } else {
                    (s.confirm(&id), Ok(()))
                }
            }
            (R::ExpectConsent(s), Action::Consent(yes)) => self.record(s.answer(yes)),
            (R::ExpectLinkConsent(s), Action::Link(yes)) => self.record(s.answer(yes)),
            (r, _) => (r, Err(Refusal::NotNow)),
        }
    }

    /// Notes a finished reception in the desk log.
    fn record(&mut self, next: KioskReception) -> (KioskReception, Result<(), Refusal>) {
        let label = self.placed.as_ref().map(|p| p.label.clone());
        match &next {
            Reception::Done(d) => {
                self.desk
                    .push(Entry::from_done(d, label, self.card_not_after));
            }
            Reception::Failed(f) => {
                self.desk.push(Entry::from_failed(f, label));
            }
            Reception::ExpectCard(_) => self.placed = None,
            _ => {}
        }
        (next, Ok(()))
    }

    /// Applies 目視確認モード as staff want it, as soon as the state allows it (between
    /// patients, or while the reader waits for staff).
    fn apply_visual_mode(&mut self) {
        let want = self.want_visual;
        self.reception = self.reception.take().map(|r| match r {
            Reception::ExpectCard(mut s) => {
                s.reader_mut().set_visual_mode(want);
                Reception::ExpectCard(s)
            }
            Reception::ExpectStaff(s) => Reception::ExpectStaff(s.set_visual_mode(want)),
            Reception::Done(mut d) => {
                d.reader_mut().set_visual_mode(want);
                Reception::Done(d)
            }
            Reception::Failed(mut f) => {
                f.reader_mut().set_visual_mode(want);
                Reception::Failed(f)
            }
            other => other,
        });
    }

    fn publish(&mut self) {
        let Some(r) = self.reception.as_ref() else {
            return;
        };
        let step = match r {
            Reception::ExpectCard(_) => self.phone.clone().unwrap_or(Step::Card),
            Reception::ExpectIdentity(s) => Step::Identity {
                face: s.face_offered()
                    && self
                        .placed
                        .as_ref()
                        .is_some_and(|p| p.matching_code_b.is_some()),
                pin: s.pin_offered(),
            },
            Reception::ExpectPin(s) => Step::Pin {
                tries_left: s.tries_left,
                link: false,
            },
            Reception::ExpectLinkPin(s) => Step::Pin {
                tries_left: s.tries_left,
                link: true,
            },
            Reception::ExpectFace(s) => Step::Face {
                attempts_left: s.attempts_left,
            },
            Reception::ExpectStaff(_) => Step::Staff {
                visual_mode: self.want_visual,
            },
            Reception::ExpectConsent(s) => Step::Consent {
                kind: s.kind(),
                number: ConsentKind::ALL
                    .iter()
                    .position(|k| *k == s.kind())
                    .unwrap_or(0)
                    + 1,
            },
            Reception::ExpectLinkConsent(_) => Step::Link,
            Reception::Done(d) => Step::Done(Box::new(DoneSummary::of(d))),
            Reception::Failed(f) => Step::Failed(f.failure.clone()),
        };
        self.seq += 1;
        let screen = Screen {
            seq: self.seq,
            lang: self.lang,
            step,
            messages: r.messages(),
            visual_mode: self.want_visual,
            card: self.placed.as_ref().map(|p| p.label.clone()),
        };
        self.screen.send_replace(screen);
    }
}

impl DoneSummary {
    fn of(d: &crate::reception::Done<HandleCenter>) -> Self {
        let first = d.check.records.first();
        Self {
            name: first.map(|r| r.name.clone()),
            insurer: first.map(|r| r.insurer_name.clone()),
            burden_percent: first.and_then(|r| r.burden_ratio).map(|b| b.percent()),
            valid: d.check.validity == onshi_model::QualificationValidity::Valid,
            method: d.method,
            consents: d.consents.clone(),
        }
    }
}
