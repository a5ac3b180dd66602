//! The admin pages other than the statistics: login, institutions, terminals (enrol and
//! revoke), insurers, the eligibility search, the log of checks and the audit log.

use askama::Template;
use axum::extract::{Extension, Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{NaiveDate, Utc};
use onshi_model::*;
use onshi_store::{CheckFilter, RecordView, TerminalRow};
use serde::Deserialize;

use super::{AdminError, Layout, Pager, html, jst_of_utc, page, post_session, query_of, session};
use crate::AppState;
use crate::tls::ClientIdentity;

type Identity = Option<Extension<ClientIdentity>>;

// ---------------------------------------------------------------------------------------
// Login and logout

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    layout: Layout,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    token: String,
}

pub(crate) async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AdminError> {
    let admin = state.admin().ok_or(AdminError::Disabled)?;
    if admin.session(&headers).is_some() {
        return Ok(Redirect::to(super::ADMIN_PATH).into_response());
    }
    html(&LoginPage {
        layout: Layout::anonymous("ログイン"),
        error: None,
    })
}

pub(crate) async fn login_submit(
    State(state): State<AppState>,
    identity: Identity,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, AdminError> {
    let admin = state.admin().ok_or(AdminError::Disabled)?;
    if !super::auth::same_origin(&headers) {
        return Err(AdminError::Forbidden);
    }
    let Some((id, s)) = admin.login(&form.token) else {
        state
            .store()
            .audit("admin", "admin.login_refused", "-", "wrong token")
            .await?;
        let page = LoginPage {
            layout: Layout::anonymous("ログイン"),
            error: Some(if form.token.trim().is_empty() {
                "管理用トークンを入力してください。"
            } else {
                "管理用トークンが正しくありません。onshi serve または onshi demo の起動時に表示されたトークン（データディレクトリの admin-token）を入力してください。"
            }),
        };
        let mut res = html(&page)?;
        *res.status_mut() = StatusCode::UNAUTHORIZED;
        return Ok(res);
    };
    state
        .store()
        .audit(&actor(&s), "admin.login", "-", "")
        .await?;
    Ok((
        [(
            header::SET_COOKIE,
            super::auth::session_cookie(&id, super::over_tls(&identity)),
        )],
        Redirect::to(super::ADMIN_PATH),
    )
        .into_response())
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    identity: Identity,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AdminError> {
    let s = post_session(&state, &headers, &form.csrf)?;
    if let Some(admin) = state.admin() {
        admin.logout(&headers);
    }
    state
        .store()
        .audit(&actor(&s), "admin.logout", "-", "")
        .await?;
    Ok((
        [(
            header::SET_COOKIE,
            super::auth::cleared_cookie(super::over_tls(&identity)),
        )],
        Redirect::to("/admin/login"),
    )
        .into_response())
}

/// The audit log's actor for a session.
fn actor(s: &super::auth::Session) -> String {
    format!("admin:{}", s.label)
}

// ---------------------------------------------------------------------------------------
// Institutions

#[derive(Template)]
#[template(path = "admin/institutions.html")]
struct InstitutionsPage {
    layout: Layout,
    q: String,
    rows: Vec<InstitutionView>,
    pager: Pager,
}

struct InstitutionView {
    code: String,
    name: String,
    kind: &'static str,
    prefecture: &'static str,
    address: String,
    active: bool,
    active_terminals: i64,
    revoked_terminals: i64,
}

#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    page: String,
}

pub(crate) async fn institutions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Result<Response, AdminError> {
    let s = session(&state, &headers)?;
    let paged = state.store().list_institutions(&q.q, page(&q.page)).await?;
    let pager = Pager::of(
        &paged,
        &format!("/admin/institutions?{}", query_of(&[("q", &q.q)])),
    );
    html(&InstitutionsPage {
        layout: Layout::new("医療機関", "institutions", &s),
        q: q.q.trim().to_owned(),
        rows: paged
            .rows
            .into_iter()
            .map(|l| InstitutionView {
                code: l.institution.code.to_string(),
                name: l.institution.name,
                kind: l.institution.kind.label(),
                prefecture: l.institution.prefecture.name(),
                address: l.institution.address,
                active: l.institution.active,
                active_terminals: l.active_terminals,
                revoked_terminals: l.revoked_terminals,
            })
            .collect(),
        pager,
    })
}

// ---------------------------------------------------------------------------------------
// Terminals

#[derive(Template)]
#[template(path = "admin/terminals.html")]
struct TerminalsPage {
    layout: Layout,
    institution: String,
    institution_name: Option<String>,
    rows: Vec<TerminalView>,
    pager: Pager,
    notice: Option<String>,
    errors: Vec<String>,
    form_institution: String,
    form_terminal_id: String,
    pki: bool,
}

struct TerminalView {
    institution_code: String,
    terminal_id: String,
    serial: String,
    fingerprint: String,
    fingerprint_short: String,
    enrolled_at: String,
    revoked_at: Option<String>,
}

impl From<TerminalRow> for TerminalView {
    fn from(t: TerminalRow) -> Self {
        Self {
            fingerprint_short: t.fingerprint.chars().take(16).collect(),
            institution_code: t.institution_code,
            terminal_id: t.terminal_id,
            serial: t.serial,
            fingerprint: t.fingerprint,
            enrolled_at: jst_of_utc(t.enrolled_at),
            revoked_at: t.revoked_at.map(jst_of_utc),
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct TerminalsQuery {
    #[serde(default)]
    institution: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    revoked: String,
    #[serde(default)]
    missing: String,
}

pub(crate) async fn terminals(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TerminalsQuery>,
) -> Result<Response, AdminError> {
    let s = session(&state, &headers)?;
    let notice = if !q.revoked.is_empty() {
        Some(format!(
            "端末 {} の証明書を失効しました。この端末からの接続は直ちに拒否されます。",
            q.revoked
        ))
    } else if !q.missing.is_empty() {
        Some("その証明書は見つからないか、すでに失効しています。".to_owned())
    } else {
        None
    };
    let page_view = terminals_page(
        &state,
        &s,
        &q.institution,
        &q.page,
        notice,
        Vec::new(),
        "",
        "",
    )
    .await?;
    html(&page_view)
}

#[allow(clippy::too_many_arguments)]
async fn terminals_page(
    state: &AppState,
    s: &super::auth::Session,
    institution: &str,
    page_no: &str,
    notice: Option<String>,
    mut errors: Vec<String>,
    form_institution: &str,
    form_terminal_id: &str,
) -> Result<TerminalsPage, AdminError> {
    let filter = match institution.trim() {
        "" => None,
        code => match InstitutionCode::parse(code) {
            Ok(c) => Some(c),
            Err(_) => {
                errors.push(format!(
                    "絞り込みの医療機関コード「{code}」が正しくありません（10桁の数字）。"
                ));
                None
            }
        },
    };
    let institution_name = match &filter {
        Some(c) => state.store().institution(c).await?.map(|i| i.name),
        None => None,
    };
    let paged = state
        .store()
        .list_terminals(filter.as_ref(), page(page_no))
        .await?;
    let filter_text = filter.map(|c| c.to_string()).unwrap_or_default();
    let pager = Pager::of(
        &paged,
        &format!(
            "/admin/terminals?{}",
            query_of(&[("institution", &filter_text)])
        ),
    );
    Ok(TerminalsPage {
        layout: Layout::new("端末", "terminals", s),
        form_institution: if form_institution.is_empty() {
            filter_text.clone()
        } else {
            form_institution.to_owned()
        },
        institution: filter_text,
        institution_name,
        rows: paged.rows.into_iter().map(TerminalView::from).collect(),
        pager,
        notice,
        errors,
        form_terminal_id: form_terminal_id.to_owned(),
        pki: can_issue(state),
    })
}

#[derive(Deserialize)]
pub(crate) struct EnrolForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    institution: String,
    #[serde(default)]
    terminal_id: String,
}

#[derive(Template)]
#[template(path = "admin/enrolled.html")]
struct EnrolledPage {
    layout: Layout,
    institution_code: String,
    institution_name: String,
    terminal_id: String,
    serial: String,
    fingerprint: String,
    not_after: String,
    cert_pem: String,
    key_pem: String,
    ca_pem: String,
    cert_href: String,
    key_href: String,
    ca_href: String,
}

/// Whether this center can issue terminal certificates.
fn can_issue(state: &AppState) -> bool {
    state.card().is_some() || state.admin().is_some_and(|a| a.jlis_dir.is_some())
}

/// A terminal id as the certificate carries it: 1 to 16 of A-Z a-z 0-9 `-` `_`.
fn valid_terminal_id(id: &str) -> bool {
    (1..=16).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn pem_href(pem: &str) -> String {
    format!("data:application/x-pem-file;base64,{}", B64.encode(pem))
}

pub(crate) async fn enrol_terminal(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<EnrolForm>,
) -> Result<Response, AdminError> {
    let s = post_session(&state, &headers, &form.csrf)?;
    let code_text = form.institution.trim();
    let terminal_id = form.terminal_id.trim();
    let mut errors = Vec::new();
    let code = match InstitutionCode::parse(code_text) {
        Ok(c) => Some(c),
        Err(_) => {
            errors.push(
                "医療機関コードは10桁の数字で入力してください（検証番号を含む）。".to_owned(),
            );
            None
        }
    };
    if !valid_terminal_id(terminal_id) {
        errors.push(
            "端末IDは1〜16文字の半角英数字・ハイフン・下線で入力してください（例: T01）。"
                .to_owned(),
        );
    }
    let mut institution_name = String::new();
    if let Some(code) = &code {
        match state.store().institution(code).await? {
            None => errors.push(format!(
                "医療機関コード {code} はセンターに登録されていません。"
            )),
            Some(i) if !i.active => errors.push(format!(
                "医療機関 {code}（{}）は利用停止中のため、端末を登録できません。",
                i.name
            )),
            Some(i) => institution_name = i.name,
        }
    }
    if !can_issue(&state) {
        errors.push(
            "このセンターは証明書基盤（PKI）なしで起動されているため、端末証明書を発行できません。onshi serve --tls で起動してください。"
                .to_owned(),
        );
    }
    if errors.is_empty()
        && let Some(code) = &code
    {
        let existing = state
            .store()
            .list_terminals(
                Some(code),
                onshi_store::Page::new(1, onshi_store::MAX_PAGE_SIZE),
            )
            .await?;
        if existing
            .rows
            .iter()
            .any(|t| t.terminal_id == terminal_id && t.revoked_at.is_none())
        {
            errors.push(format!(
                "端末 {terminal_id} には有効な証明書があります。再発行する場合は、先に一覧から失効してください。"
            ));
        }
    }
    let (Some(code), true) = (code, errors.is_empty()) else {
        let view =
            terminals_page(&state, &s, "", "1", None, errors, code_text, terminal_id).await?;
        let mut res = html(&view)?;
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(res);
    };

    // Key generation and signing are CPU work, and the J-LIS state is written to disk.
    let st = state.clone();
    let (tid, code_s) = (terminal_id.to_owned(), code.to_string());
    let issued = tokio::task::spawn_blocking(move || {
        // `onshi terminal-enroll` and other processes issue from the same state directory:
        // take the serial counters from disk, not from what this process loaded at start,
        // or two certificates could share a serial (and a revocation).
        let issue = |dir: &std::path::Path| {
            let mut fresh = onshi_pki::Jlis::load_or_create(dir, Utc::now(), None)
                .map_err(|e| format!("J-LIS state: {e}"))?;
            let issued = fresh
                .issue_terminal_with_key(&code_s, &tid, Utc::now())
                .map_err(|e| format!("issuance: {e}"))?;
            let ca = fresh.ca(onshi_pki::CaKind::Institution).cert_pem();
            Ok::<_, String>((issued, ca, fresh))
        };
        match (st.card(), st.admin().and_then(|a| a.jlis_dir.as_deref())) {
            (Some(card), _) => {
                let mut jlis = card
                    .jlis
                    .lock()
                    .map_err(|_| "J-LIS state poisoned".to_owned())?;
                let (issued, ca, fresh) = issue(jlis.dir())?;
                *jlis = fresh;
                Ok((issued, ca))
            }
            (None, Some(dir)) => issue(dir).map(|(issued, ca, _)| (issued, ca)),
            (None, None) => Err("no PKI".to_owned()),
        }
    })
    .await
    .map_err(|e| AdminError::Internal(format!("issuing task: {e}")))?;
    let (issued, ca_pem) =
        issued.map_err(|e| AdminError::Internal(format!("terminal certificate: {e}")))?;
    let fingerprint = crate::hex(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &issued.cert.der).as_ref(),
    );
    let serial = issued.cert.serial.to_hex();
    state
        .store()
        .enroll_terminal(&TerminalRow {
            fingerprint: fingerprint.clone(),
            institution_code: code.to_string(),
            terminal_id: terminal_id.to_owned(),
            serial: serial.clone(),
            enrolled_at: Utc::now().naive_utc(),
            revoked_at: None,
        })
        .await?;
    state
        .store()
        .audit(
            &actor(&s),
            "admin.terminal.enrol",
            &format!("{code}/{terminal_id}"),
            &format!("serial {serial} fingerprint {fingerprint}"),
        )
        .await?;
    let cert_pem = onshi_pki::to_pem("CERTIFICATE", &issued.cert.der);
    let key_pem = onshi_pki::to_pem("PRIVATE KEY", issued.key.pkcs8_der());
    html(&EnrolledPage {
        layout: Layout::new("端末を登録しました", "terminals", &s),
        institution_code: code.to_string(),
        institution_name,
        terminal_id: terminal_id.to_owned(),
        serial,
        fingerprint,
        not_after: (issued.cert.not_after.naive_utc() + chrono::Duration::hours(9))
            .format("%Y-%m-%d")
            .to_string(),
        cert_href: pem_href(&cert_pem),
        key_href: pem_href(&key_pem),
        ca_href: pem_href(&ca_pem),
        cert_pem,
        key_pem,
        ca_pem,
    })
}

#[derive(Deserialize)]
pub(crate) struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    fingerprint: String,
}

pub(crate) async fn revoke_terminal(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<RevokeForm>,
) -> Result<Response, AdminError> {
    let s = post_session(&state, &headers, &form.csrf)?;
    let fp = form.fingerprint.trim();
    let Some(t) = state
        .store()
        .revoke_terminal_certificate(fp, Utc::now().naive_utc())
        .await?
    else {
        return Ok(Redirect::to("/admin/terminals?missing=1").into_response());
    };
    // Effective at once in this process; other processes apply it at their next reload.
    apply_revocation(&state, &t);
    state
        .store()
        .audit(
            &actor(&s),
            "admin.terminal.revoke",
            &format!("{}/{}", t.institution_code, t.terminal_id),
            &format!("serial {} fingerprint {}", t.serial, t.fingerprint),
        )
        .await?;
    Ok(Redirect::to(&format!(
        "/admin/terminals?{}",
        query_of(&[
            ("institution", &t.institution_code),
            (
                "revoked",
                &format!("{}/{}", t.institution_code, t.terminal_id)
            ),
        ])
    ))
    .into_response())
}

/// Puts a revoked terminal certificate into this process's verifier.
fn apply_revocation(state: &AppState, t: &TerminalRow) {
    let Some(card) = state.card() else { return };
    let Some(serial) = crate::unhex(&t.serial).and_then(|b| onshi_pki::Serial::from_bytes(&b).ok())
    else {
        tracing::warn!(serial = %t.serial, "malformed serial of a revoked terminal");
        return;
    };
    let entry = onshi_pki::RevokedEntry {
        serial,
        revoked_at: t
            .revoked_at
            .unwrap_or_else(|| Utc::now().naive_utc())
            .and_utc(),
        reason: onshi_pki::RevocationReason::Unspecified,
    };
    if let Err(e) = card.trust.revoke(onshi_pki::CaKind::Institution, entry) {
        tracing::warn!(error = %e, "terminal revocation not applied");
    }
}

// ---------------------------------------------------------------------------------------
// Insurers

#[derive(Template)]
#[template(path = "admin/insurers.html")]
struct InsurersPage {
    layout: Layout,
    q: String,
    kind: String,
    kinds: Vec<(String, &'static str)>,
    rows: Vec<InsurerView>,
    pager: Pager,
    error: Option<String>,
}

struct InsurerView {
    number: String,
    name: String,
    kind: &'static str,
    prefecture: &'static str,
    address: String,
}

fn kind_key(k: InsurerKind) -> String {
    match serde_json::to_value(k) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

pub(crate) async fn insurers(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Result<Response, AdminError> {
    let s = session(&state, &headers)?;
    let mut error = None;
    let kind = match q.kind.trim() {
        "" => None,
        k => {
            let found = InsurerKind::ALL.iter().copied().find(|x| kind_key(*x) == k);
            if found.is_none() {
                error = Some("保険者の種別が正しくありません。一覧から選んでください。".to_owned());
            }
            found
        }
    };
    let paged = state
        .store()
        .list_insurers(&q.q, kind, page(&q.page))
        .await?;
    let kind_text = kind.map(kind_key).unwrap_or_default();
    let pager = Pager::of(
        &paged,
        &format!(
            "/admin/insurers?{}",
            query_of(&[("q", &q.q), ("kind", &kind_text)])
        ),
    );
    html(&InsurersPage {
        layout: Layout::new("保険者", "insurers", &s),
        q: q.q.trim().to_owned(),
        kind: kind_text,
        kinds: InsurerKind::ALL
            .iter()
            .map(|k| (kind_key(*k), k.name_ja()))
            .collect(),
        rows: paged
            .rows
            .into_iter()
            .map(|r| InsurerView {
                number: r.number.to_string(),
                name: r.name,
                kind: r.kind.name_ja(),
                prefecture: r.prefecture.name(),
                address: r.address,
            })
            .collect(),
        pager,
        error,
    })
}

// ---------------------------------------------------------------------------------------
// Eligibility search

#[derive(Template)]
#[template(path = "admin/eligibility.html")]
struct EligibilityPage {
    layout: Layout,
    form: EligibilityForm,
    errors: Vec<String>,
    searched: bool,
    results: Vec<PersonResult>,
}

#[derive(Deserialize, Default)]
pub(crate) struct EligibilityForm {
    #[serde(default)]
    csrf: String,
    /// `insurance` (by what the document prints) or `person` (by name and birth date).
    #[serde(default)]
    mode: String,
    #[serde(default)]
    insurer_number: String,
    #[serde(default)]
    symbol: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    branch: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    as_of: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    person_birth_date: String,
}

struct PersonResult {
    person_id: i64,
    name: String,
    kana: String,
    birth_date: String,
    sex: &'static str,
    address: String,
    linked: bool,
    validity: &'static str,
    valid: bool,
    records: Vec<RecordLine>,
}

struct RecordLine {
    insurer: String,
    document: String,
    family: &'static str,
    from: String,
    until: String,
    burden: String,
    in_force: bool,
}

/// Reads a date typed as `2025-06-01` (a date input), `2025/06/01` or `20250601`.
pub(crate) fn parse_date_input(s: &str) -> Option<NaiveDate> {
    let digits: String = s
        .trim()
        .chars()
        .filter(|c| *c != '-' && *c != '/')
        .collect();
    parse_yyyymmdd(&digits).ok()
}

fn record_line(v: &RecordView, as_of: NaiveDate) -> RecordLine {
    let r = &v.record;
    RecordLine {
        insurer: format!(
            "{}（{}）",
            v.insurer_name.clone().unwrap_or_default(),
            r.insurer_number
        ),
        document: format!(
            "{}・{}・{}",
            r.symbol.as_ref().map(|s| s.as_str()).unwrap_or("（なし）"),
            r.number.as_str(),
            r.branch.as_str()
        ),
        family: r.personal_family.label(),
        from: r.qualification_date.to_string(),
        until: r
            .disqualification_date
            .map(|d| d.to_string())
            .unwrap_or_else(|| "—".to_owned()),
        burden: format!("{}割", r.burden_ratio.percent() / 10),
        in_force: r.in_force_on(as_of),
    }
}

fn person_result(
    p: &onshi_store::PersonRow,
    validity: QualificationValidity,
    records: &[RecordView],
    as_of: NaiveDate,
) -> PersonResult {
    PersonResult {
        person_id: p.id,
        name: p.name.full(),
        kana: p.name.full_kana(),
        birth_date: p.birth_date.to_string(),
        sex: match p.sex.iso5218() {
            1 => "男",
            2 => "女",
            _ => "—",
        },
        address: p.address.clone(),
        linked: p.linked_on.is_some(),
        validity: validity.label(),
        valid: matches!(
            validity,
            QualificationValidity::Valid | QualificationValidity::Several
        ),
        records: records.iter().map(|v| record_line(v, as_of)).collect(),
    }
}

pub(crate) async fn eligibility_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AdminError> {
    let s = session(&state, &headers)?;
    html(&EligibilityPage {
        layout: Layout::new("資格の照会", "eligibility", &s),
        form: EligibilityForm::default(),
        errors: Vec::new(),
        searched: false,
        results: Vec::new(),
    })
}

pub(crate) async fn eligibility_search(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<EligibilityForm>,
) -> Result<Response, AdminError> {
    let s = post_session(&state, &headers, &form.csrf)?;
    let today = crate::today_jst();
    let mut errors = Vec::new();
    let mut results = Vec::new();
    if form.mode == "person" {
        let name = form.name.trim();
        if name.is_empty() {
            errors.push("氏名（漢字またはカナ）を入力してください。".to_owned());
        }
        let birth = parse_date_input(&form.person_birth_date);
        if birth.is_none() {
            errors.push("生年月日を正しく入力してください（例: 1970-04-01）。".to_owned());
        }
        if let (true, Some(birth)) = (errors.is_empty(), birth) {
            let persons = state.store().find_persons(name, birth, 20).await?;
            for p in &persons {
                let views = state.store().records_of_person(p.id).await?;
                let (validity, shown) = crate::eligibility::decide_for_person(views, today);
                results.push(person_result(p, validity, &shown, today));
            }
            state
                .store()
                .audit(
                    &actor(&s),
                    "admin.eligibility.person",
                    &format!("birth {birth}"),
                    &format!("{} found", persons.len()),
                )
                .await?;
        }
    } else {
        let insurer = InsurerNumber::parse(form.insurer_number.trim());
        if insurer.is_err() {
            errors
                .push("保険者番号が正しくありません（6桁または8桁、検証番号を含む）。".to_owned());
        }
        let symbol = match form.symbol.trim() {
            "" => Ok(None),
            s => InsuredCardSymbol::parse(s).map(Some),
        };
        if symbol.is_err() {
            errors.push("記号が正しくありません。".to_owned());
        }
        let number = InsuredNumber::parse(form.number.trim());
        if number.is_err() {
            errors.push("番号を入力してください（資格確認書に印字された番号）。".to_owned());
        }
        let branch = match form.branch.trim() {
            "" => Ok(None),
            b => BranchNumber::parse(b).map(Some),
        };
        if branch.is_err() {
            errors.push("枝番は2桁の数字で入力してください（例: 00）。".to_owned());
        }
        let birth = parse_date_input(&form.birth_date);
        if birth.is_none() {
            errors.push("生年月日を正しく入力してください（例: 1970-04-01）。".to_owned());
        }
        let as_of = match form.as_of.trim() {
            "" => Some(today),
            s => parse_date_input(s),
        };
        if as_of.is_none() {
            errors.push("照会日を正しく入力してください（空欄なら本日）。".to_owned());
        }
        if let (Ok(insurer), Ok(symbol), Ok(number), Ok(branch), Some(birth), Some(as_of)) =
            (insurer, symbol, number, branch, birth, as_of)
        {
            let matches = state
                .store()
                .records_by_card(&insurer, &number, symbol.as_ref(), branch, birth)
                .await?;
            let (validity, shown) =
                crate::eligibility::decide(state.store(), matches, as_of).await?;
            match shown.first() {
                Some(first) => {
                    results.push(person_result(&first.person, validity, &shown, as_of));
                }
                None => results.push(PersonResult {
                    person_id: 0,
                    name: String::new(),
                    kana: String::new(),
                    birth_date: birth.to_string(),
                    sex: "—",
                    address: String::new(),
                    linked: false,
                    validity: validity.label(),
                    valid: false,
                    records: Vec::new(),
                }),
            }
            state
                .store()
                .audit(
                    &actor(&s),
                    "admin.eligibility.insurance",
                    &format!("{insurer}/{}", number.as_str()),
                    &format!("as of {as_of}: {}", validity.label()),
                )
                .await?;
        }
    }
    let searched = errors.is_empty();
    let status = if searched {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut res = html(&EligibilityPage {
        layout: Layout::new("資格の照会", "eligibility", &s),
        form: EligibilityForm {
            csrf: String::new(),
            ..form
        },
        errors,
        searched,
        results,
    })?;
    *res.status_mut() = status;
    Ok(res)
}

// ---------------------------------------------------------------------------------------
// The log of checks

#[derive(Template)]
#[template(path = "admin/checks.html")]
struct ChecksPage {
    layout: Layout,
    f: ChecksQuery,
    methods: Vec<(&'static str, &'static str)>,
    validities: Vec<(&'static str, &'static str)>,
    errors: Vec<String>,
    rows: Vec<CheckView>,
    pager: Pager,
}

struct CheckView {
    at: String,
    institution: String,
    institution_name: String,
    method: &'static str,
    reference: &'static str,
    validity: &'static str,
    valid: bool,
    as_of: String,
}

#[derive(Deserialize, Default)]
pub(crate) struct ChecksQuery {
    #[serde(default)]
    institution: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    validity: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    page: String,
}

pub(crate) async fn checks(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(f): Query<ChecksQuery>,
) -> Result<Response, AdminError> {
    let s = session(&state, &headers)?;
    let mut errors = Vec::new();
    let mut filter = CheckFilter::default();
    match f.institution.trim() {
        "" => {}
        c => match InstitutionCode::parse(c) {
            Ok(c) => filter.institution = Some(c),
            Err(_) => errors.push("医療機関コードは10桁の数字で入力してください。".to_owned()),
        },
    }
    match f.method.trim() {
        "" => {}
        m => match VerificationMethod::parse(m) {
            Ok(m) => filter.method = Some(m),
            Err(_) => errors.push("確認方法が正しくありません。".to_owned()),
        },
    }
    match f.validity.trim() {
        "" => {}
        v => match QualificationValidity::parse(v) {
            Ok(v) => filter.validity = Some(v),
            Err(_) => errors.push("結果が正しくありません。".to_owned()),
        },
    }
    for (text, slot, label) in [
        (&f.from, &mut filter.from, "開始日"),
        (&f.until, &mut filter.until, "終了日"),
    ] {
        if text.trim().is_empty() {
            continue;
        }
        match parse_date_input(text) {
            Some(d) => *slot = Some(d),
            None => errors.push(format!(
                "{label}を正しく入力してください（例: 2025-06-01）。"
            )),
        }
    }
    if let (Some(a), Some(b)) = (filter.from, filter.until)
        && a > b
    {
        errors.push("開始日が終了日より後になっています。".to_owned());
    }
    let paged = if errors.is_empty() {
        state.store().list_checks(&filter, page(&f.page)).await?
    } else {
        onshi_store::Paged {
            rows: Vec::new(),
            total: 0,
            page: page("1"),
        }
    };
    let pager = Pager::of(
        &paged,
        &format!(
            "/admin/checks?{}",
            query_of(&[
                ("institution", f.institution.trim()),
                ("method", f.method.trim()),
                ("validity", f.validity.trim()),
                ("from", f.from.trim()),
                ("until", f.until.trim()),
            ])
        ),
    );
    // Filter faults are shown in the results (200), which htmx swaps in like any page.
    html(&ChecksPage {
        layout: Layout::new("資格確認の記録", "checks", &s),
        methods: VerificationMethod::ALL
            .iter()
            .map(|m| (m.code(), m.label()))
            .collect(),
        validities: QualificationValidity::ALL
            .iter()
            .map(|v| (v.code(), v.label()))
            .collect(),
        errors,
        rows: paged
            .rows
            .into_iter()
            .map(|c| CheckView {
                at: c.check.checked_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                institution: c.check.institution_code,
                institution_name: c.institution_name.unwrap_or_default(),
                method: c.check.method.label(),
                reference: c.check.reference.label(),
                validity: c.check.validity.label(),
                valid: c.check.validity == QualificationValidity::Valid,
                as_of: c.check.as_of.to_string(),
            })
            .collect(),
        pager,
        f,
    })
}

// ---------------------------------------------------------------------------------------
// The audit log of the center

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    action: String,
    rows: Vec<AuditView>,
    pager: Pager,
}

struct AuditView {
    at: String,
    actor: String,
    action: String,
    action_label: &'static str,
    subject: String,
    detail: String,
}

fn action_label(action: &str) -> &'static str {
    match action {
        "admin.login" => "ログイン",
        "admin.login_refused" => "ログイン拒否",
        "admin.logout" => "ログアウト",
        "admin.terminal.enrol" => "端末の登録",
        "admin.terminal.revoke" => "端末の失効",
        "admin.eligibility.insurance" => "資格の照会（保険証情報）",
        "admin.eligibility.person" => "資格の照会（氏名・生年月日）",
        _ => "",
    }
}

#[derive(Deserialize)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    page: String,
}

pub(crate) async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AdminError> {
    let s = session(&state, &headers)?;
    let paged = state.store().list_audit(&q.action, page(&q.page)).await?;
    let pager = Pager::of(
        &paged,
        &format!("/admin/audit?{}", query_of(&[("action", q.action.trim())])),
    );
    html(&AuditPage {
        layout: Layout::new("操作の記録", "audit", &s),
        action: q.action.trim().to_owned(),
        rows: paged
            .rows
            .into_iter()
            .map(|r| AuditView {
                at: jst_of_utc(r.at),
                action_label: action_label(&r.action),
                actor: r.actor,
                action: r.action,
                subject: r.subject,
                detail: r.detail,
            })
            .collect(),
        pager,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_in_the_forms_people_type() {
        let d = NaiveDate::from_ymd_opt(2025, 6, 1);
        assert_eq!(parse_date_input("2025-06-01"), d);
        assert_eq!(parse_date_input(" 2025/06/01 "), d);
        assert_eq!(parse_date_input("20250601"), d);
        assert_eq!(parse_date_input("2025-13-01"), None);
        assert_eq!(parse_date_input(""), None);
    }

    #[test]
    fn terminal_ids_are_short_and_plain() {
        assert!(valid_terminal_id("T01"));
        assert!(valid_terminal_id("desk-2_b"));
        assert!(!valid_terminal_id(""));
        assert!(!valid_terminal_id("T 01"));
        assert!(!valid_terminal_id("端末1"));
        assert!(!valid_terminal_id("T0123456789abcdef"));
    }
}
