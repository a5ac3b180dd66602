//! The second half of a reception: the consent screens, the submission to the center,
//! 利用登録 when the card is not linked yet, and the two ends, [`Done`] and [`Failed`].

use chrono::NaiveDate;
use onshi_card::{CardChannel, Pin};
use onshi_model::{ConsentKind, QualificationValidity, ReasonOfLoss};

use super::identity::{Signing, after_face_failed, sign};
use super::{Evidence, PendingReception, Reader, Reception, Session};
use crate::center::{Center, CenterError, ProblemCode};
use crate::message::Message;
use crate::wire::{CardCheck, CardCheckRequest, LinkRequest, Method, SignedAt};

/// One consent screen: the reader asks yes or no for [`ExpectConsent::kind`], the five
/// kinds in the order of [`ConsentKind::ALL`].
#[derive(Debug)]
pub struct ExpectConsent<C, S> {
    session: Session<C, S>,
    evidence: Evidence,
    agreed: Vec<ConsentKind>,
    index: usize,
    linked_on: Option<NaiveDate>,
    pub(super) notice: Option<Message>,
}

impl<C: CardChannel, S: Center> ExpectConsent<C, S> {
    pub(super) fn new(session: Session<C, S>, evidence: Evidence, notice: Option<Message>) -> Self {
        Self {
            session,
            evidence,
            agreed: Vec::new(),
            index: 0,
            linked_on: None,
            notice,
        }
    }

    /// The kind this screen asks about.
    pub fn kind(&self) -> ConsentKind {
        ConsentKind::ALL[self.index]
    }

    /// What the reader shows.
    pub fn prompt(&self) -> Message {
        Message::Consent(self.kind())
    }

    /// The method identity was established with.
    pub fn method(&self) -> Method {
        self.evidence.method()
    }

    /// The patient answered this screen; after the last one the reader submits.
    pub fn answer(mut self, agree: bool) -> Reception<C, S> {
        if agree {
            self.agreed.push(self.kind());
        }
        self.index += 1;
        self.notice = None;
        if self.index < ConsentKind::ALL.len() {
            return Reception::ExpectConsent(self);
        }
        submit(self.session, self.evidence, self.agreed, self.linked_on)
    }

    /// Answers every remaining screen: yes for the kinds in `agreed`, no for the others.
    pub fn answer_all(self, agreed: &[ConsentKind]) -> Reception<C, S> {
        let mut state = self;
        loop {
            let yes = agreed.contains(&state.kind());
            match state.answer(yes) {
                Reception::ExpectConsent(next) => state = next,
                other => return other,
            }
        }
    }
}

/// The center says the card is not linked to insurance: offer 利用登録 right here.
#[derive(Debug)]
pub struct ExpectLinkConsent<C, S> {
    session: Session<C, S>,
    consents: Vec<ConsentKind>,
    method: Method,
}

impl<C: CardChannel, S: Center> ExpectLinkConsent<C, S> {
    /// What the reader shows.
    pub fn prompt(&self) -> Message {
        Message::OfferLink
    }

    /// The patient answered. 利用登録 is PIN-authenticated: after a PIN reception the PIN
    /// verified moments ago still holds on the card and signs the registration; after a
    /// face or visual reception (or if the card lost that state) the reader asks for it.
    pub fn answer(self, register: bool) -> Reception<C, S> {
        let Self {
            mut session,
            consents,
            method,
        } = self;
        if !register {
            return failed(session.reader, Message::CardNotLinked, None, None);
        }
        if session.pin_blocked {
            return failed(session.reader, Message::PinBlocked, None, None);
        }
        if method == Method::Pin {
            match sign(&mut session, None) {
                Signing::Signed(evidence) => return link_with(session, consents, evidence),
                Signing::Center(e) => return center_failed(session, method, &consents, e),
                // The card no longer holds the PIN: ask for it.
                _ => {}
            }
        }
        match session.card.tries_left(onshi_card::layout::PinRef::Auth) {
            Ok(0) => failed(session.reader, Message::PinBlocked, None, None),
            Ok(tries_left) => Reception::ExpectLinkPin(ExpectLinkPin {
                session,
                consents,
                tries_left,
                notice: None,
            }),
            Err(_) => session.card_lost(),
        }
    }

