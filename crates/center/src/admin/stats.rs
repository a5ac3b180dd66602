//! Usage statistics: eligibility checks per day by how the patient was identified (card
//! with face, card with PIN, card by sight, smartphone, insurance data), and the share of
//! マイナ保険証 among them, beside the national figure.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use onshi_model::{InstitutionCode, VerificationMethod};
use onshi_store::DailyMethodCount;
use serde::Deserialize;

use super::pages::parse_date_input;
use super::{AdminError, Layout, html, session};
use crate::AppState;

/// The national usage rate of マイナ保険証 in June 2025 (30.64%, MHLW; docs/reference.md,
/// "Volumes and peers"), in basis points.
pub(crate) const NATIONAL_SHARE_BP: i64 = 3064;
/// The month of [`NATIONAL_SHARE_BP`].
pub(crate) const NATIONAL_SHARE_MONTH: &str = "2025年6月";

/// The longest range one page shows.
const MAX_DAYS: i64 = 366;

/// How a check identified the patient, as the statistics group it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    Face,
    Pin,
    Visual,
    Phone,
    InsuranceData,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Self::Face,
        Self::Pin,
        Self::Visual,
        Self::Phone,
        Self::InsuranceData,
    ];

    pub fn of(m: VerificationMethod) -> Self {
        match m {
            VerificationMethod::CardFace => Self::Face,
            VerificationMethod::CardPin => Self::Pin,
            VerificationMethod::CardVisual => Self::Visual,
            VerificationMethod::AndroidPin | VerificationMethod::IphoneBiometric => Self::Phone,
            VerificationMethod::InsuranceData => Self::InsuranceData,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Face => "顔認証",
            Self::Pin => "暗証番号",
            Self::Visual => "目視確認",
            Self::Phone => "スマートフォン",
            Self::InsuranceData => "保険証情報（資格確認書）",
        }
    }

    /// Whether a check by this channel counts as a use of マイナ保険証.
    pub fn is_my_number(self) -> bool {
        self != Self::InsuranceData
    }

    /// The chart's fill (each passes 3:1 against white) and the CSS class of the legend.
    pub fn color(self) -> &'static str {
        match self {
            Self::Face => "#1d4ed8",
            Self::Pin => "#047857",
            Self::Visual => "#b45309",
            Self::Phone => "#7e22ce",
            Self::InsuranceData => "#4b5563",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }
}

/// Checks of one day (or of the whole range) per channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub by_channel: [i64; 5],
}

impl Counts {
    pub fn total(&self) -> i64 {
        self.by_channel.iter().sum()
    }

    pub fn my_number(&self) -> i64 {
        Channel::ALL
            .iter()
            .filter(|c| c.is_my_number())
            .map(|c| self.by_channel[c.index()])
            .sum()
    }

    /// The share of マイナ保険証 in basis points; `None` without checks.
    pub fn share_bp(&self) -> Option<i64> {
        let t = self.total();
        (t > 0).then(|| (self.my_number() * 10_000 + t / 2) / t)
    }
}

/// `30.64%` from basis points.
pub(crate) fn percent(bp: i64) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

/// Per-day counts over `from..=until`, every day present.
pub(crate) fn per_day(
    rows: &[DailyMethodCount],
    from: NaiveDate,
    until: NaiveDate,
) -> Vec<(NaiveDate, Counts)> {
    let mut days: Vec<(NaiveDate, Counts)> = from
        .iter_days()
        .take_while(|d| *d <= until)
        .map(|d| (d, Counts::default()))
        .collect();
    for r in rows {
        let i = (r.day - from).num_days();
        if let Some((_, c)) = usize::try_from(i).ok().and_then(|i| days.get_mut(i)) {
            c.by_channel[Channel::of(r.method).index()] += r.count;
        }
    }
    days
}

#[derive(Deserialize, Default)]
pub(crate) struct StatsQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    institution: String,
}

#[derive(Template)]
#[template(path = "admin/stats.html")]
struct StatsPage {
    layout: Layout,
    from: String,
    until: String,
    institution: String,
    errors: Vec<String>,
    channels: Vec<ChannelView>,
    days: Vec<DayView>,
    total: i64,
    share: String,
    national: String,
    national_month: &'static str,
    chart: Chart,
}

