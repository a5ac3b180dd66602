//! A deterministic synthetic nation for onshi: persons, households, insurers, medical
//! institutions and insured records (資格情報), generated from a seed. The demo, every test
//! and the benchmarks use it instead of real data.
//!
//! Same seed and same [`Config`] give byte-identical output, whatever the number of threads:
//! each household is generated from its own random stream, seeded from the nation's seed
//! and the household's index, so any household can be produced on its own. This crate does
//! no I/O of any kind — no files, no database, no network, no clock — and holds no global
//! state; it only computes values of the `onshi-model` types.
//!
//! `docs/synth.md` describes what is generated, at which rates, and the scenario catalogue
//! that [`find_scenarios`] returns.

mod dates;
pub mod history;
mod household;
mod institutions;
mod insurers;
mod names;
mod places;
mod records;
mod rng;
mod scenarios;
mod text;

use chrono::NaiveDate;
use onshi_model::{
    BranchNumber, BurdenRatio, ElderlyRecipientInfo, InstitutionCode, InstitutionKind,
    InsuredCardClassification, InsuredCardSymbol, InsuredNumber, InsurerKind, InsurerNumber,
    LimitInfo, MyNumber, PersonName, PersonalFamilyClassification, Prefecture, ReasonOfLoss, Sex,
    SpecificDiseaseInfo,
};

pub use dates::is_preschool;
pub use history::{
    Checkup, CheckupKind, Diagnosis, MedicationDispense, Outcome, PersonHistory, Surgery, Tenths,
    UrineTest, person_history,
};
pub use insurers::MAX_PERSONS;
pub use names::RARE_CHARACTERS;
pub use scenarios::{Case, JobChange, Scenarios, SeveralFound, find_scenarios};

use crate::insurers::Registry;
use crate::places::{Municipality, PREFECTURES};
use crate::rng::{Cumulative, Permutation, Rng, key};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The seed of every random choice.
    pub seed: u64,
    /// The exact number of persons in the nation.
    pub persons: u64,
    /// The day the nation is observed on: ages, in-force records and card dates refer to it.
    pub as_of: NaiveDate,
}

/// The synthetic nation: its insurers, institutions and the layout of its households.
#[derive(Debug, Clone)]
pub struct Nation {
    config: Config,
    insurers: Vec<Insurer>,
    institutions: Vec<Institution>,
    registry: Registry,
    /// Every municipality of the place table with its prefecture code.
    places: Vec<(u8, &'static Municipality)>,
    /// Population weights of `places`.
    place_weights: Cumulative,
    /// Number of persons of each household.
    sizes: Vec<u8>,
    /// Index of the first person of every `BLOCK`-th household.
    block_starts: Vec<u64>,
    my_numbers: Permutation,
}

/// Households per entry of `Nation::block_starts`.
const BLOCK: usize = 64;

/// Stream tags of the random streams derived from the seed.
const LAYOUT: u64 = 1;
const HOUSEHOLD: u64 = 2;
const FACE: u64 = 3;
const MY_NUMBER: u64 = 4;
const INSTITUTIONS: u64 = 5;

/// Share of households by number of persons, in per mille (2020 census: 38 % one person,
/// 28 % two, …; 2.2 persons per household).
const HOUSEHOLD_SIZES: &[(u8, u32)] = &[
    (1, 380),
    (2, 280),
    (3, 165),
    (4, 125),
    (5, 37),
    (6, 10),
    (7, 3),
];

/// 保険者.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insurer {
    pub number: InsurerNumber,
    pub kind: InsurerKind,
    pub name: String,
    pub prefecture: Prefecture,
    pub address: String,
}

/// 保険医療機関・保険薬局.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Institution {
    pub code: InstitutionCode,
    pub kind: InstitutionKind,
    pub name: String,
    pub prefecture: Prefecture,
    pub address: String,
    /// 郵便番号 as `123-4567`.
    pub post_number: String,
}

/// 世帯: persons living at one address and the insured records of all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Household {
    pub id: u64,
    pub persons: Vec<Person>,
    pub records: Vec<InsuredRecord>,
}

/// A person as the resident registry knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: u64,
    pub household_id: u64,
    pub name: PersonName,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    /// 郵便番号 as `123-4567`.
    pub post_number: String,
    /// Full address, starting with the prefecture.
    pub address: String,
    pub prefecture: Prefecture,
    pub my_number: MyNumber,
    pub death_date: Option<NaiveDate>,
    /// Seed of the person's synthetic face image.
    pub face_seed: u64,
    pub card: Option<CardHolding>,
}

/// A My Number Card held by a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardHolding {
    pub issued_on: NaiveDate,
    /// 利用登録 date: when the card was linked to health insurance; `None` if never.
    pub linked_on: Option<NaiveDate>,
}

/// One qualification (資格) of one person at one insurer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsuredRecord {
    pub id: u64,
    /// The person this record insures.
    pub person_id: u64,
    pub insurer_number: InsurerNumber,
    /// 記号: absent on cards that print none (後期高齢者医療).
    pub symbol: Option<InsuredCardSymbol>,
    pub number: InsuredNumber,
    /// 枝番: 00 for the insured person, 01… for family members.
    pub branch: BranchNumber,
    pub personal_family: PersonalFamilyClassification,
    /// The 本人 (insured person) of this record; the person themselves for a 本人 record.
    pub insured_person_id: u64,
    pub card_classification: InsuredCardClassification,
    /// 資格取得年月日.
    pub qualification_date: NaiveDate,
    /// 資格喪失年月日: the first day the person is no longer insured.
    pub disqualification_date: Option<NaiveDate>,
    pub reason_of_loss: Option<ReasonOfLoss>,
    /// 有効開始日 of the document.
    pub card_valid_date: NaiveDate,
    /// 有効終了日 of the document, where it has one.
    pub card_expiration_date: Option<NaiveDate>,
    pub burden_ratio: BurdenRatio,
    pub limit: Option<LimitInfo>,
    pub elderly_recipient: Option<ElderlyRecipientInfo>,
    pub specific_diseases: Vec<SpecificDiseaseInfo>,
}