    /// The method the reception used so far.
    pub fn method(&self) -> Method {
        self.method
    }
}

/// 利用登録: the reader waits for the PIN.
#[derive(Debug)]
pub struct ExpectLinkPin<C, S> {
    session: Session<C, S>,
    consents: Vec<ConsentKind>,
    /// Tries left before the PIN locks.
    pub tries_left: u8,
    pub(super) notice: Option<Message>,
}

impl<C: CardChannel, S: Center> ExpectLinkPin<C, S> {
    /// What the reader shows.
    pub fn prompt(&self) -> Message {
        Message::EnterPinForLink {
            tries_left: self.tries_left,
        }
    }

    /// The patient entered `pin`: sign a challenge, register the card, then sign a second
    /// challenge (the PIN still holds) and continue the reception with the same consents.
    pub fn enter(self, pin: Pin) -> Reception<C, S> {
        let Self {
            mut session,
            consents,
            tries_left,
            ..
        } = self;
        let evidence = match sign(&mut session, Some(&pin)) {
            Signing::Signed(e) => e,
            Signing::WrongPin(tries_left) => {
                return Reception::ExpectLinkPin(ExpectLinkPin {
                    session,
                    consents,
                    tries_left,
                    notice: Some(Message::WrongPin { tries_left }),
                });
            }
            Signing::BadFormat => {
                return Reception::ExpectLinkPin(ExpectLinkPin {
                    session,
                    consents,
                    tries_left,
                    notice: Some(Message::PinFormat),
                });
            }
            Signing::Blocked => return failed(session.reader, Message::PinBlocked, None, None),
            Signing::Card => return session.card_lost(),
            Signing::Center(e) => return center_failed(session, Method::Pin, &consents, e),
        };
        link_with(session, consents, evidence)
    }
}

/// 利用登録 with `evidence` (a PIN signature of a fresh challenge), then a second
/// signature (the PIN still holds) to continue the reception with the same consents.
fn link_with<C: CardChannel, S: Center>(
    mut session: Session<C, S>,
    consents: Vec<ConsentKind>,
    evidence: Evidence,
) -> Reception<C, S> {
    let Evidence::Pin {
        challenge,
        signed_at,
        signature,
    } = evidence
    else {
        unreachable!("sign() yields PIN evidence");
    };
    let request = LinkRequest {
        institution_code: session.reader.config.institution.as_str().to_owned(),
        certificate: session.certificate.clone(),
        challenge: challenge.bytes,
        signed_at,
        signature,
    };
    let linked = match session.reader.center.link_card(&request) {
        Ok(l) => l,
        Err(e) => return center_failed(session, Method::Pin, &consents, e),
    };
    match sign(&mut session, None) {
        Signing::Signed(evidence) => submit(session, evidence, consents, Some(linked.linked_on)),
        Signing::Center(e) => center_failed(session, Method::Pin, &consents, e),
        _ => session.card_lost(),
    }
}

/// The reception is complete: the center's eligibility result.
#[derive(Debug)]
pub struct Done<S> {
    pub(super) reader: Reader<S>,
    /// The center's answer.
    pub check: CardCheck,
    /// How identity was established.
    pub method: Method,
    /// The kinds the patient agreed to share.
    pub consents: Vec<ConsentKind>,
    /// Set when the card was registered (利用登録) during this reception.
    pub linked_on: Option<NaiveDate>,
    /// What staff and patient should know about the result (job change, lost insurance…).
    pub notices: Vec<Message>,
}

impl<S: Center> Done<S> {
    /// What the reader shows.
    pub fn prompt(&self) -> Message {
        Message::Done
    }

    /// Back to waiting for the next card.
    pub fn next(self) -> super::ExpectCard<S> {
        super::ExpectCard::new(self.reader, None)
    }