struct ChannelView {
    label: &'static str,
    color: &'static str,
    count: i64,
    share: String,
}

struct DayView {
    date: String,
    counts: Vec<i64>,
    total: i64,
    share: String,
}

/// A stacked bar chart drawn as SVG by the template.
pub(crate) struct Chart {
    pub width: i64,
    pub height: i64,
    pub bars: Vec<Bar>,
    pub ticks: Vec<Tick>,
    pub max: i64,
    pub description: String,
}

pub(crate) struct Bar {
    pub segments: Vec<Segment>,
    /// Label under the bar, every few days.
    pub label: Option<(i64, String)>,
}

pub(crate) struct Segment {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    pub color: &'static str,
    pub title: String,
}

pub(crate) struct Tick {
    pub y: i64,
    pub value: i64,
}

const CHART_LEFT: i64 = 48;
const CHART_TOP: i64 = 10;
const CHART_PLOT_H: i64 = 200;

fn chart(days: &[(NaiveDate, Counts)]) -> Chart {
    let width = 900;
    let plot_w = width - CHART_LEFT - 10;
    let max = days
        .iter()
        .map(|(_, c)| c.total())
        .max()
        .unwrap_or(0)
        .max(1);
    // A round scale: 1, 2 or 5 times a power of ten above the highest bar.
    let mut step = 1;
    while max > step * 5 {
        step = if step.to_string().starts_with('1') {
            step * 2
        } else if step.to_string().starts_with('2') {
            step * 5 / 2
        } else {
            step * 2
        };
    }
    let top = step * ((max + step - 1) / step).max(1);
    let n = days.len().max(1) as i64;
    let slot = plot_w / n;
    let bar_w = (slot * 7 / 10).max(1);
    let label_every = (n / 10).max(1);
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, (day, c))| {
            let i = i as i64;
            let x = CHART_LEFT + i * slot + (slot - bar_w) / 2;
            let mut y = CHART_TOP + CHART_PLOT_H;
            let segments = Channel::ALL
                .iter()
                .filter(|ch| c.by_channel[ch.index()] > 0)
                .map(|ch| {
                    let v = c.by_channel[ch.index()];
                    let h = (v * CHART_PLOT_H / top).max(1);
                    y -= h;
                    Segment {
                        x,
                        y,
                        w: bar_w,
                        h,
                        color: ch.color(),
                        title: format!("{day} {}: {v}件", ch.label()),
                    }
                })
                .collect();
            Bar {
                segments,
                label: (i % label_every == 0)
                    .then(|| (x + bar_w / 2, day.format("%m/%d").to_string())),
            }
        })
        .collect();
    let ticks = (0..=top / step)
        .map(|k| Tick {
            y: CHART_TOP + CHART_PLOT_H - k * step * CHART_PLOT_H / top,
            value: k * step,
        })
        .collect();
    let total: i64 = days.iter().map(|(_, c)| c.total()).sum();
    Chart {
        width,
        height: CHART_TOP + CHART_PLOT_H + 30,
        bars,
        ticks,
        max: top,
        description: format!(
            "{}から{}までの{}日間の資格確認件数（合計{}件）を、確認方法ごとに積み上げた棒グラフ。数値は下の表にあります。",
            days.first().map(|d| d.0.to_string()).unwrap_or_default(),
            days.last().map(|d| d.0.to_string()).unwrap_or_default(),
            days.len(),
            total
        ),
    }
}

