//! Medication (`YZKsiquc01`, 薬剤情報) and check-up (`TKKsiquc01`, 特定健診等情報)
//! messages: the request that names a patient by the data of their insurance card and
//! asks for a period, and the answer with the patient's header and the records.
//!
//! The reference gives no layout for these messages; onshi follows the one a public
//! clinic client writes and reads (docs/emr-interface.md, "Medication and check-ups"),
//! and names every code it had to choose in that document.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use onshi_model::{
    BranchNumber, InstitutionCode, InsuredCardSymbol, InsuredNumber, InsurerNumber, OqsSex,
    SegmentOfResult, format_yyyymmdd, parse_yyyymmdd,
};

use crate::charset::{self, Charset};
use crate::error::OqsError;
use crate::names::*;
use crate::request::RequestHeader;
use crate::response::{format_time, parse_time, required};
use crate::xml::{Element, Writer};

/// What is printed on an insurance card or 資格確認書, without the birth date: how the
/// medication and check-up requests name a patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardKey {
    pub insurer_number: InsurerNumber,
    pub symbol: Option<InsuredCardSymbol>,
    pub number: InsuredNumber,
    /// Without it, the consent given at the reader tells the family members apart.
    pub branch: Option<BranchNumber>,
}

/// `FileCategory` of a medication or check-up request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileCategory {
    /// `1`: a PDF (onshi writes the XML answer beside it).
    Pdf,
    /// `2`: XML (the default).
    Xml,
    /// `3`: a PDF, with the treatment information (診療情報) where the patient shared it.
    PdfWithTreatment,
    /// `4`: XML, with the treatment information.
    XmlWithTreatment,
}

impl FileCategory {
    pub const fn code(self) -> &'static str {
        match self {
            Self::Pdf => "1",
            Self::Xml => "2",
            Self::PdfWithTreatment => "3",
            Self::XmlWithTreatment => "4",
        }
    }

    pub fn parse(s: &str) -> Result<Self, OqsError> {
        match s {
            "1" => Ok(Self::Pdf),
            "2" => Ok(Self::Xml),
            "3" => Ok(Self::PdfWithTreatment),
            "4" => Ok(Self::XmlWithTreatment),
            other => Err(OqsError::InvalidValue {
                element: FILE_CATEGORY,
                detail: format!(
                    "{other:?} は 1（PDF）、2（XML）、3（PDF・診療情報付き）、4（XML・診療情報付き）のいずれでもありません"
                ),
            }),
        }
    }

    /// Whether a PDF is written beside the XML answer.
    pub const fn pdf(self) -> bool {
        matches!(self, Self::Pdf | Self::PdfWithTreatment)
    }

    /// Whether the treatment information is asked for too.
    pub const fn with_treatment(self) -> bool {
        matches!(self, Self::PdfWithTreatment | Self::XmlWithTreatment)
    }
}

/// A period of whole months (`StartDate` / `EndDate`, `yyyyMM`).
///
/// Invariant: `first` is the first day of its month and not after `last`, the first day
/// of the last month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthRange {
    first: NaiveDate,
    last: NaiveDate,
}

impl MonthRange {
    /// The months from `first`'s to `last`'s (any day of each).
    pub fn new(first: NaiveDate, last: NaiveDate) -> Result<Self, OqsError> {
        let (first, last) = (month_start(first), month_start(last));
        if first > last {
            return Err(OqsError::InvalidValue {
                element: START_DATE,
                detail: format!("{} は EndDate {} より後です", yyyymm(first), yyyymm(last)),
            });
        }
        Ok(Self { first, last })
    }

    /// The first day of the first month.
    pub fn start(&self) -> NaiveDate {
        self.first
    }

    /// The last day of the last month.
    pub fn end(&self) -> NaiveDate {
        self.last
            .checked_add_months(chrono::Months::new(1))
            .and_then(|d| d.pred_opt())
            .unwrap_or(self.last)
    }

    /// `StartDate` and `EndDate` as written.
    pub fn texts(&self) -> (String, String) {
        (yyyymm(self.first), yyyymm(self.last))
    }
}

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn yyyymm(d: NaiveDate) -> String {
    format!("{:04}{:02}", d.year(), d.month())
}

fn parse_yyyymm(e: &Element, name: &'static str) -> Result<Option<NaiveDate>, OqsError> {
    e.opt_text(name)?
        .map(|s| {
            let day = (s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| NaiveDate::parse_from_str(&format!("{s}01"), "%Y%m%d").ok())
                .flatten();
            day.ok_or_else(|| OqsError::InvalidValue {
                element: name,
                detail: format!("{s:?} は yyyyMM の年月ではありません"),
            })
        })
        .transpose()
}

/// `YZKsiquc01` / `TKKsiquc01`: the medication or check-up information of one patient,
/// within the consent they gave at this institution's reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRequest {
    /// The patient, by the insurance data in `MessageHeader`.
    pub card: CardKey,
    /// The months asked for (`StartDate`/`EndDate`); the terminal's default when absent.
    pub period: Option<MonthRange>,
    pub category: FileCategory,
}

