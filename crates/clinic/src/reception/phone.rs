//! The reception with a smartphone (docs/reference.md §3–§4): 「スマートフォンを利用」 →
//! iPhone or Android → the phone held to the general-purpose reader → Android: the phone
//! PIN typed on the reader and relayed to the phone as VERIFY; iPhone: Face ID / Touch ID
//! on the phone, then the phone signs and shows its card substitute record (mdoc), which
//! the reader verifies → the consent screens → the same eligibility result as with the
//! card, recorded by the center with the phone's method.
//!
//! The states live beside the card's and end in the card flow's [`Failed`] or in
//! [`PhoneDone`]; the card's states and their APIs are unchanged. Failures say what to do
//! next in plain Japanese ([`PhoneMessage`]): a phone without the credential or of the
//! other kind, a suspended, revoked or expired credential, a wrong PIN with the tries
//! left, a biometric that did not pass.

use onshi_card::phone::reader::{
    Holder, IphoneOutcome, PhoneAuthentication, PresentationError, RecordOutcome,
    authenticate_android, authenticate_iphone, identify, read_card_record,
};
use onshi_card::{CardChannel, ClientError, JpkiClient, Pin, VerifyOutcome};
use onshi_mdoc::Disclosed;
use onshi_model::ConsentKind;
use serde::Serialize;

use super::outcome::notice_for;
use super::{ExpectCard, Failed, Reader};
use crate::center::{Center, CenterError, ProblemCode};
use crate::message::Message;
use crate::wire::{CardCheck, Challenge, SignedAt, auth_message};

/// What the reader trusts for phones: the document-signer certificates (DER) of the
/// iPhone's card substitute record, as distributed by J-LIS.
#[derive(Debug, Clone, Default)]
pub struct PhoneTrust {
    /// Trusted document-signer certificates, DER.
    pub document_signers: Vec<Vec<u8>>,
}

/// The elements the reader asks the iPhone for: what the reception shows staff (the My
/// Number is not needed for eligibility and is not requested).
pub const RECORD_ELEMENTS: [&str; 5] = ["name", "address", "birth_date", "sex", "portrait"];

/// Biometric attempts the reader waits for before sending the patient to the desk.
pub const BIOMETRIC_ATTEMPTS: u8 = 3;

/// Which phone the patient chose (and which the reader found).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneKind {
    Android,
    Iphone,
}

/// How the phone holder's identity was established: the method recorded by the center.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneMethod {
    /// スマートフォン（Android・暗証番号）: VERIFY relayed by the reader.
    AndroidPin,
    /// スマートフォン（iPhone・生体認証）: Face ID / Touch ID on the phone.
    IphoneBiometric,
}

impl PhoneMethod {
    /// The `method` of the center's card-check request.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AndroidPin => "android_pin",
            Self::IphoneBiometric => "iphone_biometric",
        }
    }
}

/// What the reader shows during a phone reception, with the next step.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PhoneMessage {
    /// Choose iPhone or Android.
    ChooseKind,
    /// Hold the phone to the reader.
    HoldPhone(PhoneKind),
    /// Android: type the phone's 4-digit PIN on the reader.
    EnterPhonePin { tries_left: u8 },
    /// iPhone: pass Face ID / Touch ID on the phone, then hold it to the reader again.
    UseBiometric { attempts_left: u8 },
    /// Wrong phone PIN, `tries_left` more before the lock.
    WrongPhonePin { tries_left: u8 },
    /// The phone PIN is locked.
    PhonePinBlocked,
    /// Face ID / Touch ID did not pass (or was not done).
    BiometricFailed { attempts_left: u8 },
    /// No smartphone credential on this phone (not set up, or not a supported phone).
    PhoneNotSupported,
    /// A card was held to the phone reader.
    CardOnPhoneReader,
    /// The patient chose one kind and held the other; the reader follows the phone.
    KindCorrected(PhoneKind),
    /// The credential is suspended (lost phone).
    PhoneSuspended,
    /// The credential was revoked (card revoked or renewed, phone replaced).
    PhoneRevoked,
    /// The credential expired with the card's certificate.
    PhoneExpired,
    /// The phone's card substitute record did not verify.
    MdocInvalid,
    /// The phone moved away from the reader.
    PhoneUnreadable,
}

