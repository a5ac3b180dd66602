//! Who insures whom, and since when: employees as 本人 with their family as 被扶養者, 国保
//! and 後期高齢者医療 insuring each person individually, job changes (some not yet
//! registered by the new insurer), moves between municipalities, the switch to 後期高齢者
//! at 75, losses by death, welfare and emigration — then the attributes of each record.

use chrono::{Datelike, NaiveDate};
use onshi_model::{
    BranchNumber, BurdenRatio, ElderlyRecipientInfo, InsuredCardClassification, InsurerKind,
    LimitCategory, LimitCertificateClassification, LimitInfo, PersonalFamilyClassification,
    ReasonOfLoss, SpecificDiseaseCategory, SpecificDiseaseInfo, age_on,
};

use crate::dates::{
    anniversary, days_after, days_before, is_preschool, last_august1, next_day, next_july31,
    prev_day, ymd,
};
use crate::household::{Member, Role};
use crate::insurers::Registry;
use crate::rng::Rng;
use crate::{InsuredRecord, Insurer};

/// What the record generator needs to know about the nation and the household.
pub struct Ctx<'a> {
    pub registry: &'a Registry,
    pub insurers: &'a [Insurer],
    /// Index of the household's prefecture (code − 1).
    pub pref: usize,
    /// Index of the household's municipality in the flattened place table.
    pub municipality: usize,
    pub as_of: NaiveDate,
    /// Global index of the household's first person.
    pub first_index: u64,
}

/// One qualification before it becomes an [`InsuredRecord`].
#[derive(Debug, Clone)]
pub struct Spec {
    pub member: usize,
    pub insurer: usize,
    /// The member who is 本人 of the unit.
    pub head: usize,
    pub branch: u8,
    pub qual: NaiveDate,
    pub loss: Option<(NaiveDate, ReasonOfLoss)>,
    pub short_term: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    LateElderly,
    Employee(usize),
    Dependant,
    Kokuho,
}

/// 後期高齢者医療 began on 1 April 2008.
fn late_elderly_start() -> NaiveDate {
    ymd(2008, 4, 1)
}

fn years(n: u64) -> u64 {
    n * 365 + n / 4
}

fn employee_insurer(rng: &mut Rng, reg: &Registry, pref: usize, allow_sdf: bool) -> usize {
    let any = |rng: &mut Rng, v: &[usize]| v[rng.below(v.len() as u64) as usize];
    match rng.below(1000) {
        0..520 => reg.kyokai[pref],
        520..910 if !reg.kumiai_by_pref[pref].is_empty() && rng.percent(60) => {
            any(rng, &reg.kumiai_by_pref[pref])
        }
        520..910 => any(rng, &reg.kumiai),
        910..945 => any(rng, &reg.local_mutual[pref]),
        945..965 => reg.school[pref],
        965..970 => reg.private_school,
        970..985 => any(rng, &reg.national_mutual),
        985..993 => reg.police[pref],
        993..995 => reg.senin,
        _ if allow_sdf => any(rng, &reg.self_defense),
        _ => reg.kyokai[pref],
    }
}

/// Shares of working age people who are employees and who work on their own (国保), in
/// percent, by age; the rest do not work (students, homemakers, the retired).
fn work_shares(age: u32, role: Role) -> (u32, u32) {
    match age {
        0..=17 => (0, 0),
        18..=22 => (30, 5),
        23..=59 if role == Role::Spouse => (50, 8),
        23..=59 => (76, 14),
        60..=64 => (50, 15),
        65..=69 => (28, 12),
        _ => (14, 8),
    }
}