pub(crate) async fn stats_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StatsQuery>,
) -> Result<Response, AdminError> {
    let s = session(&state, &headers)?;
    let today = crate::today_jst();
    let mut errors = Vec::new();
    let until = match q.until.trim() {
        "" => Some(today),
        t => parse_date_input(t),
    };
    let until = until.unwrap_or_else(|| {
        errors.push("終了日を正しく入力してください（例: 2025-06-30）。".to_owned());
        today
    });
    let from = match q.from.trim() {
        "" => Some(until - Duration::days(29)),
        t => parse_date_input(t),
    };
    let mut from = from.unwrap_or_else(|| {
        errors.push("開始日を正しく入力してください（例: 2025-06-01）。".to_owned());
        until - Duration::days(29)
    });
    if from > until {
        errors.push("開始日が終了日より後になっています。".to_owned());
        from = until;
    }
    if (until - from).num_days() >= MAX_DAYS {
        errors.push(format!(
            "期間は{MAX_DAYS}日以内で指定してください。終了日から{MAX_DAYS}日分を表示しています。"
        ));
        from = until - Duration::days(MAX_DAYS - 1);
    }
    let institution = match q.institution.trim() {
        "" => None,
        c => match InstitutionCode::parse(c) {
            Ok(c) => Some(c),
            Err(_) => {
                errors.push(
                    "医療機関コードは10桁の数字で入力してください。全体を表示しています。"
                        .to_owned(),
                );
                None
            }
        },
    };
    let rows = state
        .store()
        .checks_per_day(from, until, institution.as_ref())
        .await?;
    let days = per_day(&rows, from, until);
    let mut all = Counts::default();
    for (_, c) in &days {
        for (a, b) in all.by_channel.iter_mut().zip(c.by_channel) {
            *a += b;
        }
    }
    let total = all.total();
    let share_of = |n: i64| {
        if total == 0 {
            "—".to_owned()
        } else {
            percent((n * 10_000 + total / 2) / total)
        }
    };
    let page = StatsPage {
        layout: Layout::new("利用状況", "stats", &s),
        from: from.to_string(),
        until: until.to_string(),
        institution: institution.map(|c| c.to_string()).unwrap_or_default(),
        channels: Channel::ALL
            .iter()
            .map(|c| ChannelView {
                label: c.label(),
                color: c.color(),
                count: all.by_channel[c.index()],
                share: share_of(all.by_channel[c.index()]),
            })
            .collect(),
        chart: chart(&days),
        days: days
            .iter()
            .rev()
            .map(|(d, c)| DayView {
                date: d.to_string(),
                counts: c.by_channel.to_vec(),
                total: c.total(),
                share: c.share_bp().map(percent).unwrap_or_else(|| "—".to_owned()),
            })
            .collect(),
        total,
        share: all
            .share_bp()
            .map(percent)
            .unwrap_or_else(|| "—".to_owned()),
        national: percent(NATIONAL_SHARE_BP),
        national_month: NATIONAL_SHARE_MONTH,
        errors,
    };
    let mut res = html(&page)?;
    if !page.errors.is_empty() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        onshi_model::parse_yyyymmdd(s).unwrap()
    }

    #[test]
    fn days_are_filled_and_channels_grouped() {
        let rows = [
            DailyMethodCount {
                day: d("20250602"),
                method: VerificationMethod::AndroidPin,
                count: 2,
            },
            DailyMethodCount {
                day: d("20250602"),
                method: VerificationMethod::IphoneBiometric,
                count: 1,
            },
            DailyMethodCount {
                day: d("20250603"),
                method: VerificationMethod::InsuranceData,
                count: 7,
            },
        ];
        let days = per_day(&rows, d("20250601"), d("20250603"));
        assert_eq!(days.len(), 3);
        assert_eq!(days[0].1.total(), 0);
        assert_eq!(days[1].1.by_channel[Channel::Phone.index()], 3);
        assert_eq!(days[2].1.my_number(), 0);
        assert_eq!(days[0].1.share_bp(), None);
        assert_eq!(days[1].1.share_bp(), Some(10_000));
    }

    #[test]
    fn the_share_is_rounded_to_basis_points() {
        let c = Counts {
            by_channel: [1, 0, 0, 0, 2],
        };
        assert_eq!(c.share_bp(), Some(3333));
        assert_eq!(percent(3333), "33.33%");
        assert_eq!(percent(NATIONAL_SHARE_BP), "30.64%");
        assert_eq!(percent(5), "0.05%");
    }

    #[test]
    fn the_chart_scale_covers_the_highest_bar() {
        let days = vec![
            (
                d("20250601"),
                Counts {
                    by_channel: [3, 4, 0, 0, 0],
                },
            ),
            (d("20250602"), Counts::default()),
        ];
        let c = chart(&days);
        assert!(c.max >= 7);
        assert_eq!(c.bars.len(), 2);
        assert_eq!(c.bars[0].segments.len(), 2);
        assert!(c.bars[1].segments.is_empty());
        let top = c.bars[0].segments.last().unwrap();
        assert!(top.y >= CHART_TOP, "inside the plot");
    }
}
