//! The reception desk (staff): today's receptions as they happen, their warnings, the
//! consented history read from the center, 目視確認モード, and the check by insurance
//! data (資格確認書).

use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use onshi_model::{ConsentKind, EligibilityResult, QualificationValidity};
use serde_json::Value;
use tokio::sync::watch;

use super::station::HandleCenter;
use crate::message::{Lang, Message};
use crate::reception::{Done, Failed};
use crate::wire::Method;

/// How long before the card's certificate expires the desk warns.
pub const EXPIRY_WARNING: Duration = Duration::days(92);

/// How a reception established who the patient is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryMethod {
    Card(Method),
    /// The smartphone path.
    Phone,
    /// Staff typed the data of a 資格確認書 or an insurance card.
    InsuranceData,
    /// The reception failed before the method was settled.
    Unknown,
}

impl EntryMethod {
    pub fn label(self, lang: Lang) -> &'static str {
        let (ja, en) = match self {
            Self::Card(Method::Pin) => ("暗証番号", "PIN"),
            Self::Card(Method::Face) => ("顔認証", "Face"),
            Self::Card(Method::Visual) => ("目視確認", "Visual check"),
            Self::Phone => ("スマートフォン", "Smartphone"),
            Self::InsuranceData => ("資格確認書", "Insurance data"),
            Self::Unknown => ("—", "—"),
        };
        pick(lang, ja, en)
    }
}

fn pick(lang: Lang, ja: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Ja => ja,
        Lang::En => en,
    }
}

/// One reception of the day.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Set by the log.
    pub id: u64,
    pub at: DateTime<Utc>,
    pub method: EntryMethod,
    /// The card, as the simulation panel names it.
    pub card: Option<String>,
    /// The center's answer; `None` when the reception failed.
    pub validity: Option<QualificationValidity>,
    /// Why it failed.
    pub failure: Option<Message>,
    pub name: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub insurer: Option<String>,
    pub burden_percent: Option<u8>,
    /// What the result means beyond 有効 (job change, lost insurance …).
    pub notices: Vec<Message>,
    /// notAfter of the card's user-authentication certificate.
    pub card_not_after: Option<DateTime<Utc>>,
    pub consents: Vec<ConsentKind>,
    pub reception_id: Option<String>,
    pub history_until: Option<DateTime<Utc>>,
}

impl Entry {
    fn blank(method: EntryMethod) -> Self {
        Self {
            id: 0,
            at: Utc::now(),
            method,
            card: None,
            validity: None,
            failure: None,
            name: None,
            birth_date: None,
            insurer: None,
            burden_percent: None,
            notices: Vec::new(),
            card_not_after: None,
            consents: Vec::new(),
            reception_id: None,
            history_until: None,
        }
    }

    pub(crate) fn from_done(
        d: &Done<HandleCenter>,
        card: Option<String>,
        card_not_after: Option<DateTime<Utc>>,
    ) -> Self {
        let first = d.check.records.first();
        Self {
            card,
            validity: Some(d.check.validity),
            name: first.map(|r| r.name.clone()),
            birth_date: first.map(|r| r.birth_date),
            insurer: first.map(|r| r.insurer_name.clone()),
            burden_percent: first.and_then(|r| r.burden_ratio).map(|b| b.percent()),
            notices: d.notices.clone(),
            card_not_after,
            consents: d.consents.clone(),
            reception_id: Some(d.check.reception_id.clone()),
            history_until: d.check.history_until,
            ..Self::blank(EntryMethod::Card(d.method))
        }
    }

    pub(crate) fn from_phone_done(
        d: &crate::reception::PhoneDone<HandleCenter>,
        phone: Option<String>,
    ) -> Self {
        let first = d.check.records.first();
        Self {
            card: phone,
            validity: Some(d.check.validity),
            name: first.map(|r| r.name.clone()),
            birth_date: first.map(|r| r.birth_date),
            insurer: first.map(|r| r.insurer_name.clone()),
            burden_percent: first.and_then(|r| r.burden_ratio).map(|b| b.percent()),
            notices: d.notices.clone(),
            consents: d.consents.clone(),
            reception_id: Some(d.check.reception_id.clone()),
            history_until: d.check.history_until,
            ..Self::blank(EntryMethod::Phone)
        }
    }

    pub(crate) fn from_phone_failed(f: &Failed<HandleCenter>, phone: Option<String>) -> Self {
        Self {
            card: phone,
            failure: Some(f.failure.clone()),
            ..Self::blank(EntryMethod::Phone)
        }
    }

    pub(crate) fn from_failed(f: &Failed<HandleCenter>, card: Option<String>) -> Self {
        let method = f
            .pending
            .as_ref()
            .map_or(EntryMethod::Unknown, |p| EntryMethod::Card(p.method));
        Self {
            card,
            failure: Some(f.failure.clone()),
            ..Self::blank(method)
        }
    }