/// Reads the request's own part: the patient (header or body) and the body's options.
pub(crate) fn parse_request(header: &Element, body: &Element) -> Result<HistoryRequest, OqsError> {
    let card = card_key(header)?;
    let start = parse_yyyymm(body, START_DATE)?;
    let end = parse_yyyymm(body, END_DATE)?;
    let period = match (start, end) {
        (None, None) => None,
        (Some(s), Some(e)) => Some(MonthRange::new(s, e)?),
        (Some(_), None) => return Err(OqsError::MissingElement(END_DATE)),
        (None, Some(_)) => return Err(OqsError::MissingElement(START_DATE)),
    };
    let category = body
        .opt_text(FILE_CATEGORY)?
        .map(FileCategory::parse)
        .transpose()?
        .unwrap_or(FileCategory::Xml);
    // Public clients always write 1 in both; any other single digit is accepted and has
    // no effect (their meaning beyond 1 is not known).
    for name in [PR_DI_INF_CLASSIFICATION, MEDICAL_TREATMENT_FLAG] {
        if let Some(v) = body.opt_text(name)?
            && (v.len() != 1 || !v.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(OqsError::InvalidValue {
                element: name,
                detail: format!("{v:?} は 1 桁の数字ではありません"),
            });
        }
    }
    Ok(HistoryRequest {
        card,
        period,
        category,
    })
}

fn card_key(h: &Element) -> Result<CardKey, OqsError> {
    let insurer_number = InsurerNumber::parse(h.text_of(HIST_INSURER_NUMBER)?)
        .map_err(|e| OqsError::invalid(HIST_INSURER_NUMBER, e))?;
    let symbol = match h.opt_text(HIST_SYMBOL)?.map(str::trim) {
        None | Some("") => None,
        Some(s) => {
            Some(InsuredCardSymbol::parse(s).map_err(|e| OqsError::invalid(HIST_SYMBOL, e))?)
        }
    };
    let number = InsuredNumber::parse(h.text_of(HIST_NUMBER)?.trim())
        .map_err(|e| OqsError::invalid(HIST_NUMBER, e))?;
    // Clients pass the branch number as their database holds it: "1" is "01".
    let branch = match h.opt_text(HIST_BRANCH)?.map(str::trim) {
        None | Some("") => None,
        Some(s) if s.len() == 1 => Some(
            BranchNumber::parse(&format!("0{s}")).map_err(|e| OqsError::invalid(HIST_BRANCH, e))?,
        ),
        Some(s) => Some(BranchNumber::parse(s).map_err(|e| OqsError::invalid(HIST_BRANCH, e))?),
    };
    Ok(CardKey {
        insurer_number,
        symbol,
        number,
        branch,
    })
}

/// The patient an answer is about, as the header of the answer shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPatient {
    /// Family and given name, separated by a full-width space.
    pub name: String,
    /// Half-width katakana, separated by a half-width space.
    pub kana: String,
    pub birth_date: NaiveDate,
    pub sex: OqsSex,
}

/// One drug of one dispensing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MedicationEntry {
    pub dispensed_on: NaiveDate,
    /// At most 12 characters.
    pub drug_code: String,
    pub drug_name: String,
    /// 用法・用量.
    pub usage: String,
    /// The whole amount dispensed, in tenths of `unit`.
    pub quantity_x10: i64,
    pub unit: String,
    /// 調剤日数.
    pub days_supplied: u32,
    pub prescriber: InstitutionCode,
    pub prescriber_name: String,
    pub pharmacy: InstitutionCode,
    pub pharmacy_name: String,
}

/// One treatment (診療) of the treatment information: onshi's records are operations
/// (手術), written as `MeTrInf` rows of `MeTrIdCl` 50.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreatmentEntry {
    pub performed_on: NaiveDate,
    /// The 区分番号 of the fee schedule (`K282`).
    pub code: String,
    pub name: String,
    pub institution: InstitutionCode,
    pub institution_name: String,
}

/// A check-up item: its code of the 特定健診 data standard (JLAC10, 17 characters), its
/// name and unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CheckupItem {
    Height,
    Weight,
    Bmi,
    Waist,
    Systolic,
    Diastolic,
    FastingGlucose,
    HbA1c,
    Triglycerides,
    Hdl,
    Ldl,
    Ast,
    Alt,
    Ggt,
    UrineGlucose,
    UrineProtein,
}

