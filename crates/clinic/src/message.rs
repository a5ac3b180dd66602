//! What the reader shows: every prompt and every failure a patient or the staff meets,
//! each with a plain next step, in Japanese (the default) and English.

use onshi_model::ConsentKind;

/// Display language of the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 日本語 (default).
    #[default]
    Ja,
    /// English, on request.
    En,
}

/// One screen's text. Prompts say what the reader expects next; failures say what went
/// wrong and what to do now.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    // Prompts.
    /// 「マイナンバーカードを置いてください」.
    PlaceCard,
    /// Choose face recognition or PIN.
    ChooseMethod,
    /// Enter the 4-digit PIN.
    EnterPin { tries_left: u8 },
    /// Look at the camera.
    LookAtCamera { attempts_left: u8 },
    /// Staff compare the face with the photo (目視確認モード).
    StaffConfirm,
    /// Staff must switch the reader to 目視確認モード first.
    SwitchToVisualMode,
    /// One consent screen.
    Consent(ConsentKind),
    /// Offer 利用登録 right at the reader.
    OfferLink,
    /// Enter the PIN for 利用登録.
    EnterPinForLink { tries_left: u8 },
    /// 利用登録 done; the reception continues.
    Linked,
    /// The reception is complete.
    Done,

    // Failures and notices.
    /// Wrong PIN, `tries_left` more before the lock.
    WrongPin { tries_left: u8 },
    /// PIN blocked (`63C0`/`6984`).
    PinBlocked,
    /// The entry is not 4 digits; no try was spent.
    PinFormat,
    /// The card is not linked to insurance.
    CardNotLinked,
    /// The user-authentication certificate has expired.
    CertificateExpired,
    /// The user-authentication certificate was revoked.
    CertificateRevoked,
    /// Insurance lost (資格無効), not explained by a job change.
    InsuranceLost,
    /// A job change the new insurer has not registered yet.
    JobChangeNotRegistered,
    /// Several insurances at once (複数該当): staff choose.
    SeveralQualifications,
    /// The old insurance ended and a new one is registered (無効（新しい資格あり）).
    NewerQualification,
    /// The center did not answer; the reception is kept for staff.
    CenterUnreachable,
    /// No face in the camera frame.
    FaceNotFound { attempts_left: u8 },
    /// A face, but not the card's.
    FaceNotMatched { attempts_left: u8 },
    /// Face recognition cannot be used with this card (no photo, or card-face data not
    /// readable or not signed by J-LIS).
    FaceUnavailable,
    /// The card could not be read (moved, removed, not a My Number Card).
    CardUnreadable,
    /// The card's signature or data was not accepted by the center.
    CardNotAccepted,
    /// The reception took too long (the challenge expired): start again.
    TimedOut,
    /// The terminal itself is not accepted (revoked, wrong institution, not registered).
    TerminalNotAccepted,
    /// The center refused the request as malformed, or answered outside the contract.
    SystemError,
    /// A screen of the reception with a smartphone.
    Phone(crate::reception::PhoneMessage),
}

const ASK_DESK: &str = "受付でお申し出ください。保険証の確認を別の方法で行います";
const ASK_DESK_EN: &str =
    "Please speak to the reception desk. Your insurance will be checked another way";