/// Decides every member's insurance and its history.
pub fn plan(ctx: &Ctx<'_>, rng: &mut Rng, members: &[Member]) -> Vec<Spec> {
    let reg = ctx.registry;
    let n = members.len();
    let last: Vec<NaiveDate> = members.iter().map(|m| m.last_day(ctx.as_of)).collect();
    let age: Vec<u32> = (0..n).map(|i| age_on(members[i].birth, last[i])).collect();

    let mut plans = Vec::with_capacity(n);
    let mut kokuho_worker = None;
    for i in 0..n {
        let (employee, own) = work_shares(age[i], members[i].role);
        let r = rng.below(100) as u32;
        plans.push(if age[i] >= 75 {
            Plan::LateElderly
        } else if r < employee {
            let sdf = members[i].role == Role::Child || n == 1;
            Plan::Employee(employee_insurer(rng, reg, ctx.pref, sdf))
        } else if r < employee + own {
            kokuho_worker.get_or_insert(i);
            Plan::Kokuho
        } else if age[i] >= 60 && rng.percent(4) {
            let v = &reg.special_retiree;
            Plan::Employee(v[rng.below(v.len() as u64) as usize])
        } else {
            Plan::Dependant
        });
    }
    // The breadwinner: the first living head or spouse who is an employee.
    let breadwinner = (0..n).find(|&i| {
        matches!(members[i].role, Role::Head | Role::Spouse)
            && members[i].death.is_none()
            && matches!(plans[i], Plan::Employee(_))
    });
    for i in 0..n {
        if plans[i] == Plan::Dependant {
            let covered = breadwinner
                .is_some_and(|b| b != i && (members[i].role != Role::Elder || rng.percent(50)));
            if !covered {
                plans[i] = Plan::Kokuho;
            }
        }
    }
    // 国保組合 members bring their household; everyone else is in the municipal 国保.
    let kokuho = match kokuho_worker {
        Some(_) if rng.percent(8) => {
            let local = &reg.kokuho_assoc_by_pref[ctx.pref];
            let v = if local.is_empty() {
                &reg.kokuho_assoc_national
            } else {
                local
            };
            v[rng.below(v.len() as u64) as usize]
        }
        _ => reg.kokuho[ctx.municipality],
    };

    let mut specs = Vec::with_capacity(n + 2);
    for i in 0..n {
        match plans[i] {
            Plan::Employee(insurer) => {
                let timeline = employee_timeline(ctx, rng, &members[i], i, age[i], insurer);
                if Some(i) == breadwinner {
                    let mut branch = 0;
                    for d in (0..n).filter(|&d| plans[d] == Plan::Dependant) {
                        branch += 1;
                        for t in &timeline {
                            if let Some(s) = dependant_spec(t, d, i, branch, &members[d]) {
                                specs.push(s);
                            }
                        }
                    }
                }
                specs.extend(timeline);
            }
            Plan::Kokuho => specs.extend(kokuho_timeline(ctx, rng, &members[i], i, kokuho)),
            Plan::LateElderly => specs.extend(late_timeline(ctx, rng, &members[i], i, kokuho)),
            Plan::Dependant => {}
        }
    }
    for s in &mut specs {
        if let (None, Some(d)) = (s.loss, members[s.member].death) {
            s.loss = Some((next_day(d), ReasonOfLoss::Death));
        }
    }
    lose_to_welfare(ctx, rng, members, &plans, &mut specs);
    emigrate(ctx, rng, members, &mut specs);
    specs.sort_by_key(|s| (s.member, s.qual));
    specs
}

/// An employee's qualifications: one, or two around a job change (10 % of those under 65;
/// a tenth of the changes so recent that the new insurer has not registered yet).
fn employee_timeline(
    ctx: &Ctx<'_>,
    rng: &mut Rng,
    m: &Member,
    index: usize,
    age: u32,
    insurer: usize,
) -> Vec<Spec> {
    let end = m.last_day(ctx.as_of);
    let adult = anniversary(m.birth, 18);
    let tenure = rng.below(years(u64::from(age.saturating_sub(18).min(30))) + 365);
    let start = days_before(end, tenure).max(adult).min(end);
    let kind = ctx.insurers[insurer].kind;
    let mut out = Vec::with_capacity(2);
    let one = |insurer, qual, loss| Spec {
        member: index,
        insurer,
        head: index,
        branch: 0,
        qual,
        loss,
        short_term: false,
    };
    if age < 65 && m.death.is_none() && kind != InsurerKind::SpecialRetiree && rng.percent(10) {
        let unregistered = rng.percent(10);
        let change = if unregistered {
            days_before(ctx.as_of, rng.range(1, 45))
        } else {
            days_before(ctx.as_of, rng.range(30, 730))
        };
        let old_start = days_before(change, years(15)).max(adult);
        let old_end = days_before(change, 30);
        let allow_sdf = ctx.insurers[insurer].kind == InsurerKind::SelfDefenseForces;
        let old = (0..16)
            .map(|_| employee_insurer(rng, ctx.registry, ctx.pref, allow_sdf))
            .find(|o| ctx.insurers[*o].number != ctx.insurers[insurer].number);
        if let (Some(old), true) = (old, old_start <= old_end) {
            let qual = rng.date(old_start, old_end);
            out.push(one(old, qual, Some((change, ReasonOfLoss::OtherInsurance))));
            if !unregistered {
                out.push(one(insurer, change, None));
            }
            return out;
        }
    }
    out.push(one(insurer, start, None));
    out
}

