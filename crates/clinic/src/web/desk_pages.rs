//! The desk's handlers: the page, its event stream (the reader and today's receptions),
//! the consented history of one reception, 目視確認モード, and the check by insurance data.

use std::collections::VecDeque;
use std::convert::Infallible;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{NaiveDate, Utc};
use futures_util::Stream;
use onshi_model::{
    BranchNumber, ConsentKind, InsuranceDataQuery, InsuredCardSymbol, InsuredNumber, InsurerNumber,
};
use serde_json::Value;

use super::desk::{Entry, TRENDS, series, trend_svg};
use super::station::{Action, Screen};
use super::{LangQuery, T, Terminal, html, refused};
use crate::center::CenterError;
use crate::message::Lang;
use crate::wire::HistoryKind;

pub(super) fn routes() -> Router<Terminal> {
    Router::new()
        .route("/desk", get(page))
        .route("/desk/events", get(events))
        .route("/desk/receptions/{id}", get(detail))
        .route("/desk/visual", post(visual))
        .route("/desk/confirm", post(confirm))
        .route("/desk/lookup", post(lookup))
}

#[derive(Template)]
#[template(path = "desk.html")]
struct Page {
    t: T,
    reader: String,
    rows: String,
}

async fn page(State(app): State<Terminal>, Query(q): Query<LangQuery>) -> Response {
    let lang = q.lang();
    let page = Page {
        t: T(lang),
        reader: render_reader(&app.screen(), lang),
        rows: render_rows(&app, lang),
    };
    render(page)
}