impl Message {
    /// The text in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        match lang {
            Lang::Ja => self.ja(),
            Lang::En => self.en(),
        }
    }

    /// True for failures and notices (as opposed to prompts).
    pub fn is_failure(&self) -> bool {
        if let Self::Phone(m) = self {
            return m.is_failure();
        }
        !matches!(
            self,
            Self::PlaceCard
                | Self::ChooseMethod
                | Self::EnterPin { .. }
                | Self::LookAtCamera { .. }
                | Self::StaffConfirm
                | Self::SwitchToVisualMode
                | Self::Consent(_)
                | Self::OfferLink
                | Self::EnterPinForLink { .. }
                | Self::Linked
                | Self::Done
        )
    }

    /// A stable identifier (for logs and the scripted terminal's JSON).
    pub fn id(&self) -> &'static str {
        match self {
            Self::PlaceCard => "place_card",
            Self::ChooseMethod => "choose_method",
            Self::EnterPin { .. } => "enter_pin",
            Self::LookAtCamera { .. } => "look_at_camera",
            Self::StaffConfirm => "staff_confirm",
            Self::SwitchToVisualMode => "switch_to_visual_mode",
            Self::Consent(_) => "consent",
            Self::OfferLink => "offer_link",
            Self::EnterPinForLink { .. } => "enter_pin_for_link",
            Self::Linked => "linked",
            Self::Done => "done",
            Self::WrongPin { .. } => "wrong_pin",
            Self::PinBlocked => "pin_blocked",
            Self::PinFormat => "pin_format",
            Self::CardNotLinked => "card_not_linked",
            Self::CertificateExpired => "certificate_expired",
            Self::CertificateRevoked => "certificate_revoked",
            Self::InsuranceLost => "insurance_lost",
            Self::JobChangeNotRegistered => "job_change_not_registered",
            Self::SeveralQualifications => "several_qualifications",
            Self::NewerQualification => "newer_qualification",
            Self::CenterUnreachable => "center_unreachable",
            Self::FaceNotFound { .. } => "face_not_found",
            Self::FaceNotMatched { .. } => "face_not_matched",
            Self::FaceUnavailable => "face_unavailable",
            Self::CardUnreadable => "card_unreadable",
            Self::CardNotAccepted => "card_not_accepted",
            Self::TimedOut => "timed_out",
            Self::TerminalNotAccepted => "terminal_not_accepted",
            Self::SystemError => "system_error",
            Self::Phone(m) => m.id(),
        }
    }

    fn ja(&self) -> String {
        match self {
            Self::PlaceCard => "マイナンバーカードを置いてください。".into(),
            Self::ChooseMethod => "本人確認の方法を選んでください（顔認証／暗証番号）。".into(),
            Self::EnterPin { tries_left } => format!(
                "暗証番号（4桁の数字）を入力してください。（残り{tries_left}回）"
            ),
            Self::LookAtCamera { .. } => "カメラの方を向いてください。顔認証を行います。".into(),
            Self::StaffConfirm => {
                "職員が顔写真とご本人を確認します。そのままお待ちください。".into()
            }
            Self::SwitchToVisualMode => {
                "職員をお呼びください。（職員の方：目視確認モードに切り替えてください）".into()
            }
            Self::Consent(kind) => format!(
                "{}を当院（当薬局）に提供することに同意しますか？（はい／いいえ）",
                consent_label(*kind)
            ),
            Self::OfferLink => "このマイナンバーカードは健康保険証として登録されていません。\
                 この場で利用登録を行いますか？（はい／いいえ）"
                .into(),
            Self::EnterPinForLink { tries_left } => format!(
                "利用登録のため、暗証番号（4桁の数字）を入力してください。（残り{tries_left}回）"
            ),
            Self::Linked => "利用登録が完了しました。受付を続けます。".into(),
            Self::Done => "受付が完了しました。カードをお取りください。".into(),
            Self::WrongPin { tries_left } => format!(
                "暗証番号が違います。あと{tries_left}回間違えるとロックされます。\
                 もう一度入力してください。"
            ),
            Self::PinBlocked => "暗証番号がロックされています。お住まいの市区町村の窓口で\
                 暗証番号の再設定を行ってください。今回は顔認証または職員による確認で受付します。"
                .into(),
            Self::PinFormat => "暗証番号は4桁の数字です。もう一度入力してください。".into(),
            Self::CardNotLinked => "このマイナンバーカードは健康保険証として登録されていません。\
                 受付でお申し出ください。資格確認書またはマイナポータルで利用登録ができます。"
                .into(),
            Self::CertificateExpired => format!(
                "{ASK_DESK}。電子証明書の有効期限が切れています。\
                 お住まいの市区町村の窓口で電子証明書の更新を行ってください。"
            ),
            Self::CertificateRevoked => format!(
                "{ASK_DESK}。電子証明書が失効しています。\
                 お住まいの市区町村の窓口で電子証明書の再発行を行ってください。"
            ),
            Self::InsuranceLost => "ご加入の医療保険の資格が確認できません（資格無効）。\
                 受付でお申し出ください。加入中の保険者が発行した資格確認書をお持ちでしたら\
                 ご提示ください。"
                .into(),
            Self::JobChangeNotRegistered => "新しい保険の資格がまだ登録されていない可能性があります\
                 （転職・退職の直後によくあります）。受付でお申し出ください。\
                 資格確認書をご提示いただくか、当院から勤務先にお問い合わせして確認できます。"
                .into(),
            Self::SeveralQualifications => {
                "複数の保険資格が見つかりました。受付で職員が確認します。".into()
            }
            Self::NewerQualification => {
                "以前の保険は無効です。新しい保険の資格で受付します。".into()
            }
            Self::CenterUnreachable => "ただいまオンライン資格確認に接続できません。\
                 受付内容は保存しました。後ほど職員が確認しますので、受付でお待ちください。"
                .into(),
            Self::FaceNotFound { attempts_left } if *attempts_left > 0 => {
                "顔が確認できません。カメラの方を向いて、もう一度お試しください。".into()
            }
            Self::FaceNotFound { .. } => {
                "顔が確認できません。暗証番号による確認に切り替えます。".into()
            }
            Self::FaceNotMatched { attempts_left } if *attempts_left > 0 => {
                "顔認証ができませんでした。マスクや眼鏡を外して、もう一度お試しください。".into()
            }
            Self::FaceNotMatched { .. } => {
                "顔認証ができませんでした。暗証番号による確認に切り替えます。".into()
            }
            Self::FaceUnavailable => {
                "このカードでは顔認証を利用できません。暗証番号または職員による確認で受付します。"
                    .into()
            }
            Self::CardUnreadable => "カードを読み取れませんでした。カードを置き直してください。\
                 続けて読み取れない場合は受付でお申し出ください。"
                .into(),
            Self::CardNotAccepted => "カードを確認できませんでした。受付でお申し出ください。".into(),
            Self::TimedOut => "時間切れになりました。最初からやり直してください。".into(),
            Self::TerminalNotAccepted => "この端末はただいま利用できません。\
                 受付でお申し出ください。（職員の方：端末の証明書と医療機関コードを確認してください）"
                .into(),
            Self::SystemError => "システムエラーが発生しました。受付でお申し出ください。\
                 保険証の確認を別の方法で行います。"
                .into(),
            Self::Phone(m) => m.ja(),
        }
    }

    fn en(&self) -> String {
        match self {
            Self::PlaceCard => "Please place your My Number Card on the reader.".into(),
            Self::ChooseMethod => "Choose how to confirm your identity: face or PIN.".into(),
            Self::EnterPin { tries_left } => {
                format!("Enter your 4-digit PIN ({tries_left} tries left).")
            }
            Self::LookAtCamera { .. } => "Please look at the camera.".into(),
            Self::StaffConfirm => {
                "A member of staff will compare you with the card's photo.".into()
            }
            Self::SwitchToVisualMode => {
                "Please call a member of staff (staff: switch the reader to visual mode).".into()
            }
            Self::Consent(kind) => format!(
                "Do you agree to share your {} with this clinic? (yes/no)",
                consent_label_en(*kind)
            ),
            Self::OfferLink => "This card is not registered as a health insurance card. \
                 Register it now? (yes/no)"
                .into(),
            Self::EnterPinForLink { tries_left } => {
                format!("To register, enter your 4-digit PIN ({tries_left} tries left).")
            }
            Self::Linked => "Registration complete; continuing the reception.".into(),
            Self::Done => "Reception complete. Please take your card.".into(),
            Self::WrongPin { tries_left } => format!(
                "Wrong PIN. {tries_left} more wrong entries will lock it. Please try again."
            ),
            Self::PinBlocked => "Your PIN is locked. Have it reset at your municipal office. \
                 Today we will confirm you by face or by staff."
                .into(),
            Self::PinFormat => "The PIN is 4 digits. Please enter it again.".into(),
            Self::CardNotLinked => "This card is not registered as a health insurance card. \
                 Please speak to the desk; you can register it with the Myna Portal."
                .into(),
            Self::CertificateExpired => format!(
                "{ASK_DESK_EN}. The card's certificate has expired: renew it at your municipal \
                 office."
            ),
            Self::CertificateRevoked => format!(
                "{ASK_DESK_EN}. The card's certificate is revoked: have it reissued at your \
                 municipal office."
            ),
            Self::InsuranceLost => "Your insurance could not be confirmed (not valid). Please \
                 speak to the desk and show your eligibility certificate if you have one."
                .into(),
            Self::JobChangeNotRegistered => "Your new insurer may not have registered you yet \
                 (common right after a job change). Please speak to the desk: we can check \
                 with your eligibility certificate (資格確認書) or by asking your employer."
                .into(),
            Self::SeveralQualifications => {
                "Several insurances were found; staff will check.".into()
            }
            Self::NewerQualification => {
                "Your previous insurance has ended; your new insurance is used.".into()
            }
            Self::CenterUnreachable => "The eligibility service cannot be reached right now. \
                 Your reception is saved and staff will check later; please wait at the desk."
                .into(),
            Self::FaceNotFound { attempts_left } if *attempts_left > 0 => {
                "No face found. Please face the camera and try again.".into()
            }
            Self::FaceNotFound { .. } => "No face found. Switching to PIN.".into(),
            Self::FaceNotMatched { attempts_left } if *attempts_left > 0 => {
                "Face not recognised. Remove mask or glasses and try again.".into()
            }
            Self::FaceNotMatched { .. } => "Face not recognised. Switching to PIN.".into(),
            Self::FaceUnavailable => {
                "Face recognition cannot be used with this card; use the PIN or ask staff.".into()
            }
            Self::CardUnreadable => {
                "The card could not be read. Please place it again, or speak to the desk.".into()
            }
            Self::CardNotAccepted => {
                "The card could not be confirmed. Please speak to the desk.".into()
            }
            Self::TimedOut => "Time ran out. Please start again.".into(),
            Self::TerminalNotAccepted => "This terminal cannot be used right now. Please speak \
                 to the desk (staff: check the terminal certificate and institution code)."
                .into(),
            Self::SystemError => "A system error occurred. Please speak to the desk; your \
                 insurance will be checked another way."
                .into(),
            Self::Phone(m) => m.en(),
        }
    }
}

/// The consent screen's name of each kind.
pub fn consent_label(kind: ConsentKind) -> &'static str {
    kind.label()
}

fn consent_label_en(kind: ConsentKind) -> &'static str {
    match kind {
        ConsentKind::Medication => "medication history",
        ConsentKind::Checkups => "health check-up results",
        ConsentKind::Diagnoses => "diagnoses and treatments",
        ConsentKind::Surgeries => "surgeries",
        ConsentKind::CostCeiling => "high-cost ceiling category",
    }
}
