//! 特定健診等: yearly check-ups of the insured aged 40–74 (特定健康診査), of employees aged
//! 35–39 (事業者健診 results passed to the insurer) and of 後期高齢者 (後期高齢者健診), with a
//! per-person baseline and a drift over the years.

use chrono::{Datelike, NaiveDate};
use onshi_model::{InsurerKind, PersonalFamilyClassification, Sex, age_on};

use super::{Places, Which};
use crate::dates::ymd;
use crate::rng::Rng;
use crate::{Household, InsuredRecord};

/// A decimal with one digit after the point, held as tenths: `Tenths(1705)` is 170.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Tenths(pub u32);

impl Tenths {
    pub fn from_f64(v: f64) -> Self {
        Self((v * 10.0).round().max(0.0) as u32)
    }

    pub fn value(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

impl std::fmt::Display for Tenths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0 / 10, self.0 % 10)
    }
}

/// The kind of a check-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckupKind {
    /// 特定健康診査: insured persons aged 40–74.
    Specific,
    /// 事業者健診: an employee under 40 whose results the insurer received.
    Employer,
    /// 後期高齢者健診: from 75.
    LateElderly,
}

impl CheckupKind {
    pub const fn name_ja(self) -> &'static str {
        match self {
            Self::Specific => "特定健康診査",
            Self::Employer => "事業者健診",
            Self::LateElderly => "後期高齢者健診",
        }
    }
}

/// A dipstick urine test (尿定性).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UrineTest {
    Negative,
    Trace,
    Plus1,
    Plus2,
    Plus3,
}

impl UrineTest {
    /// As printed on a result sheet: −, ±, +, 2+, 3+.
    pub const fn symbol(self) -> &'static str {
        match self {
            Self::Negative => "−",
            Self::Trace => "±",
            Self::Plus1 => "+",
            Self::Plus2 => "2+",
            Self::Plus3 => "3+",
        }
    }
}

/// One check-up's results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkup {
    /// 実施日.
    pub performed_on: NaiveDate,
    pub kind: CheckupKind,
    /// 実施機関.
    pub institution: onshi_model::InstitutionCode,
    /// 身長 (cm).
    pub height_cm: Tenths,
    /// 体重 (kg).
    pub weight_kg: Tenths,
    /// BMI (kg/m²), computed from the rounded height and weight.
    pub bmi: Tenths,
    /// 腹囲 (cm).
    pub waist_cm: Tenths,
    /// 収縮期血圧 (mmHg).
    pub systolic_mmhg: u16,
    /// 拡張期血圧 (mmHg).
    pub diastolic_mmhg: u16,
    /// HbA1c (NGSP, %).
    pub hba1c_percent: Tenths,
    /// 空腹時血糖 (mg/dL).
    pub fasting_glucose_mg_dl: u16,
    /// LDLコレステロール (mg/dL).
    pub ldl_mg_dl: u16,
    /// HDLコレステロール (mg/dL).
    pub hdl_mg_dl: u16,
    /// 中性脂肪 (mg/dL).
    pub triglycerides_mg_dl: u16,
    /// AST (GOT, U/L).
    pub ast_u_l: u16,
    /// ALT (GPT, U/L).
    pub alt_u_l: u16,
    /// γ-GT (γ-GTP, U/L).
    pub ggt_u_l: u16,
    /// 尿蛋白.
    pub urine_protein: UrineTest,
    /// 尿糖.
    pub urine_glucose: UrineTest,
}

/// The treated conditions the values reflect.
pub(super) struct Treated {
    pub hypertension: bool,
    pub diabetes: bool,
    pub dyslipidemia: bool,
    pub renal: bool,
}

/// About N(0, 1): the sum of four uniforms, centred and scaled (Irwin–Hall).
fn gauss(rng: &mut Rng) -> f64 {
    let u = |rng: &mut Rng| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (u(rng) + u(rng) + u(rng) + u(rng) - 2.0) * 3f64.sqrt()
}

fn normal(rng: &mut Rng, mean: f64, sd: f64) -> f64 {
    mean + sd * gauss(rng)
}

/// A person's values at the start of the window and their yearly drift.
struct Baseline {
    height: f64,
    bmi: f64,
    bmi_drift: f64,
    waist_extra: f64,
    systolic: f64,
    systolic_drift: f64,
    diastolic_offset: f64,
    hba1c: f64,
    hba1c_drift: f64,
    ldl: f64,
    hdl: f64,
    tg: f64,
    ast: f64,
    alt: f64,
    ggt: f64,
}

