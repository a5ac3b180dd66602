//! The citizen's side (マイナポータル): "is my phone supported?" as JSON and as a page in
//! Japanese, and the holder's phones — listed, suspended when lost, resumed when found —
//! after a login with the card (its user-authentication key signs a portal challenge
//! after the 4-digit PIN, as at the reader).
//!
//! The portal is served by the center process (routes `/v1/portal/…` and `/portal/…`):
//! it shows and changes nothing but the center's own records, so a separate service
//! would only add a hop. See docs/smartphone.md.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use chrono::{NaiveDateTime, Utc};
use onshi_pki::CertKind;
use serde::{Deserialize, Serialize};

use super::PhoneError;
use super::compat::{Compatibility, Verdict};
use super::push::status_of;
use super::wire::{CardLogin, PORTAL_BINDING, PhoneStatus, b64, portal_message, unb64};
use crate::AppState;
use crate::challenge::ChallengeFault;
use crate::error::ApiError;
use crate::time::{now_jst, to_jst};

/// How far the card's `signed_at` may be from the center's clock.
const CLOCK_SKEW_SECS: i64 = 300;

pub(super) async fn compatibility_list(State(state): State<AppState>) -> Json<Compatibility> {
    Json(state.phone().config().compatibility.clone())
}

#[derive(Debug, Deserialize)]
pub(super) struct CheckQuery {
    #[serde(default)]
    platform: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    os: String,
}