/// A family member's record under one of the breadwinner's qualifications.
fn dependant_spec(t: &Spec, member: usize, head: usize, branch: u8, m: &Member) -> Option<Spec> {
    let qual = t.qual.max(m.birth);
    if m.death.is_some_and(|d| qual > d) || t.loss.is_some_and(|(l, _)| qual >= l) {
        return None;
    }
    let loss = match (m.death, t.loss) {
        (Some(d), Some((l, _))) if next_day(d) < l => Some((next_day(d), ReasonOfLoss::Death)),
        (Some(d), None) => Some((next_day(d), ReasonOfLoss::Death)),
        (_, loss) => loss,
    };
    Some(Spec {
        member,
        insurer: t.insurer,
        head,
        branch,
        qual,
        loss,
        short_term: false,
    })
}

/// A 国保 member: one qualification, or two around a move from another municipality (3 %
/// of adults, the old one lost with reason 99).
fn kokuho_timeline(
    ctx: &Ctx<'_>,
    rng: &mut Rng,
    m: &Member,
    i: usize,
    insurer: usize,
) -> Vec<Spec> {
    let end = m.last_day(ctx.as_of);
    let age = age_on(m.birth, end);
    let qual = days_before(end, rng.below(years(u64::from(age.min(30))) + 365)).max(m.birth);
    let short_term = age >= 20 && rng.percent(2);
    let one = |insurer, qual, loss, short_term| Spec {
        member: i,
        insurer,
        head: i,
        branch: 0,
        qual,
        loss,
        short_term,
    };
    let municipal = ctx.insurers[insurer].kind == InsurerKind::MunicipalKokuho;
    if municipal && age >= 20 && m.death.is_none() && rng.percent(3) {
        let moved = days_before(ctx.as_of, rng.range(30, 1000));
        let from = ctx.registry.kokuho[rng.below(ctx.registry.kokuho.len() as u64) as usize];
        let old_start = days_before(moved, years(20)).max(m.birth);
        if from != insurer && old_start < moved {
            let old_qual = rng.date(old_start, prev_day(moved));
            return vec![
                one(from, old_qual, Some((moved, ReasonOfLoss::Other)), false),
                one(insurer, moved, None, short_term),
            ];
        }
    }
    vec![one(insurer, qual, None, short_term)]
}

/// 後期高齢者医療 from the 75th birthday (or from its start in 2008); those who turned 75
/// in the last three years keep the 国保 record that ended the day before.
fn late_timeline(ctx: &Ctx<'_>, rng: &mut Rng, m: &Member, i: usize, kokuho: usize) -> Vec<Spec> {
    let birthday = anniversary(m.birth, 75);
    let start = birthday.max(late_elderly_start());
    let late = ctx.registry.late_elderly[ctx.pref];
    let mut out = Vec::with_capacity(2);
    if birthday > days_before(ctx.as_of, years(3)) {
        let qual = rng.date(days_before(birthday, years(15)), days_before(birthday, 30));
        out.push(Spec {
            member: i,
            insurer: kokuho,
            head: i,
            branch: 0,
            qual,
            loss: Some((birthday, ReasonOfLoss::OtherInsurance)),
            short_term: false,
        });
    }
    out.push(Spec {
        member: i,
        insurer: late,
        head: i,
        branch: 0,
        qual: start,
        loss: None,
        short_term: false,
    });
    out
}

