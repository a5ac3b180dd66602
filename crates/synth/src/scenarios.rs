//! The scenario catalogue: for each situation the center must answer, the ids of a few
//! persons and records of a nation that exhibit it, found by scanning households.

use onshi_model::{InsurerKind, PersonalFamilyClassification, ReasonOfLoss};

use crate::dates::is_preschool;
use crate::{Household, InsuredRecord, Nation};

/// Examples kept per scenario.
pub const EXAMPLES: usize = 3;

/// One person and one of their records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    /// Household index (for [`Nation::household`]).
    pub household: u64,
    pub person_id: u64,
    pub record_id: u64,
}

/// A person whose record was lost and who holds a newer one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobChange {
    pub household: u64,
    pub person_id: u64,
    pub lost_record_id: u64,
    pub new_record_id: u64,
}

/// Twins under one 本人: the same insurer, 記号, 番号 and birth date, different 枝番, so a
/// query without 枝番 finds both (複数該当).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeveralFound {
    pub household: u64,
    pub person_ids: [u64; 2],
    pub record_ids: [u64; 2],
}

/// Up to three examples of each scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scenarios {
    /// A living person's record in force (有効).
    pub valid: Vec<Case>,
    /// A record lost by death (reason 01); the person has a `death_date`.
    pub lost_death: Vec<Case>,
    /// A record lost when welfare began (reason 02), nothing newer (無効).
    pub lost_welfare: Vec<Case>,
    /// A record lost for another reason (99, emigration), nothing newer (無効).
    pub lost_other: Vec<Case>,
    /// A job change the new insurer registered (無効（新しい資格あり）for the old card).
    pub job_change_registered: Vec<JobChange>,
    /// A job change the new insurer has not registered yet: only the lost record (reason
    /// 03) exists, the reader says 資格無効.
    pub job_change_unregistered: Vec<Case>,
    /// A move to another municipality: the old 国保 lost (99), a new one in force.
    pub moved: Vec<JobChange>,
    /// Twins found together when the query has no 枝番.
    pub several_found: Vec<SeveralFound>,
    /// A 後期高齢者医療 record in force.
    pub late_elderly: Vec<Case>,
    /// Turned 75 recently: the previous record lost on the birthday, 後期高齢者 from it.
    pub turned_75: Vec<JobChange>,
    /// A family member's (家族, 被扶養者) record in force.
    pub family_member: Vec<Case>,
    /// A preschool child's record in force (2割).
    pub preschool: Vec<Case>,
    /// A record in force with 高齢受給者 information (70–74).
    pub elderly_recipient: Vec<Case>,
    /// A record in force with a 限度額適用区分.
    pub limit: Vec<Case>,
    /// A record in force with a 特定疾病 certificate.
    pub specific_disease: Vec<Case>,
    /// A living insured person who holds no My Number Card.
    pub without_card: Vec<Case>,
    /// A living insured card holder who has not linked the card (利用登録).
    pub card_not_linked: Vec<Case>,
    /// A living insured card holder whose card is linked.
    pub card_linked: Vec<Case>,
}

impl Scenarios {
    /// The names of the scenarios without any example. 特定疾病 (about 0.3 % of persons) is
    /// not required: a small nation may hold none in force.
    pub fn missing(&self) -> Vec<&'static str> {
        let lens = [
            ("valid", self.valid.len()),
            ("lost_death", self.lost_death.len()),
            ("lost_welfare", self.lost_welfare.len()),
            ("lost_other", self.lost_other.len()),
            ("job_change_registered", self.job_change_registered.len()),
            (
                "job_change_unregistered",
                self.job_change_unregistered.len(),
            ),
            ("moved", self.moved.len()),
            ("several_found", self.several_found.len()),
            ("late_elderly", self.late_elderly.len()),
            ("turned_75", self.turned_75.len()),
            ("family_member", self.family_member.len()),
            ("preschool", self.preschool.len()),
            ("elderly_recipient", self.elderly_recipient.len()),
            ("limit", self.limit.len()),
            ("without_card", self.without_card.len()),
            ("card_not_linked", self.card_not_linked.len()),
            ("card_linked", self.card_linked.len()),
        ];
        lens.iter()
            .filter(|(_, n)| *n == 0)
            .map(|(s, _)| *s)
            .collect()
    }

    fn full(&self) -> bool {
        let all = [
            self.valid.len(),
            self.lost_death.len(),
            self.lost_welfare.len(),
            self.lost_other.len(),
            self.job_change_registered.len(),
            self.job_change_unregistered.len(),
            self.moved.len(),
            self.several_found.len(),
            self.late_elderly.len(),
            self.turned_75.len(),
            self.family_member.len(),
            self.preschool.len(),
            self.elderly_recipient.len(),
            self.limit.len(),
            self.specific_disease.len(),
            self.without_card.len(),
            self.card_not_linked.len(),
            self.card_linked.len(),
        ];
        all.iter().all(|n| *n >= EXAMPLES)
    }
}

