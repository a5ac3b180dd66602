//! The reader behind the kiosk: one [`Reception`] kept on the server, moved by the
//! patient's taps (and by staff from the desk), and published after every step as a
//! [`Screen`] that the kiosk page and the desk render. Every step that talks to the card
//! or the center blocks, so the web handlers call [`Station::apply`] on a blocking thread.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use onshi_card::phone::Biometric;
use onshi_card::{JpkiClient, Pin};
use onshi_face::FaceImage;
use onshi_model::ConsentKind;
use tokio::sync::watch;

use super::card::{PlacedCard, ReaderCard, certificate_not_after};
use super::desk::{DeskLog, Entry};
use crate::center::{Center, CenterClient, CenterError};
use crate::message::{Lang, Message};
use crate::reception::{
    ExpectCard, PhoneDone, PhoneKind, PhoneMethod, PhoneReception, PhoneTrust, Reader, Reception,
};
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
        self.handle.block_on(self.client.challenge_or_spare())
    }
    fn check_card(&mut self, request: &CardCheckRequest) -> Result<CardCheck, CenterError> {
        self.handle.block_on(self.client.check_card(request))
    }
    fn link_card(&mut self, request: &LinkRequest) -> Result<Linked, CenterError> {
        self.handle.block_on(self.client.link_card(request))
    }
    fn check_phone(
        &mut self,
        request: &crate::reception::PhoneCheckRequest,
    ) -> Result<CardCheck, CenterError> {
        self.handle.block_on(self.client.check_phone(request))
    }
}

/// The reception as the kiosk drives it.
pub type KioskReception = Reception<ReaderCard, HandleCenter>;