impl CheckupItem {
    /// Every item, in the order answers list them.
    pub const ALL: &'static [CheckupItem] = &[
        Self::Height,
        Self::Weight,
        Self::Bmi,
        Self::Waist,
        Self::Systolic,
        Self::Diastolic,
        Self::FastingGlucose,
        Self::HbA1c,
        Self::Triglycerides,
        Self::Hdl,
        Self::Ldl,
        Self::Ast,
        Self::Alt,
        Self::Ggt,
        Self::UrineGlucose,
        Self::UrineProtein,
    ];

    /// `ItemCode`, `ItemName`, `Unit`.
    const fn row(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Height => ("9N001000000000001", "身長", "cm"),
            Self::Weight => ("9N006000000000001", "体重", "kg"),
            Self::Bmi => ("9N011000000000001", "BMI", "kg/m2"),
            Self::Waist => ("9N016160100000001", "腹囲（実測）", "cm"),
            Self::Systolic => ("9A755000000000001", "収縮期血圧（その他）", "mmHg"),
            Self::Diastolic => ("9A765000000000001", "拡張期血圧（その他）", "mmHg"),
            Self::FastingGlucose => ("3D010000001927201", "空腹時血糖", "mg/dL"),
            Self::HbA1c => ("3D046000001920402", "HbA1c（NGSP値）", "%"),
            Self::Triglycerides => ("3F015000002327101", "中性脂肪（トリグリセリド）", "mg/dL"),
            Self::Hdl => ("3F070000002327101", "HDLコレステロール", "mg/dL"),
            Self::Ldl => ("3F077000002327101", "LDLコレステロール", "mg/dL"),
            Self::Ast => ("3B035000002327201", "GOT（AST）", "U/L"),
            Self::Alt => ("3B045000002327201", "GPT（ALT）", "U/L"),
            Self::Ggt => ("3B090000002327101", "γ-GT（γ-GTP）", "U/L"),
            Self::UrineGlucose => ("1A020000000190111", "尿糖", ""),
            Self::UrineProtein => ("1A010000000190111", "尿蛋白", ""),
        }
    }

    pub const fn code(self) -> &'static str {
        self.row().0
    }

    pub const fn name(self) -> &'static str {
        self.row().1
    }

    pub const fn unit(self) -> &'static str {
        self.row().2
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|i| i.code() == code)
    }
}

/// A dipstick result (尿定性), written as `DataType` `CD` with `DataValue` 1–5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UrineLevel {
    Negative,
    Trace,
    Plus1,
    Plus2,
    Plus3,
}

impl UrineLevel {
    const ALL: [UrineLevel; 5] = [
        Self::Negative,
        Self::Trace,
        Self::Plus1,
        Self::Plus2,
        Self::Plus3,
    ];

    /// `DataValue`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Negative => "1",
            Self::Trace => "2",
            Self::Plus1 => "3",
            Self::Plus2 => "4",
            Self::Plus3 => "5",
        }
    }

    /// `DataValueName`: what a viewer shows.
    pub const fn display(self) -> &'static str {
        match self {
            Self::Negative => "(-)",
            Self::Trace => "(+-)",
            Self::Plus1 => "(+)",
            Self::Plus2 => "(2+)",
            Self::Plus3 => "(3+)",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// The value of one check-up item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckupValue {
    /// `PQ`: a number, as decimal text (`172.4`, `128`).
    Quantity(String),
    /// `CD`: a dipstick level.
    Urine(UrineLevel),
}

/// One check-up: when, where, and its results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckupEntry {
    pub performed_on: NaiveDate,
    pub institution: Option<InstitutionCode>,
    pub results: Vec<(CheckupItem, CheckupValue)>,
}

/// The records of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryContent {
    Medications(Vec<MedicationEntry>),
    Checkups(Vec<CheckupEntry>),
}