impl PhoneMessage {
    /// True for failures and notices.
    pub fn is_failure(&self) -> bool {
        !matches!(
            self,
            Self::ChooseKind
                | Self::HoldPhone(_)
                | Self::EnterPhonePin { .. }
                | Self::UseBiometric { .. }
        )
    }

    /// A stable identifier.
    pub fn id(&self) -> &'static str {
        match self {
            Self::ChooseKind => "phone_choose_kind",
            Self::HoldPhone(_) => "phone_hold",
            Self::EnterPhonePin { .. } => "phone_enter_pin",
            Self::UseBiometric { .. } => "phone_use_biometric",
            Self::WrongPhonePin { .. } => "phone_wrong_pin",
            Self::PhonePinBlocked => "phone_pin_blocked",
            Self::BiometricFailed { .. } => "phone_biometric_failed",
            Self::PhoneNotSupported => "phone_not_supported",
            Self::CardOnPhoneReader => "phone_card_on_reader",
            Self::KindCorrected(_) => "phone_kind_corrected",
            Self::PhoneSuspended => "phone_suspended",
            Self::PhoneRevoked => "phone_revoked",
            Self::PhoneExpired => "phone_expired",
            Self::MdocInvalid => "phone_mdoc_invalid",
            Self::PhoneUnreadable => "phone_unreadable",
        }
    }

    /// Japanese.
    pub fn ja(&self) -> String {
        let kind = |k: &PhoneKind| match k {
            PhoneKind::Android => "Android",
            PhoneKind::Iphone => "iPhone",
        };
        match self {
            Self::ChooseKind => "お使いのスマートフォンを選んでください（iPhone／Android）。".into(),
            Self::HoldPhone(k) => format!(
                "{}をスマートフォン用のカードリーダーにかざしてください。",
                kind(k)
            ),
            Self::EnterPhonePin { tries_left } => format!(
                "スマホ用電子証明書の暗証番号（4桁の数字）を入力してください。（残り{tries_left}回）"
            ),
            Self::UseBiometric { .. } => {
                "iPhone で Face ID または Touch ID による認証を行い、もう一度カードリーダーにかざしてください。"
                    .into()
            }
            Self::WrongPhonePin { tries_left } => format!(
                "暗証番号が違います。あと{tries_left}回間違えるとスマホ用電子証明書がロックされます。もう一度入力してください。"
            ),
            Self::PhonePinBlocked => "スマホ用電子証明書の暗証番号がロックされました。\
                 マイナポータルアプリで暗証番号の初期化を行ってください。今回はマイナンバーカードで受付してください。"
                .into(),
            Self::BiometricFailed { attempts_left } => format!(
                "Face ID／Touch ID による認証ができませんでした。iPhone でもう一度認証してからかざしてください（残り{attempts_left}回）。\
                 パスコードでは利用できません。"
            ),
            Self::PhoneNotSupported => "このスマートフォンにはマイナ保険証（スマホ用電子証明書）が登録されていません。\
                 マイナンバーカードで受付するか、マイナポータルアプリで登録してください。"
                .into(),
            Self::CardOnPhoneReader => "マイナンバーカードは顔認証付きカードリーダーに置いてください。\
                 スマートフォン用のカードリーダーはスマートフォン専用です。"
                .into(),
            Self::KindCorrected(k) => format!("{}として読み取りました。", kind(k)),
            Self::PhoneSuspended => "このスマートフォンの電子証明書は一時停止中です。\
                 マイナンバーカードで受付してください。スマートフォンが見つかった場合はマイナポータルで一時停止を解除できます。"
                .into(),
            Self::PhoneRevoked => "このスマートフォンの電子証明書は失効しています（カードの更新・失効、機種変更など）。\
                 マイナンバーカードで受付し、マイナポータルアプリでスマートフォンを登録し直してください。"
                .into(),
            Self::PhoneExpired => "スマホ用電子証明書の有効期限が切れています（スマートフォンでは猶予期間はありません）。\
                 マイナンバーカードで受付し、カードの電子証明書の更新後にスマートフォンを登録し直してください。"
                .into(),
            Self::MdocInvalid => "スマートフォンの券面情報を確認できませんでした。\
                 受付でお申し出ください。マイナンバーカードで受付できます。"
                .into(),
            Self::PhoneUnreadable => "スマートフォンを読み取れませんでした。カードリーダーにかざし直してください。".into(),
        }
    }

    /// English.
    pub fn en(&self) -> String {
        match self {
            Self::ChooseKind => "Choose your smartphone: iPhone or Android.".into(),
            Self::HoldPhone(k) => format!("Hold your {k:?} to the smartphone reader."),
            Self::EnterPhonePin { tries_left } => format!(
                "Enter the 4-digit PIN of your smartphone certificate ({tries_left} tries left)."
            ),
            Self::UseBiometric { .. } => {
                "Authenticate with Face ID or Touch ID on your iPhone, then hold it to the reader again.".into()
            }
            Self::WrongPhonePin { tries_left } => {
                format!("Wrong PIN: {tries_left} more wrong entries lock it. Try again.")
            }
            Self::PhonePinBlocked => "The smartphone PIN is locked. Reset it in the My Number Portal app; use your card today.".into(),
            Self::BiometricFailed { attempts_left } => format!(
                "Face ID / Touch ID did not pass ({attempts_left} attempts left). A passcode is not accepted."
            ),
            Self::PhoneNotSupported => "This phone holds no smartphone certificate. Use your card, or set the phone up in the My Number Portal app.".into(),
            Self::CardOnPhoneReader => "Place the My Number Card on the face-auth reader; this reader is for smartphones.".into(),
            Self::KindCorrected(k) => format!("Read as {k:?}."),
            Self::PhoneSuspended => "This phone's certificate is suspended. Use your card; resume it in the portal if the phone was found.".into(),
            Self::PhoneRevoked => "This phone's certificate was revoked. Use your card and set the phone up again.".into(),
            Self::PhoneExpired => "This phone's certificate expired (no grace period for phones). Use your card.".into(),
            Self::MdocInvalid => "The phone's card record did not verify. Please speak to the desk; use your card.".into(),
            Self::PhoneUnreadable => "The phone could not be read. Hold it to the reader again.".into(),
        }
    }
}

