//! The identity half of a reception: the card is placed, then the patient proves who they
//! are with the PIN, the face, or a member of staff (目視確認モード).

use onshi_card::layout::{KeyRef, PinRef};
use onshi_card::onsign::sha256_digest_info;
use onshi_card::{CardChannel, ClientError, JpkiClient, Pin, VerifyOutcome};
use onshi_face::{Decision, FaceImage};

use super::outcome::{ExpectConsent, center_failed};
use super::{Evidence, Reader, Reception, Session};
use crate::center::{Center, CenterError};
use crate::message::Message;
use crate::wire::{FaceEvidence, SignedAt, VisualEvidence, auth_message, hex};

/// No card on the reader: 「マイナンバーカードを置いてください」.
#[derive(Debug)]
pub struct ExpectCard<S> {
    pub(super) reader: Reader<S>,
    pub(super) notice: Option<Message>,
}

impl<S: Center> ExpectCard<S> {
    pub(super) fn new(reader: Reader<S>, notice: Option<Message>) -> Self {
        Self { reader, notice }
    }

    /// What the reader shows.
    pub fn prompt(&self) -> Message {
        Message::PlaceCard
    }

    /// The reader, to change its mode or take pending receptions between patients.
    pub fn reader_mut(&mut self) -> &mut Reader<S> {
        &mut self.reader
    }

    /// A card is on the reader: read its user-authentication certificate (EF 000A, free).
    /// In 目視確認モード the reader goes straight to staff.
    pub fn card_placed<C: CardChannel>(self, channel: C) -> Reception<C, S> {
        let mut card = JpkiClient::new(channel);
        let certificate = match card.auth_certificate() {
            Ok(c) => c,
            Err(_) => {
                return Reception::ExpectCard(ExpectCard::new(
                    self.reader,
                    Some(Message::CardUnreadable),
                ));
            }
        };
        let face_attempts_left = self.reader.config.face_attempts.max(1);
        let visual = self.reader.visual_mode;
        let session = Session {
            reader: self.reader,
            card,
            certificate,
            face_attempts_left,
            face_unavailable: false,
            pin_blocked: false,
            card_face: None,
        };
        if visual {
            Reception::ExpectStaff(ExpectStaff {
                session,
                notice: None,
            })
        } else {
            Reception::ExpectIdentity(ExpectIdentity {
                session,
                notice: None,
            })
        }
    }
}

/// The card is read; the patient chooses face recognition or the PIN.
#[derive(Debug)]
pub struct ExpectIdentity<C, S> {
    pub(super) session: Session<C, S>,
    pub(super) notice: Option<Message>,
}

impl<C: CardChannel, S: Center> ExpectIdentity<C, S> {
    /// What the reader shows.
    pub fn prompt(&self) -> Message {
        Message::ChooseMethod
    }

    /// Whether face recognition is still offered.
    pub fn face_offered(&self) -> bool {
        self.session.face_possible()
    }

    /// Whether the PIN is still offered.
    pub fn pin_offered(&self) -> bool {
        !self.session.pin_blocked
    }

    /// The patient chose the PIN: ask the card how many tries are left (spends none).
    pub fn pin(self) -> Reception<C, S> {
        pin_or_fallback(self.session, None)
    }

    /// The patient chose the face: the camera read 照合番号B from the card face. Unlock
    /// the card-face AP, check J-LIS's signature, and take the photo.
    pub fn face(self, matching_code_b: Pin) -> Reception<C, S> {
        let mut session = self.session;
        if !session.face_possible() {
            return after_face_failed(session, Message::FaceUnavailable);
        }
        let key = session.reader.config.card_data_key.clone();
        match session.card.read_card_face(&matching_code_b, &key) {
            Ok(Some(face)) => {
                let photo = FaceImage::decode(&face.face.face_photo);
                session.card_face = Some(face);
                match photo {
                    Ok(photo) => {
                        let attempts_left = session.face_attempts_left;
                        Reception::ExpectFace(ExpectFace {
                            session,
                            photo,
                            attempts_left,
                            notice: None,
                        })
                    }
                    Err(_) => {
                        session.face_unavailable = true;
                        after_face_failed(session, Message::FaceUnavailable)
                    }
                }
            }
            // The code was misread (or mistyped): the card-face AP stays locked.
            Ok(None) | Err(ClientError::PinFormat(_)) => {
                Reception::ExpectIdentity(ExpectIdentity {
                    session,
                    notice: Some(Message::CardUnreadable),
                })
            }
            // Card-face data not signed by the J-LIS key this reader trusts, or malformed.
            Err(ClientError::Data(_)) => {
                session.face_unavailable = true;
                after_face_failed(session, Message::FaceUnavailable)
            }
            Err(_) => session.card_lost(),
        }
    }

