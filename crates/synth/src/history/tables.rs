//! The static tables of medical histories: drugs, chronic conditions with their regimens,
//! acute episodes and surgeries.
//!
//! Drug codes have the shape of a 一般名コード: the first nine characters of a YJ code
//! (薬価基準収載医薬品コード) followed by `ZZZ`. The first four digits are the real
//! 薬効分類番号. The next three (the component) are real for アムロジピン, ロキソプロフェン,
//! メトホルミン, アセトアミノフェン, アスピリン and カルボシステイン; a component in the
//! 900s is synthetic, as are the form letter and strength digit that follow it. The codes
//! are meant for display and joins, never as master data.

/// How much of a drug one dispensing gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    /// Tenths of a unit per day, times the days supplied.
    Daily(u32),
    /// Tenths of a unit per week, times the weeks supplied.
    Weekly(u32),
    /// A fixed amount in tenths of a unit, whatever the days (頓用, 外用).
    Fixed(u32),
}

/// A drug as a prescription names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drug {
    pub code: &'static str,
    pub name: &'static str,
    /// 単位: 錠, カプセル, g, 包, 本, 枚, キット.
    pub unit: &'static str,
    /// 用法・用量.
    pub dose: &'static str,
    pub amount: Amount,
}

const fn drug(
    code: &'static str,
    name: &'static str,
    unit: &'static str,
    dose: &'static str,
    amount: Amount,
) -> Drug {
    Drug {
        code,
        name,
        unit,
        dose,
        amount,
    }
}

use Amount::*;

const MORNING: &str = "1回1錠 1日1回朝食後";
const EVENING: &str = "1回1錠 1日1回夕食後";
const TWICE: &str = "1回1錠 1日2回朝夕食後";
const THRICE: &str = "1回1錠 1日3回毎食後";