impl HistoryContent {
    pub fn len(&self) -> usize {
        match self {
            Self::Medications(m) => m.len(),
            Self::Checkups(c) => c.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A medication or check-up answer: the patient, the period served and the records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryAnswer {
    pub patient: HistoryPatient,
    /// The months the records were taken from (medication only).
    pub period: Option<MonthRange>,
    pub category: FileCategory,
    pub content: HistoryContent,
    /// With `FileCategory` 3 or 4 and the patient's consent to share their operations:
    /// the treatment rows of the medication answer.
    pub treatments: Vec<TreatmentEntry>,
}

/// `ResultCode` of an answer: 1 normal (medication and check-up answers), 2 error (every
/// error answer, with the message as `MessageContents`).
pub const RESULT_CODE_NORMAL: &str = "1";
pub const RESULT_CODE_ERROR: &str = "2";

/// The quantity in tenths as decimal text: `14`, `1.5`.
fn tenths(v: i64) -> String {
    if v % 10 == 0 {
        (v / 10).to_string()
    } else {
        format!(
            "{}{}.{}",
            if v < 0 { "-" } else { "" },
            (v / 10).abs(),
            (v % 10).abs()
        )
    }
}

fn parse_tenths(element: &'static str, s: &str) -> Result<i64, OqsError> {
    let bad = || OqsError::InvalidValue {
        element,
        detail: format!("{s:?} は小数第 1 位までの数ではありません"),
    };
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    let plain = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !plain(int) || frac.len() != 1 || !plain(frac) {
        return Err(bad());
    }
    let magnitude = int
        .parse::<i64>()
        .ok()
        .and_then(|i| i.checked_mul(10))
        .and_then(|i| i.checked_add(i64::from(frac.as_bytes()[0] - b'0')))
        .ok_or_else(bad)?;
    Ok(if negative { -magnitude } else { magnitude })
}

/// `Qua1` and `Times` of a drug, as a claim writes them: the daily amount and the days
/// when the whole amount divides evenly over the days (内服), else the whole amount once.
fn qua1_times(e: &MedicationEntry) -> (String, String) {
    let days = i64::from(e.days_supplied);
    if days > 1 && e.quantity_x10 % days == 0 {
        (tenths(e.quantity_x10 / days), days.to_string())
    } else {
        (tenths(e.quantity_x10), "1".to_owned())
    }
}

fn write_patient(w: &mut Writer, answer: &HistoryAnswer, charset: Charset) {
    let p = &answer.patient;
    let (wrapper, name_el, other_el, kana_el, birth_el, sex_el) = match answer.content {
        HistoryContent::Medications(_) => (
            QUA_INF,
            QUA_NAME,
            QUA_NAME_OF_OTHER,
            QUA_KANA_NAME,
            QUA_BIRTH,
            QUA_SEX,
        ),
        HistoryContent::Checkups(_) => (
            QUALIFICATIONS_INFO,
            QI_NAME,
            QI_NAME_OF_OTHER,
            QI_KANA_NAME,
            QI_BIRTHDAY,
            QI_SEX,
        ),
    };
    w.open(wrapper);
    // As in the eligibility answers: a Shift_JIS file carries a JIS X 0208 form of a name
    // outside it, and the exact name beside it.
    match (charset, charset::substitute_name(&p.name, &p.kana)) {
        (Charset::ShiftJis, Some(portable)) => {
            w.leaf(name_el, &portable);
            w.leaf(other_el, &p.name);
        }
        _ => w.leaf(name_el, &p.name),
    }
    w.leaf(kana_el, &p.kana);
    w.leaf(birth_el, &format_yyyymmdd(p.birth_date));
    w.leaf(sex_el, p.sex.code());
    w.close(wrapper);
}

fn write_header(
    w: &mut Writer,
    req: &RequestHeader,
    processed_at: NaiveDateTime,
    charset: Charset,
    contents: &str,
) {
    w.open(MESSAGE_HEADER);
    w.leaf(PROCESS_EXECUTION_TIME, &format_time(processed_at));
    w.leaf(MEDICAL_INSTITUTION_CODE, req.institution.as_str());
    w.leaf_opt(ARBITRARY_FILE_IDENTIFIER, req.file_id.as_deref());
    w.leaf(SEGMENT_OF_RESULT, SegmentOfResult::Normal.code());
    w.leaf(CHARACTER_CODE_IDENTIFIER, charset.code());
    w.leaf(RESULT_CODE, RESULT_CODE_NORMAL);
    w.leaf(MESSAGE_CONTENTS, contents);
}

/// The answer to a `YZKsiquc01` / `TKKsiquc01` request, in `charset` (the request's):
/// `ResultCode` 1 and the patient in the header, the records in the body, and the name
/// of the PDF written beside it when the request asked for one.
pub fn history_response(
    req: &RequestHeader,
    answer: &HistoryAnswer,
    pdf_file_name: Option<&str>,
    processed_at: NaiveDateTime,
    charset: Charset,
) -> Result<Vec<u8>, OqsError> {
    let mut w = Writer::new(charset);
    w.open(XML_MSG);
    let what = match answer.content {
        HistoryContent::Medications(_) => "薬剤情報",
        HistoryContent::Checkups(_) => "特定健診等情報",
    };
    let contents = format!("{what}を {} 件お返しします。", answer.content.len());
    write_header(&mut w, req, processed_at, charset, &contents);
    write_patient(&mut w, answer, charset);
    w.close(MESSAGE_HEADER);
    w.open(MESSAGE_BODY);
    w.leaf(FILE_CATEGORY, answer.category.code());
    if let Some(p) = &answer.period {
        let (s, e) = p.texts();
        w.leaf(START_DATE, &s);
        w.leaf(END_DATE, &e);
    }
    w.leaf_opt(PDF_FILE_NAME, pdf_file_name);
    match &answer.content {
        HistoryContent::Medications(m) => {
            write_medications(&mut w, req, m);
            write_treatments(&mut w, req, &answer.treatments);
        }
        HistoryContent::Checkups(c) => write_checkups(&mut w, c),
    }
    w.close(MESSAGE_BODY);
    w.close(XML_MSG);
    w.finish()
}

/// 点数表番号 4 (調剤): the claims these records come from are pharmacies' claims.
const DI_ORG_DISPENSING: &str = "4";
/// PrIsOrg: 1 prescribed by the asking institution, 2 by another.
const PR_IS_ORG_SELF: &str = "1";
const PR_IS_ORG_OTHER: &str = "2";
/// InOut: 2 院外処方 (dispensed by a pharmacy on a prescription).
const IN_OUT_OUTSIDE: &str = "2";

/// The items grouped by `key`, groups and items in the order they first come.
fn in_order<'a, T, K: PartialEq>(
    items: impl IntoIterator<Item = &'a T>,
    key: impl Fn(&T) -> K,
) -> Vec<(K, Vec<&'a T>)>
where
    T: 'a,
{
    let mut groups: Vec<(K, Vec<&T>)> = Vec::new();
    for item in items {
        let k = key(item);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, v)) => v.push(item),
            None => groups.push((k, vec![item])),
        }
    }
    groups
}