/// The body of `POST /v1/eligibility/card` for a phone.
#[derive(Debug, Clone, Serialize)]
pub struct PhoneCheckRequest {
    pub institution_code: String,
    /// `android_pin` or `iphone_biometric`.
    pub method: &'static str,
    /// The phone's user-authentication certificate (DER, base64).
    #[serde(with = "onshi_card::secret::b64")]
    pub certificate: Vec<u8>,
    #[serde(with = "onshi_card::secret::b64")]
    pub challenge: Vec<u8>,
    pub signed_at: SignedAt,
    #[serde(with = "onshi_card::secret::b64")]
    pub signature: Vec<u8>,
    /// The center's names of the kinds agreed.
    pub consents: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<chrono::NaiveDate>,
}

/// Every state of a phone reception.
#[derive(Debug)]
pub enum PhoneReception<C, S> {
    ExpectPhoneKind(ExpectPhoneKind<S>),
    ExpectPhone(ExpectPhone<S>),
    ExpectPhonePin(ExpectPhonePin<C, S>),
    ExpectBiometric(ExpectBiometric<C, S>),
    ExpectPhoneConsent(ExpectPhoneConsent<C, S>),
    Done(PhoneDone<S>),
    Failed(Failed<S>),
}

impl<C: CardChannel, S: Center> PhoneReception<C, S> {
    /// The state's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ExpectPhoneKind(_) => "ExpectPhoneKind",
            Self::ExpectPhone(_) => "ExpectPhone",
            Self::ExpectPhonePin(_) => "ExpectPhonePin",
            Self::ExpectBiometric(_) => "ExpectBiometric",
            Self::ExpectPhoneConsent(_) => "ExpectPhoneConsent",
            Self::Done(_) => "PhoneDone",
            Self::Failed(_) => "Failed",
        }
    }

    /// What the reader shows now: the notice left by the last step, then the prompt.
    pub fn messages(&self) -> Vec<Message> {
        let (notice, prompt) = match self {
            Self::ExpectPhoneKind(s) => {
                (s.notice.clone(), Message::Phone(PhoneMessage::ChooseKind))
            }
            Self::ExpectPhone(s) => (
                s.notice.clone(),
                Message::Phone(PhoneMessage::HoldPhone(s.kind)),
            ),
            Self::ExpectPhonePin(s) => (s.notice.clone(), s.prompt()),
            Self::ExpectBiometric(s) => (s.notice.clone(), s.prompt()),
            Self::ExpectPhoneConsent(s) => (None, Message::Consent(s.kind())),
            Self::Done(_) => (None, Message::Done),
            Self::Failed(f) => (None, f.failure.clone()),
        };
        let mut out: Vec<Message> = notice.into_iter().collect();
        if let Self::Done(d) = self {
            out.extend(d.notices.iter().cloned());
        }
        out.push(prompt);
        out
    }
}

