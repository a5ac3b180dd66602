//! The insurers (保険者) of the nation: 協会けんぽ and 後期高齢者医療広域連合 per prefecture,
//! hundreds of 健康保険組合, the 共済組合, 自衛官, 船員保険, 特例退職, a municipal 国保 per
//! city of the place table and a few 国保組合; and how each numbers its insured persons.

use onshi_model::{InsuredCardSymbol, InsuredNumber, InsurerKind, InsurerNumber, Prefecture};

use crate::Insurer;
use crate::places::{Municipality, PREFECTURES};
use crate::rng::{Permutation, Rng, key};
use crate::text::{address, padded, push_padded, push_u64};

/// The largest nation the numbering supports: 番号 are derived injectively from the
/// 本人's person index in `0..MAX_PERSONS`.
pub const MAX_PERSONS: u64 = 100_000_000;

/// How an insurer writes 記号 and 番号 on its documents.
#[derive(Debug, Clone)]
pub enum Numbering {
    /// 協会けんぽ: an 8-digit 事業所記号 and a 1–4 digit number within the employer.
    Kyokai,
    /// A number as 記号 (1–4 digits) and a number of up to 5 digits.
    Digits,
    /// A kanji tag followed by digits as 記号 (`財務12`), a number of up to 5 digits.
    Tagged(&'static str),
    /// 国保: the municipality or association as 記号 (`札幌`), an 8-digit number.
    Kokuho(String),
    /// 後期高齢者医療: no 記号, an 8-digit number.
    Bare,
}

/// Indices into the insurer list, by what chooses them.
#[derive(Debug, Clone)]
pub struct Registry {
    pub numbering: Vec<Numbering>,
    pub kyokai: Vec<usize>,
    pub late_elderly: Vec<usize>,
    pub senin: usize,
    pub kumiai: Vec<usize>,
    pub kumiai_by_pref: Vec<Vec<usize>>,
    pub self_defense: Vec<usize>,
    pub national_mutual: Vec<usize>,
    pub local_mutual: Vec<Vec<usize>>,
    pub police: Vec<usize>,
    pub school: Vec<usize>,
    pub private_school: usize,
    pub special_retiree: Vec<usize>,
    /// The municipal 国保 of each municipality, in the flattened order of the place table.
    pub kokuho: Vec<usize>,
    pub kokuho_assoc_by_pref: Vec<Vec<usize>>,
    pub kokuho_assoc_national: Vec<usize>,
    /// One keyed permutation of `0..MAX_PERSONS` per numbering scheme.
    pub permutations: [Permutation; 4],
}

#[rustfmt::skip]
const COMPANY_PREFIXES: &[&str] = &[
    "日本", "東洋", "大和", "三和", "富士", "中央", "関東", "関西", "北陸", "東邦", "明治", "昭和",
    "太平洋", "旭", "協和", "第一", "大同", "日東", "新日本", "東亜", "極東", "山陽", "九州", "北海",
    "東北", "中部", "西日本", "東日本", "平和", "光",
];
#[rustfmt::skip]
const COMPANY_SECTORS: &[&str] = &[
    "電機", "製鉄", "化学", "商事", "自動車", "薬品", "建設", "運輸", "食品", "銀行", "証券", "繊維",
    "印刷", "製紙", "電力", "ガス", "鉄道", "百貨店", "情報システム", "精機", "工業", "物産", "海運",
    "電気工業", "製薬", "生命保険", "損害保険", "通信", "不動産", "電子",
];
/// 国家公務員共済組合 and the 記号 tag each prints.
#[rustfmt::skip]
const NATIONAL_MUTUAL: &[(&str, &str)] = &[
    ("衆議院共済組合", "衆"), ("参議院共済組合", "参"), ("内閣共済組合", "内閣"),
    ("総務省共済組合", "総務"), ("法務省共済組合", "法務"), ("外務省共済組合", "外務"),
    ("財務省共済組合", "財務"), ("文部科学省共済組合", "文科"), ("厚生労働省共済組合", "厚労"),
    ("農林水産省共済組合", "農水"), ("経済産業省共済組合", "経産"), ("国土交通省共済組合", "国交"),
    ("裁判所共済組合", "裁"), ("会計検査院共済組合", "会検"), ("防衛省共済組合", "防衛"),
    ("刑務共済組合", "刑務"), ("日本郵政共済組合", "郵政"),
];
/// Nationwide 国民健康保険組合 (seated in 東京都) and their 記号.
#[rustfmt::skip]
const NATIONAL_KOKUHO_ASSOC: &[(&str, &str)] = &[
    ("全国土木建築国民健康保険組合", "土木"), ("文芸美術国民健康保険組合", "文美"),
    ("東京美容国民健康保険組合", "美容"), ("全国左官タイル塗装業国民健康保険組合", "左官"),
];
/// Prefectures with their own 医師・歯科医師・建設 国保組合.
const ASSOC_PREFECTURES: &[u8] = &[1, 4, 11, 12, 13, 14, 22, 23, 26, 27, 28, 34, 40];

fn pref(code: u8) -> Prefecture {
    Prefecture::from_code(code).expect("1–47")
}

fn number(houbetsu: Option<u8>, p: Prefecture, local: u16) -> InsurerNumber {
    InsurerNumber::from_parts(houbetsu, p, local).expect("parts in range")
}

struct Builder {
    insurers: Vec<Insurer>,
    reg: Registry,
    rng: Rng,
}

impl Builder {
    /// Adds an insurer seated in the prefectural capital.
    fn add(
        &mut self,
        kind: InsurerKind,
        p: Prefecture,
        local: u16,
        name: String,
        n: Numbering,
    ) -> usize {
        let capital = &PREFECTURES[usize::from(p.code() - 1)].municipalities[0];
        self.add_in(kind, p, capital, local, name, n)
    }