fn pr_is_org(institution: &InstitutionCode, req: &RequestHeader) -> &'static str {
    if *institution == req.institution {
        PR_IS_ORG_SELF
    } else {
        PR_IS_ORG_OTHER
    }
}

fn write_medications(w: &mut Writer, req: &RequestHeader, entries: &[MedicationEntry]) {
    // One MeTrMonthInf per month, pharmacy and prescriber; inside it one DiDateInf per
    // day. Newest month first, as the entries come.
    let groups = in_order(entries, |e| {
        (yyyymm(e.dispensed_on), e.pharmacy, e.prescriber)
    });
    for ((month, _, _), items) in groups {
        let first = items[0];
        w.open(ME_TR_MONTH_INF);
        w.leaf(DI_ORG, DI_ORG_DISPENSING);
        w.leaf(ME_TR_DI_H_CD, first.pharmacy.as_str());
        w.leaf(ME_TR_DI_H_NM, &first.pharmacy_name);
        w.leaf(PRLS_H_CD, first.prescriber.as_str());
        w.leaf(PRLS_H_NM, &first.prescriber_name);
        w.leaf(ME_TR_MONTH, &month);
        w.leaf(PR_IS_ORG, pr_is_org(&first.prescriber, req));
        w.leaf(IN_OUT, IN_OUT_OUTSIDE);
        w.open(DI_DATE_INFS);
        for (day, on_day) in in_order(items, |e| e.dispensed_on) {
            w.open(DI_DATE_INF);
            w.leaf(DI_DATE, &format_yyyymmdd(day));
            w.open(DRUG_INFS);
            for e in on_day {
                let (qua1, times) = qua1_times(e);
                w.open(DRUG_INF);
                w.leaf(DRUG_C, &e.drug_code);
                w.leaf(DRUG_N, &e.drug_name);
                w.leaf(QUA1, &qua1);
                w.leaf(UNIT, &e.unit);
                w.leaf(USAGE_N, &e.usage);
                w.leaf(TIMES, &times);
                w.leaf(DISPENSED_QUANTITY, &tenths(e.quantity_x10));
                w.leaf(DAYS_SUPPLIED, &e.days_supplied.to_string());
                w.close(DRUG_INF);
            }
            w.close(DRUG_INFS);
            w.close(DI_DATE_INF);
        }
        w.close(DI_DATE_INFS);
        w.close(ME_TR_MONTH_INF);
    }
}

/// 診療識別 50: 手術.
const ME_TR_ID_CL_SURGERY: &str = "50";

fn write_treatments(w: &mut Writer, req: &RequestHeader, entries: &[TreatmentEntry]) {
    // One MeTrMonthInf per month and institution, as for the drugs; the day's rows in
    // MeTrInfs.
    let groups = in_order(entries, |e| (yyyymm(e.performed_on), e.institution));
    for ((month, _), items) in groups {
        let first = items[0];
        w.open(ME_TR_MONTH_INF);
        w.leaf(
            DI_ORG,
            &first.institution.fee_schedule().digit().to_string(),
        );
        w.leaf(ME_TR_DI_H_CD, first.institution.as_str());
        w.leaf(ME_TR_DI_H_NM, &first.institution_name);
        w.leaf(ME_TR_MONTH, &month);
        w.leaf(PR_IS_ORG, pr_is_org(&first.institution, req));
        w.open(DI_DATE_INFS);
        for (day, on_day) in in_order(items, |e| e.performed_on) {
            w.open(DI_DATE_INF);
            w.leaf(DI_DATE, &format_yyyymmdd(day));
            w.open(ME_TR_INFS);
            for e in on_day {
                w.open(ME_TR_INF);
                w.leaf(SIN_INF_CD, &e.code);
                w.leaf(SIN_INF_N, &e.name);
                w.leaf(ME_TR_ID_CL, ME_TR_ID_CL_SURGERY);
                w.leaf(QUA1, "1");
                w.leaf(TIMES, "1");
                w.close(ME_TR_INF);
            }
            w.close(ME_TR_INFS);
            w.close(DI_DATE_INF);
        }
        w.close(DI_DATE_INFS);
        w.close(ME_TR_MONTH_INF);
    }
}