fn phone_failed<C, S>(
    reader: Reader<S>,
    failure: Message,
    problem: Option<ProblemCode>,
) -> PhoneReception<C, S> {
    PhoneReception::Failed(Failed {
        reader,
        failure,
        problem,
        pending: None,
    })
}

impl<S: Center> ExpectCard<S> {
    /// The patient pressed 「スマートフォンを利用」; `trust` is what the reader trusts
    /// for the iPhone's record.
    pub fn use_phone(self, trust: PhoneTrust) -> ExpectPhoneKind<S> {
        ExpectPhoneKind {
            reader: self.reader,
            trust,
            notice: None,
        }
    }
}

/// iPhone or Android?
#[derive(Debug)]
pub struct ExpectPhoneKind<S> {
    reader: Reader<S>,
    trust: PhoneTrust,
    notice: Option<Message>,
}

impl<S: Center> ExpectPhoneKind<S> {
    /// The patient chose `kind`.
    pub fn choose(self, kind: PhoneKind) -> ExpectPhone<S> {
        ExpectPhone {
            reader: self.reader,
            trust: self.trust,
            kind,
            notice: None,
        }
    }

    /// Back to the card.
    pub fn cancel(self) -> ExpectCard<S> {
        ExpectCard::new(self.reader, None)
    }
}

/// Waiting for the phone at the general-purpose reader.
#[derive(Debug)]
pub struct ExpectPhone<S> {
    reader: Reader<S>,
    trust: PhoneTrust,
    /// The kind the patient chose.
    pub kind: PhoneKind,
    notice: Option<Message>,
}

/// One phone at the reader: what the phone states share.
pub struct PhoneSession<C, S> {
    reader: Reader<S>,
    phone: JpkiClient<C>,
    kind: PhoneKind,
    trust: PhoneTrust,
    auth: Option<PhoneAuthentication>,
    challenge: Option<(Challenge, SignedAt)>,
    record: Option<Disclosed>,
}

impl<C, S> std::fmt::Debug for PhoneSession<C, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneSession")
            .field("reader", &self.reader)
            .field("kind", &self.kind)
            .field("authenticated", &self.auth.is_some())
            .finish_non_exhaustive()
    }
}

impl<S: Center> ExpectPhone<S> {
    /// The phone is in the reader's field: tell a card from a phone and Android from
    /// iPhone by the JPKI AP's token, then ask for the PIN or the biometric.
    pub fn phone_placed<C: CardChannel>(self, channel: C) -> PhoneReception<C, S> {
        let mut phone = JpkiClient::new(channel);
        let holder = identify(&mut phone);
        let mut notice = None;
        let found = match holder {
            Ok(Holder::AndroidPhone) => PhoneKind::Android,
            Ok(Holder::Iphone) => PhoneKind::Iphone,
            Ok(Holder::Card) => {
                return PhoneReception::ExpectPhone(ExpectPhone {
                    notice: Some(Message::Phone(PhoneMessage::CardOnPhoneReader)),
                    ..self
                });
            }
            // No JPKI AP (6A82) or something else: no credential on this phone.
            Ok(_) | Err(ClientError::Status { .. }) => {
                return phone_failed(
                    self.reader,
                    Message::Phone(PhoneMessage::PhoneNotSupported),
                    None,
                );
            }
            Err(_) => {
                return PhoneReception::ExpectPhone(ExpectPhone {
                    notice: Some(Message::Phone(PhoneMessage::PhoneUnreadable)),
                    ..self
                });
            }
        };
        if found != self.kind {
            notice = Some(Message::Phone(PhoneMessage::KindCorrected(found)));
        }
        let mut session = PhoneSession {
            reader: self.reader,
            phone,
            kind: found,
            trust: self.trust,
            auth: None,
            challenge: None,
            record: None,
        };
        match found {
            PhoneKind::Android => match session.phone.tries_left(onshi_card::PinRef::Auth) {
                Ok(0) => phone_failed(
                    session.reader,
                    Message::Phone(PhoneMessage::PhonePinBlocked),
                    None,
                ),
                Ok(tries_left) => PhoneReception::ExpectPhonePin(ExpectPhonePin {
                    session,
                    tries_left,
                    notice,
                }),
                Err(_) => phone_failed(
                    session.reader,
                    Message::Phone(PhoneMessage::PhoneNotSupported),
                    None,
                ),
            },
            PhoneKind::Iphone => PhoneReception::ExpectBiometric(ExpectBiometric {
                session,
                attempts_left: BIOMETRIC_ATTEMPTS,
                notice,
            }),
        }
    }