pub const AMLODIPINE: Drug = drug("2171022F2ZZZ", "アムロジピン錠5mg", "錠", MORNING, Daily(10));
pub const OLMESARTAN: Drug = drug("2149901F2ZZZ", "オルメサルタン錠20mg", "錠", MORNING, Daily(10));
pub const TELMISARTAN: Drug = drug("2149902F2ZZZ", "テルミサルタン錠40mg", "錠", MORNING, Daily(10));
pub const CANDESARTAN: Drug = drug("2149903F2ZZZ", "カンデサルタン錠8mg", "錠", MORNING, Daily(10));
pub const METFORMIN: Drug = drug("3962002F2ZZZ", "メトホルミン塩酸塩錠250mg", "錠", TWICE, Daily(20));
pub const SITAGLIPTIN: Drug = drug("3969901F1ZZZ", "シタグリプチン錠50mg", "錠", MORNING, Daily(10));
pub const LINAGLIPTIN: Drug = drug("3969902F1ZZZ", "リナグリプチン錠5mg", "錠", MORNING, Daily(10));
pub const GLIMEPIRIDE: Drug = drug("3961901F1ZZZ", "グリメピリド錠1mg", "錠", MORNING, Daily(10));
pub const ROSUVASTATIN: Drug = drug("2189901F1ZZZ", "ロスバスタチン錠2.5mg", "錠", EVENING, Daily(10));
pub const ATORVASTATIN: Drug = drug("2189902F2ZZZ", "アトルバスタチン錠10mg", "錠", EVENING, Daily(10));
pub const FEBUXOSTAT: Drug = drug("3949901F2ZZZ", "フェブキソスタット錠20mg", "錠", MORNING, Daily(10));
pub const LANSOPRAZOLE: Drug = drug("2329901F1ZZZ", "ランソプラゾールOD錠15mg", "錠", MORNING, Daily(10));
pub const FAMOTIDINE: Drug = drug("2325901F2ZZZ", "ファモチジン錠20mg", "錠", TWICE, Daily(20));
pub const MONTELUKAST: Drug = drug("4490901F1ZZZ", "モンテルカスト錠10mg", "錠", "1回1錠 1日1回就寝前", Daily(10));
pub const MONTELUKAST_GRANULES: Drug = drug("4490901C1ZZZ", "モンテルカスト細粒4mg", "包", "1回1包 1日1回就寝前", Daily(10));
pub const BUDESONIDE_FORMOTEROL: Drug = drug("2290901G1ZZZ", "ブデソニド・ホルモテロールフマル酸塩吸入剤", "キット", "1回2吸入 1日2回朝夕", Fixed(20));
pub const FLUTICASONE_INHALER: Drug = drug("2290902G1ZZZ", "フルチカゾンプロピオン酸エステル吸入用50μg", "キット", "1回1吸入 1日2回朝夕", Fixed(10));
pub const FEXOFENADINE: Drug = drug("4490902F1ZZZ", "フェキソフェナジン塩酸塩錠60mg", "錠", TWICE, Daily(20));
pub const FEXOFENADINE_DRY_SYRUP: Drug = drug("4490902C1ZZZ", "フェキソフェナジン塩酸塩DS5%", "g", "1回0.6g 1日2回朝夕食後", Daily(12));
pub const OLOPATADINE_EYE_DROPS: Drug = drug("1319901Q1ZZZ", "オロパタジン点眼液0.1%", "本", "1回1〜2滴 1日4回両眼", Fixed(10));
pub const LATANOPROST: Drug = drug("1319902Q1ZZZ", "ラタノプロスト点眼液0.005%", "本", "1回1滴 1日1回両眼", Fixed(10));
pub const ALENDRONATE: Drug = drug("3999901F2ZZZ", "アレンドロン酸錠35mg", "錠", "1回1錠 週1回起床時", Weekly(10));
pub const ELDECALCITOL: Drug = drug("3112901M1ZZZ", "エルデカルシトールカプセル0.75μg", "カプセル", "1回1カプセル 1日1回朝食後", Daily(10));
pub const TAMSULOSIN: Drug = drug("2590901F1ZZZ", "タムスロシン塩酸塩OD錠0.2mg", "錠", MORNING, Daily(10));
pub const BROTIZOLAM: Drug = drug("1124901F1ZZZ", "ブロチゾラムOD錠0.25mg", "錠", "1回1錠 1日1回就寝前", Daily(10));
pub const APIXABAN: Drug = drug("3339901F2ZZZ", "アピキサバン錠5mg", "錠", TWICE, Daily(20));
pub const MAGNESIUM_OXIDE: Drug = drug("2344901F1ZZZ", "酸化マグネシウム錠330mg", "錠", THRICE, Daily(30));
pub const LOXOPROFEN_TAPE: Drug = drug("2649901S1ZZZ", "ロキソプロフェンナトリウムテープ100mg", "枚", "1日1回1枚 患部に貼付", Daily(10));
pub const CELECOXIB: Drug = drug("1149902F1ZZZ", "セレコキシブ錠100mg", "錠", TWICE, Daily(20));
pub const ASPIRIN: Drug = drug("3399007H1ZZZ", "アスピリン腸溶錠100mg", "錠", MORNING, Daily(10));
pub const CLOPIDOGREL: Drug = drug("3399901F2ZZZ", "クロピドグレル錠75mg", "錠", MORNING, Daily(10));
pub const HEPARINOID_CREAM: Drug = drug("3339902M1ZZZ", "ヘパリン類似物質油性クリーム0.3%", "g", "1日2回 全身に塗布", Fixed(1000));
pub const HYDROCORTISONE_OINTMENT: Drug = drug("2646901M1ZZZ", "ヒドロコルチゾン酪酸エステル軟膏0.1%", "g", "1日2回 患部に塗布", Fixed(100));
pub const CALCIUM_CARBONATE: Drug = drug("2190901F1ZZZ", "沈降炭酸カルシウム錠500mg", "錠", "1回2錠 1日3回毎食直後", Daily(60));

