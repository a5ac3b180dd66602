//! The kiosk's handlers: the page, its event stream, and one POST per tap.

use std::convert::Infallible;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, http::StatusCode};
use futures_util::Stream;
use onshi_card::phone::FileBackedPhone;
use onshi_card::{FileBackedCard, Pin};
use onshi_model::ConsentKind;

use super::card::{PlacedCard, ReaderCard, SimCard, SimPhone, list_cards, list_phones};
use super::station::{Action, DoneSummary, Platform, Screen, ShownMethod, Step};
use super::{T, Terminal, html, refused};
use crate::message::{Lang, Message};
use crate::reception::PhoneMethod;
use crate::wire::Method;

pub(super) fn routes() -> Router<Terminal> {
    Router::new()
        .route("/kiosk", get(page))
        .route("/kiosk/events", get(events))
        .route("/kiosk/screen", get(screen_fragment))
        .route("/kiosk/lang", post(lang))
        .route("/kiosk/phone", post(phone))
        .route("/kiosk/phone/back", post(phone_back))
        .route("/kiosk/phone/{platform}", post(phone_choose))
        .route("/kiosk/method/{method}", post(method))
        .route("/kiosk/pin", post(pin))
        .route("/kiosk/pin/cancel", post(pin_cancel))
        .route("/kiosk/face", post(face_frame))
        .route("/kiosk/face/pin", post(face_use_pin))
        .route("/kiosk/consent", post(consent))
        .route("/kiosk/link", post(link))
        .route("/kiosk/finish", post(finish))
        .route("/kiosk/sim/place", post(sim_place))
        .route("/kiosk/sim/remove", post(finish))
        .route("/kiosk/sim/phone", post(sim_phone))
        .route("/kiosk/sim/biometric", post(sim_biometric))
}

#[derive(Template)]
#[template(path = "kiosk.html")]
struct Page {
    t: T,
    screen: String,
    sim: Option<Vec<SimCard>>,
    phones: Vec<SimPhone>,
}