    /// Back to the card.
    pub fn cancel(self) -> ExpectCard<S> {
        ExpectCard::new(self.reader, None)
    }
}

impl<C: CardChannel, S: Center> PhoneSession<C, S> {
    /// A fresh challenge and the message the phone signs.
    fn message(&mut self) -> Result<Vec<u8>, CenterError> {
        let challenge = self.reader.center.challenge()?;
        let signed_at = SignedAt::at(self.reader.now());
        let m = auth_message(
            &challenge.bytes,
            &self.reader.config.institution,
            &signed_at,
        );
        self.challenge = Some((challenge, signed_at));
        Ok(m)
    }
}

/// Android: the reader waits for the phone's PIN, which it relays to the phone.
#[derive(Debug)]
pub struct ExpectPhonePin<C, S> {
    session: PhoneSession<C, S>,
    /// Tries left before the phone PIN locks.
    pub tries_left: u8,
    notice: Option<Message>,
}

impl<C: CardChannel, S: Center> ExpectPhonePin<C, S> {
    /// The phone was taken away before the PIN: back to the card.
    pub fn cancel(self) -> ExpectCard<S> {
        ExpectCard::new(self.session.reader, None)
    }

    /// What the reader shows.
    pub fn prompt(&self) -> Message {
        Message::Phone(PhoneMessage::EnterPhonePin {
            tries_left: self.tries_left,
        })
    }

    /// The patient typed `pin` on the reader: VERIFY on the phone, then the phone signs
    /// the center's challenge.
    pub fn enter(self, pin: Pin) -> PhoneReception<C, S> {
        let Self {
            mut session,
            tries_left,
            ..
        } = self;
        let message = match session.message() {
            Ok(m) => m,
            Err(e) => return center_failed(session.reader, e),
        };
        match authenticate_android(&mut session.phone, &pin, &message) {
            Ok((VerifyOutcome::Ok, Some(auth))) => {
                session.auth = Some(auth);
                PhoneReception::ExpectPhoneConsent(ExpectPhoneConsent::new(session))
            }
            Ok((VerifyOutcome::WrongPin { tries_left }, _)) if tries_left > 0 => {
                PhoneReception::ExpectPhonePin(ExpectPhonePin {
                    session,
                    tries_left,
                    notice: Some(Message::Phone(PhoneMessage::WrongPhonePin { tries_left })),
                })
            }
            Ok((VerifyOutcome::WrongPin { .. } | VerifyOutcome::Blocked, _)) => phone_failed(
                session.reader,
                Message::Phone(PhoneMessage::PhonePinBlocked),
                None,
            ),
            Err(ClientError::PinFormat(_)) => PhoneReception::ExpectPhonePin(ExpectPhonePin {
                session,
                tries_left,
                notice: Some(Message::PinFormat),
            }),
            // The phone answered but holds no certificate (never set up, or removed).
            Err(ClientError::Status { .. }) => phone_failed(
                session.reader,
                Message::Phone(PhoneMessage::PhoneNotSupported),
                None,
            ),
            Ok((VerifyOutcome::Ok, None)) | Err(_) => phone_failed(
                session.reader,
                Message::Phone(PhoneMessage::PhoneUnreadable),
                None,
            ),
        }
    }
}

/// iPhone: the patient authenticates on the phone (Face ID / Touch ID) and holds it to
/// the reader again.
#[derive(Debug)]
pub struct ExpectBiometric<C, S> {
    session: PhoneSession<C, S>,
    /// Attempts left before the reader sends the patient to the desk.
    pub attempts_left: u8,
    notice: Option<Message>,
}