pub const CARBOCISTEINE: Drug = drug("2233002F2ZZZ", "カルボシステイン錠500mg", "錠", THRICE, Daily(30));
pub const CARBOCISTEINE_DRY_SYRUP: Drug = drug("2233901C1ZZZ", "カルボシステインDS50%", "g", "1回0.3g 1日3回毎食後", Daily(9));
pub const ACETAMINOPHEN: Drug = drug("1141007F1ZZZ", "アセトアミノフェン錠200mg", "錠", "1回2錠 発熱時 頓用", Fixed(100));
pub const ACETAMINOPHEN_GRANULES: Drug = drug("1141901C1ZZZ", "アセトアミノフェン細粒20%", "g", "1回0.5g 発熱時 頓用", Fixed(30));
pub const CEFCAPENE: Drug = drug("6132901F1ZZZ", "セフカペンピボキシル塩酸塩錠100mg", "錠", THRICE, Daily(30));
pub const CLARITHROMYCIN: Drug = drug("6149901F2ZZZ", "クラリスロマイシン錠200mg", "錠", TWICE, Daily(20));
pub const AMOXICILLIN: Drug = drug("6131901M1ZZZ", "アモキシシリンカプセル250mg", "カプセル", "1回1カプセル 1日3回毎食後", Daily(30));
pub const AMOXICILLIN_GRANULES: Drug = drug("6131901C1ZZZ", "アモキシシリン細粒20%", "g", "1回0.5g 1日3回毎食後", Daily(15));
pub const DEXTROMETHORPHAN: Drug = drug("2223901F1ZZZ", "デキストロメトルファン臭化水素酸塩錠15mg", "錠", "1回2錠 1日3回毎食後", Daily(60));
pub const TULOBUTEROL_TAPE: Drug = drug("2259901S1ZZZ", "ツロブテロールテープ1mg", "枚", "1日1回1枚 胸部に貼付", Daily(10));
pub const OSELTAMIVIR: Drug = drug("6250901M1ZZZ", "オセルタミビルカプセル75mg", "カプセル", "1回1カプセル 1日2回朝夕食後", Daily(20));
pub const OSELTAMIVIR_DRY_SYRUP: Drug = drug("6250901C1ZZZ", "オセルタミビルDS3%", "g", "1回1g 1日2回朝夕食後", Daily(20));
pub const BUTYRATE_BACTERIA: Drug = drug("2316901F1ZZZ", "酪酸菌錠20mg", "錠", "1回2錠 1日3回毎食後", Daily(60));
pub const BIFIDOBACTERIA_POWDER: Drug = drug("2316902C1ZZZ", "ビフィズス菌散", "g", "1回0.5g 1日3回毎食後", Daily(15));
pub const DOMPERIDONE: Drug = drug("2399901F1ZZZ", "ドンペリドン錠10mg", "錠", "1回1錠 1日3回毎食前", Daily(30));
pub const LEVOFLOXACIN_EYE_DROPS: Drug = drug("1319903Q1ZZZ", "レボフロキサシン点眼液0.5%", "本", "1回1滴 1日3回両眼", Fixed(10));
pub const BROMFENAC_EYE_DROPS: Drug = drug("1319904Q1ZZZ", "ブロムフェナクナトリウム点眼液0.1%", "本", "1回1滴 1日2回術眼", Fixed(10));
pub const BETAMETHASONE_OINTMENT: Drug = drug("2646902M1ZZZ", "ベタメタゾン吉草酸エステル軟膏0.12%", "g", "1日2回 患部に塗布", Fixed(100));
pub const LOXOPROFEN: Drug = drug("1149019F1ZZZ", "ロキソプロフェンナトリウム錠60mg", "錠", THRICE, Daily(30));
pub const LOXOPROFEN_AS_NEEDED: Drug = drug("1149019F1ZZZ", "ロキソプロフェンナトリウム錠60mg", "錠", "1回1錠 頭痛時 頓用", Fixed(100));
pub const REBAMIPIDE: Drug = drug("2329902F1ZZZ", "レバミピド錠100mg", "錠", THRICE, Daily(30));
pub const LEVOFLOXACIN: Drug = drug("6241901F2ZZZ", "レボフロキサシン錠500mg", "錠", MORNING, Daily(10));
pub const VALACICLOVIR: Drug = drug("6250902F1ZZZ", "バラシクロビル錠500mg", "錠", "1回2錠 1日3回毎食後", Daily(60));