async fn page(State(app): State<Terminal>) -> Response {
    let screen = app.screen();
    let page = Page {
        t: T(screen.lang),
        screen: render_screen(&screen),
        sim: app.sim_cards.as_deref().map(list_cards),
        phones: app
            .sim_cards
            .as_deref()
            .filter(|_| app.phones)
            .map(list_phones)
            .unwrap_or_default(),
    };
    match page.render() {
        Ok(body) => html(body),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn screen_fragment(State(app): State<Terminal>) -> Response {
    html(render_screen(&app.screen()))
}

/// The screen now, then each new one, as `screen` events.
async fn events(State(app): State<Terminal>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = app.screen.clone();
    let stream = futures_util::stream::unfold((rx, true), |(mut rx, first)| async move {
        if !first && rx.changed().await.is_err() {
            return None;
        }
        let html = render_screen(&rx.borrow_and_update());
        Some((Ok(Event::default().event("screen").data(html)), (rx, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// One screen of the reader, as the kiosk page shows it.
#[derive(Template)]
#[template(path = "kiosk_screen.html")]
struct ScreenView<'a> {
    t: T,
    seq: u64,
    step: &'static str,
    title: String,
    alerts: Vec<String>,
    tries_left: u8,
    attempts_left: u8,
    face: bool,
    pin: bool,
    visual_mode: bool,
    consent_number: usize,
    consent_total: usize,
    consent_about: &'static str,
    consent_why: &'static str,
    platform: &'static str,
    done: Option<&'a DoneSummary>,
    method: &'static str,
    consents: String,
    failed: bool,
}

pub(super) fn render_screen(s: &Screen) -> String {
    let t = T(s.lang);
    let lang = s.lang;
    let mut texts: Vec<&Message> = s.messages.iter().collect();
    let prompt = texts.pop();
    let mut alerts: Vec<String> = texts.iter().map(|m| m.text(lang)).collect();
    let mut title = prompt.map(|m| m.text(lang)).unwrap_or_default();
    let mut view = ScreenView {
        t,
        seq: s.seq,
        step: s.step.id(),
        title: String::new(),
        alerts: Vec::new(),
        tries_left: 0,
        attempts_left: 0,
        face: false,
        pin: false,
        visual_mode: s.visual_mode,
        consent_number: 0,
        consent_total: ConsentKind::ALL.len(),
        consent_about: "",
        consent_why: "",
        platform: "",
        done: None,
        method: "",
        consents: String::new(),
        failed: false,
    };
    match &s.step {
        Step::Card => {}
        Step::PhoneChoice => {
            title = t
                .s(
                    "お使いのスマートフォンを選んでください。",
                    "Which smartphone do you use?",
                )
                .to_owned();
        }
        Step::PhoneUnavailable(p) => {
            view.platform = p.label();
            title = t
                .s(
                    "この読み取り機では、スマートフォンでの受付はまだ準備されていません。",
                    "Smartphone reception is not set up at this reader yet.",
                )
                .to_owned();
        }
        Step::Identity { face, pin } => {
            view.face = *face;
            view.pin = *pin;
        }
        Step::Pin { tries_left, .. } | Step::PhonePin { tries_left } => {
            view.tries_left = *tries_left;
        }
        Step::PhoneHold(p) => view.platform = p.label(),
        Step::Biometric { attempts_left } => view.attempts_left = *attempts_left,
        Step::Face { attempts_left } => view.attempts_left = *attempts_left,
        Step::Staff { .. } => {}
        Step::Consent { kind, number } => {
            view.consent_number = *number;
            let (about, why) = consent_text(*kind, lang);
            view.consent_about = about;
            view.consent_why = why;
        }
        Step::Link => {}
        Step::Done(d) => {
            view.done = Some(d);
            view.method = method_label(d.method, lang);
            view.consents = if d.consents.is_empty() {
                t.s("なし", "none").to_owned()
            } else {
                d.consents
                    .iter()
                    .map(|k| consent_name(*k, lang))
                    .collect::<Vec<_>>()
                    .join(t.s("、", ", "))
            };
        }
        Step::Failed(_) => {
            view.failed = true;
            // The failure is the whole message: a short title, the failure as its text.
            alerts.push(title);
            title = t
                .s(
                    "受付できませんでした",
                    "The reception could not be completed",
                )
                .to_owned();
        }
    }
    view.title = title;
    view.alerts = alerts;
    view.render().unwrap_or_else(|e| format!("<p>{e}</p>"))
}

fn method_label(m: ShownMethod, lang: Lang) -> &'static str {
    let (ja, en) = match m {
        ShownMethod::Card(Method::Pin) => ("暗証番号", "PIN"),
        ShownMethod::Card(Method::Face) => ("顔認証", "face recognition"),
        ShownMethod::Card(Method::Visual) => ("職員による確認", "staff check"),
        ShownMethod::Phone(PhoneMethod::AndroidPin) => (
            "スマートフォン（Android・暗証番号）",
            "smartphone (Android, PIN)",
        ),
        ShownMethod::Phone(PhoneMethod::IphoneBiometric) => (
            "スマートフォン（iPhone・生体認証）",
            "smartphone (iPhone, Face ID / Touch ID)",
        ),
    };
    T(lang).s(ja, en)
}

fn consent_name(k: ConsentKind, lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => k.label(),
        Lang::En => match k {
            ConsentKind::Medication => "medication",
            ConsentKind::Checkups => "check-ups",
            ConsentKind::Diagnoses => "diagnoses",
            ConsentKind::Surgeries => "surgeries",
            ConsentKind::CostCeiling => "cost ceiling",
        },
    }
}

/// What each consent screen explains: what the information is, and why the clinic asks.
fn consent_text(k: ConsentKind, lang: Lang) -> (&'static str, &'static str) {
    let t = T(lang);
    match k {
        ConsentKind::Medication => (
            t.s(
                "これまでに処方されたお薬の記録です（お薬の名前・量・日付）。",
                "The record of medicines you were prescribed (name, amount, date).",
            ),
            t.s(
                "飲み合わせの悪いお薬や、同じお薬が重なるのを防ぐために、医師・薬剤師が確認します。",
                "The doctor and pharmacist check it to avoid medicines that clash or repeat.",
            ),
        ),
        ConsentKind::Checkups => (
            t.s(
                "健康診断（特定健診）の結果です（血圧・血液検査・体重など）。",
                "Your health check-up results (blood pressure, blood tests, weight …).",
            ),
            t.s(
                "これまでの値の変化を見て、診察の参考にします。",
                "The doctor looks at how the values changed, to help with your care.",
            ),
        ),
        ConsentKind::Diagnoses => (
            t.s(
                "過去に受けた診療の記録です（病名・治療の内容）。",
                "The record of past treatment (diagnoses and what was done).",
            ),
            t.s(
                "これまでの病気や治療の経過を知り、安全に診療するために確認します。",
                "Knowing your past illnesses and treatment helps the doctor treat you safely.",
            ),
        ),
        ConsentKind::Surgeries => (
            t.s(
                "過去に受けた手術の記録です。",
                "The record of surgeries you have had.",
            ),
            t.s(
                "安全な検査や治療のために確認します。",
                "The doctor checks it so that tests and treatment are safe.",
            ),
        ),
        ConsentKind::CostCeiling => (
            t.s(
                "高額な医療費の自己負担の上限（限度額）の区分です。",
                "Your category for the monthly ceiling on medical costs.",
            ),
            t.s(
                "同意すると、窓口でのお支払いが上限までになります（限度額適用認定証が不要になります）。",
                "If you agree, you pay no more than the ceiling at the counter (no certificate needed).",
            ),
        ),
    }
}

fn done(r: Result<(), super::Refusal>) -> Response {
    match r {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(e),
    }
}

#[derive(serde::Deserialize)]
struct LangForm {
    lang: String,
}

async fn lang(State(app): State<Terminal>, Form(f): Form<LangForm>) -> Response {
    let lang = if f.lang == "en" { Lang::En } else { Lang::Ja };
    done(app.act(Action::Lang(lang)).await)
}

async fn phone(State(app): State<Terminal>) -> Response {
    done(app.act(Action::Phone).await)
}

async fn phone_back(State(app): State<Terminal>) -> Response {
    done(app.act(Action::PhoneBack).await)
}

async fn phone_choose(State(app): State<Terminal>, Path(platform): Path<String>) -> Response {
    let p = match platform.as_str() {
        "iphone" => Platform::Iphone,
        "android" => Platform::Android,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    done(app.act(Action::PhoneChoose(p)).await)
}

async fn method(State(app): State<Terminal>, Path(m): Path<String>) -> Response {
    let action = match m.as_str() {
        "face" => Action::ChooseFace,
        "pin" => Action::ChoosePin,
        "staff" => Action::ChooseStaff,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    done(app.act(action).await)
}

#[derive(serde::Deserialize)]
struct PinForm {
    pin: String,
}

async fn pin(State(app): State<Terminal>, Form(f): Form<PinForm>) -> Response {
    let pin = Pin::from(f.pin.as_str());
    drop(f);
    done(app.act(Action::Pin(pin)).await)
}

async fn pin_cancel(State(app): State<Terminal>) -> Response {
    done(app.act(Action::PinCancel).await)
}

async fn face_frame(State(app): State<Terminal>, body: Bytes) -> Response {
    done(app.act(Action::Frame(body.to_vec())).await)
}

async fn face_use_pin(State(app): State<Terminal>) -> Response {
    done(app.act(Action::UsePin).await)
}

#[derive(serde::Deserialize)]
struct AnswerForm {
    answer: String,
}

async fn consent(State(app): State<Terminal>, Form(f): Form<AnswerForm>) -> Response {
    done(app.act(Action::Consent(f.answer == "yes")).await)
}

async fn link(State(app): State<Terminal>, Form(f): Form<AnswerForm>) -> Response {
    done(app.act(Action::Link(f.answer == "yes")).await)
}

async fn finish(State(app): State<Terminal>) -> Response {
    done(app.act(Action::Remove).await)
}

#[derive(serde::Deserialize)]
struct PlaceForm {
    card: String,
}

/// The simulation panel puts one of the offered card files on the reader.
async fn sim_place(State(app): State<Terminal>, Form(f): Form<PlaceForm>) -> Response {
    let Some(dir) = app.sim_cards.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Only a card the panel lists: the name never becomes a path by itself.
    let Some(sim) = list_cards(dir).into_iter().find(|c| c.name == f.card) else {
        return (
            StatusCode::BAD_REQUEST,
            "そのカードはありません。 / No such card.",
        )
            .into_response();
    };
    let card = match FileBackedCard::open(&sim.path) {
        Ok(c) => c,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let placed = PlacedCard::of_file(&sim.name, card.card().file());
    done(
        app.act(Action::Place(
            Box::new(ReaderCard::File(Box::new(card))),
            placed,
        ))
        .await,
    )
}

#[derive(serde::Deserialize)]
struct PhoneForm {
    phone: String,
}

/// The simulation panel holds one of the offered phone files to the general-purpose
/// reader.
async fn sim_phone(State(app): State<Terminal>, Form(f): Form<PhoneForm>) -> Response {
    let Some(dir) = app.sim_cards.as_deref().filter(|_| app.phones) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Only a phone the panel lists: the name never becomes a path by itself.
    let Some(sim) = list_phones(dir).into_iter().find(|p| p.name == f.phone) else {
        return (
            StatusCode::BAD_REQUEST,
            "そのスマートフォンはありません。 / No such phone.",
        )
            .into_response();
    };
    let phone = match FileBackedPhone::open(&sim.path) {
        Ok(p) => p,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    done(
        app.act(Action::PlacePhone(
            Box::new(ReaderCard::Phone(Box::new(phone))),
            sim.name,
        ))
        .await,
    )
}

#[derive(serde::Deserialize)]
struct BiometricForm {
    result: String,
}

/// The simulation panel acts for the patient on the phone: Face ID / Touch ID that
/// matches or does not.
async fn sim_biometric(State(app): State<Terminal>, Form(f): Form<BiometricForm>) -> Response {
    if app.sim_cards.is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let matches = match f.result.as_str() {
        "match" => true,
        "mismatch" => false,
        _ => return StatusCode::BAD_REQUEST.into_response(),
    };
    done(app.act(Action::Biometric(matches)).await)
}