impl<C: CardChannel, S: Center> ExpectBiometric<C, S> {
    /// The phone was taken away before the biometric: back to the card.
    pub fn cancel(self) -> ExpectCard<S> {
        ExpectCard::new(self.session.reader, None)
    }

    /// What the reader shows.
    pub fn prompt(&self) -> Message {
        Message::Phone(PhoneMessage::UseBiometric {
            attempts_left: self.attempts_left,
        })
    }

    /// The phone's channel: with an in-process phone, the patient acts on the phone
    /// (Face ID / Touch ID) through it between taps.
    pub fn channel_mut(&mut self) -> &mut C {
        self.session.phone.channel_mut()
    }

    /// The phone is back at the reader after the biometric: it signs the center's
    /// challenge only if Face ID / Touch ID passed on it.
    pub fn presented(self) -> PhoneReception<C, S> {
        let Self {
            mut session,
            attempts_left,
            ..
        } = self;
        let message = match session.message() {
            Ok(m) => m,
            Err(e) => return center_failed(session.reader, e),
        };
        match authenticate_iphone(&mut session.phone, &message) {
            Ok(IphoneOutcome::Authenticated(auth)) => {
                session.auth = Some(auth);
                // The card substitute record, verified by the reader: issuer signature,
                // digests, validity, and the device signature over this session.
                let request = onshi_mdoc::DeviceRequest {
                    elements: RECORD_ELEMENTS.iter().map(|e| (*e).to_owned()).collect(),
                };
                let at = session.reader.now();
                match read_card_record(
                    session.phone.channel_mut(),
                    &request,
                    &session.trust.document_signers,
                    at,
                ) {
                    Ok(RecordOutcome::Verified(v)) => {
                        session.record = Some(v.disclosed);
                        PhoneReception::ExpectPhoneConsent(ExpectPhoneConsent::new(session))
                    }
                    Ok(RecordOutcome::BiometricRequired) => {
                        let attempts_left = attempts_left.saturating_sub(1);
                        let notice =
                            Message::Phone(PhoneMessage::BiometricFailed { attempts_left });
                        if attempts_left == 0 {
                            phone_failed(session.reader, notice, None)
                        } else {
                            PhoneReception::ExpectBiometric(ExpectBiometric {
                                session,
                                attempts_left,
                                notice: Some(notice),
                            })
                        }
                    }
                    Err(PresentationError::Mdoc(_)) | Err(PresentationError::SessionStatus(_)) => {
                        phone_failed(
                            session.reader,
                            Message::Phone(PhoneMessage::MdocInvalid),
                            None,
                        )
                    }
                    Err(_) => phone_failed(
                        session.reader,
                        Message::Phone(PhoneMessage::PhoneUnreadable),
                        None,
                    ),
                }
            }
            Ok(IphoneOutcome::BiometricRequired) => {
                let attempts_left = attempts_left.saturating_sub(1);
                let notice = Message::Phone(PhoneMessage::BiometricFailed { attempts_left });
                if attempts_left == 0 {
                    phone_failed(session.reader, notice, None)
                } else {
                    PhoneReception::ExpectBiometric(ExpectBiometric {
                        session,
                        attempts_left,
                        notice: Some(notice),
                    })
                }
            }
            Err(_) => phone_failed(
                session.reader,
                Message::Phone(PhoneMessage::PhoneUnreadable),
                None,
            ),
        }
    }
}

/// The consent screens, as with the card.
#[derive(Debug)]
pub struct ExpectPhoneConsent<C, S> {
    session: PhoneSession<C, S>,
    agreed: Vec<ConsentKind>,
    index: usize,
}

impl<C: CardChannel, S: Center> ExpectPhoneConsent<C, S> {
    fn new(session: PhoneSession<C, S>) -> Self {
        Self {
            session,
            agreed: Vec::new(),
            index: 0,
        }
    }

    /// The kind this screen asks about.
    pub fn kind(&self) -> ConsentKind {
        ConsentKind::ALL[self.index]
    }

    /// The phone was taken away before the last consent screen: back to the card.
    pub fn cancel(self) -> ExpectCard<S> {
        ExpectCard::new(self.session.reader, None)
    }

