//! A scripted patient and member of staff: drives one reception with inputs fixed in
//! advance (PIN entries, camera frames, consent answers, a staff id), the way the
//! `onshi terminal reception` command and the end-to-end tests use the reader.

use onshi_card::{CardChannel, Pin};
use onshi_face::FaceImage;
use onshi_model::ConsentKind;

use crate::center::Center;
use crate::message::Message;
use crate::reception::{Done, Failed, Reader, Reception};
use crate::wire::Method;

/// The inputs of one scripted reception.
#[derive(Debug, Default)]
pub struct Script {
    /// The method chosen first.
    pub method: Option<Method>,
    /// PIN entries, used in order (identity and 利用登録 alike).
    pub pins: Vec<Pin>,
    /// 照合番号B as the camera reads it from the card face.
    pub matching_code: Option<Pin>,
    /// Camera frames, one per face attempt.
    pub frames: Vec<FaceImage>,
    /// The member of staff who confirms in 目視確認モード.
    pub staff_id: Option<String>,
    /// The kinds the patient agrees to share.
    pub consents: Vec<ConsentKind>,
    /// Answer yes when the reader offers 利用登録.
    pub link_if_needed: bool,
}

/// How a scripted reception ended.
#[derive(Debug)]
pub enum ScriptEnd<S> {
    /// The center answered.
    Done(Done<S>),
    /// The reception failed with a message for the patient.
    Failed(Failed<S>),
    /// The script had no input for the state the reader was in.
    Stopped {
        /// The state's name.
        state: &'static str,
        /// What input was missing.
        reason: String,
        /// What the reader showed last.
        messages: Vec<Message>,
    },
}

/// Runs one reception on `card` with `script`. `on_step` sees every state's name and
/// what the reader shows in it. For [`Method::Visual`] the reader is switched to
/// 目視確認モード before the card is placed; whenever the script switched the mode on
/// (also when staff take over after a failed face and a blocked PIN), it is switched back
/// to automatic mode at the end.
pub fn run<C: CardChannel, S: Center>(
    mut reader: Reader<S>,
    card: C,
    script: Script,
    mut on_step: impl FnMut(&'static str, &[Message]),
) -> ScriptEnd<S> {
    let Script {
        method,
        pins,
        mut matching_code,
        frames,
        staff_id,
        consents,
        link_if_needed,
    } = script;
    let mut pins = pins.into_iter();
    let mut frames = frames.into_iter();
    let mut visual = method == Some(Method::Visual);
    if visual {
        reader.set_visual_mode(true);
    }
    let start = reader.start();
    on_step("ExpectCard", &[start.prompt()]);
    let mut state = start.card_placed(card);
    let mut first_choice = true;
    loop {
        let messages = state.messages();
        on_step(state.name(), &messages);
        let stop = |state: &Reception<C, S>, reason: &str| ScriptEnd::Stopped {
            state: state.name(),
            reason: reason.to_owned(),
            messages: state.messages(),
        };
        state = match state {
            Reception::ExpectCard(_) => return stop(&state, "the card could not be read"),
            Reception::ExpectIdentity(s) => {
                let choice = if first_choice {
                    first_choice = false;
                    method
                } else if s.face_offered() && matching_code.is_some() && frames.len() > 0 {
                    Some(Method::Face)
                } else if s.pin_offered() && pins.len() > 0 {
                    Some(Method::Pin)
                } else if staff_id.is_some() {
                    Some(Method::Visual)
                } else {
                    None
                };
                match choice {
                    Some(Method::Pin) => s.pin(),
                    Some(Method::Face) => match matching_code.take() {
                        Some(code) => s.face(code),
                        None => {
                            let st = Reception::ExpectIdentity(s);
                            return stop(&st, "no 照合番号B for the face path");
                        }
                    },
                    Some(Method::Visual) => s.staff(),
                    None => {
                        let st = Reception::ExpectIdentity(s);
                        return stop(&st, "no identity method left in the script");
                    }
                }
            }
            Reception::ExpectPin(s) => match pins.next() {
                Some(pin) => s.enter(pin),
                None => return stop(&Reception::ExpectPin(s), "no PIN entry left"),
            },
            Reception::ExpectFace(s) => match frames.next() {
                Some(frame) => s.frame(&frame),
                None if pins.len() > 0 => s.use_pin(),
                None => return stop(&Reception::ExpectFace(s), "no camera frame left"),
            },
            Reception::ExpectStaff(s) => match &staff_id {
                Some(id) => {
                    visual = true;
                    s.set_visual_mode(true).confirm(id)
                }
                None => return stop(&Reception::ExpectStaff(s), "no staff to confirm"),
            },
            Reception::ExpectConsent(s) => {
                let agree = consents.contains(&s.kind());
                s.answer(agree)
            }
            Reception::ExpectLinkConsent(s) => s.answer(link_if_needed),
            Reception::ExpectLinkPin(s) => match pins.next() {
                Some(pin) => s.enter(pin),
                None => return stop(&Reception::ExpectLinkPin(s), "no PIN entry left"),
            },
            Reception::Done(mut d) => {
                if visual {
                    d.reader_mut().set_visual_mode(false);
                }
                return ScriptEnd::Done(d);
            }
            Reception::Failed(mut f) => {
                if visual {
                    f.reader_mut().set_visual_mode(false);
                }
                return ScriptEnd::Failed(f);
            }
        };
    }
}
