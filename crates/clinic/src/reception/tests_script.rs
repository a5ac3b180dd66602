//! The scripted driver over the same fixtures.

use super::*;
use crate::script::{Script, ScriptEnd, run};

fn steps(
    rd: Reader<FakeCenter>,
    card: VirtualCard,
    script: Script,
) -> (ScriptEnd<FakeCenter>, Vec<(&'static str, Vec<Message>)>) {
    let mut seen = Vec::new();
    let end = run(rd, card, script, |s, m| seen.push((s, m.to_vec())));
    (end, seen)
}

#[test]
fn wrong_then_right_pin() {
    let (end, seen) = steps(
        reader(FakeCenter::new()),
        card(),
        Script {
            method: Some(Method::Pin),
            pins: vec![Pin::from("1111"), Pin::from(PIN)],
            consents: vec![ConsentKind::Surgeries],
            ..Script::default()
        },
    );
    let ScriptEnd::Done(done) = end else {
        panic!("{end:?}")
    };
    assert_eq!(done.consents, [ConsentKind::Surgeries]);
    let names: Vec<_> = seen.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        names,
        [
            "ExpectCard",
            "ExpectIdentity",
            "ExpectPin",
            "ExpectPin",
            "ExpectConsent",
            "ExpectConsent",
            "ExpectConsent",
            "ExpectConsent",
            "ExpectConsent",
            "Done"
        ]
    );
    assert_eq!(seen[3].1[0], Message::WrongPin { tries_left: 2 });
}

#[test]
fn face_failures_fall_back_to_the_scripted_pin() {
    let (end, seen) = steps(
        scripted(
            FakeCenter::new(),
            &[Decision::NoMatch, Decision::NoFaceInProbe],
        ),
        card(),
        Script {
            method: Some(Method::Face),
            matching_code: Some(code_b()),
            frames: vec![frame(), frame()],
            pins: vec![Pin::from(PIN)],
            ..Script::default()
        },
    );
    let ScriptEnd::Done(done) = end else {
        panic!("{end:?}")
    };
    assert_eq!(done.method, Method::Pin);
    assert!(
        seen.iter()
            .any(|(_, m)| m.contains(&Message::FaceNotMatched { attempts_left: 1 }))
    );
    assert!(
        seen.iter()
            .any(|(_, m)| m.contains(&Message::FaceNotFound { attempts_left: 0 }))
    );
}

#[test]
fn visual_mode_is_switched_off_after_the_reception() {
    let (end, _) = steps(
        reader(FakeCenter::new()),
        card(),
        Script {
            method: Some(Method::Visual),
            staff_id: Some("nurse-1".into()),
            ..Script::default()
        },
    );
    let ScriptEnd::Done(mut done) = end else {
        panic!("{end:?}")
    };
    assert_eq!(done.method, Method::Visual);
    assert!(!done.reader_mut().visual_mode());
}

#[test]
fn a_script_without_the_needed_input_stops() {
    let (end, _) = steps(
        reader(FakeCenter::new()),
        card(),
        Script {
            method: Some(Method::Pin),
            ..Script::default()
        },
    );
    assert!(matches!(
        end,
        ScriptEnd::Stopped {
            state: "ExpectPin",
            ..
        }
    ));
}