    /// The method identity was established with.
    pub fn method(&self) -> PhoneMethod {
        method_of(self.session.kind)
    }

    /// The patient answered this screen; after the last one the reader submits.
    pub fn answer(mut self, agree: bool) -> PhoneReception<C, S> {
        if agree {
            self.agreed.push(self.kind());
        }
        self.index += 1;
        if self.index < ConsentKind::ALL.len() {
            return PhoneReception::ExpectPhoneConsent(self);
        }
        submit(self.session, self.agreed)
    }

    /// Answers every remaining screen: yes for the kinds in `agreed`.
    pub fn answer_all(self, agreed: &[ConsentKind]) -> PhoneReception<C, S> {
        let mut state = self;
        loop {
            let yes = agreed.contains(&state.kind());
            match state.answer(yes) {
                PhoneReception::ExpectPhoneConsent(next) => state = next,
                other => return other,
            }
        }
    }
}

fn method_of(kind: PhoneKind) -> PhoneMethod {
    match kind {
        PhoneKind::Android => PhoneMethod::AndroidPin,
        PhoneKind::Iphone => PhoneMethod::IphoneBiometric,
    }
}

/// The reception is complete: the center's eligibility result.
#[derive(Debug)]
pub struct PhoneDone<S> {
    reader: Reader<S>,
    /// The center's answer.
    pub check: CardCheck,
    /// How identity was established.
    pub method: PhoneMethod,
    /// The kinds the patient agreed to share.
    pub consents: Vec<ConsentKind>,
    /// What staff and patient should know about the result.
    pub notices: Vec<Message>,
    /// iPhone: the card substitute record as the reader verified it (name, address, birth
    /// date, sex, face photo), for staff to compare with the patient.
    pub record: Option<Disclosed>,
}

impl<S: Center> PhoneDone<S> {
    /// Back to waiting for the next card.
    pub fn next(self) -> ExpectCard<S> {
        ExpectCard::new(self.reader, None)
    }
}

/// A refusal or silence of the center, for a phone.
fn center_failed<C, S>(reader: Reader<S>, e: CenterError) -> PhoneReception<C, S> {
    let code = e.code().cloned();
    let message = match &code {
        None if matches!(e, CenterError::Unreachable { .. }) => Message::CenterUnreachable,
        Some(ProblemCode::Other(c)) if c == "phone_suspended" => {
            Message::Phone(PhoneMessage::PhoneSuspended)
        }
        Some(ProblemCode::CertificateRevoked) => Message::Phone(PhoneMessage::PhoneRevoked),
        Some(ProblemCode::CertificateExpired) => Message::Phone(PhoneMessage::PhoneExpired),
        Some(ProblemCode::CertificateInvalid | ProblemCode::SignatureInvalid) => {
            Message::Phone(PhoneMessage::PhoneNotSupported)
        }
        Some(ProblemCode::CardNotLinked) => Message::CardNotLinked,
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
        Some(ProblemCode::Internal) => Message::CenterUnreachable,
        _ => Message::SystemError,
    };
    phone_failed(reader, message, code)
}

fn submit<C: CardChannel, S: Center>(
    mut session: PhoneSession<C, S>,
    consents: Vec<ConsentKind>,
) -> PhoneReception<C, S> {
    let method = method_of(session.kind);
    let (Some(auth), Some((challenge, signed_at))) =
        (session.auth.clone(), session.challenge.clone())
    else {
        return phone_failed(session.reader, Message::SystemError, None);
    };
    let request = PhoneCheckRequest {
        institution_code: session.reader.config.institution.as_str().to_owned(),
        method: method.as_str(),
        certificate: auth.certificate,
        challenge: challenge.bytes,
        signed_at,
        signature: auth.signature,
        consents: consents
            .iter()
            .map(|k| crate::wire::consent_name(*k))
            .collect(),
        as_of: session.reader.config.as_of,
    };
    match session.reader.center.check_phone(&request) {
        Ok(check) => {
            let notices = notice_for(&check).into_iter().collect();
            PhoneReception::Done(PhoneDone {
                reader: session.reader,
                check,
                method,
                consents,
                notices,
                record: session.record,
            })
        }
        Err(e) => center_failed(session.reader, e),
    }
}
