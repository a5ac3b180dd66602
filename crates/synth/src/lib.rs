//! A deterministic synthetic nation for onshi: persons, households, insurers, medical
//! institutions and insured records (資格情報), generated from a seed. The demo, every test
//! and the benchmarks use it instead of real data.
//!
//! Same seed and same [`Config`] give byte-identical output, whatever the number of threads:
//! each household is generated from its own random stream, seeded from the nation's seed
//! and the household's index, so any household can be produced on its own. This crate does
//! no I/O of any kind — no files, no database, no network, no clock — and holds no global
//! state; it only computes values of the `onshi-model` types.

use chrono::NaiveDate;
use onshi_model::{
    BranchNumber, BurdenRatio, ElderlyRecipientInfo, InstitutionCode, InstitutionKind,
    InsuredCardClassification, InsuredCardSymbol, InsuredNumber, InsurerKind, InsurerNumber,
    LimitInfo, MyNumber, PersonName, PersonalFamilyClassification, Prefecture, ReasonOfLoss, Sex,
    SpecificDiseaseInfo,
};

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
    /// Number of persons of each household.
    sizes: Vec<u8>,
}

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
    /// demand by [`Nation::household`].
    pub fn new(config: Config) -> Nation {
        let tokyo = Prefecture::from_code(13).expect("13");
        let insurers = vec![Insurer {
            number: InsurerNumber::from_parts(Some(1), tokyo, 1).expect("valid"),
            kind: InsurerKind::KyokaiKenpo,
            name: "全国健康保険協会東京支部".into(),
            prefecture: tokyo,
            address: "東京都中野区中野四丁目10番2号".into(),
        }];
        let institutions = vec![Institution {
            code: InstitutionCode::from_parts(tokyo, onshi_model::FeeSchedule::Medical, 1, 1)
                .expect("valid"),
            kind: InstitutionKind::Clinic,
            name: "中野内科クリニック".into(),
            prefecture: tokyo,
            address: "東京都中野区中野1丁目1番1号".into(),
            post_number: "164-0001".into(),
        }];
        let mut sizes = Vec::new();
        let mut left = config.persons;
        while left > 0 {
            let s = left.min(2);
            sizes.push(s as u8);
            left -= s;
        }
        Nation {
            config,
            insurers,
            institutions,
            sizes,
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

    /// Household `index` (0-based), generated on its own.
    pub fn household(&self, index: u64) -> Household {
        let first: u64 = self.sizes[..index as usize]
            .iter()
            .map(|s| u64::from(*s))
            .sum();
        let tokyo = Prefecture::from_code(13).expect("13");
        let mut persons = Vec::new();
        let mut records = Vec::new();
        for k in 0..u64::from(self.sizes[index as usize]) {
            let id = first + k + 1;
            persons.push(Person {
                id,
                household_id: index + 1,
                name: PersonName::new("診療", "太郎", "シンリョウ", "タロウ").expect("valid"),
                birth_date: NaiveDate::from_ymd_opt(1980, 1, 1).expect("date"),
                sex: Sex::Male,
                post_number: "164-0001".into(),
                address: "東京都中野区中野1丁目1番1号".into(),
                prefecture: tokyo,
                my_number: MyNumber::from_payload(id).expect("valid"),
                death_date: None,
                face_seed: id,
                card: None,
            });
            records.push(InsuredRecord {
                id: id * 4,
                person_id: id,
                insurer_number: self.insurers[0].number.clone(),
                symbol: Some(InsuredCardSymbol::parse("1").expect("valid")),
                number: InsuredNumber::parse(&id.to_string()).expect("valid"),
                branch: BranchNumber::new(0).expect("valid"),
                personal_family: PersonalFamilyClassification::Insured,
                insured_person_id: id,
                card_classification: InsuredCardClassification::General,
                qualification_date: NaiveDate::from_ymd_opt(2010, 4, 1).expect("date"),
                disqualification_date: None,
                reason_of_loss: None,
                card_valid_date: NaiveDate::from_ymd_opt(2010, 4, 1).expect("date"),
                card_expiration_date: None,
                burden_ratio: BurdenRatio::THIRTY,
                limit: None,
                elderly_recipient: None,
                specific_diseases: Vec::new(),
            });
        }
        Household {
            id: index + 1,
            persons,
            records,
        }
    }

    /// Every household in index order.
    pub fn households(&self) -> impl Iterator<Item = Household> + '_ {
        (0..self.household_count()).map(|i| self.household(i))
    }
}
