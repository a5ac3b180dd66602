//! The reader's screens and the reception desk in a real browser: headless Chromium
//! (playwright-core) against `onshi terminal kiosk`, which talks to `onshi serve --tls`
//! as an enrolled terminal. Cards are virtual card files placed with the kiosk's
//! simulation panel; the camera is Chromium's fake camera playing a synthetic face.
//! Screenshots of every step go to target/browser-screenshots/.

mod browser_support;
mod common;

use browser_support::*;
use onshi_synth::find_scenarios;

#[test]
fn kiosk_and_desk_in_the_browser() {
    if !browser_ready() {
        return;
    }
    let mut clinic = Clinic::new("browser-kiosk");
    let sc = find_scenarios(&clinic.nation, clinic.nation.household_count());
    let linked = &sc.card_linked;
    assert!(
        linked.len() >= 3,
        "need three linked persons, got {}",
        linked.len()
    );

    // The PIN patient; the face patient, whose own camera frame the matcher accepts as
    // the browser sends it and another person's it refuses; the staff patient.
    let (face_case, other_seed) = face_pair(&clinic, linked);
    let mut rest: Vec<onshi_synth::Case> = linked
        .iter()
        .copied()
        .filter(|c| c.person_id != face_case.person_id)
        .collect();
    // The PIN patient has the longest check-up history: the desk draws its trend.
    rest.sort_by_key(|c| std::cmp::Reverse(clinic.history(c).checkups.len()));
    let (pin_case, staff_case) = (rest[0], rest[1]);
    assert!(
        clinic.history(&pin_case).checkups.len() >= 2,
        "the PIN patient needs check-ups to chart"
    );
    clinic.issue(&pin_case, "pin.card");
    clinic.issue(&face_case, "face.card");
    clinic.issue(&staff_case, "staff.card");
    let own = clinic.data.join("own-face.y4m");
    write_y4m(
        &own,
        &[onshi_face::render_camera_frame(
            clinic.person(&face_case).face_seed,
            1,
        )],
    );
    let other = clinic.data.join("other-face.y4m");
    write_y4m(&other, &[onshi_face::render_camera_frame(other_seed, 1)]);
    let base = clinic.start_terminal();
    let env = |scenario: &str| {
        vec![
            ("ONSHI_TERMINAL_URL", base.clone()),
            (
                "ONSHI_SCREENSHOTS",
                screenshots(scenario).to_str().unwrap().to_owned(),
            ),
        ]
    };

    // A whole reception by PIN, the desk following live, the history with consent.
    let p = clinic.person(&pin_case);
    let h = clinic.history(&pin_case);
    let mut e = env("pin");
    e.extend([
        ("ONSHI_CARD", "pin.card".to_owned()),
        ("ONSHI_PATIENT_NAME", p.name.full()),
        ("ONSHI_EXPECT_MEDICATIONS", h.medications.len().to_string()),
        ("ONSHI_EXPECT_CHECKUPS", h.checkups.len().to_string()),
        ("ONSHI_LOOKUP", lookup(&clinic, &pin_case)),
    ]);
    let out = node("kiosk-pin.mjs", &e);
    assert!(out.contains("\"ok\":true"), "{out}");

    // By face, with the fake camera playing the card holder.
    let face_name = clinic.person(&face_case).name.full();
    let mut e = env("face");
    e.extend([
        ("ONSHI_CARD", "face.card".to_owned()),
        ("ONSHI_PATIENT_NAME", face_name.clone()),
        ("ONSHI_FACE", "match".to_owned()),
        ("ONSHI_CAMERA", own.to_str().unwrap().to_owned()),
    ]);
    node("kiosk-face.mjs", &e);

    // Another person's face: refused twice, then the PIN.
    let mut e = env("face-refused");
    e.extend([
        ("ONSHI_CARD", "face.card".to_owned()),
        ("ONSHI_PATIENT_NAME", face_name),
        ("ONSHI_FACE", "refuse".to_owned()),
        ("ONSHI_CAMERA", other.to_str().unwrap().to_owned()),
    ]);
    node("kiosk-face.mjs", &e);

    // A blocked PIN → staff → 目視確認モード from the desk; then the mode from the start.
    let mut e = env("staff");
    e.extend([
        ("ONSHI_CARD", "staff.card".to_owned()),
        ("ONSHI_PATIENT_NAME", clinic.person(&staff_case).name.full()),
    ]);
    node("kiosk-staff.mjs", &e);
    // The card file kept the block: the PIN was spent on the card itself.
    let card = onshi_card::CardFile::load(&clinic.cards.join("staff.card")).unwrap();
    let mut client = onshi_card::JpkiClient::new(onshi_card::VirtualCard::new(card));
    assert_eq!(
        client.tries_left(onshi_card::layout::PinRef::Auth).unwrap(),
        0,
        "three wrong entries block the card's PIN"
    );
}

/// The printed data of `case`'s insurance (as on a 資格確認書), for the desk's form.
fn lookup(clinic: &Clinic, case: &onshi_synth::Case) -> String {
    let h = clinic.nation.household(case.household);
    let r = h.records.iter().find(|r| r.id == case.record_id).unwrap();
    let p = clinic.person(case);
    serde_json::json!({
        "insurer_number": r.insurer_number.as_str(),
        "symbol": r.symbol.as_ref().map(|s| s.as_str()).unwrap_or_default(),
        "number": r.number.as_str(),
        "branch": r.branch.as_str(),
        "birth_date": p.birth_date.to_string(),
    })
    .to_string()
}

/// Among `linked`, a person whose first camera frame, as the browser sends it (through
/// I420 and JPEG), matches their card photo, and another of them whose frame that card
/// refuses.
fn face_pair(clinic: &Clinic, linked: &[onshi_synth::Case]) -> (onshi_synth::Case, u64) {
    use onshi_face::FaceMatcher;
    let m = onshi_face::ClassicMatcher::default();
    for c in linked {
        let seed = clinic.person(c).face_seed;
        let photo = onshi_face::render_card_photo(seed);
        let own = as_browser_sends(&onshi_face::render_camera_frame(seed, 1));
        if !m.compare(&photo, &own).is_ok_and(|o| o.is_match()) {
            continue;
        }
        for o in linked.iter().filter(|o| o.person_id != c.person_id) {
            let other_seed = clinic.person(o).face_seed;
            let other = as_browser_sends(&onshi_face::render_camera_frame(other_seed, 1));
            if m.compare(&photo, &other).is_ok_and(|r| !r.is_match()) {
                return (*c, other_seed);
            }
        }
    }
    panic!("no linked person's browser frame matched their card photo");
}