    /// A check by insurance data made at the desk.
    pub fn from_insurance_data(result: &EligibilityResult) -> Self {
        let first = result.records.first();
        Self {
            validity: Some(result.validity),
            name: first.map(|r| r.name.clone()),
            birth_date: first.map(|r| r.birth_date),
            insurer: first.map(|r| r.insurer_name.clone()),
            burden_percent: first.and_then(|r| r.burden_ratio).map(|b| b.percent()),
            notices: insurance_data_notice(result).into_iter().collect(),
            ..Self::blank(EntryMethod::InsuranceData)
        }
    }

    /// The warnings staff should see at `now`: job change and other notices, a card
    /// certificate expiring within three months, consent no longer valid.
    pub fn warnings(&self, now: DateTime<Utc>, lang: Lang) -> Vec<String> {
        let mut out: Vec<String> = self.notices.iter().map(|m| m.text(lang)).collect();
        if let Some(until) = self.card_not_after
            && until - now < EXPIRY_WARNING
        {
            let date = until.with_timezone(&onshi_pki::jst()).date_naive();
            out.push(match lang {
                Lang::Ja => format!(
                    "カードの電子証明書の有効期限が近づいています（{date}まで）。市区町村の窓口での更新をご案内ください。"
                ),
                Lang::En => format!(
                    "The card's certificate expires soon ({date}): advise renewal at the municipal office."
                ),
            });
        }
        if self.consent_expired(now) {
            out.push(
                pick(
                    lang,
                    "同意の有効期限が切れています（閲覧できるのは同意から24時間以内です）。",
                    "The consent has expired (history can be viewed for 24 hours after consent).",
                )
                .to_owned(),
            );
        }
        out
    }

    /// The patient consented, but the time to view the history has passed.
    pub fn consent_expired(&self, now: DateTime<Utc>) -> bool {
        self.history_until.is_some_and(|u| u <= now)
    }

    /// The result in a word.
    pub fn result_label(&self, lang: Lang) -> String {
        match (&self.validity, &self.failure) {
            (Some(v), _) => match lang {
                Lang::Ja => v.label().to_owned(),
                Lang::En => match v {
                    QualificationValidity::Valid => "Valid".into(),
                    QualificationValidity::Invalid => "Not valid".into(),
                    QualificationValidity::InvalidNewerExists => "Not valid (newer exists)".into(),
                    QualificationValidity::NotFound => "Not found".into(),
                    QualificationValidity::Several => "Several".into(),
                },
            },
            (None, Some(m)) => format!("{}: {}", pick(lang, "受付できず", "Failed"), m.text(lang)),
            (None, None) => "—".into(),
        }
    }

    pub fn ok(&self) -> bool {
        self.validity == Some(QualificationValidity::Valid)
    }
}

/// What a check by insurance data means beyond 有効 (as the reader says it after a card).
fn insurance_data_notice(result: &EligibilityResult) -> Option<Message> {
    use onshi_model::ReasonOfLoss;
    match result.validity {
        QualificationValidity::Valid => None,
        QualificationValidity::Invalid => {
            let latest = result
                .records
                .iter()
                .max_by_key(|r| (r.disqualification_date, r.qualification_date));
            if latest.and_then(|r| r.reason_of_loss) == Some(ReasonOfLoss::OtherInsurance) {
                Some(Message::JobChangeNotRegistered)
            } else {
                Some(Message::InsuranceLost)
            }
        }
        QualificationValidity::InvalidNewerExists => Some(Message::NewerQualification),
        QualificationValidity::NotFound => Some(Message::JobChangeNotRegistered),
        QualificationValidity::Several => Some(Message::SeveralQualifications),
    }
}

/// Today's receptions, newest first, with a version that changes on every new one.
#[derive(Debug)]
pub struct DeskLog {
    entries: Mutex<Vec<Entry>>,
    version: watch::Sender<u64>,
}

impl Default for DeskLog {
    fn default() -> Self {
        Self {
            entries: Mutex::new(Vec::new()),
            version: watch::channel(0).0,
        }
    }
}

impl DeskLog {
    /// Adds a reception; returns its id.
    pub fn push(&self, mut e: Entry) -> u64 {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        e.id = entries.len() as u64 + 1;
        let id = e.id;
        entries.push(e);
        drop(entries);
        self.version.send_modify(|v| *v += 1);
        id
    }

    /// The receptions of the Japanese day of `now`, newest first.
    pub fn today(&self, now: DateTime<Utc>) -> Vec<Entry> {
        let day = now.with_timezone(&onshi_pki::jst()).date_naive();
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .iter()
            .rev()
            .filter(|e| e.at.with_timezone(&onshi_pki::jst()).date_naive() == day)
            .cloned()
            .collect()
    }

    pub fn get(&self, id: u64) -> Option<Entry> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.iter().find(|e| e.id == id).cloned()
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }
}