    /// The reader (to switch 目視確認モード off, or reach the center).
    pub fn reader_mut(&mut self) -> &mut Reader<S> {
        &mut self.reader
    }
}

/// The reception ended without a result. `failure` says what the patient does next.
#[derive(Debug)]
pub struct Failed<S> {
    pub(super) reader: Reader<S>,
    /// What went wrong, with the next step.
    pub failure: Message,
    /// The problem code when the center refused.
    pub problem: Option<ProblemCode>,
    /// The reception kept for staff when the center could not be reached.
    pub pending: Option<PendingReception>,
}

impl<S: Center> Failed<S> {
    /// Back to waiting for the next card.
    pub fn next(self) -> super::ExpectCard<S> {
        super::ExpectCard::new(self.reader, None)
    }

    /// The reader (to switch 目視確認モード off, or take the pending receptions).
    pub fn reader_mut(&mut self) -> &mut Reader<S> {
        &mut self.reader
    }
}

fn failed<C, S>(
    reader: Reader<S>,
    failure: Message,
    problem: Option<ProblemCode>,
    pending: Option<PendingReception>,
) -> Reception<C, S> {
    Reception::Failed(Failed {
        reader,
        failure,
        problem,
        pending,
    })
}

fn is_challenge_problem(e: &CenterError) -> bool {
    matches!(
        e.code(),
        Some(
            ProblemCode::ChallengeExpired
                | ProblemCode::ChallengeUnknown
                | ProblemCode::ChallengeReplayed
        )
    )
}

/// Sends the reception to the center. A stale challenge is replaced once (the PIN path
/// re-signs without asking for the PIN again).
fn submit<C: CardChannel, S: Center>(
    mut session: Session<C, S>,
    mut evidence: Evidence,
    consents: Vec<ConsentKind>,
    linked_on: Option<NaiveDate>,
) -> Reception<C, S> {
    let method = evidence.method();
    let mut retried = false;
    loop {
        if let Evidence::Pin { challenge, .. } = &evidence
            && challenge.expires_at <= session.reader.now()
            && !retried
        {
            retried = true;
            match sign(&mut session, None) {
                Signing::Signed(e) => evidence = e,
                Signing::Center(e) => return center_failed(session, method, &consents, e),
                _ => return failed(session.reader, Message::TimedOut, None, None),
            }
        }
        let request = match request(&mut session, &evidence, &consents) {
            Ok(r) => r,
            Err(e) => return center_failed(session, method, &consents, e),
        };
        match session.reader.center.check_card(&request) {
            Ok(check) => {
                let mut notices: Vec<Message> =
                    linked_on.map(|_| Message::Linked).into_iter().collect();
                notices.extend(notice_for(&check));
                return Reception::Done(Done {
                    reader: session.reader,
                    check,
                    method,
                    consents,
                    linked_on,
                    notices,
                });
            }
            Err(e) if e.code() == Some(&ProblemCode::CardNotLinked) && linked_on.is_none() => {
                return Reception::ExpectLinkConsent(ExpectLinkConsent {
                    session,
                    consents,
                    method,
                });
            }
            // The center does not accept the reader's face evidence: the PIN, as after
            // a failed face match (consents are asked again).
            Err(e) if e.code() == Some(&ProblemCode::FaceEvidenceInsufficient) => {
                session.face_unavailable = true;
                return after_face_failed(session, Message::FaceNotMatched { attempts_left: 0 });
            }
            Err(e) if is_challenge_problem(&e) && !retried => {
                retried = true;
                if matches!(evidence, Evidence::Pin { .. }) {
                    match sign(&mut session, None) {
                        Signing::Signed(e) => evidence = e,
                        Signing::Center(e) => return center_failed(session, method, &consents, e),
                        _ => {
                            return failed(
                                session.reader,
                                Message::TimedOut,
                                e.code().cloned(),
                                None,
                            );
                        }
                    }
                }
            }
            Err(e) => return center_failed(session, method, &consents, e),
        }
    }
}