/// A regimen: the drugs given together, and its weight among the condition's regimens.
pub type Regimen = (&'static [Drug], u32);

/// A long-term condition (慢性疾患) treated with refills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chronic {
    Diabetes,
    Hypertension,
    Dyslipidemia,
    Hyperuricemia,
    Reflux,
    Asthma,
    AtopicDermatitis,
    Pollinosis,
    Glaucoma,
    Osteoporosis,
    ProstaticHyperplasia,
    Insomnia,
    AtrialFibrillation,
    Constipation,
    KneeOsteoarthritis,
    Angina,
    /// Only for persons whose records carry a dialysis 特定疾病 certificate.
    RenalFailure,
}

/// What the generator needs to know about a chronic condition.
#[derive(Debug)]
pub struct ChronicInfo {
    pub icd10: &'static str,
    /// 傷病名.
    pub name: &'static str,
    pub adult: &'static [Regimen],
    /// Regimens under 15; empty means the adult ones.
    pub child: &'static [Regimen],
    /// Treated by a specialist clinic rather than the family doctor.
    pub specialist: bool,
    /// Treated only in the pollen season (February to April).
    pub seasonal: bool,
}

const fn info(
    icd10: &'static str,
    name: &'static str,
    adult: &'static [Regimen],
    child: &'static [Regimen],
    specialist: bool,
    seasonal: bool,
) -> ChronicInfo {
    ChronicInfo {
        icd10,
        name,
        adult,
        child,
        specialist,
        seasonal,
    }
}