/// `DataType` of a number and of a coded value.
const DATA_TYPE_QUANTITY: &str = "PQ";
const DATA_TYPE_CODED: &str = "CD";

fn write_checkups(w: &mut Writer, entries: &[CheckupEntry]) {
    for c in entries {
        w.open(CHECKUP_INFO);
        w.leaf(EFFECTIVE_TIME, &format_yyyymmdd(c.performed_on));
        w.leaf_opt(
            CHECKUP_INSTITUTION,
            c.institution.as_ref().map(InstitutionCode::as_str),
        );
        w.open(CHECKUP_ITEMS);
        for (item, value) in &c.results {
            w.open(CHECKUP_ITEM);
            w.leaf(ITEM_CODE, item.code());
            w.leaf(ITEM_NAME, item.name());
            match value {
                CheckupValue::Quantity(q) => {
                    w.leaf(DATA_TYPE, DATA_TYPE_QUANTITY);
                    w.leaf(DATA_VALUE, q);
                    w.leaf(DATA_UNIT, item.unit());
                    w.leaf(DATA_VALUE_NAME, q);
                }
                CheckupValue::Urine(level) => {
                    w.leaf(DATA_TYPE, DATA_TYPE_CODED);
                    w.leaf(DATA_VALUE, level.code());
                    w.leaf(DATA_VALUE_NAME, level.display());
                }
            }
            w.close(CHECKUP_ITEM);
        }
        w.close(CHECKUP_ITEMS);
        w.close(CHECKUP_INFO);
    }
}

/// A medication or check-up answer read back (for EMR-side tools and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedHistoryResponse {
    pub processed_at: NaiveDateTime,
    pub institution: InstitutionCode,
    pub file_id: Option<String>,
    pub charset: Charset,
    pub segment: SegmentOfResult,
    /// `ErrorCode` and `ErrorMessage` of an error answer.
    pub error: Option<(String, String)>,
    pub result_code: String,
    pub message_contents: String,
    pub pdf_file_name: Option<String>,
    /// The answer; `None` for an error answer.
    pub answer: Option<HistoryAnswer>,
}

/// Reads a `YZKsiquc01res` / `TKKsiquc01res` file.
pub fn parse_history_response(bytes: &[u8]) -> Result<ParsedHistoryResponse, OqsError> {
    let (charset, root) = crate::request::read_root(bytes)?;
    let h = root.require(MESSAGE_HEADER)?;
    let b = root.require(MESSAGE_BODY)?;
    let error = match h.opt_text(ERROR_CODE)? {
        Some(c) => Some((
            c.to_owned(),
            h.opt_text(ERROR_MESSAGE)?.unwrap_or("").to_owned(),
        )),
        None => None,
    };
    let patient = match (h.child(QUA_INF)?, h.child(QUALIFICATIONS_INFO)?) {
        (Some(q), None) => Some((
            true,
            read_patient(
                q,
                QUA_NAME,
                QUA_NAME_OF_OTHER,
                QUA_KANA_NAME,
                QUA_BIRTH,
                QUA_SEX,
            )?,
        )),
        (None, Some(q)) => Some((
            false,
            read_patient(
                q,
                QI_NAME,
                QI_NAME_OF_OTHER,
                QI_KANA_NAME,
                QI_BIRTHDAY,
                QI_SEX,
            )?,
        )),
        (None, None) => None,
        (Some(_), Some(_)) => return Err(OqsError::DuplicateElement(QUA_INF)),
    };
    let answer = match patient {
        None => None,
        Some((medication, patient)) => {
            let start = parse_yyyymm(b, START_DATE)?;
            let end = parse_yyyymm(b, END_DATE)?;
            let period = match (start, end) {
                (Some(s), Some(e)) => Some(MonthRange::new(s, e)?),
                _ => None,
            };
            let (content, treatments) = if medication {
                (
                    HistoryContent::Medications(read_medications(b)?),
                    read_treatments(b)?,
                )
            } else {
                (HistoryContent::Checkups(read_checkups(b)?), Vec::new())
            };
            Some(HistoryAnswer {
                patient,
                period,
                category: FileCategory::parse(b.text_of(FILE_CATEGORY)?)?,
                content,
                treatments,
            })
        }
    };
    Ok(ParsedHistoryResponse {
        processed_at: parse_time(h, PROCESS_EXECUTION_TIME)?
            .ok_or(OqsError::MissingElement(PROCESS_EXECUTION_TIME))?,
        institution: required(h, MEDICAL_INSTITUTION_CODE, InstitutionCode::parse)?,
        file_id: h.opt_text(ARBITRARY_FILE_IDENTIFIER)?.map(str::to_owned),
        charset,
        segment: required(h, SEGMENT_OF_RESULT, SegmentOfResult::parse)?,
        error,
        result_code: h.text_of(RESULT_CODE)?.to_owned(),
        message_contents: h.text_of(MESSAGE_CONTENTS)?.to_owned(),
        pdf_file_name: b.opt_text(PDF_FILE_NAME)?.map(str::to_owned),
        answer,
    })
}