/// 生活保護: households insured only by 国保 and 後期高齢者医療 start receiving welfare (4 %
/// of people living alone, 2 % of others), which ends their qualifications (reason 02).
fn lose_to_welfare(
    ctx: &Ctx<'_>,
    rng: &mut Rng,
    members: &[Member],
    plans: &[Plan],
    specs: &mut [Spec],
) {
    let eligible = plans
        .iter()
        .all(|p| matches!(p, Plan::Kokuho | Plan::LateElderly))
        && members.iter().all(|m| m.death.is_none());
    if !eligible || !rng.percent(if members.len() == 1 { 4 } else { 2 }) {
        return;
    }
    let start = days_before(ctx.as_of, rng.range(1, 1095));
    if specs
        .iter()
        .any(|s| s.qual >= start || s.loss.is_some_and(|(l, _)| l >= start))
    {
        return;
    }
    for s in specs.iter_mut() {
        if s.loss.is_none() {
            s.loss = Some((start, ReasonOfLoss::Welfare));
        }
    }
}

/// People living alone under 65 who moved abroad (3 %): their only record ends with
/// reason 99 and no other follows.
fn emigrate(ctx: &Ctx<'_>, rng: &mut Rng, members: &[Member], specs: &mut [Spec]) {
    if members.len() != 1 || specs.len() != 1 || specs[0].loss.is_some() {
        return;
    }
    if age_on(members[0].birth, ctx.as_of) >= 65 || !rng.percent(3) {
        return;
    }
    let lo = next_day(specs[0].qual).max(days_before(ctx.as_of, 700));
    let hi = prev_day(ctx.as_of);
    if lo <= hi {
        specs[0].loss = Some((rng.date(lo, hi), ReasonOfLoss::Other));
    }
}

/// 限度額適用区分 from a person's income rank (0 = highest income) and age.
fn category(rank: u32, age: u32, late: bool) -> LimitCategory {
    use LimitCategory::*;
    let table: &[(u32, LimitCategory)] = match (age, late) {
        (0..=69, false) => &[
            (20, A01),
            (80, A02),
            (630, A03),
            (880, A04),
            (980, A05),
            (1000, A06),
        ],
        (_, false) => &[
            (20, B01),
            (40, B02),
            (80, B03),
            (700, B04),
            (900, B05),
            (1000, B06),
        ],
        (_, true) => &[
            (20, B01),
            (40, B02),
            (80, B03),
            (300, B09),
            (730, B10),
            (900, B05),
            (1000, B06),
        ],
    };
    table
        .iter()
        .find(|(limit, _)| rank < *limit)
        .map_or(B06, |(_, c)| *c)
}

fn limit_classification(c: LimitCategory) -> LimitCertificateClassification {
    use LimitCategory::*;
    match c {
        A05 | A06 | B05 | B06 | B07 | B08 => LimitCertificateClassification::LimitAndReduction,
        _ => LimitCertificateClassification::Limit,
    }
}

/// Probability of a 特定疾病 (dialysis) certificate in ppm, by age.
fn dialysis_ppm(age: u32) -> u32 {
    match age {
        0..=39 => 500,
        40..=59 => 2_500,
        60..=74 => 5_000,
        _ => 6_000,
    }
}