    /// Ask staff to confirm (目視確認).
    pub fn staff(self) -> Reception<C, S> {
        Reception::ExpectStaff(ExpectStaff {
            session: self.session,
            notice: None,
        })
    }
}

/// The reader waits for the 4-digit PIN.
#[derive(Debug)]
pub struct ExpectPin<C, S> {
    pub(super) session: Session<C, S>,
    /// Tries left before the PIN locks.
    pub tries_left: u8,
    pub(super) notice: Option<Message>,
}

impl<C: CardChannel, S: Center> ExpectPin<C, S> {
    /// What the reader shows.
    pub fn prompt(&self) -> Message {
        Message::EnterPin {
            tries_left: self.tries_left,
        }
    }

    /// The patient entered `pin`: ask the center for a challenge, VERIFY and SIGN
    /// `challenge ‖ institution ‖ signed_at`.
    pub fn enter(self, pin: Pin) -> Reception<C, S> {
        let mut session = self.session;
        match sign(&mut session, Some(&pin)) {
            Signing::Signed(evidence) => {
                Reception::ExpectConsent(ExpectConsent::new(session, evidence, None))
            }
            Signing::WrongPin(tries_left) => Reception::ExpectPin(ExpectPin {
                session,
                tries_left,
                notice: Some(Message::WrongPin { tries_left }),
            }),
            Signing::Blocked => {
                session.pin_blocked = true;
                after_pin_blocked(session)
            }
            Signing::BadFormat => Reception::ExpectPin(ExpectPin {
                session,
                tries_left: self.tries_left,
                notice: Some(Message::PinFormat),
            }),
            Signing::Card => session.card_lost(),
            Signing::Center(e) => center_failed(session, super::Method::Pin, &[], e),
        }
    }

    /// The patient gave up on the PIN: back to the choice.
    pub fn cancel(self) -> Reception<C, S> {
        Reception::ExpectIdentity(ExpectIdentity {
            session: self.session,
            notice: None,
        })
    }
}

/// The card face is read and verified; the reader waits for a camera frame.
#[derive(Debug)]
pub struct ExpectFace<C, S> {
    pub(super) session: Session<C, S>,
    photo: FaceImage,
    /// Attempts left before falling back to the PIN.
    pub attempts_left: u8,
    pub(super) notice: Option<Message>,
}

impl<C: CardChannel, S: Center> ExpectFace<C, S> {
    /// What the reader shows.
    pub fn prompt(&self) -> Message {
        Message::LookAtCamera {
            attempts_left: self.attempts_left,
        }
    }

    /// The card's face photo.
    pub fn photo(&self) -> &FaceImage {
        &self.photo
    }

    /// One camera frame: compare it with the card's photo.
    pub fn frame(self, frame: &FaceImage) -> Reception<C, S> {
        let Self {
            mut session, photo, ..
        } = self;
        let outcome = match session.reader.matcher.compare(&photo, frame) {
            Ok(o) => o,
            Err(_) => {
                session.face_unavailable = true;
                return after_face_failed(session, Message::FaceUnavailable);
            }
        };
        let attempts_left = session.face_attempts_left.saturating_sub(1);
        session.face_attempts_left = attempts_left;
        match (outcome.decision, outcome.score) {
            (Decision::Match, Some(score)) => {
                let sha = session
                    .card_face
                    .as_ref()
                    .map(|f| hex(&f.sha256))
                    .unwrap_or_default();
                let evidence = Evidence::Face(FaceEvidence {
                    score,
                    threshold: outcome.threshold,
                    card_face_sha256: sha,
                    matcher: session.reader.matcher_name.clone(),
                });
                Reception::ExpectConsent(ExpectConsent::new(session, evidence, None))
            }
            (decision, _) => {
                let notice = if decision == Decision::NoFaceInProbe {
                    Message::FaceNotFound { attempts_left }
                } else {
                    Message::FaceNotMatched { attempts_left }
                };
                if attempts_left > 0 {
                    Reception::ExpectFace(ExpectFace {
                        session,
                        photo,
                        attempts_left,
                        notice: Some(notice),
                    })
                } else {
                    after_face_failed(session, notice)
                }
            }
        }
    }

    /// Give up on the face now: PIN (or staff).
    pub fn use_pin(self) -> Reception<C, S> {
        pin_or_fallback(self.session, None)
    }
}

/// A member of staff must confirm the patient (目視確認). The reader must be in
/// 目視確認モード, switched on explicitly.
#[derive(Debug)]
pub struct ExpectStaff<C, S> {
    pub(super) session: Session<C, S>,
    pub(super) notice: Option<Message>,
}

impl<C: CardChannel, S: Center> ExpectStaff<C, S> {
    /// What the reader shows.
    pub fn prompt(&self) -> Message {
        if self.session.reader.visual_mode {
            Message::StaffConfirm
        } else {
            Message::SwitchToVisualMode
        }
    }