fn read_patient(
    e: &Element,
    name: &'static str,
    other: &'static str,
    kana: &'static str,
    birth: &'static str,
    sex: &'static str,
) -> Result<HistoryPatient, OqsError> {
    Ok(HistoryPatient {
        name: e.opt_text(other)?.unwrap_or(e.text_of(name)?).to_owned(),
        kana: e.text_of(kana)?.to_owned(),
        birth_date: parse_yyyymmdd(e.text_of(birth)?)
            .map_err(|err| OqsError::invalid(birth, err))?,
        sex: required(e, sex, OqsSex::parse)?,
    })
}

fn read_treatments(b: &Element) -> Result<Vec<TreatmentEntry>, OqsError> {
    let mut out = Vec::new();
    for m in b.all(ME_TR_MONTH_INF) {
        let institution = required(m, ME_TR_DI_H_CD, InstitutionCode::parse)?;
        let institution_name = m.opt_text(ME_TR_DI_H_NM)?.unwrap_or("").to_owned();
        for d in m.require(DI_DATE_INFS)?.all(DI_DATE_INF) {
            let Some(rows) = d.child(ME_TR_INFS)? else {
                continue;
            };
            let day = parse_yyyymmdd(d.text_of(DI_DATE)?)
                .map_err(|err| OqsError::invalid(DI_DATE, err))?;
            for r in rows.all(ME_TR_INF) {
                out.push(TreatmentEntry {
                    performed_on: day,
                    code: r.text_of(SIN_INF_CD)?.to_owned(),
                    name: r.text_of(SIN_INF_N)?.to_owned(),
                    institution,
                    institution_name: institution_name.clone(),
                });
            }
        }
    }
    Ok(out)
}

fn read_medications(b: &Element) -> Result<Vec<MedicationEntry>, OqsError> {
    let mut out = Vec::new();
    // Treatment months have no prescriber and no drugs.
    for m in b
        .all(ME_TR_MONTH_INF)
        .filter(|m| m.child(PRLS_H_CD).ok().flatten().is_some())
    {
        let pharmacy = required(m, ME_TR_DI_H_CD, InstitutionCode::parse)?;
        let prescriber = required(m, PRLS_H_CD, InstitutionCode::parse)?;
        let pharmacy_name = m.opt_text(ME_TR_DI_H_NM)?.unwrap_or("").to_owned();
        let prescriber_name = m.opt_text(PRLS_H_NM)?.unwrap_or("").to_owned();
        for d in m.require(DI_DATE_INFS)?.all(DI_DATE_INF) {
            let day = parse_yyyymmdd(d.text_of(DI_DATE)?)
                .map_err(|err| OqsError::invalid(DI_DATE, err))?;
            for drug in d.require(DRUG_INFS)?.all(DRUG_INF) {
                let days = drug.text_of(DAYS_SUPPLIED)?;
                out.push(MedicationEntry {
                    dispensed_on: day,
                    drug_code: drug.text_of(DRUG_C)?.to_owned(),
                    drug_name: drug.text_of(DRUG_N)?.to_owned(),
                    usage: drug.opt_text(USAGE_N)?.unwrap_or("").to_owned(),
                    quantity_x10: parse_tenths(
                        DISPENSED_QUANTITY,
                        drug.text_of(DISPENSED_QUANTITY)?,
                    )?,
                    unit: drug.opt_text(UNIT)?.unwrap_or("").to_owned(),
                    days_supplied: days.parse().map_err(|_| OqsError::InvalidValue {
                        element: DAYS_SUPPLIED,
                        detail: format!("{days:?} は日数ではありません"),
                    })?,
                    prescriber,
                    prescriber_name: prescriber_name.clone(),
                    pharmacy,
                    pharmacy_name: pharmacy_name.clone(),
                });
            }
        }
    }
    Ok(out)
}