fn baseline(rng: &mut Rng, birth: NaiveDate, male: bool, age: u32, t: &Treated) -> Baseline {
    let a = f64::from(age);
    let (h_young, h_mid, h_old) = if male {
        (171.5, 167.0, 162.0)
    } else {
        (158.0, 154.5, 149.0)
    };
    let mean_height = match birth.year() {
        1970.. => h_young,
        1950..=1969 => h_mid,
        _ => h_old,
    };
    let height = normal(rng, mean_height, if male { 5.8 } else { 5.3 });
    let bmi = normal(rng, if male { 23.7 } else { 22.2 }, 3.2) + if t.diabetes { 1.5 } else { 0.0 };
    let hba1c = if t.diabetes {
        normal(rng, 7.0, 0.6).max(6.2)
    } else {
        normal(rng, 5.35 + 0.008 * (a - 40.0), 0.25).clamp(4.6, 6.4)
    };
    let drifting = rng.percent(if t.diabetes { 30 } else { 15 });
    Baseline {
        height: height.clamp(135.0, 200.0),
        bmi: bmi.clamp(15.5, 42.0),
        bmi_drift: if rng.percent(30) {
            0.2 + 0.3 * (gauss(rng).abs().min(1.0))
        } else {
            0.1 * gauss(rng)
        },
        waist_extra: normal(rng, 0.0, 3.0),
        systolic: if t.hypertension {
            normal(rng, 136.0, 10.0)
        } else {
            normal(rng, 108.0 + 0.45 * (a - 30.0), 11.0).min(158.0)
        },
        systolic_drift: if rng.percent(25) {
            1.5 + 2.5 * gauss(rng).abs().min(1.0)
        } else {
            0.0
        },
        diastolic_offset: normal(rng, 0.0, 6.0),
        hba1c,
        hba1c_drift: if drifting {
            (if t.diabetes { 0.1 } else { 0.03 }) + 0.1 * gauss(rng).abs().min(1.5)
        } else {
            0.0
        },
        ldl: if t.dyslipidemia {
            normal(rng, 105.0, 20.0)
        } else {
            normal(rng, if !male && age >= 50 { 133.0 } else { 118.0 }, 28.0)
        },
        hdl: normal(rng, if male { 55.0 } else { 66.0 }, 13.0),
        tg: (95f64.ln() + 0.45 * gauss(rng)).exp() * if t.diabetes { 1.3 } else { 1.0 },
        ast: normal(rng, 22.0, 6.0),
        alt: normal(rng, 20.0, 9.0),
        ggt: if male {
            (35f64.ln() + 0.6 * gauss(rng)).exp()
        } else {
            (18f64.ln() + 0.45 * gauss(rng)).exp()
        },
    }
}

fn in_force_on<'a>(records: &[&'a InsuredRecord], day: NaiveDate) -> Option<&'a InsuredRecord> {
    records
        .iter()
        .find(|r| r.qualification_date <= day && r.disqualification_date.is_none_or(|x| x > day))
        .copied()
}

/// Percent of persons who attend their check-ups, by their latest record.
fn attendance(record: &InsuredRecord) -> u32 {
    match InsurerKind::of(&record.insurer_number) {
        Some(InsurerKind::LateStageElderly) => 30,
        Some(k) if k.has_dependants() => {
            if record.personal_family == PersonalFamilyClassification::Insured {
                85
            } else {
                50
            }
        }
        _ => 40,
    }
}

fn u16_of(v: f64, lo: f64, hi: f64) -> u16 {
    v.clamp(lo, hi).round() as u16
}