/// A smartphone reception as the kiosk drives it (the phone at the general-purpose reader).
pub type KioskPhoneReception = PhoneReception<ReaderCard, HandleCenter>;

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

    fn kind(self) -> PhoneKind {
        match self {
            Self::Iphone => PhoneKind::Iphone,
            Self::Android => PhoneKind::Android,
        }
    }

    fn of(kind: PhoneKind) -> Self {
        match kind {
            PhoneKind::Iphone => Self::Iphone,
            PhoneKind::Android => Self::Android,
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
    /// Hold the phone to the general-purpose reader.
    PhoneHold(Platform),
    /// Android: the phone's PIN on the reader's pad, relayed to the phone.
    PhonePin { tries_left: u8 },
    /// iPhone: Face ID / Touch ID on the phone, then the phone again at the reader.
    Biometric { attempts_left: u8 },
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
            Self::PhoneHold(_) => "phone-hold",
            Self::PhonePin { .. } => "phone-pin",
            Self::Biometric { .. } => "biometric",
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
    pub method: ShownMethod,
    pub consents: Vec<ConsentKind>,
}

/// How identity was established, as the result screen names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShownMethod {
    Card(Method),
    Phone(PhoneMethod),
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
    /// A phone was held to the general-purpose reader (named as the panel names it).
    PlacePhone(Box<ReaderCard>, String),
    /// The patient's Face ID / Touch ID on the phone: matched or not.
    Biometric(bool),
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
    /// A smartphone reception under way (then `reception` is empty).
    phone_reception: Option<KioskPhoneReception>,
    /// What the general-purpose reader trusts; `None`: this reader has no smartphone path.
    phone_trust: Option<PhoneTrust>,
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
        phone_trust: Option<PhoneTrust>,
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
            phone_reception: None,
            phone_trust,
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
        let result = match (self.phone_reception.take(), action) {
            (Some(p), action) => self.phone_step(p, action),
            (None, Action::PhoneChoose(p))
                if self.phone.is_some() && self.phone_trust.is_some() =>
            {
                self.start_phone(p)
            }
            (None, action) => {
                let Some(current) = self.reception.take() else {
                    // Only a panic inside a step could leave the station empty.
                    return Err(Refusal::NotNow);
                };
                let (next, result) = self.step(current, action);
                self.reception = Some(next);
                result
            }
        };
        self.apply_visual_mode();
        self.publish();
        result
    }

    /// iPhone or Android chosen at a reader with a smartphone path: wait for the phone.
    fn start_phone(&mut self, p: Platform) -> Result<(), Refusal> {
        match (self.reception.take(), self.phone_trust.clone()) {
            (Some(Reception::ExpectCard(s)), Some(trust)) => {
                self.phone = None;
                self.placed = None;
                self.phone_reception = Some(PhoneReception::ExpectPhone(
                    s.use_phone(trust).choose(p.kind()),
                ));
                Ok(())
            }
            (other, _) => {
                self.reception = other;
                Err(Refusal::NotNow)
            }
        }
    }

    /// One input during a smartphone reception.
    fn phone_step(&mut self, current: KioskPhoneReception, action: Action) -> Result<(), Refusal> {
        use PhoneReception as P;
        match (current, action) {
            (p, Action::Lang(lang)) => {
                self.lang = lang;
                self.phone_reception = Some(p);
                Ok(())
            }
            (p, Action::VisualMode(on)) => {
                self.want_visual = on;
                self.phone_reception = Some(p);
                Ok(())
            }
            (P::ExpectPhone(s), Action::PlacePhone(phone, label)) => {
                self.placed = Some(PlacedCard {
                    label,
                    matching_code_b: None,
                });
                self.settle_phone(s.phone_placed(*phone))
            }
            (P::ExpectPhone(s), Action::PhoneBack | Action::Remove) => {
                self.back_to_card(s.cancel())
            }
            (P::ExpectPhoneKind(s), Action::PhoneBack | Action::Remove) => {
                self.back_to_card(s.cancel())
            }
            (P::ExpectPhonePin(s), Action::Pin(pin)) => self.settle_phone(s.enter(pin)),
            (P::ExpectPhonePin(s), Action::PhoneBack | Action::PinCancel | Action::Remove) => {
                self.back_to_card(s.cancel())
            }
            (P::ExpectBiometric(mut s), Action::Biometric(matches)) => {
                // The patient acts on the phone; then the phone is held to the reader again.
                if let ReaderCard::Phone(phone) = s.channel_mut() {
                    let phone = phone.phone_mut();
                    let sensor = phone
                        .file()
                        .handset
                        .biometric()
                        .unwrap_or(Biometric::FaceId);
                    phone.present_biometric(sensor, matches);
                }
                self.settle_phone(s.presented())
            }
            (P::ExpectBiometric(s), Action::PhoneBack | Action::Remove) => {
                self.back_to_card(s.cancel())
            }
            (P::ExpectPhoneConsent(s), Action::Consent(yes)) => self.settle_phone(s.answer(yes)),
            (P::ExpectPhoneConsent(s), Action::Remove) => self.back_to_card(s.cancel()),
            (P::Done(d), Action::Remove) => self.back_to_card(d.next()),
            (P::Failed(f), Action::Remove) => self.back_to_card(f.next()),
            (p, _) => {
                self.phone_reception = Some(p);
                Err(Refusal::NotNow)
            }
        }
    }

    /// Keeps the phone reception, noting a finished one in the desk log.
    fn settle_phone(&mut self, next: KioskPhoneReception) -> Result<(), Refusal> {
        let label = self.placed.as_ref().map(|p| p.label.clone());
        match &next {
            PhoneReception::Done(d) => {
                self.desk.push(Entry::from_phone_done(d, label));
            }
            PhoneReception::Failed(f) => {
                self.desk.push(Entry::from_phone_failed(f, label));
            }
            _ => {}
        }
        self.phone_reception = Some(next);
        Ok(())
    }

    fn back_to_card(&mut self, s: ExpectCard<HandleCenter>) -> Result<(), Refusal> {
        self.placed = None;
        self.phone = None;
        self.reception = Some(Reception::ExpectCard(s));
        Ok(())
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
        let (step, messages) = if let Some(p) = self.phone_reception.as_ref() {
            (Self::phone_screen(p), p.messages())
        } else if let Some(r) = self.reception.as_ref() {
            (self.card_screen(r), r.messages())
        } else {
            return;
        };
        self.seq += 1;
        let screen = Screen {
            seq: self.seq,
            lang: self.lang,
            step,
            messages,
            visual_mode: self.want_visual,
            card: self.placed.as_ref().map(|p| p.label.clone()),
        };
        self.screen.send_replace(screen);
    }

    fn phone_screen(p: &KioskPhoneReception) -> Step {
        match p {
            PhoneReception::ExpectPhoneKind(_) => Step::PhoneChoice,
            PhoneReception::ExpectPhone(s) => Step::PhoneHold(Platform::of(s.kind)),
            PhoneReception::ExpectPhonePin(s) => Step::PhonePin {
                tries_left: s.tries_left,
            },
            PhoneReception::ExpectBiometric(s) => Step::Biometric {
                attempts_left: s.attempts_left,
            },
            PhoneReception::ExpectPhoneConsent(s) => Step::Consent {
                kind: s.kind(),
                number: consent_number(s.kind()),
            },
            PhoneReception::Done(d) => Step::Done(Box::new(DoneSummary::of_phone(d))),
            PhoneReception::Failed(f) => Step::Failed(f.failure.clone()),
        }
    }

    fn card_screen(&self, r: &KioskReception) -> Step {
        match r {
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
                number: consent_number(s.kind()),
            },
            Reception::ExpectLinkConsent(_) => Step::Link,
            Reception::Done(d) => Step::Done(Box::new(DoneSummary::of(d))),
            Reception::Failed(f) => Step::Failed(f.failure.clone()),
        }
    }
}

/// 1-based position of a consent screen.
fn consent_number(kind: ConsentKind) -> usize {
    ConsentKind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(0)
        + 1
}

impl DoneSummary {
    fn of(d: &crate::reception::Done<HandleCenter>) -> Self {
        let first = d.check.records.first();
        Self {
            name: first.map(|r| r.name.clone()),
            insurer: first.map(|r| r.insurer_name.clone()),
            burden_percent: first.and_then(|r| r.burden_ratio).map(|b| b.percent()),
            valid: d.check.validity == onshi_model::QualificationValidity::Valid,
            method: ShownMethod::Card(d.method),
            consents: d.consents.clone(),
        }
    }

    fn of_phone(d: &PhoneDone<HandleCenter>) -> Self {
        let first = d.check.records.first();
        Self {
            name: first.map(|r| r.name.clone()),
            insurer: first.map(|r| r.insurer_name.clone()),
            burden_percent: first.and_then(|r| r.burden_ratio).map(|b| b.percent()),
            valid: d.check.validity == onshi_model::QualificationValidity::Valid,
            method: ShownMethod::Phone(d.method),
            consents: d.consents.clone(),
        }
    }
}