fn read_checkups(b: &Element) -> Result<Vec<CheckupEntry>, OqsError> {
    b.all(CHECKUP_INFO)
        .map(|c| {
            let results = c
                .require(CHECKUP_ITEMS)?
                .all(CHECKUP_ITEM)
                .map(|i| {
                    let code = i.text_of(ITEM_CODE)?;
                    let item =
                        CheckupItem::from_code(code).ok_or_else(|| OqsError::InvalidValue {
                            element: ITEM_CODE,
                            detail: format!("{code:?} は onshi の書く項目コードではありません"),
                        })?;
                    let value = i.text_of(DATA_VALUE)?;
                    let value = match i.text_of(DATA_TYPE)? {
                        DATA_TYPE_QUANTITY => CheckupValue::Quantity(value.to_owned()),
                        DATA_TYPE_CODED => {
                            CheckupValue::Urine(UrineLevel::from_code(value).ok_or_else(|| {
                                OqsError::InvalidValue {
                                    element: DATA_VALUE,
                                    detail: format!("{value:?} は 1–5 ではありません"),
                                }
                            })?)
                        }
                        other => {
                            return Err(OqsError::InvalidValue {
                                element: DATA_TYPE,
                                detail: format!("{other:?} は PQ でも CD でもありません"),
                            });
                        }
                    };
                    Ok((item, value))
                })
                .collect::<Result<Vec<_>, OqsError>>()?;
            Ok(CheckupEntry {
                performed_on: parse_yyyymmdd(c.text_of(EFFECTIVE_TIME)?)
                    .map_err(|err| OqsError::invalid(EFFECTIVE_TIME, err))?,
                institution: c
                    .opt_text(CHECKUP_INSTITUTION)?
                    .map(|s| {
                        InstitutionCode::parse(s)
                            .map_err(|e| OqsError::invalid(CHECKUP_INSTITUTION, e))
                    })
                    .transpose()?,
                results,
            })
        })
        .collect()
}

impl HistoryAnswer {
    /// The answer as a PDF: a title, `subtitle` (who asked, when), the patient, then one
    /// paragraph per record.
    pub fn to_pdf(&self, subtitle: &str) -> Vec<u8> {
        let (title, paragraphs) = match &self.content {
            HistoryContent::Medications(m) => (
                "薬剤情報",
                m.iter()
                    .map(|e| {
                        format!(
                            "{}　{}（{}）　{}　{}{}　{}日分　処方 {} {}　調剤 {} {}",
                            e.dispensed_on.format("%Y-%m-%d"),
                            e.drug_name,
                            e.drug_code,
                            e.usage,
                            tenths(e.quantity_x10),
                            e.unit,
                            e.days_supplied,
                            e.prescriber.as_str(),
                            e.prescriber_name,
                            e.pharmacy.as_str(),
                            e.pharmacy_name,
                        )
                    })
                    .collect::<Vec<_>>(),
            ),
            HistoryContent::Checkups(c) => (
                "特定健診等情報",
                c.iter()
                    .map(|e| {
                        let items: Vec<String> = e
                            .results
                            .iter()
                            .map(|(item, v)| match v {
                                CheckupValue::Quantity(q) => {
                                    format!("{}：{q}{}", item.name(), item.unit())
                                }
                                CheckupValue::Urine(l) => {
                                    format!("{}：{}", item.name(), l.display())
                                }
                            })
                            .collect();
                        format!(
                            "{}　実施機関 {}　{}",
                            e.performed_on.format("%Y-%m-%d"),
                            e.institution.as_ref().map_or("", InstitutionCode::as_str),
                            items.join("　")
                        )
                    })
                    .collect::<Vec<_>>(),
            ),
        };
        let treatments: Vec<String> = self
            .treatments
            .iter()
            .map(|t| {
                format!(
                    "{}　手術 {}（{}）　{} {}",
                    t.performed_on.format("%Y-%m-%d"),
                    t.name,
                    t.code,
                    t.institution.as_str(),
                    t.institution_name
                )
            })
            .collect();
        let paragraphs: Vec<String> = paragraphs.into_iter().chain(treatments).collect();
        let p = &self.patient;
        let mut head = vec![
            subtitle.to_owned(),
            format!(
                "{}（{}）　生年月日 {}　性別 {}",
                p.name,
                p.kana,
                p.birth_date.format("%Y-%m-%d"),
                p.sex.label()
            ),
        ];
        if let Some(period) = &self.period {
            head.push(format!(
                "期間 {} – {}",
                period.start().format("%Y-%m"),
                period.end().format("%Y-%m")
            ));
        }
        head.push(String::new());
        if paragraphs.is_empty() {
            head.push("該当する情報はありません。".to_owned());
        }
        head.extend(
            paragraphs
                .into_iter()
                .enumerate()
                .map(|(i, t)| format!("{}. {t}", i + 1)),
        );
        crate::pdf::write(&crate::pdf::PdfText {
            title: title.to_owned(),
            paragraphs: head,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenths_read_back_exactly_and_refuse_what_is_not_one() {
        for (v, text) in [
            (0, "0"),
            (5, "0.5"),
            (-5, "-0.5"),
            (140, "14"),
            (-123, "-12.3"),
        ] {
            assert_eq!(tenths(v), text);
            assert_eq!(parse_tenths(DISPENSED_QUANTITY, text), Ok(v), "{text}");
        }
        for bad in [
            "",
            "-",
            ".5",
            "1.",
            "1.25",
            "1,5",
            "+1",
            "1e3",
            "--1",
            "99999999999999999999",
            "922337203685477580.8",
        ] {
            assert!(parse_tenths(DISPENSED_QUANTITY, bad).is_err(), "{bad:?}");
        }
    }
}