fn add<T>(list: &mut Vec<T>, item: T) {
    if list.len() < EXAMPLES {
        list.push(item);
    }
}

/// Scans the first `max_households` households for examples of every scenario.
pub fn find_scenarios(nation: &Nation, max_households: u64) -> Scenarios {
    let mut s = Scenarios::default();
    for index in 0..max_households.min(nation.household_count()) {
        scan(nation, &nation.household(index), index, &mut s);
        if s.full() {
            break;
        }
    }
    s
}

fn scan(nation: &Nation, h: &Household, household: u64, s: &mut Scenarios) {
    let as_of = nation.config().as_of;
    let in_force = |r: &InsuredRecord| {
        r.qualification_date <= as_of && r.disqualification_date.is_none_or(|d| d > as_of)
    };
    let case = |p: u64, r: &InsuredRecord| Case {
        household,
        person_id: p,
        record_id: r.id,
    };
    for p in &h.persons {
        let mine: Vec<&InsuredRecord> = h.records.iter().filter(|r| r.person_id == p.id).collect();
        let current = mine.iter().copied().find(|r| in_force(r));
        let alive = p.death_date.is_none();
        if let Some(r) = current {
            let kind = InsurerKind::of(&r.insurer_number);
            if alive && r.personal_family == PersonalFamilyClassification::Insured {
                add(&mut s.valid, case(p.id, r));
            }
            if kind == Some(InsurerKind::LateStageElderly) {
                add(&mut s.late_elderly, case(p.id, r));
            }
            if r.personal_family == PersonalFamilyClassification::Family {
                add(&mut s.family_member, case(p.id, r));
            }
            if is_preschool(p.birth_date, as_of) {
                add(&mut s.preschool, case(p.id, r));
            }
            if r.elderly_recipient.is_some() {
                add(&mut s.elderly_recipient, case(p.id, r));
            }
            if r.limit.is_some() {
                add(&mut s.limit, case(p.id, r));
            }
            if !r.specific_diseases.is_empty() {
                add(&mut s.specific_disease, case(p.id, r));
            }
            match (alive, p.card) {
                (true, None) => add(&mut s.without_card, case(p.id, r)),
                (true, Some(c)) if c.linked_on.is_none() => {
                    add(&mut s.card_not_linked, case(p.id, r))
                }
                (true, Some(_)) => add(&mut s.card_linked, case(p.id, r)),
                _ => {}
            }
        }
        for lost in mine.iter().filter(|r| r.disqualification_date.is_some()) {
            let newer = current
                .filter(|c| c.qualification_date == lost.disqualification_date.expect("lost"));
            let change = |n: &InsuredRecord| JobChange {
                household,
                person_id: p.id,
                lost_record_id: lost.id,
                new_record_id: n.id,
            };
            match (lost.reason_of_loss, newer) {
                (Some(ReasonOfLoss::Death), _) => add(&mut s.lost_death, case(p.id, lost)),
                (Some(ReasonOfLoss::Welfare), None) if current.is_none() => {
                    add(&mut s.lost_welfare, case(p.id, lost))
                }
                (Some(ReasonOfLoss::Other), None) if current.is_none() => {
                    add(&mut s.lost_other, case(p.id, lost))
                }
                (Some(ReasonOfLoss::Other), Some(n)) => add(&mut s.moved, change(n)),
                (Some(ReasonOfLoss::OtherInsurance), Some(n)) => {
                    if InsurerKind::of(&n.insurer_number) == Some(InsurerKind::LateStageElderly) {
                        add(&mut s.turned_75, change(n));
                    } else {
                        add(&mut s.job_change_registered, change(n));
                    }
                }
                (Some(ReasonOfLoss::OtherInsurance), None) if current.is_none() && alive => {
                    add(&mut s.job_change_unregistered, case(p.id, lost))
                }
                _ => {}
            }
        }
    }
    for (i, a) in h.records.iter().enumerate().filter(|(_, r)| in_force(r)) {
        for b in h.records[i + 1..].iter().filter(|r| in_force(r)) {
            let birth = |r: &InsuredRecord| {
                h.persons
                    .iter()
                    .find(|p| p.id == r.person_id)
                    .map(|p| p.birth_date)
            };
            if a.person_id != b.person_id
                && a.insurer_number == b.insurer_number
                && a.symbol == b.symbol
                && a.number == b.number
                && birth(a) == birth(b)
            {
                add(
                    &mut s.several_found,
                    SeveralFound {
                        household,
                        person_ids: [a.person_id, b.person_id],
                        record_ids: [a.id, b.id],
                    },
                );
            }
        }
    }
}