/// One check-up per fiscal year (April to March) while insured and of age, for those who
/// attend; employees in spring and summer, others from June to December.
pub(super) fn generate(
    rng: &mut Rng,
    places: &mut Places<'_>,
    household: &Household,
    treated: Treated,
    begin: NaiveDate,
    end: NaiveDate,
) -> Vec<Checkup> {
    let person = places.person;
    let records: Vec<&InsuredRecord> = household
        .records
        .iter()
        .filter(|r| r.person_id == person.id)
        .collect();
    let Some(latest) = records.iter().max_by_key(|r| r.qualification_date) else {
        return Vec::new();
    };
    if !rng.percent(attendance(latest)) {
        return Vec::new();
    }
    let male = person.sex == Sex::Male;
    let base = baseline(
        rng,
        person.birth_date,
        male,
        age_on(person.birth_date, end),
        &treated,
    );
    let mut out = Vec::new();
    for fy in begin.year() - 1..=end.year() {
        let (lo, hi) = (ymd(fy, 4, 1).max(begin), ymd(fy + 1, 3, 31).min(end));
        if lo > hi || !rng.percent(90) {
            continue;
        }
        let probe = ymd(fy, 7, 1).clamp(lo, hi);
        let Some(record) = in_force_on(&records, probe) else {
            continue;
        };
        let employee = InsurerKind::of(&record.insurer_number).is_some_and(|k| k.has_dependants())
            && record.personal_family == PersonalFamilyClassification::Insured;
        let (season_lo, season_hi) = if employee {
            (ymd(fy, 4, 15), ymd(fy, 10, 31))
        } else {
            (ymd(fy, 6, 1), ymd(fy, 12, 20))
        };
        let (s_lo, s_hi) = (season_lo.max(lo), season_hi.min(hi));
        let day = if s_lo <= s_hi {
            rng.date(s_lo, s_hi)
        } else {
            rng.date(lo, hi)
        };
        if in_force_on(&records, day).is_none() {
            continue;
        }
        let age = age_on(person.birth_date, day);
        let kind = match age {
            75.. => CheckupKind::LateElderly,
            40..=74 => CheckupKind::Specific,
            35..=39 if employee => CheckupKind::Employer,
            _ => continue,
        };
        let institution = if employee && rng.percent(60) {
            places.get(rng, Which::Hospital)
        } else {
            places.get(rng, Which::Home)
        };
        let years = (day - begin).num_days() as f64 / 365.25;
        out.push(measure(
            rng,
            &base,
            &treated,
            male,
            years,
            day,
            kind,
            institution,
        ));
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn measure(
    rng: &mut Rng,
    b: &Baseline,
    t: &Treated,
    male: bool,
    years: f64,
    day: NaiveDate,
    kind: CheckupKind,
    institution: onshi_model::InstitutionCode,
) -> Checkup {
    let height = Tenths::from_f64(b.height + normal(rng, 0.0, 0.3));
    let h = height.value() / 100.0;
    let bmi_now = (b.bmi + b.bmi_drift * years + normal(rng, 0.0, 0.3)).clamp(15.0, 45.0);
    let weight = Tenths::from_f64(bmi_now * h * h);
    let bmi = Tenths::from_f64(weight.value() / (h * h));
    let waist = if male {
        2.9 * bmi.value() + 16.0
    } else {
        2.7 * bmi.value() + 20.0
    } + b.waist_extra
        + normal(rng, 0.0, 1.0);
    let systolic = b.systolic + b.systolic_drift * years + normal(rng, 0.0, 6.0);
    let diastolic = 0.58 * systolic + 6.0 + b.diastolic_offset + normal(rng, 0.0, 4.0);
    let hba1c = (b.hba1c + b.hba1c_drift * years + normal(rng, 0.0, 0.12)).clamp(4.3, 13.0);
    let glucose = if t.diabetes {
        28.7 * hba1c - 46.7 + normal(rng, 0.0, 12.0)
    } else {
        92.0 + (hba1c - 5.4) * 30.0 + normal(rng, 0.0, 7.0)
    };
    let bmi_effect = (bmi.value() - 22.0).max(0.0);
    let urine_protein = if t.renal {
        if rng.percent(50) {
            UrineTest::Plus2
        } else {
            UrineTest::Plus3
        }
    } else {
        let r = rng.below(100) + if t.diabetes { 10 } else { 0 };
        match r {
            0..=89 => UrineTest::Negative,
            90..=95 => UrineTest::Trace,
            96..=103 => UrineTest::Plus1,
            _ => UrineTest::Plus2,
        }
    };
    let urine_glucose = match (t.diabetes, hba1c) {
        (true, x) if x >= 8.0 => UrineTest::Plus2,
        (true, x) if x >= 7.0 && rng.percent(30) => UrineTest::Plus1,
        (_, x) if x >= 6.5 && rng.percent(10) => UrineTest::Trace,
        _ => UrineTest::Negative,
    };
    Checkup {
        performed_on: day,
        kind,
        institution,
        height_cm: height,
        weight_kg: weight,
        bmi,
        waist_cm: Tenths::from_f64(waist.clamp(50.0, 150.0)),
        systolic_mmhg: u16_of(systolic, 85.0, 220.0),
        diastolic_mmhg: u16_of(diastolic, 45.0, 130.0),
        hba1c_percent: Tenths::from_f64(hba1c),
        fasting_glucose_mg_dl: u16_of(glucose, 65.0, 400.0),
        ldl_mg_dl: u16_of(b.ldl + normal(rng, 0.0, 8.0), 40.0, 300.0),
        hdl_mg_dl: u16_of(b.hdl - bmi_effect + normal(rng, 0.0, 4.0), 20.0, 130.0),
        triglycerides_mg_dl: u16_of(
            b.tg * (1.0 + 0.05 * bmi_effect) * (1.0 + 0.15 * gauss(rng)),
            30.0,
            1200.0,
        ),
        ast_u_l: u16_of(b.ast + normal(rng, 0.0, 3.0), 8.0, 300.0),
        alt_u_l: u16_of(b.alt + 2.0 * bmi_effect + normal(rng, 0.0, 3.0), 5.0, 300.0),
        ggt_u_l: u16_of(b.ggt * (1.0 + 0.1 * gauss(rng)), 8.0, 800.0),
        urine_protein,
        urine_glucose,
    }
}