impl Chronic {
    /// The conditions drawn by prevalence, in drawing order (diabetes first: it raises the
    /// odds of hypertension and dyslipidemia). `Angina` also follows a coronary stent;
    /// `RenalFailure` comes from the records.
    pub const DRAWN: &'static [Chronic] = &[
        Chronic::Diabetes,
        Chronic::Hypertension,
        Chronic::Dyslipidemia,
        Chronic::Hyperuricemia,
        Chronic::Reflux,
        Chronic::Asthma,
        Chronic::AtopicDermatitis,
        Chronic::Pollinosis,
        Chronic::Glaucoma,
        Chronic::Osteoporosis,
        Chronic::ProstaticHyperplasia,
        Chronic::Insomnia,
        Chronic::AtrialFibrillation,
        Chronic::Constipation,
        Chronic::KneeOsteoarthritis,
        Chronic::Angina,
    ];

    pub fn info(self) -> &'static ChronicInfo {
        use Chronic::*;
        static DIABETES: ChronicInfo = info("E11.9", "2型糖尿病", &[(&[METFORMIN], 40), (&[METFORMIN, SITAGLIPTIN], 25), (&[LINAGLIPTIN], 20), (&[METFORMIN, GLIMEPIRIDE], 15)], &[], false, false);
        static HYPERTENSION: ChronicInfo = info("I10", "本態性高血圧症", &[(&[AMLODIPINE], 45), (&[OLMESARTAN], 12), (&[TELMISARTAN], 10), (&[CANDESARTAN], 8), (&[AMLODIPINE, OLMESARTAN], 15), (&[AMLODIPINE, TELMISARTAN], 10)], &[], false, false);
        static DYSLIPIDEMIA: ChronicInfo = info("E78.5", "脂質異常症", &[(&[ROSUVASTATIN], 55), (&[ATORVASTATIN], 45)], &[], false, false);
        static HYPERURICEMIA: ChronicInfo = info("E79.0", "高尿酸血症", &[(&[FEBUXOSTAT], 1)], &[], false, false);
        static REFLUX: ChronicInfo = info("K21.9", "逆流性食道炎", &[(&[LANSOPRAZOLE], 75), (&[FAMOTIDINE], 25)], &[], false, false);
        static ASTHMA: ChronicInfo = info("J45.9", "気管支喘息", &[(&[BUDESONIDE_FORMOTEROL], 50), (&[BUDESONIDE_FORMOTEROL, MONTELUKAST], 50)], &[(&[MONTELUKAST_GRANULES], 60), (&[MONTELUKAST_GRANULES, FLUTICASONE_INHALER], 40)], false, false);
        static ATOPIC: ChronicInfo = info("L20.9", "アトピー性皮膚炎", &[(&[HEPARINOID_CREAM, BETAMETHASONE_OINTMENT], 1)], &[(&[HEPARINOID_CREAM, HYDROCORTISONE_OINTMENT], 1)], true, false);
        static POLLINOSIS: ChronicInfo = info("J30.2", "花粉症", &[(&[FEXOFENADINE], 60), (&[FEXOFENADINE, OLOPATADINE_EYE_DROPS], 40)], &[(&[FEXOFENADINE_DRY_SYRUP], 1)], false, true);
        static GLAUCOMA: ChronicInfo = info("H40.1", "原発開放隅角緑内障", &[(&[LATANOPROST], 1)], &[], true, false);
        static OSTEOPOROSIS: ChronicInfo = info("M81.0", "閉経後骨粗鬆症", &[(&[ALENDRONATE], 50), (&[ALENDRONATE, ELDECALCITOL], 30), (&[ELDECALCITOL], 20)], &[], false, false);
        static BPH: ChronicInfo = info("N40", "前立腺肥大症", &[(&[TAMSULOSIN], 1)], &[], true, false);
        static INSOMNIA: ChronicInfo = info("G47.0", "不眠症", &[(&[BROTIZOLAM], 1)], &[], false, false);
        static AF: ChronicInfo = info("I48.9", "心房細動", &[(&[APIXABAN], 1)], &[], false, false);
        static CONSTIPATION: ChronicInfo = info("K59.0", "便秘症", &[(&[MAGNESIUM_OXIDE], 1)], &[], false, false);
        static KNEE: ChronicInfo = info("M17.9", "変形性膝関節症", &[(&[LOXOPROFEN_TAPE], 60), (&[CELECOXIB, LOXOPROFEN_TAPE], 40)], &[], false, false);
        static ANGINA: ChronicInfo = info("I20.9", "狭心症", &[(&[ASPIRIN], 50), (&[ASPIRIN, CLOPIDOGREL], 50)], &[], false, false);
        static RENAL: ChronicInfo = info("N18.9", "慢性腎不全", &[(&[CALCIUM_CARBONATE], 1)], &[], false, false);
        match self {
            Diabetes => &DIABETES,
            Hypertension => &HYPERTENSION,
            Dyslipidemia => &DYSLIPIDEMIA,
            Hyperuricemia => &HYPERURICEMIA,
            Reflux => &REFLUX,
            Asthma => &ASTHMA,
            AtopicDermatitis => &ATOPIC,
            Pollinosis => &POLLINOSIS,
            Glaucoma => &GLAUCOMA,
            Osteoporosis => &OSTEOPOROSIS,
            ProstaticHyperplasia => &BPH,
            Insomnia => &INSOMNIA,
            AtrialFibrillation => &AF,
            Constipation => &CONSTIPATION,
            KneeOsteoarthritis => &KNEE,
            Angina => &ANGINA,
            RenalFailure => &RENAL,
        }
    }

    /// Prevalence among persons of `age` in per mille, before the diabetes factor.
    /// Loosely after the 患者調査 and 国民健康・栄養調査 shares of persons under treatment.
    pub fn per_mille(self, age: u32, male: bool) -> u32 {
        use Chronic::*;
        let by_age = |t: &[(u32, u32)]| t.iter().rev().find(|(a, _)| age >= *a).map_or(0, |x| x.1);
        let (m, f) = match self {
            Diabetes => {
                let p = by_age(&[(20, 2), (30, 10), (40, 35), (50, 70), (60, 110), (70, 130)]);
                (p * 14 / 10, p * 6 / 10)
            }
            Hypertension => {
                let p = by_age(&[(30, 20), (40, 80), (50, 180), (60, 300), (70, 420), (80, 480)]);
                (p * 115 / 100, p * 85 / 100)
            }
            Dyslipidemia => {
                let p = by_age(&[(20, 2), (30, 20), (40, 60), (50, 140), (60, 220), (70, 240)]);
                (p * 9 / 10, if age >= 50 { p * 12 / 10 } else { p * 8 / 10 })
            }
            Hyperuricemia => (by_age(&[(30, 20), (40, 50), (70, 60)]), by_age(&[(40, 5)])),
            Reflux => {
                let p = by_age(&[(20, 15), (40, 50), (65, 80)]);
                (p, p)
            }
            Asthma => {
                let p = by_age(&[(2, 50), (15, 30), (65, 40)]);
                (p, p)
            }
            AtopicDermatitis => {
                let p = by_age(&[(0, 80), (15, 30), (40, 5)]);
                (p, p)
            }
            Pollinosis => {
                let p = by_age(&[(5, 150), (65, 50)]);
                (p, p)
            }
            Glaucoma => {
                let p = by_age(&[(40, 20), (60, 50), (75, 70)]);
                (p, p)
            }
            Osteoporosis => (by_age(&[(75, 30)]), by_age(&[(60, 80), (70, 180)])),
            ProstaticHyperplasia => (by_age(&[(55, 50), (65, 120)]), 0),
            Insomnia => {
                let p = by_age(&[(20, 20), (65, 80)]);
                (p, p)
            }
            AtrialFibrillation => {
                let p = by_age(&[(65, 20), (75, 45)]);
                (p * 13 / 10, p * 7 / 10)
            }
            Constipation => {
                let p = by_age(&[(65, 40), (75, 120)]);
                (p * 8 / 10, p * 12 / 10)
            }
            KneeOsteoarthritis => (by_age(&[(55, 20), (65, 60)]), by_age(&[(55, 40), (65, 120)])),
            Angina => (by_age(&[(60, 20)]), by_age(&[(60, 8)])),
            RenalFailure => (0, 0),
        };
        if male { m } else { f }
    }
}

