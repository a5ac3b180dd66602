//! The smartphone reception at the kiosk, in a real browser: `onshi serve --tls` as the
//! center, phones set up through the real `onshi phone` commands (set-up from the portal
//! app signed with the card, the push on the phone's channel, the credential installed),
//! `onshi terminal kiosk` as the reader, and headless Chromium driving its pages. The
//! simulation panel holds the phone files to the general-purpose reader and acts out the
//! iPhone's Face ID. Screenshots go to target/browser-screenshots/.

mod browser_support;
mod common;

use std::path::{Path, PathBuf};

use browser_support::*;
use common::{IPHONE_15, android_phone, phone_at, set_up_phone};
use onshi_synth::find_scenarios;

const PHONE_PIN: &str = "5678";

/// `onshi phone SUB ARGS --center … --data-dir …`.
fn phone(clinic: &Clinic, sub: &str, args: &[&str]) -> String {
    phone_at(&clinic.center.base, &clinic.data, sub, args)
}

/// A new virtual phone `cards/NAME` (not set up).
fn new_phone(clinic: &Clinic, name: &str, args: &[&str]) -> PathBuf {
    let p = clinic.cards.join(name);
    common::new_phone(&p, args);
    p
}

/// Set-up from the portal app with `card`, then the phone waits for its push.
fn set_up(clinic: &Clinic, phone_file: &Path, card: &Path, extra: &[&str]) {
    set_up_phone(&clinic.center.base, &clinic.data, phone_file, card, extra);
}

#[test]
fn smartphone_receptions_at_the_kiosk() {
    if !browser_ready() {
        return;
    }
    let mut clinic = Clinic::new("browser-phone");
    let sc = find_scenarios(&clinic.nation, clinic.nation.household_count());
    let linked = &sc.card_linked;
    assert!(linked.len() >= 2, "need two linked persons");
    let (a_case, i_case) = (linked[0], linked[1]);
    let a_card = clinic.issue(&a_case, "android-owner.card");
    let i_card = clinic.issue(&i_case, "iphone-owner.card");

    let android = new_phone(
        &clinic,
        "android.phone",
        &android_phone("Pixel 8", "14", PHONE_PIN, "PHONE123"),
    );
    set_up(&clinic, &android, &a_card, &[]);
    let iphone = new_phone(&clinic, "iphone.phone", &IPHONE_15);
    set_up(&clinic, &iphone, &i_card, &["--input-pin", "1234"]);
    new_phone(
        &clinic,
        "blank.phone",
        &android_phone("Pixel 8", "14", PHONE_PIN, "PHONE123"),
    );

    let base = clinic.start_terminal();
    let env = |scenario: &str, part: &str| {
        vec![
            ("ONSHI_TERMINAL_URL", base.clone()),
            (
                "ONSHI_SCREENSHOTS",
                screenshots(scenario).to_str().unwrap().to_owned(),
            ),
            ("ONSHI_PART", part.to_owned()),
            ("ONSHI_ANDROID", "android.phone".to_owned()),
            ("ONSHI_ANDROID_NAME", clinic.person(&a_case).name.full()),
            ("ONSHI_IPHONE", "iphone.phone".to_owned()),
            ("ONSHI_IPHONE_NAME", clinic.person(&i_case).name.full()),
            ("ONSHI_BLANK_PHONE", "blank.phone".to_owned()),
            ("ONSHI_PHONE_PIN", PHONE_PIN.to_owned()),
        ]
    };
    let out = node("kiosk-phone.mjs", &env("phone", "receptions"));
    assert!(out.contains("\"ok\":true"), "{out}");

    // The center recorded both with the phone's method (4: Android, 5: iPhone).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let checks = rt.block_on(common::get_json(
        &common::tls::terminal_http(&clinic.cert),
        format!(
            "{}/v1/institutions/{}/checks?limit=10",
            clinic.center.base, clinic.institution
        ),
    ));
    let methods: Vec<&str> = checks
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|c| c["method"].as_str())
        .collect();
    assert!(
        methods.contains(&"4") && methods.contains(&"5"),
        "phone methods recorded: {checks}"
    );

    // A lost Android phone suspended from the portal: the kiosk says what to do.
    let s = phone(
        &clinic,
        "suspend",
        &[
            "--card",
            a_card.to_str().unwrap(),
            "--pin",
            "1234",
            "--phone",
            android.to_str().unwrap(),
        ],
    );
    assert!(s.contains("\"suspended\""), "{s}");
    let out = node("kiosk-phone.mjs", &env("phone-suspended", "suspended"));
    assert!(out.contains("\"ok\":true"), "{out}");
}