impl Nation {
    /// Builds the insurers, institutions and household layout; persons are generated on
    /// demand by [`Nation::household`]. Panics when `persons` exceeds [`MAX_PERSONS`].
    pub fn new(config: Config) -> Nation {
        assert!(
            config.persons <= MAX_PERSONS,
            "at most {MAX_PERSONS} persons are supported"
        );
        let (insurers, registry) = insurers::build(config.seed);
        let mut places = Vec::new();
        let mut weights = Vec::new();
        for (p, data) in PREFECTURES.iter().enumerate() {
            let sum: u32 = data.municipalities.iter().map(|m| m.weight).sum();
            for m in data.municipalities {
                places.push((p as u8 + 1, m));
                weights.push(data.population * 1000 * m.weight / sum);
            }
        }
        let place_weights = Cumulative::new(weights);
        let mut rng = Rng::new(key(config.seed, LAYOUT, 0));
        let mut sizes = Vec::with_capacity((config.persons / 2) as usize);
        let mut block_starts = Vec::new();
        let mut placed = 0u64;
        while placed < config.persons {
            if sizes.len() % BLOCK == 0 {
                block_starts.push(placed);
            }
            let size = u64::from(*rng.pick(HOUSEHOLD_SIZES)).min(config.persons - placed);
            sizes.push(size as u8);
            placed += size;
        }
        let institutions = institutions::build(
            &mut Rng::new(key(config.seed, INSTITUTIONS, 0)),
            &places,
            &place_weights,
            (config.persons / 500).max(40),
        );
        let my_numbers = Permutation::new(100_000_000_000, key(config.seed, MY_NUMBER, 0));
        Nation {
            config,
            insurers,
            institutions,
            registry,
            places,
            place_weights,
            sizes,
            block_starts,
            my_numbers,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn insurers(&self) -> &[Insurer] {
        &self.insurers
    }

    pub fn institutions(&self) -> &[Institution] {
        &self.institutions
    }

    pub fn household_count(&self) -> u64 {
        self.sizes.len() as u64
    }

    /// Number of persons of household `index`.
    pub fn household_size(&self, index: u64) -> usize {
        usize::from(self.sizes[index as usize])
    }

    /// Global 0-based index of the first person of household `index`; person ids are
    /// these indices plus one.
    pub fn first_person_index(&self, index: u64) -> u64 {
        let i = index as usize;
        let block = i / BLOCK;
        self.block_starts[block]
            + self.sizes[block * BLOCK..i]
                .iter()
                .map(|s| u64::from(*s))
                .sum::<u64>()
    }

    /// The household that person `person_id` belongs to (a binary search, then a scan of
    /// at most one block).
    pub fn household_of_person(&self, person_id: u64) -> Option<u64> {
        if person_id == 0 || person_id > self.config.persons {
            return None;
        }
        let target = person_id - 1;
        let block = self.block_starts.partition_point(|s| *s <= target) - 1;
        let mut start = self.block_starts[block];
        for i in block * BLOCK..self.sizes.len() {
            let end = start + u64::from(self.sizes[i]);
            if target < end {
                return Some(i as u64);
            }
            start = end;
        }
        None
    }

    /// Household `index` (0-based; its `id` is `index + 1`), generated on its own from the
    /// seed and the index: the same on every call and on every thread.
    pub fn household(&self, index: u64) -> Household {
        let as_of = self.config.as_of;
        let size = self.household_size(index);
        let first_index = self.first_person_index(index);
        let mut rng = Rng::new(key(self.config.seed, HOUSEHOLD, index));
        let place = self.place_weights.pick(&mut rng);
        let (code, municipality) = self.places[place];
        let prefecture = Prefecture::from_code(code).expect("1–47");
        let (address, post_number, _) = text::address(&mut rng, prefecture, municipality);
        let members = household::members(&mut rng, size, prefecture, as_of);
        let ctx = records::Ctx {
            registry: &self.registry,
            insurers: &self.insurers,
            pref: usize::from(code - 1),
            municipality: place,
            as_of,
            first_index,
        };
        let specs = records::plan(&ctx, &mut rng, &members);
        let records = records::materialize(&ctx, &mut rng, &members, &specs);
        let household_id = index + 1;
        let persons = members
            .into_iter()
            .enumerate()
            .map(|(k, m)| {
                let person_index = first_index + k as u64;
                let id = person_index + 1;
                let card = household::card(&mut rng, m.birth, m.last_day(as_of), as_of);
                Person {
                    id,
                    household_id,
                    name: m.name,
                    birth_date: m.birth,
                    sex: m.sex,
                    post_number: post_number.clone(),
                    address: address.clone(),
                    prefecture,
                    my_number: MyNumber::from_payload(self.my_numbers.apply(person_index))
                        .expect("11-digit payload"),
                    death_date: m.death,
                    face_seed: key(self.config.seed, FACE, id),
                    card,
                }
            })
            .collect();
        Household {
            id: household_id,
            persons,
            records,
        }
    }

    /// Every household in index order.
    pub fn households(&self) -> impl Iterator<Item = Household> + '_ {
        (0..self.household_count()).map(|i| self.household(i))
    }

    /// Households `range` in index order (for loaders that split the work).
    pub fn households_in(
        &self,
        range: std::ops::Range<u64>,
    ) -> impl Iterator<Item = Household> + '_ {
        range.map(|i| self.household(i))
    }
}