/// A short illness (急性疾患) treated once.
#[derive(Debug)]
pub struct Acute {
    pub icd10: &'static str,
    pub name: &'static str,
    /// Weights for ages 0–5, 6–14, 15–49, 50+ (women; men use `male_factor`).
    pub weights: [u32; 4],
    /// Percent of the women's weight that men get (cystitis is rare in men).
    pub male_factor: u32,
    /// Days supplied, lowest and highest.
    pub days: (u32, u32),
    /// Only from December to March.
    pub winter: bool,
    /// Drugs for 15 and over, and for children; each regimen is weighted.
    pub adult: &'static [Regimen],
    pub child: &'static [Regimen],
}

pub static ACUTE: &[Acute] = &[
    Acute { icd10: "J06.9", name: "急性上気道炎", weights: [50, 45, 40, 35], male_factor: 100, days: (3, 5), winter: false,
        adult: &[(&[CARBOCISTEINE, ACETAMINOPHEN], 60), (&[CARBOCISTEINE, CEFCAPENE], 20), (&[CARBOCISTEINE, CLARITHROMYCIN], 10), (&[ACETAMINOPHEN], 10)],
        child: &[(&[CARBOCISTEINE_DRY_SYRUP, ACETAMINOPHEN_GRANULES], 70), (&[CARBOCISTEINE_DRY_SYRUP, AMOXICILLIN_GRANULES], 30)] },
    Acute { icd10: "J20.9", name: "急性気管支炎", weights: [10, 10, 10, 12], male_factor: 100, days: (5, 7), winter: false,
        adult: &[(&[CARBOCISTEINE, DEXTROMETHORPHAN], 60), (&[CARBOCISTEINE, DEXTROMETHORPHAN, CLARITHROMYCIN], 40)],
        child: &[(&[CARBOCISTEINE_DRY_SYRUP, TULOBUTEROL_TAPE], 1)] },
    Acute { icd10: "J10.1", name: "インフルエンザ", weights: [8, 10, 8, 6], male_factor: 100, days: (5, 5), winter: true,
        adult: &[(&[OSELTAMIVIR, ACETAMINOPHEN], 1)],
        child: &[(&[OSELTAMIVIR_DRY_SYRUP, ACETAMINOPHEN_GRANULES], 1)] },
    Acute { icd10: "A09", name: "感染性胃腸炎", weights: [15, 12, 10, 8], male_factor: 100, days: (3, 5), winter: false,
        adult: &[(&[BUTYRATE_BACTERIA, DOMPERIDONE], 1)],
        child: &[(&[BIFIDOBACTERIA_POWDER], 1)] },
    Acute { icd10: "H66.9", name: "急性中耳炎", weights: [12, 4, 0, 0], male_factor: 100, days: (5, 7), winter: false,
        adult: &[(&[AMOXICILLIN], 1)],
        child: &[(&[AMOXICILLIN_GRANULES, CARBOCISTEINE_DRY_SYRUP], 1)] },
    Acute { icd10: "H10.9", name: "急性結膜炎", weights: [4, 4, 4, 4], male_factor: 100, days: (7, 7), winter: false,
        adult: &[(&[LEVOFLOXACIN_EYE_DROPS], 1)],
        child: &[(&[LEVOFLOXACIN_EYE_DROPS], 1)] },
    Acute { icd10: "L30.9", name: "湿疹", weights: [6, 6, 6, 6], male_factor: 100, days: (14, 14), winter: false,
        adult: &[(&[BETAMETHASONE_OINTMENT], 1)],
        child: &[(&[HYDROCORTISONE_OINTMENT], 1)] },
    Acute { icd10: "M54.5", name: "腰痛症", weights: [0, 0, 10, 14], male_factor: 100, days: (7, 14), winter: false,
        adult: &[(&[LOXOPROFEN, REBAMIPIDE], 50), (&[LOXOPROFEN, REBAMIPIDE, LOXOPROFEN_TAPE], 50)],
        child: &[] },
    Acute { icd10: "N30.0", name: "急性膀胱炎", weights: [0, 1, 6, 5], male_factor: 10, days: (3, 5), winter: false,
        adult: &[(&[LEVOFLOXACIN], 50), (&[CEFCAPENE], 50)],
        child: &[(&[AMOXICILLIN_GRANULES], 1)] },
    Acute { icd10: "G44.2", name: "緊張型頭痛", weights: [0, 1, 4, 2], male_factor: 60, days: (10, 10), winter: false,
        adult: &[(&[LOXOPROFEN_AS_NEEDED], 1)],
        child: &[(&[ACETAMINOPHEN_GRANULES], 1)] },
    Acute { icd10: "B02.9", name: "帯状疱疹", weights: [0, 0, 1, 3], male_factor: 100, days: (7, 7), winter: false,
        adult: &[(&[VALACICLOVIR, ACETAMINOPHEN], 1)],
        child: &[] },
];