fn render(t: impl Template) -> Response {
    match t.render() {
        Ok(body) => html(body),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The reader's state as staff see it, with the 目視確認モード switch.
#[derive(Template)]
#[template(path = "desk_reader.html")]
struct ReaderView {
    t: T,
    step: &'static str,
    title: String,
    visual_mode: bool,
    card: String,
}

fn render_reader(s: &Screen, lang: Lang) -> String {
    ReaderView {
        t: T(lang),
        step: s.step.id(),
        title: s.messages.last().map(|m| m.text(lang)).unwrap_or_default(),
        visual_mode: s.visual_mode,
        card: s.card.clone().unwrap_or_default(),
    }
    .render()
    .unwrap_or_default()
}

struct Row {
    id: u64,
    time: String,
    name: String,
    birth: String,
    insurer: String,
    result: String,
    ok: bool,
    method: &'static str,
    warnings: Vec<String>,
    consents: String,
    history: bool,
}

#[derive(Template)]
#[template(path = "desk_rows.html")]
struct RowsView {
    t: T,
    rows: Vec<Row>,
}

fn render_rows(app: &Terminal, lang: Lang) -> String {
    let now = Utc::now();
    let rows = app
        .desk
        .today(now)
        .into_iter()
        .map(|e| Row {
            id: e.id,
            time: e
                .at
                .with_timezone(&onshi_pki::jst())
                .format("%H:%M:%S")
                .to_string(),
            name: e.name.clone().unwrap_or_else(|| "—".into()),
            birth: e.birth_date.map(|d| d.to_string()).unwrap_or_default(),
            insurer: e.insurer.clone().unwrap_or_default(),
            result: e.result_label(lang),
            ok: e.ok(),
            method: e.method.label(lang),
            warnings: e.warnings(now, lang),
            consents: e
                .consents
                .iter()
                .map(|k| consent_label(*k, lang))
                .collect::<Vec<_>>()
                .join(" / "),
            history: e.reception_id.is_some() && !e.consents.is_empty(),
        })
        .collect();
    RowsView { t: T(lang), rows }.render().unwrap_or_default()
}

fn consent_label(k: ConsentKind, lang: Lang) -> &'static str {
    T(lang).s(
        k.label(),
        match k {
            ConsentKind::Medication => "Medication",
            ConsentKind::Checkups => "Check-ups",
            ConsentKind::Diagnoses => "Diagnoses",
            ConsentKind::Surgeries => "Surgeries",
            ConsentKind::CostCeiling => "Cost ceiling",
        },
    )
}

/// `reader` and `receptions` events: both at once, then each as it changes.
async fn events(
    State(app): State<Terminal>,
    Query(q): Query<LangQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let lang = q.lang();
    let screen = app.screen.clone();
    let log = app.desk.subscribe();
    let mut first = VecDeque::new();
    first.push_back(
        Event::default()
            .event("reader")
            .data(render_reader(&app.screen(), lang)),
    );
    first.push_back(
        Event::default()
            .event("receptions")
            .data(render_rows(&app, lang)),
    );
    let stream = futures_util::stream::unfold(
        (app, screen, log, first),
        move |(app, mut screen, mut log, mut queue)| async move {
            loop {
                if let Some(e) = queue.pop_front() {
                    return Some((Ok(e), (app, screen, log, queue)));
                }
                tokio::select! {
                    r = screen.changed() => {
                        r.ok()?;
                        let s = screen.borrow_and_update().clone();
                        queue.push_back(Event::default().event("reader").data(render_reader(&s, lang)));
                    }
                    r = log.changed() => {
                        r.ok()?;
                        log.mark_unchanged();
                        queue.push_back(Event::default().event("receptions").data(render_rows(&app, lang)));
                    }
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[derive(serde::Deserialize)]
struct VisualForm {
    on: String,
}

async fn visual(State(app): State<Terminal>, Form(f): Form<VisualForm>) -> Response {
    match app.act(Action::VisualMode(f.on == "1")).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(e),
    }
}

#[derive(serde::Deserialize)]
struct ConfirmForm {
    staff_id: String,
}

async fn confirm(State(app): State<Terminal>, Form(f): Form<ConfirmForm>) -> Response {
    match app.act(Action::StaffConfirm(f.staff_id)).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(e),
    }
}

struct Medication {
    date: String,
    name: String,
    dose: String,
    quantity: String,
    days: String,
}

struct Checkup {
    date: String,
    bp: String,
    hba1c: String,
    ldl: String,
    weight: String,
    bmi: String,
}

struct Diagnosis {
    started: String,
    name: String,
    icd10: String,
    ended: String,
}

struct Surgery {
    date: String,
    name: String,
}

#[derive(Template)]
#[template(path = "desk_detail.html")]
struct DetailView {
    t: T,
    entry: Entry,
    warnings: Vec<String>,
    problems: Vec<String>,
    medications: Option<Vec<Medication>>,
    checkups: Option<Vec<Checkup>>,
    charts: Vec<String>,
    diagnoses: Option<Vec<Diagnosis>>,
    surgeries: Option<Vec<Surgery>>,
}

fn text(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// One reception's details and the history the patient agreed to share, read from the
/// center (`GET /v1/receptions/{id}/{kind}`) while the consent holds.
async fn detail(
    State(app): State<Terminal>,
    Path(id): Path<u64>,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = q.lang();
    let t = T(lang);
    let Some(entry) = app.desk.get(id) else {
        return (
            StatusCode::NOT_FOUND,
            t.s("その受付はありません。", "No such reception.")
                .to_owned(),
        )
            .into_response();
    };
    let now = Utc::now();
    let mut view = DetailView {
        t,
        warnings: entry.warnings(now, lang),
        entry: entry.clone(),
        problems: Vec::new(),
        medications: None,
        checkups: None,
        charts: Vec::new(),
        diagnoses: None,
        surgeries: None,
    };
    let Some(reception) = entry.reception_id.as_deref() else {
        return render(view);
    };
    if entry.consent_expired(now) {
        return render(view);
    }
    for kind in &entry.consents {
        let hk = match kind {
            ConsentKind::Medication => HistoryKind::Medications,
            ConsentKind::Checkups => HistoryKind::Checkups,
            ConsentKind::Diagnoses => HistoryKind::Diagnoses,
            ConsentKind::Surgeries => HistoryKind::Surgeries,
            ConsentKind::CostCeiling => continue,
        };
        let rows = match app.client.history(reception, hk).await {
            Ok(rows) => rows,
            Err(e) => {
                view.problems.push(history_problem(&e, *kind, lang));
                continue;
            }
        };
        match hk {
            HistoryKind::Medications => {
                let mut m: Vec<Medication> = rows
                    .iter()
                    .map(|r| Medication {
                        date: text(r, "dispensed_on"),
                        name: text(r, "drug_name"),
                        dose: text(r, "dose"),
                        quantity: format!("{} {}", text(r, "quantity"), text(r, "unit")),
                        days: text(r, "days_supplied"),
                    })
                    .collect();
                m.sort_by(|a, b| b.date.cmp(&a.date));
                view.medications = Some(m);
            }
            HistoryKind::Checkups => {
                for (field, ja, en, unit) in TRENDS {
                    let points = series(&rows, field);
                    if !points.is_empty() {
                        view.charts.push(trend_svg(t.s(ja, en), unit, &points));
                    }
                }
                let mut c: Vec<Checkup> = rows
                    .iter()
                    .map(|r| Checkup {
                        date: text(r, "performed_on"),
                        bp: format!("{}/{}", text(r, "systolic_mmhg"), text(r, "diastolic_mmhg")),
                        hba1c: text(r, "hba1c_percent"),
                        ldl: text(r, "ldl_mg_dl"),
                        weight: text(r, "weight_kg"),
                        bmi: text(r, "bmi"),
                    })
                    .collect();
                c.sort_by(|a, b| b.date.cmp(&a.date));
                view.checkups = Some(c);
            }
            HistoryKind::Diagnoses => {
                let mut d: Vec<Diagnosis> = rows
                    .iter()
                    .map(|r| Diagnosis {
                        started: text(r, "started_on"),
                        name: text(r, "name"),
                        icd10: text(r, "icd10"),
                        ended: text(r, "ended_on"),
                    })
                    .collect();
                d.sort_by(|a, b| b.started.cmp(&a.started));
                view.diagnoses = Some(d);
            }
            HistoryKind::Surgeries => {
                let mut s: Vec<Surgery> = rows
                    .iter()
                    .map(|r| Surgery {
                        date: text(r, "performed_on"),
                        name: text(r, "name"),
                    })
                    .collect();
                s.sort_by(|a, b| b.date.cmp(&a.date));
                view.surgeries = Some(s);
            }
        }
    }
    render(view)
}

fn history_problem(e: &CenterError, kind: ConsentKind, lang: Lang) -> String {
    let t = T(lang);
    let what = consent_label(kind, lang);
    match e.code().map(|c| c.as_str()) {
        Some("consent_expired") => format!(
            "{what}: {}",
            t.s("同意の有効期限が切れています。", "the consent has expired.")
        ),
        Some("consent_missing") => format!(
            "{what}: {}",
            t.s("同意がありません。", "no consent was given.")
        ),
        _ => format!(
            "{what}: {} ({e})",
            t.s("取得できませんでした", "could not be read")
        ),
    }
}

#[derive(serde::Deserialize)]
struct LookupForm {
    insurer_number: String,
    #[serde(default)]
    symbol: String,
    number: String,
    #[serde(default)]
    branch: String,
    birth_date: String,
}

#[derive(Template)]
#[template(path = "desk_lookup.html")]
struct LookupView {
    t: T,
    error: Option<String>,
    entry: Option<Entry>,
    warnings: Vec<String>,
}

/// 資格確認書 (or an insurance card): the check by the printed data.
async fn lookup(
    State(app): State<Terminal>,
    Query(q): Query<LangQuery>,
    Form(f): Form<LookupForm>,
) -> Response {
    let lang = q.lang();
    let t = T(lang);
    let mut view = LookupView {
        t,
        error: None,
        entry: None,
        warnings: Vec::new(),
    };
    let query = match parse_lookup(&f, lang) {
        Ok(q) => q,
        Err(msg) => {
            view.error = Some(msg);
            return render(view);
        }
    };
    match app
        .client
        .check_insurance_data(&app.institution, &query, app.as_of)
        .await
    {
        Ok(result) => {
            let entry = Entry::from_insurance_data(&result);
            let id = app.desk.push(entry);
            let entry = app.desk.get(id);
            view.warnings = entry
                .as_ref()
                .map(|e| e.warnings(Utc::now(), lang))
                .unwrap_or_default();
            view.entry = entry;
        }
        Err(e) => {
            view.error = Some(match &e {
                CenterError::Refused { problem, .. } if lang == Lang::Ja => {
                    problem.message_ja.clone()
                }
                CenterError::Unreachable { .. } => t
                    .s(
                        "オンライン資格確認に接続できません。時間をおいてもう一度お試しください。",
                        "The eligibility service cannot be reached; try again shortly.",
                    )
                    .to_owned(),
                other => other.to_string(),
            });
        }
    }
    render(view)
}

fn parse_lookup(f: &LookupForm, lang: Lang) -> Result<InsuranceDataQuery, String> {
    let t = T(lang);
    let field = |ja: &str, en: &str, e: &dyn std::fmt::Display| format!("{}: {e}", t.s(ja, en));
    let insurer_number = InsurerNumber::parse(f.insurer_number.trim())
        .map_err(|e| field("保険者番号", "Insurer number", &e))?;
    let symbol = match f.symbol.trim() {
        "" => None,
        s => Some(InsuredCardSymbol::parse(s).map_err(|e| field("記号", "Symbol", &e))?),
    };
    let number = InsuredNumber::parse(f.number.trim()).map_err(|e| field("番号", "Number", &e))?;
    let branch = match f.branch.trim() {
        "" => None,
        s => Some(BranchNumber::parse(s).map_err(|e| field("枝番", "Branch", &e))?),
    };
    let birth_date = f
        .birth_date
        .trim()
        .parse::<NaiveDate>()
        .map_err(|e| field("生年月日", "Date of birth", &e))?;
    Ok(InsuranceDataQuery {
        insurer_number,
        symbol,
        number,
        branch,
        birth_date,
        limit_consent: false,
    })
}
