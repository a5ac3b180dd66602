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
use common::run;
use onshi_synth::find_scenarios;

const PHONE_PIN: &str = "5678";

/// `onshi phone SUB ARGS --center … --data-dir …`.
fn phone(clinic: &Clinic, sub: &str, args: &[&str]) -> String {
    let mut a = vec!["phone", sub];
    a.extend_from_slice(args);
    a.extend([
        "--center",
        &clinic.center.base,
        "--data-dir",
        clinic.data.to_str().unwrap(),
    ]);
    run(&a)
}

/// A new virtual phone `cards/NAME` (not set up).
fn new_phone(clinic: &Clinic, name: &str, args: &[&str]) -> PathBuf {
    let p = clinic.cards.join(name);
    let mut a = vec!["phone", "new", "--out", p.to_str().unwrap()];
    a.extend_from_slice(args);
    run(&a);
    p
}

/// Set-up from the portal app with `card`, then the phone waits for its push.
fn set_up(clinic: &Clinic, phone_file: &Path, card: &Path, extra: &[&str]) {
    let mut a = vec![
        "--phone",
        phone_file.to_str().unwrap(),
        "--card",
        card.to_str().unwrap(),
        "--sign-password",
        "ONSHI2025",
    ];
    a.extend_from_slice(extra);
    let out = phone(clinic, "setup", &a);
    assert!(out.contains("set-up requested"), "{out}");
    let waited = run(&[
        "phone",
        "wait",
        "--phone",
        phone_file.to_str().unwrap(),
        "--data-dir",
        clinic.data.to_str().unwrap(),
        "--timeout",
        "60",
    ]);
    assert!(
        waited.contains("push: ready") && waited.contains("credential installed"),
        "{waited}"
    );
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
        &[
            "--platform",
            "android",
            "--model",
            "Pixel 8",
            "--os",
            "14",
            "--pin",
            PHONE_PIN,
            "--sign-password",
            "PHONE123",
        ],
    );
    set_up(&clinic, &android, &a_card, &[]);
    let iphone = new_phone(
        &clinic,
        "iphone.phone",
        &[
            "--platform",
            "iphone",
            "--model",
            "iPhone 15",
            "--os",
            "18.5",
            "--biometric",
            "face-id",
        ],
    );
    set_up(&clinic, &iphone, &i_card, &["--input-pin", "1234"]);
    new_phone(
        &clinic,
        "blank.phone",
        &[
            "--platform",
            "android",
            "--model",
            "Pixel 8",
            "--os",
            "14",
            "--pin",
            PHONE_PIN,
            "--sign-password",
            "PHONE123",
        ],
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
    let checks: serde_json::Value = rt.block_on(async {
        common::tls::terminal_http(&clinic.cert)
            .get(format!(
                "{}/v1/institutions/{}/checks?limit=10",
                clinic.center.base, clinic.institution
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
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