/// The request body for `evidence`; face and visual receptions take a fresh challenge.
fn request<C: CardChannel, S: Center>(
    session: &mut Session<C, S>,
    evidence: &Evidence,
    consents: &[ConsentKind],
) -> Result<CardCheckRequest, CenterError> {
    let (challenge, signed_at, signature, face, visual) = match evidence {
        Evidence::Pin {
            challenge,
            signed_at,
            signature,
        } => (
            challenge.bytes.clone(),
            signed_at.clone(),
            Some(signature.clone()),
            None,
            None,
        ),
        Evidence::Face(f) => {
            let c = session.reader.center.challenge()?;
            (
                c.bytes,
                SignedAt::at(session.reader.now()),
                None,
                Some(f.clone()),
                None,
            )
        }
        Evidence::Visual(v) => {
            let c = session.reader.center.challenge()?;
            (
                c.bytes,
                SignedAt::at(session.reader.now()),
                None,
                None,
                Some(v.clone()),
            )
        }
    };
    Ok(CardCheckRequest {
        institution_code: session.reader.config.institution.as_str().to_owned(),
        method: evidence.method(),
        certificate: session.certificate.clone(),
        challenge,
        signed_at,
        signature,
        face,
        visual,
        consents: consents.to_vec(),
        as_of: session.reader.config.as_of,
    })
}

/// A refusal or silence of the center, as the failure the patient sees.
pub(super) fn center_failed<C: CardChannel, S: Center>(
    mut session: Session<C, S>,
    method: Method,
    consents: &[ConsentKind],
    e: CenterError,
) -> Reception<C, S> {
    let code = e.code().cloned();
    let message = match &code {
        None if matches!(e, CenterError::Unreachable { .. }) => Message::CenterUnreachable,
        Some(ProblemCode::Internal) => Message::CenterUnreachable,
        Some(ProblemCode::CertificateExpired) => Message::CertificateExpired,
        Some(ProblemCode::CertificateRevoked) => Message::CertificateRevoked,
        Some(ProblemCode::SignatureInvalid | ProblemCode::CertificateInvalid) => {
            Message::CardNotAccepted
        }
        Some(
            ProblemCode::ChallengeExpired
            | ProblemCode::ChallengeUnknown
            | ProblemCode::ChallengeReplayed,
        ) => Message::TimedOut,
        Some(
            ProblemCode::InstitutionMismatch
            | ProblemCode::TerminalRevoked
            | ProblemCode::InstitutionNotRegistered
            | ProblemCode::InstitutionInactive
            | ProblemCode::ClientCertificateRequired,
        ) => Message::TerminalNotAccepted,
        Some(ProblemCode::FaceEvidenceInsufficient) => Message::FaceNotMatched { attempts_left: 0 },
        Some(ProblemCode::CardNotLinked) => Message::CardNotLinked,
        _ => Message::SystemError,
    };
    let pending = if message == Message::CenterUnreachable {
        session.pending(method, consents, e.to_string());
        session.reader.pending.last().cloned()
    } else {
        None
    };
    failed(session.reader, message, code, pending)
}

/// What the result means for the patient beyond 有効.
pub fn notice_for(check: &CardCheck) -> Option<Message> {
    match check.validity {
        QualificationValidity::Valid => None,
        QualificationValidity::Invalid => {
            let latest = check
                .records
                .iter()
                .max_by_key(|r| (r.disqualification_date, r.qualification_date));
            if latest.and_then(|r| r.reason_of_loss) == Some(ReasonOfLoss::OtherInsurance) {
                Some(Message::JobChangeNotRegistered)
            } else {
                Some(Message::InsuranceLost)
            }
        }
        QualificationValidity::InvalidNewerExists => Some(Message::NewerQualification),
        QualificationValidity::NotFound => Some(Message::JobChangeNotRegistered),
        QualificationValidity::Several => Some(Message::SeveralQualifications),
    }
}