/// Turns the specs into records with ids, card numbers, burden ratios, 高齢受給者, 限度額
/// and 特定疾病 information.
pub fn materialize(
    ctx: &Ctx<'_>,
    rng: &mut Rng,
    members: &[Member],
    specs: &[Spec],
) -> Vec<InsuredRecord> {
    let mut out = Vec::with_capacity(specs.len());
    let mut ordinal = 0u64;
    for (k, s) in specs.iter().enumerate() {
        ordinal = if k > 0 && specs[k - 1].member == s.member {
            ordinal + 1
        } else {
            0
        };
        debug_assert!(ordinal < 4);
        let m = &members[s.member];
        let index = ctx.first_index + s.member as u64;
        let insurer = &ctx.insurers[s.insurer];
        let late = insurer.kind == InsurerKind::LateStageElderly;
        let on = s.loss.map_or(ctx.as_of, |(l, _)| prev_day(l));
        let age = age_on(m.birth, on);
        let rank = rng.below(1000) as u32;
        let cat = category(rank, age, late);
        let preschool = is_preschool(m.birth, on);
        let burden = BurdenRatio::statutory(age, preschool, (age >= 70).then_some(cat));
        let in_force = s.loss.is_none();
        let limit = (in_force && rng.percent(if age < 70 { 3 } else { 6 })).then(|| LimitInfo {
            classification: limit_classification(cat),
            category: cat,
            valid_from: last_august1(on).max(s.qual),
            valid_until: Some(next_july31(on)),
        });
        let elderly_recipient = if !late && (70..=74).contains(&age) {
            let seventy = anniversary(m.birth, 70);
            // Valid from the first of the month after the 70th birthday (the day itself
            // when it is a first).
            let from = if seventy.day() == 1 {
                seventy
            } else {
                ymd(seventy.year(), seventy.month(), 1) + chrono::Months::new(1)
            }
            .max(s.qual);
            let until = next_july31(on).min(prev_day(anniversary(m.birth, 75)));
            (from <= on).then_some(ElderlyRecipientInfo {
                valid_from: from,
                valid_until: until,
                ratio: burden,
            })
        } else {
            None
        };
        let last_of_member = specs.get(k + 1).is_none_or(|n| n.member != s.member);
        let mut specific_diseases = Vec::new();
        if last_of_member {
            let r = rng.below(1_000_000) as u32;
            let d = dialysis_ppm(age);
            let disease = if r < d {
                Some(SpecificDiseaseCategory::ChronicRenalFailure)
            } else if r < d + 100 {
                Some(SpecificDiseaseCategory::CoagulationFactorDisorder)
            } else if r < d + 250 {
                Some(SpecificDiseaseCategory::HivFromCoagulationProducts)
            } else {
                None
            };
            if let Some(category) = disease {
                let high = age < 70
                    && matches!(category, SpecificDiseaseCategory::ChronicRenalFailure)
                    && matches!(cat, LimitCategory::A01 | LimitCategory::A02);
                specific_diseases.push(SpecificDiseaseInfo {
                    category,
                    monthly_limit_yen: if high { 20_000 } else { 10_000 },
                    valid_from: rng.date(s.qual.max(days_before(on, years(5))), on),
                    valid_until: None,
                });
            }
        }
        let kokuho_like = matches!(
            insurer.kind,
            InsurerKind::MunicipalKokuho
                | InsurerKind::KokuhoAssociation
                | InsurerKind::LateStageElderly
        );
        let (card_classification, card_expiration_date) = if s.short_term && in_force {
            (
                InsuredCardClassification::ShortTermGeneral,
                Some(days_after(ctx.as_of, rng.range(30, 180))),
            )
        } else if kokuho_like {
            (insurer.kind.card_classification(), Some(next_july31(on)))
        } else {
            (insurer.kind.card_classification(), None)
        };
        let (symbol, number) = ctx
            .registry
            .card_numbers(s.insurer, ctx.first_index + s.head as u64);
        out.push(InsuredRecord {
            id: index * 4 + ordinal + 1,
            person_id: index + 1,
            insurer_number: insurer.number.clone(),
            symbol,
            number,
            branch: BranchNumber::new(s.branch).expect("branch below 100"),
            personal_family: if s.head == s.member {
                PersonalFamilyClassification::Insured
            } else {
                PersonalFamilyClassification::Family
            },
            insured_person_id: ctx.first_index + s.head as u64 + 1,
            card_classification,
            qualification_date: s.qual,
            disqualification_date: s.loss.map(|(d, _)| d),
            reason_of_loss: s.loss.map(|(_, r)| r),
            card_valid_date: s.qual,
            card_expiration_date,
            burden_ratio: burden,
            limit,
            elderly_recipient,
            specific_diseases,
        });
    }
    out
}