pub(super) async fn compatibility_check(
    State(state): State<AppState>,
    q: Result<Query<CheckQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Verdict>, PhoneError> {
    let Query(q) = q.map_err(|e| PhoneError::Api(ApiError::MalformedBody(e.body_text())))?;
    Ok(Json(state.phone().config().compatibility.check(
        &q.platform,
        &q.model,
        &q.os,
    )))
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `GET /portal/phone`: the page "お使いのスマートフォンは対応していますか？" with a form
/// (platform, model, OS version), the answer when asked, and the list itself.
pub(super) async fn page(
    State(state): State<AppState>,
    q: Result<Query<CheckQuery>, axum::extract::rejection::QueryRejection>,
) -> Html<String> {
    let list = &state.phone().config().compatibility;
    let q = q.ok().map(|Query(q)| q);
    let mut html = String::from(
        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>スマホ用電子証明書 対応機種の確認 — マイナポータル</title>\
         <style>body{font-family:sans-serif;max-width:44rem;margin:1rem auto;padding:0 1rem;line-height:1.6}\
         .ok{border-left:6px solid #2a7;padding:.5rem 1rem;background:#efe}\
         .ng{border-left:6px solid #c33;padding:.5rem 1rem;background:#fee}\
         label{display:block;margin:.5rem 0}</style></head><body>\
         <h1>お使いのスマートフォンは対応していますか？</h1>\
         <p>スマートフォンをマイナ保険証として使うには、対応機種と対応 OS が必要です。機種名と OS のバージョンを入れて確認してください。</p>\
         <form method=\"get\" action=\"/portal/phone\">\
         <label>種類 <select name=\"platform\" id=\"platform\">",
    );
    let chosen = q.as_ref().map(|q| q.platform.as_str()).unwrap_or("");
    for p in &list.platforms {
        let sel = if p.platform == chosen {
            " selected"
        } else {
            ""
        };
        html.push_str(&format!(
            "<option value=\"{}\"{sel}>{}</option>",
            escape(&p.platform),
            escape(&p.label_ja)
        ));
    }
    html.push_str(&format!(
        "</select></label>\
         <label>機種名 <input name=\"model\" id=\"model\" value=\"{}\" placeholder=\"例: iPhone 15 / Pixel 8\"></label>\
         <label>OS のバージョン <input name=\"os\" id=\"os\" value=\"{}\" placeholder=\"例: 18.5\"></label>\
         <button type=\"submit\" id=\"check\">確認する</button></form>",
        escape(q.as_ref().map(|q| q.model.as_str()).unwrap_or("")),
        escape(q.as_ref().map(|q| q.os.as_str()).unwrap_or("")),
    ));
    if let Some(q) = q
        .as_ref()
        .filter(|q| !q.model.is_empty() || !q.os.is_empty())
    {
        let v = list.check(&q.platform, &q.model, &q.os);
        let (class, head) = if v.supported {
            ("ok", "対応しています")
        } else {
            ("ng", "対応していません")
        };
        html.push_str(&format!(
            "<section id=\"verdict\" class=\"{class}\" data-supported=\"{}\"><h2>{head}</h2><p>{}</p></section>",
            v.supported,
            escape(&v.message_ja)
        ));
    }
    html.push_str(&format!(
        "<h2>対応機種一覧（{} 更新）</h2>",
        escape(&list.updated)
    ));
    for p in &list.platforms {
        html.push_str(&format!(
            "<h3>{}（{} {} 以降）</h3><ul>",
            escape(&p.label_ja),
            if p.platform == "iphone" {
                "iOS"
            } else {
                "Android"
            },
            escape(&p.min_os)
        ));
        for m in &p.models {
            html.push_str(&format!(
                "<li>{}（{} 以降）</li>",
                escape(&m.model),
                escape(&m.min_os)
            ));
        }
        html.push_str("</ul>");
    }
    html.push_str(
        "<p>iPhone は Face ID または Touch ID の設定が必要です（パスコードだけでは利用できません）。\
         スマートフォンを紛失したときは、マイナポータルで一時停止できます。</p></body></html>",
    );
    Html(html)
}

#[derive(Serialize)]
pub(super) struct PortalChallenge {
    challenge: String,
    expires_at: chrono::DateTime<Utc>,
}

pub(super) async fn challenge(
    State(state): State<AppState>,
) -> Result<Json<PortalChallenge>, PhoneError> {
    let card = state
        .card()
        .ok_or(PhoneError::Api(ApiError::ClientCertificateRequired))?;
    let (c, expires_at) = card.challenges.issue(PORTAL_BINDING, Utc::now());
    Ok(Json(PortalChallenge {
        challenge: b64(&c),
        expires_at,
    }))
}

fn invalid(field: &'static str, label_ja: &'static str, reason: &str) -> PhoneError {
    PhoneError::Api(ApiError::InvalidField {
        field,
        label_ja,
        reason: reason.into(),
    })
}

/// The person logging in with their card: certificate (chain, revocation, registration),
/// challenge (once), signature.
async fn login(state: &AppState, l: &CardLogin) -> Result<onshi_store::PersonRow, PhoneError> {
    let card = state
        .card()
        .ok_or(PhoneError::Api(ApiError::ClientCertificateRequired))?;
    let cert =
        unb64(&l.certificate).ok_or_else(|| invalid("certificate", "電子証明書", "not base64"))?;
    let challenge =
        unb64(&l.challenge).ok_or_else(|| invalid("challenge", "チャレンジ", "not base64"))?;
    let signature =
        unb64(&l.signature).ok_or_else(|| invalid("signature", "署名", "not base64"))?;
    let now_utc = Utc::now();
    let valid = card
        .challenges
        .check(&challenge, PORTAL_BINDING, now_utc)
        .map_err(|f| {
            PhoneError::Api(match f {
                ChallengeFault::Unknown => ApiError::ChallengeUnknown,
                ChallengeFault::Expired => ApiError::ChallengeExpired,
            })
        })?;
    let verified = card
        .trust
        .verify_kind(&cert, now_utc, &[CertKind::CardAuth])
        .map_err(|e| PhoneError::Api(ApiError::CertificateInvalid(e.to_string())))?;
    let at = NaiveDateTime::parse_from_str(&l.signed_at, "%Y%m%d%H%M%S")
        .map_err(|_| invalid("signed_at", "署名日時", "expected yyyyMMddHHmmss"))?;
    let now = now_jst();
    if (at - now).num_seconds().abs() > CLOCK_SKEW_SECS {
        return Err(invalid(
            "signed_at",
            "署名日時",
            "more than 5 minutes from the center's clock",
        ));
    }
    verified
        .verify_signature(&portal_message(&challenge, &l.signed_at), &signature)
        .map_err(|_| PhoneError::Api(ApiError::SignatureInvalid))?;
    let (reg, person) = state
        .store()
        .card_holder(&crate::hex(verified.fingerprint()))
        .await?
        .ok_or_else(|| {
            PhoneError::Api(ApiError::CertificateInvalid(
                "not registered by J-LIS".into(),
            ))
        })?;
    if reg.revoked_at.is_some() {
        return Err(PhoneError::Api(ApiError::CertificateRevoked(
            reg.revocation_reason.unwrap_or_default(),
        )));
    }
    if !state
        .store()
        .spend_challenge(&valid.nonce_hex, now, to_jst(valid.expires_at))
        .await?
    {
        return Err(PhoneError::Api(ApiError::ChallengeReplayed));
    }
    Ok(person)
}

pub(super) async fn phones(
    State(state): State<AppState>,
    crate::api::ApiJson(l): crate::api::ApiJson<CardLogin>,
) -> Result<Json<Vec<PhoneStatus>>, PhoneError> {
    let person = login(&state, &l).await?;
    let list = state.store().phone_credentials_of(person.id).await?;
    Ok(Json(list.iter().map(status_of).collect()))
}

fn parse_id(id: &str) -> Result<i64, PhoneError> {
    id.parse().map_err(|_| PhoneError::Api(ApiError::NotFound))
}

pub(super) async fn suspend(
    State(state): State<AppState>,
    Path(id): Path<String>,
    crate::api::ApiJson(l): crate::api::ApiJson<CardLogin>,
) -> Result<Json<PhoneStatus>, PhoneError> {
    let id = parse_id(&id)?;
    let person = login(&state, &l).await?;
    if !state
        .store()
        .suspend_phone(id, person.id, now_jst(), "lost")
        .await?
    {
        return Err(PhoneError::Api(ApiError::NotFound));
    }
    state
        .store()
        .audit(
            "portal",
            "phone.suspend",
            &format!("person:{}", person.id),
            &format!("application={id}"),
        )
        .await?;
    state.phone().credential_changed();
    let cred = state
        .store()
        .phone_credential(id)
        .await?
        .ok_or(PhoneError::Api(ApiError::NotFound))?;
    Ok(Json(status_of(&cred)))
}

pub(super) async fn resume(
    State(state): State<AppState>,
    Path(id): Path<String>,
    crate::api::ApiJson(l): crate::api::ApiJson<CardLogin>,
) -> Result<Json<PhoneStatus>, PhoneError> {
    let id = parse_id(&id)?;
    let person = login(&state, &l).await?;
    if !state.store().resume_phone(id, person.id).await? {
        return Err(PhoneError::Api(ApiError::NotFound));
    }
    state
        .store()
        .audit(
            "portal",
            "phone.resume",
            &format!("person:{}", person.id),
            &format!("application={id}"),
        )
        .await?;
    let cred = state
        .store()
        .phone_credential(id)
        .await?
        .ok_or(PhoneError::Api(ApiError::NotFound))?;
    Ok(Json(status_of(&cred)))
}

/// `POST /v1/portal/home-consents`: the citizen, logged in with the card, lets one
/// institution check their qualification for 訪問診療 or オンライン診療 (居宅同意取得型);
/// the institution's bulk search over consent (or examination) dates then finds them.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HomeConsentRequest {
    login: CardLogin,
    institution_code: String,
    /// `home_visit` (訪問診療) or `online` (オンライン診療).
    kind: String,
    /// オンライン診療: the day of the examination (`YYYY-MM-DD`); the consent's day when
    /// absent.
    #[serde(default)]
    examination_date: Option<String>,
}

#[derive(Serialize)]
pub(super) struct HomeConsentBody {
    id: String,
    institution_code: String,
    institution_name: String,
    kind: &'static str,
    consented_at: NaiveDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    examination_date: Option<chrono::NaiveDate>,
}

pub(super) async fn home_consent(
    State(state): State<AppState>,
    crate::api::ApiJson(r): crate::api::ApiJson<HomeConsentRequest>,
) -> Result<Json<HomeConsentBody>, PhoneError> {
    use onshi_store::HomeCareKind;
    let kind = HomeCareKind::parse(&r.kind).ok_or_else(|| {
        invalid(
            "kind",
            "診療の種類",
            "home_visit（訪問診療）または online（オンライン診療）",
        )
    })?;
    let institution = onshi_model::InstitutionCode::parse(&r.institution_code)
        .map_err(|e| invalid("institution_code", "医療機関コード", &e.to_string()))?;
    let examination = match (kind, r.examination_date.as_deref()) {
        (_, None | Some("")) => None,
        (HomeCareKind::HomeVisit, Some(_)) => {
            return Err(invalid(
                "examination_date",
                "診察日",
                "訪問診療には指定できません / only for online care",
            ));
        }
        (HomeCareKind::Online, Some(d)) => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| invalid("examination_date", "診察日", "expected YYYY-MM-DD"))?,
        ),
    };
    let inst = state
        .store()
        .institution(&institution)
        .await?
        .ok_or(PhoneError::Api(ApiError::InstitutionNotRegistered(
            institution.to_string(),
        )))?;
    if !inst.active {
        return Err(PhoneError::Api(ApiError::InstitutionInactive(
            institution.to_string(),
        )));
    }
    let person = login(&state, &r.login).await?;
    let now = now_jst();
    let examination = match kind {
        HomeCareKind::Online => Some(examination.unwrap_or(now.date())),
        HomeCareKind::HomeVisit => None,
    };
    let id = state
        .store()
        .record_home_consent(person.id, &institution, kind, now, examination)
        .await?;
    state
        .store()
        .audit(
            "portal",
            "home_consent.give",
            &format!("person:{}", person.id),
            &format!("institution={} kind={}", institution, kind.code()),
        )
        .await?;
    Ok(Json(HomeConsentBody {
        id: id.to_string(),
        institution_code: institution.to_string(),
        institution_name: inst.name,
        kind: kind.code(),
        consented_at: now,
        examination_date: examination,
    }))
}