    /// Adds an insurer seated in municipality `m`.
    fn add_in(
        &mut self,
        kind: InsurerKind,
        p: Prefecture,
        m: &Municipality,
        local: u16,
        name: String,
        n: Numbering,
    ) -> usize {
        let (addr, _, _) = address(&mut self.rng, p, m);
        self.insurers.push(Insurer {
            number: number(kind.houbetsu(), p, local),
            kind,
            name,
            prefecture: p,
            address: addr,
        });
        self.reg.numbering.push(n);
        self.insurers.len() - 1
    }
}

/// Builds the insurer list. It depends on nothing but `seed` (for the numbering keys).
pub fn build(seed: u64) -> (Vec<Insurer>, Registry) {
    use InsurerKind::*;
    let mut b = Builder {
        insurers: Vec::with_capacity(1000),
        reg: Registry {
            numbering: Vec::new(),
            kyokai: Vec::new(),
            late_elderly: Vec::new(),
            senin: 0,
            kumiai: Vec::new(),
            kumiai_by_pref: Vec::new(),
            self_defense: Vec::new(),
            national_mutual: Vec::new(),
            local_mutual: Vec::new(),
            police: Vec::new(),
            school: Vec::new(),
            private_school: 0,
            special_retiree: Vec::new(),
            kokuho: Vec::new(),
            kokuho_assoc_by_pref: Vec::new(),
            kokuho_assoc_national: Vec::new(),
            permutations: [0, 1, 2, 3]
                .map(|i| Permutation::new(MAX_PERSONS, key(seed, 0x4E55_4D42, i))),
        },
        rng: Rng::new(0x1A5_0E5A),
    };
    for p in Prefecture::all() {
        let i = b.add(
            KyokaiKenpo,
            p,
            1,
            format!("全国健康保険協会{}支部", strip_suffix(p.name())),
            Numbering::Kyokai,
        );
        b.reg.kyokai.push(i);
        let i = b.add(
            LateStageElderly,
            p,
            1,
            format!("{}後期高齢者医療広域連合", p.name()),
            Numbering::Bare,
        );
        b.reg.late_elderly.push(i);
        let i = b.add(
            PoliceMutualAid,
            p,
            1,
            format!("警察共済組合{}支部", p.name()),
            Numbering::Tagged("警"),
        );
        b.reg.police.push(i);
        let i = b.add(
            SchoolMutualAid,
            p,
            1,
            format!("公立学校共済組合{}支部", p.name()),
            Numbering::Tagged("公学"),
        );
        b.reg.school.push(i);
        let a = b.add(
            LocalPublicServantsMutualAid,
            p,
            1,
            format!("{}市町村職員共済組合", p.name()),
            Numbering::Tagged("市職"),
        );
        let c = b.add(
            LocalPublicServantsMutualAid,
            p,
            2,
            format!("地方職員共済組合{}支部", p.name()),
            Numbering::Tagged("地職"),
        );
        b.reg.local_mutual.push(vec![a, c]);
    }
    let tokyo = pref(13);
    b.reg.senin = b.add(
        SeninHoken,
        tokyo,
        1,
        "全国健康保険協会船員保険部".into(),
        Numbering::Digits,
    );
    b.reg.private_school = b.add(
        SchoolMutualAid,
        tokyo,
        2,
        "日本私立学校振興・共済事業団".into(),
        Numbering::Tagged("私学"),
    );
    let tokyo_staff = b.add(
        LocalPublicServantsMutualAid,
        tokyo,
        3,
        "東京都職員共済組合".into(),
        Numbering::Tagged("都職"),
    );
    b.reg.local_mutual[12].push(tokyo_staff);
    for (i, (name, tag)) in NATIONAL_MUTUAL.iter().enumerate() {
        let k = b.add(
            NationalPublicServantsMutualAid,
            tokyo,
            i as u16 + 1,
            (*name).into(),
            Numbering::Tagged(tag),
        );
        b.reg.national_mutual.push(k);
    }
    for (i, (name, tag)) in [
        ("防衛省陸上自衛隊", "陸自"),
        ("防衛省海上自衛隊", "海自"),
        ("防衛省航空自衛隊", "空自"),
    ]
    .iter()
    .enumerate()
    {
        let k = b.add(
            SelfDefenseForces,
            tokyo,
            i as u16 + 1,
            (*name).into(),
            Numbering::Tagged(tag),
        );
        b.reg.self_defense.push(k);
    }
    build_kumiai(&mut b);
    build_kokuho(&mut b);
    (b.insurers, b.reg)
}

/// 300 健康保険組合, seated mostly in 東京都, 大阪府 and 愛知県, and 10 of them also running
/// 特例退職 as 特定健康保険組合.
fn build_kumiai(b: &mut Builder) {
    const COUNT: usize = 300;
    let combos = COMPANY_PREFIXES.len() * COMPANY_SECTORS.len();
    let order = Permutation::new(combos as u64, 0xC0FFEE);
    let mut next_local = [1u16; 47];
    b.reg.kumiai_by_pref = vec![Vec::new(); 47];
    let seat_weights: Vec<(u8, u32)> = (1..=47u8)
        .map(|c| {
            let w = PREFECTURES[usize::from(c - 1)].population;
            (
                c,
                match c {
                    13 => w * 6,
                    27 => w * 3,
                    23 => w * 2,
                    _ => w,
                },
            )
        })
        .collect();
    for k in 0..COUNT {
        let c = order.apply(k as u64) as usize;
        let company = format!(
            "{}{}",
            COMPANY_PREFIXES[c / COMPANY_SECTORS.len()],
            COMPANY_SECTORS[c % COMPANY_SECTORS.len()]
        );
        let code = *b.rng.pick(&seat_weights);
        let p = pref(code);
        let local = next_local[usize::from(code - 1)];
        next_local[usize::from(code - 1)] += 1;
        // Some unions print a kanji 記号, most print digits.
        let numbering = match k % 5 {
            0 => Numbering::Tagged(COMPANY_PREFIXES[c / COMPANY_SECTORS.len()]),
            _ => Numbering::Digits,
        };
        let i = b.add(
            InsurerKind::KumiaiKenpo,
            p,
            local,
            format!("{company}健康保険組合"),
            numbering,
        );
        b.reg.kumiai.push(i);
        b.reg.kumiai_by_pref[usize::from(code - 1)].push(i);
        if k % 30 == 0 {
            let s = b.add(
                InsurerKind::SpecialRetiree,
                p,
                local,
                format!("{company}健康保険組合（特例退職）"),
                Numbering::Digits,
            );
            b.reg.special_retiree.push(s);
        }
    }
}

/// A municipal 国保 per city of the place table, 国保組合 of doctors, dentists and builders
/// in the large prefectures, and a few nationwide ones.
fn build_kokuho(b: &mut Builder) {
    b.reg.kokuho_assoc_by_pref = vec![Vec::new(); 47];
    for p in Prefecture::all() {
        let places = PREFECTURES[usize::from(p.code() - 1)].municipalities;
        let mut cities: Vec<(&str, usize)> = Vec::new();
        for m in places {
            let i = match cities.iter().find(|(c, _)| *c == m.city) {
                Some((_, i)) => *i,
                None => {
                    let local = cities.len() as u16 + 1;
                    let tag = strip_suffix(m.city).to_owned();
                    let i = b.add_in(
                        InsurerKind::MunicipalKokuho,
                        p,
                        m,
                        local,
                        m.city.into(),
                        Numbering::Kokuho(tag),
                    );
                    cities.push((m.city, i));
                    i
                }
            };
            b.reg.kokuho.push(i);
        }
        if ASSOC_PREFECTURES.contains(&p.code()) {
            let short = strip_suffix(p.name());
            for (k, (trade, tag)) in [("医師", "医師"), ("歯科医師", "歯科"), ("建設", "建設")]
                .iter()
                .enumerate()
            {
                let name = format!("{}{trade}国民健康保険組合", p.name());
                let i = b.add(
                    InsurerKind::KokuhoAssociation,
                    p,
                    301 + k as u16,
                    name,
                    Numbering::Kokuho(format!("{short}{tag}")),
                );
                b.reg.kokuho_assoc_by_pref[usize::from(p.code() - 1)].push(i);
            }
        }
    }
    for (k, (name, tag)) in NATIONAL_KOKUHO_ASSOC.iter().enumerate() {
        let i = b.add(
            InsurerKind::KokuhoAssociation,
            pref(13),
            310 + k as u16,
            (*name).into(),
            Numbering::Kokuho((*tag).into()),
        );
        b.reg.kokuho_assoc_national.push(i);
    }
}

/// `東京都` → `東京`, `札幌市` → `札幌`, `北海道` stays.
fn strip_suffix(name: &str) -> &str {
    if name == "北海道" {
        return name;
    }
    let last = name.chars().last().map_or(0, char::len_utf8);
    &name[..name.len() - last]
}

impl Registry {
    /// 記号 and 番号 of the unit whose 本人 has person index `index` at insurer `insurer`.
    /// Distinct indices give distinct pairs at every insurer.
    pub fn card_numbers(
        &self,
        insurer: usize,
        index: u64,
    ) -> (Option<InsuredCardSymbol>, InsuredNumber) {
        let scheme = match self.numbering[insurer] {
            Numbering::Kyokai => 0,
            Numbering::Digits | Numbering::Tagged(_) => 1,
            Numbering::Kokuho(_) => 2,
            Numbering::Bare => 3,
        };
        let v = self.permutations[scheme].apply(index);
        let mut symbol = String::with_capacity(16);
        let mut number = String::with_capacity(8);
        match &self.numbering[insurer] {
            Numbering::Kyokai => {
                // An affine map keeps the 10⁵ employers distinct and spreads them over 8 digits.
                let employer = (v / 1000 * 7_919_333 + 1_234_567) % 100_000_000;
                push_padded(&mut symbol, employer, 8);
                push_u64(&mut number, v % 1000 + 1);
            }
            Numbering::Digits => {
                push_u64(&mut symbol, v / 100_000 + 1);
                push_u64(&mut number, v % 100_000 + 1);
            }
            Numbering::Tagged(tag) => {
                symbol.push_str(tag);
                push_u64(&mut symbol, v / 100_000 + 1);
                push_u64(&mut number, v % 100_000 + 1);
            }
            Numbering::Kokuho(tag) => {
                symbol.push_str(tag);
                number = padded(v, 8);
            }
            Numbering::Bare => number = padded(v, 8),
        }
        let symbol =
            (!symbol.is_empty()).then(|| InsuredCardSymbol::parse(&symbol).expect("valid 記号"));
        (symbol, InsuredNumber::parse(&number).expect("valid 番号"))
    }
}