/// A surgery (手術) and the diagnosis it treats.
#[derive(Debug)]
pub struct Operation {
    /// 診療報酬点数表の区分番号 (K code).
    pub code: &'static str,
    pub name: &'static str,
    pub icd10: &'static str,
    /// 傷病名 of the indication.
    pub diagnosis: &'static str,
    /// Chance over the three years in per 10,000, for men and women, by the youngest age
    /// of each band: `(from age, men, women)`.
    pub rates: &'static [(u32, u32, u32)],
    /// Percent done at a clinic rather than a hospital.
    pub at_clinic: u32,
    /// Drugs dispensed after discharge, once.
    pub after: &'static [Drug],
}

pub static OPERATIONS: &[Operation] = &[
    Operation { code: "K282", name: "水晶体再建術（白内障手術）", icd10: "H25.9", diagnosis: "老人性白内障",
        rates: &[(55, 80, 100), (65, 250, 300), (75, 350, 400)], at_clinic: 50, after: &[LEVOFLOXACIN_EYE_DROPS, BROMFENAC_EYE_DROPS] },
    Operation { code: "K672-2", name: "腹腔鏡下胆嚢摘出術", icd10: "K80.2", diagnosis: "胆のう結石症",
        rates: &[(20, 20, 25), (40, 40, 45), (60, 60, 55)], at_clinic: 0, after: &[] },
    Operation { code: "K549", name: "経皮的冠動脈ステント留置術", icd10: "I20.9", diagnosis: "狭心症",
        rates: &[(45, 30, 8), (55, 80, 30), (70, 110, 50)], at_clinic: 0, after: &[] },
    Operation { code: "K082", name: "人工関節置換術（膝）", icd10: "M17.9", diagnosis: "変形性膝関節症",
        rates: &[(60, 20, 50), (70, 40, 100)], at_clinic: 0, after: &[LOXOPROFEN, REBAMIPIDE] },
    Operation { code: "K081", name: "人工骨頭挿入術（股）", icd10: "S72.0", diagnosis: "大腿骨頸部骨折",
        rates: &[(75, 40, 90), (85, 120, 250)], at_clinic: 0, after: &[] },
    Operation { code: "K718-2", name: "腹腔鏡下虫垂切除術", icd10: "K35.8", diagnosis: "急性虫垂炎",
        rates: &[(5, 30, 25), (40, 15, 12)], at_clinic: 0, after: &[] },
    Operation { code: "K634", name: "腹腔鏡下鼠径ヘルニア手術", icd10: "K40.9", diagnosis: "鼠径ヘルニア",
        rates: &[(0, 40, 10), (6, 5, 1), (40, 50, 5)], at_clinic: 0, after: &[] },
    Operation { code: "K721", name: "内視鏡的大腸ポリープ・粘膜切除術", icd10: "D12.6", diagnosis: "大腸ポリープ",
        rates: &[(45, 200, 120), (65, 260, 160)], at_clinic: 40, after: &[] },
    Operation { code: "K898", name: "帝王切開術", icd10: "O82.9", diagnosis: "帝王切開による分娩",
        rates: &[(20, 0, 60), (25, 0, 150), (40, 0, 20), (45, 0, 0)], at_clinic: 0, after: &[] },
    Operation { code: "K377", name: "口蓋扁桃手術", icd10: "J35.0", diagnosis: "慢性扁桃炎",
        rates: &[(4, 20, 20), (20, 5, 5), (40, 0, 0)], at_clinic: 0, after: &[] },
];

impl Operation {
    /// Chance in per 10,000 at `age`.
    pub fn rate(&self, age: u32, male: bool) -> u32 {
        self.rates
            .iter()
            .rev()
            .find(|(a, _, _)| age >= *a)
            .map_or(0, |(_, m, f)| if male { *m } else { *f })
    }
}