    /// Staff switch 目視確認モード on or off.
    pub fn set_visual_mode(mut self, on: bool) -> Self {
        self.session.reader.set_visual_mode(on);
        self
    }

    /// The card's photo when the card face was read (for the staff screen).
    pub fn card_photo(&self) -> Option<&[u8]> {
        self.session
            .card_face
            .as_ref()
            .map(|f| f.face.face_photo.as_slice())
    }

    /// Staff `staff_id` compared the face with the photo and confirms.
    pub fn confirm(self, staff_id: &str) -> Reception<C, S> {
        if !self.session.reader.visual_mode || staff_id.trim().is_empty() {
            return Reception::ExpectStaff(ExpectStaff {
                session: self.session,
                notice: Some(Message::SwitchToVisualMode),
            });
        }
        let evidence = Evidence::Visual(VisualEvidence {
            staff_id: staff_id.trim().to_owned(),
        });
        Reception::ExpectConsent(ExpectConsent::new(self.session, evidence, None))
    }
}

/// Asks the card for the PIN's tries left; goes to the PIN, or on a blocked PIN to the
/// next fallback.
fn pin_or_fallback<C: CardChannel, S: Center>(
    mut session: Session<C, S>,
    notice: Option<Message>,
) -> Reception<C, S> {
    if session.pin_blocked {
        return after_pin_blocked(session);
    }
    match session.card.tries_left(PinRef::Auth) {
        Ok(0) => {
            session.pin_blocked = true;
            after_pin_blocked(session)
        }
        Ok(tries_left) => Reception::ExpectPin(ExpectPin {
            session,
            tries_left,
            notice,
        }),
        Err(_) => session.card_lost(),
    }
}

/// PIN blocked: offer the face if it is still possible, else staff.
fn after_pin_blocked<C: CardChannel, S: Center>(session: Session<C, S>) -> Reception<C, S> {
    let notice = Some(Message::PinBlocked);
    if session.face_possible() {
        Reception::ExpectIdentity(ExpectIdentity { session, notice })
    } else {
        Reception::ExpectStaff(ExpectStaff { session, notice })
    }
}

/// Face exhausted or unusable: the PIN if it is not blocked, else staff.
pub(super) fn after_face_failed<C: CardChannel, S: Center>(
    mut session: Session<C, S>,
    notice: Message,
) -> Reception<C, S> {
    session.face_attempts_left = 0;
    if session.pin_blocked {
        return Reception::ExpectStaff(ExpectStaff {
            session,
            notice: Some(notice),
        });
    }
    match session.card.tries_left(PinRef::Auth) {
        Ok(0) => {
            session.pin_blocked = true;
            Reception::ExpectStaff(ExpectStaff {
                session,
                notice: Some(Message::PinBlocked),
            })
        }
        Ok(tries_left) => Reception::ExpectPin(ExpectPin {
            session,
            tries_left,
            notice: Some(notice),
        }),
        Err(_) => session.card_lost(),
    }
}

/// What came of asking the card to sign a fresh challenge.
pub(super) enum Signing {
    Signed(Evidence),
    WrongPin(u8),
    Blocked,
    BadFormat,
    /// The card failed, or (without a PIN) its PIN state was lost.
    Card,
    Center(CenterError),
}

/// Gets a challenge and has the card sign `challenge ‖ institution ‖ signed_at`: with
/// `pin`, VERIFY + SIGN; without, SIGN only (the PIN verified earlier in this card session
/// still holds, for a second signature without asking the patient again).
pub(super) fn sign<C: CardChannel, S: Center>(
    session: &mut Session<C, S>,
    pin: Option<&Pin>,
) -> Signing {
    let challenge = match session.reader.center.challenge() {
        Ok(c) => c,
        Err(e) => return Signing::Center(e),
    };
    let signed_at = SignedAt::at(session.reader.now());
    let message = auth_message(
        &challenge.bytes,
        &session.reader.config.institution,
        &signed_at,
    );
    let result = match pin {
        Some(pin) => session.card.authenticate(pin, &message),
        None => session
            .card
            .sign_digest_info(KeyRef::Auth, &sha256_digest_info(&message))
            .map(|s| (VerifyOutcome::Ok, Some(s))),
    };
    match result {
        Ok((VerifyOutcome::Ok, Some(signature))) => Signing::Signed(Evidence::Pin {
            challenge,
            signed_at,
            signature,
        }),
        Ok((VerifyOutcome::WrongPin { tries_left }, _)) => Signing::WrongPin(tries_left),
        Ok((VerifyOutcome::Blocked, _)) => Signing::Blocked,
        Err(ClientError::PinFormat(_)) => Signing::BadFormat,
        Ok((VerifyOutcome::Ok, None)) | Err(_) => Signing::Card,
    }
}