/// A small line chart of one check-up value over time, as inline SVG.
pub fn trend_svg(title: &str, unit: &str, points: &[(NaiveDate, f64)]) -> String {
    const W: f64 = 280.0;
    const H: f64 = 110.0;
    const PAD_L: f64 = 44.0;
    const PAD_R: f64 = 10.0;
    const PAD_T: f64 = 12.0;
    const PAD_B: f64 = 24.0;
    let esc = |s: &str| {
        askama::filters::escape(s, askama::filters::Html)
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let label = format!("{} ({unit})", esc(title));
    if points.is_empty() {
        return String::new();
    }
    let (min, max) = points
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), (_, v)| {
            (lo.min(*v), hi.max(*v))
        });
    let span = if (max - min).abs() < f64::EPSILON {
        1.0
    } else {
        max - min
    };
    let first = points[0].0;
    let last = points[points.len() - 1].0;
    let days = (last - first).num_days().max(1) as f64;
    let x = |d: NaiveDate| PAD_L + (d - first).num_days() as f64 / days * (W - PAD_L - PAD_R);
    let y = |v: f64| PAD_T + (max - v) / span * (H - PAD_T - PAD_B);
    let path: Vec<String> = points
        .iter()
        .map(|(d, v)| format!("{:.1},{:.1}", x(*d), y(*v)))
        .collect();
    let dots: String = points
        .iter()
        .map(|(d, v)| {
            format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\"><title>{d}: {v}</title></circle>",
                x(*d),
                y(*v)
            )
        })
        .collect();
    let values: Vec<String> = points.iter().map(|(d, v)| format!("{d} {v}")).collect();
    format!(
        "<figure class=\"trend\"><svg viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" \
         aria-label=\"{label}: {aria}\"><line x1=\"{PAD_L}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" class=\"axis\"/>\
         <text x=\"{tx}\" y=\"{ty_max}\" class=\"tick\">{max}</text><text x=\"{tx}\" y=\"{ty_min}\" class=\"tick\">{min}</text>\
         <text x=\"{PAD_L}\" y=\"{H}\" class=\"tick start\">{first}</text><text x=\"{r}\" y=\"{H}\" class=\"tick end\">{last}</text>\
         <polyline points=\"{pts}\" class=\"line\"/>{dots}</svg><figcaption>{label}</figcaption></figure>",
        aria = values.join(", "),
        b = H - PAD_B,
        r = W - PAD_R,
        tx = PAD_L - 4.0,
        ty_max = PAD_T + 4.0,
        ty_min = H - PAD_B,
        pts = path.join(" "),
    )
}

/// The check-up values worth a trend, with their JSON names and units.
pub const TRENDS: &[(&str, &str, &str, &str)] = &[
    ("systolic_mmhg", "収縮期血圧", "Systolic BP", "mmHg"),
    ("hba1c_percent", "HbA1c", "HbA1c", "%"),
    ("ldl_mg_dl", "LDLコレステロール", "LDL cholesterol", "mg/dL"),
    ("weight_kg", "体重", "Weight", "kg"),
];

/// The points of `field` in check-up rows (`performed_on` + a number), oldest first.
pub fn series(rows: &[Value], field: &str) -> Vec<(NaiveDate, f64)> {
    let mut out: Vec<(NaiveDate, f64)> = rows
        .iter()
        .filter_map(|r| {
            let d = r.get("performed_on")?.as_str()?.parse::<NaiveDate>().ok()?;
            let v = r.get(field)?.as_f64()?;
            Some((d, v))
        })
        .collect();
    out.sort_by_key(|(d, _)| *d);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_for_expiring_card_and_expired_consent() {
        let now = Utc::now();
        let mut e = Entry::blank(EntryMethod::Card(Method::Pin));
        assert!(e.warnings(now, Lang::Ja).is_empty());
        e.card_not_after = Some(now + Duration::days(60));
        e.history_until = Some(now - Duration::hours(1));
        e.notices = vec![Message::JobChangeNotRegistered];
        let w = e.warnings(now, Lang::Ja);
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].contains("転職"));
        assert!(w[1].contains("電子証明書の有効期限が近づいています"));
        assert!(w[2].contains("同意の有効期限が切れています"));
        e.card_not_after = Some(now + Duration::days(400));
        e.history_until = Some(now + Duration::hours(23));
        assert_eq!(e.warnings(now, Lang::Ja).len(), 1);
    }

    #[test]
    fn log_keeps_today_newest_first() {
        let log = DeskLog::default();
        let mut rx = log.subscribe();
        let mut old = Entry::blank(EntryMethod::Unknown);
        old.at = Utc::now() - Duration::days(2);
        log.push(old);
        let a = log.push(Entry::blank(EntryMethod::Phone));
        let b = log.push(Entry::blank(EntryMethod::InsuranceData));
        assert!(rx.has_changed().unwrap());
        rx.mark_unchanged();
        let today: Vec<u64> = log.today(Utc::now()).iter().map(|e| e.id).collect();
        assert_eq!(today, vec![b, a]);
    }

    #[test]
    fn trend_chart_plots_every_point() {
        let d = |m| NaiveDate::from_ymd_opt(2024, m, 1).unwrap();
        let svg = trend_svg(
            "収縮期血圧",
            "mmHg",
            &[(d(1), 120.0), (d(6), 135.0), (d(12), 128.0)],
        );
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("2024-06-01 135"));
        assert!(trend_svg("x", "y", &[]).is_empty());
        let flat = trend_svg("x", "y", &[(d(1), 5.0), (d(2), 5.0)]);
        assert!(!flat.contains("NaN"));
    }
}
