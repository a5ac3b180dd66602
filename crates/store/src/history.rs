//! Medical histories: medication dispensed, specific health check-ups, diagnoses and
//! surgeries, as the center keeps them for consented viewing, and the record of every view.
//!
//! The store holds the rows and answers per-person queries; whether a clinic may see them
//! (a consent in force for the kind) is the center's decision. Loaded rows take the id
//! [`history_row_id`]`(person_id, ordinal)`, so reloading a nation never collides.

use chrono::{NaiveDate, NaiveDateTime};
use onshi_model::{ConsentKind, InstitutionCode};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::rows::{date_from_db, date_to_db, instant_from_db, instant_to_db};
use crate::write::{Val, bulk_insert};
use crate::{Store, StoreError};

/// Rows of one table one person may have: ids are `person_id * 10_000 + ordinal`.
pub const HISTORY_IDS_PER_PERSON: i64 = 10_000;

/// The id of a person's `ordinal`-th row of a history table. Panics when `ordinal` is not
/// below [`HISTORY_IDS_PER_PERSON`]: two persons' ids would overlap.
pub fn history_row_id(person_id: i64, ordinal: usize) -> i64 {
    let n = i64::try_from(ordinal).unwrap_or(i64::MAX);
    assert!(
        n < HISTORY_IDS_PER_PERSON,
        "history row {ordinal} of person {person_id}"
    );
    person_id * HISTORY_IDS_PER_PERSON + n
}

/// Defines a small enum stored as text.
macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $code:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $v,)* }
        impl $name {
            /// The text stored in the database.
            pub const fn code(self) -> &'static str {
                match self { $(Self::$v => $code,)* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($code => Some(Self::$v),)* _ => None }
            }
        }
    };
}

text_enum! {
    /// The kind of a check-up (特定健診等).
    CheckupKind {
        /// 特定健康診査 (40–74).
        Specific = "specific",
        /// 事業者健診 results of a younger employee.
        Employer = "employer",
        /// 後期高齢者健診 (75 and over).
        LateElderly = "late_elderly",
    }
}

text_enum! {
    /// A dipstick urine result (尿定性): −, ±, +, 2+, 3+.
    UrineTest {
        Negative = "-",
        Trace = "+-",
        Plus1 = "1+",
        Plus2 = "2+",
        Plus3 = "3+",
    }
}

text_enum! {
    /// 転帰 of a diagnosis.
    DiagnosisOutcome {
        /// 継続.
        Continuing = "continuing",
        /// 治癒.
        Cured = "cured",
        /// 中止.
        Discontinued = "discontinued",
        /// 死亡.
        Died = "died",
    }
}

/// One drug of one dispensing (薬剤情報).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MedicationRow {
    pub id: i64,
    pub person_id: i64,
    /// 調剤年月日.
    pub dispensed_on: NaiveDate,
    /// 12-character drug code (一般名コード or YJ code).
    pub drug_code: String,
    pub drug_name: String,
    /// 用法・用量.
    pub dose: String,
    /// 調剤数量 in tenths of `unit`.
    pub quantity_x10: i64,
    pub unit: String,
    /// 調剤日数.
    pub days_supplied: i64,
    /// 処方医療機関.
    pub prescriber: InstitutionCode,
    /// 調剤薬局.
    pub pharmacy: InstitutionCode,
}

/// One check-up's results (特定健診等情報). `_x10` fields are in tenths of their unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckupRow {
    pub id: i64,
    pub person_id: i64,
    /// 実施日.
    pub performed_on: NaiveDate,
    pub kind: CheckupKind,
    pub institution_code: InstitutionCode,
    /// 身長, 0.1 cm.
    pub height_cm_x10: i64,
    /// 体重, 0.1 kg.
    pub weight_kg_x10: i64,
    /// BMI, 0.1 kg/m².
    pub bmi_x10: i64,
    /// 腹囲, 0.1 cm.
    pub waist_cm_x10: i64,
    /// 収縮期血圧, mmHg.
    pub systolic_mmhg: i64,
    /// 拡張期血圧, mmHg.
    pub diastolic_mmhg: i64,
    /// HbA1c (NGSP), 0.1 %.
    pub hba1c_percent_x10: i64,
    /// 空腹時血糖, mg/dL.
    pub fasting_glucose_mg_dl: i64,
    /// LDLコレステロール, mg/dL.
    pub ldl_mg_dl: i64,
    /// HDLコレステロール, mg/dL.
    pub hdl_mg_dl: i64,
    /// 中性脂肪, mg/dL.
    pub triglycerides_mg_dl: i64,
    /// AST (GOT), U/L.
    pub ast_u_l: i64,
    /// ALT (GPT), U/L.
    pub alt_u_l: i64,
    /// γ-GT, U/L.
    pub ggt_u_l: i64,
    /// 尿蛋白.
    pub urine_protein: UrineTest,
    /// 尿糖.
    pub urine_glucose: UrineTest,
}

/// A diagnosis (診療情報: 傷病名).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosisRow {
    pub id: i64,
    pub person_id: i64,
    /// 診療開始日.
    pub started_on: NaiveDate,
    /// ICD-10 code.
    pub icd10: String,
    /// 傷病名.
    pub name: String,
    pub outcome: DiagnosisOutcome,
    /// 転帰日; `None` while continuing.
    pub ended_on: Option<NaiveDate>,
    pub institution_code: InstitutionCode,
}

/// A surgery (手術情報).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurgeryRow {
    pub id: i64,
    pub person_id: i64,
    /// 手術日.
    pub performed_on: NaiveDate,
    /// 診療報酬の区分番号 (K code).
    pub code: String,
    pub name: String,
    pub institution_code: InstitutionCode,
}

/// Everything loaded for one person.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonHistoryRows {
    pub person_id: i64,
    pub medications: Vec<MedicationRow>,
    pub checkups: Vec<CheckupRow>,
    pub diagnoses: Vec<DiagnosisRow>,
    pub surgeries: Vec<SurgeryRow>,
}

impl PersonHistoryRows {
    /// Rows over the four tables.
    pub fn len(&self) -> usize {
        self.medications.len() + self.checkups.len() + self.diagnoses.len() + self.surgeries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A view of a history to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHistoryView {
    pub at: NaiveDateTime,
    pub person_id: i64,
    pub institution_code: InstitutionCode,
    pub kind: ConsentKind,
    /// The reception under whose consent the view happened.
    pub reception_id: i64,
    /// How many rows were shown.
    pub row_count: i64,
}

/// A recorded view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryViewRow {
    pub id: i64,
    pub view: NewHistoryView,
}

/// A table, its columns and the rows to load into it.
type Load = (&'static str, &'static [&'static str], Vec<Vec<Val>>);

const MEDICATION_COLS: &[&str] = &[
    "id",
    "person_id",
    "dispensed_on",
    "drug_code",
    "drug_name",
    "dose",
    "quantity_x10",
    "unit",
    "days_supplied",
    "prescriber",
    "pharmacy",
];
const CHECKUP_COLS: &[&str] = &[
    "id",
    "person_id",
    "performed_on",
    "kind",
    "institution_code",
    "height_cm_x10",
    "weight_kg_x10",
    "bmi_x10",
    "waist_cm_x10",
    "systolic_mmhg",
    "diastolic_mmhg",
    "hba1c_percent_x10",
    "fasting_glucose_mg_dl",
    "ldl_mg_dl",
    "hdl_mg_dl",
    "triglycerides_mg_dl",
    "ast_u_l",
    "alt_u_l",
    "ggt_u_l",
    "urine_protein",
    "urine_glucose",
];
const DIAGNOSIS_COLS: &[&str] = &[
    "id",
    "person_id",
    "started_on",
    "icd10",
    "name",
    "outcome",
    "ended_on",
    "institution_code",
];
const SURGERY_COLS: &[&str] = &[
    "id",
    "person_id",
    "performed_on",
    "code",
    "name",
    "institution_code",
];
const VIEW_COLS: &[&str] = &[
    "id",
    "at",
    "person_id",
    "institution_code",
    "kind",
    "reception_id",
    "row_count",
];

fn text(s: &str) -> Val {
    Val::Text(s.to_owned())
}

fn code(c: &InstitutionCode) -> Val {
    Val::Text(c.as_str().to_owned())
}

fn medication_vals(m: &MedicationRow) -> Vec<Val> {
    vec![
        Val::Int(m.id),
        Val::Int(m.person_id),
        Val::Int(date_to_db(m.dispensed_on)),
        text(&m.drug_code),
        text(&m.drug_name),
        text(&m.dose),
        Val::Int(m.quantity_x10),
        text(&m.unit),
        Val::Int(m.days_supplied),
        code(&m.prescriber),
        code(&m.pharmacy),
    ]
}

fn checkup_vals(c: &CheckupRow) -> Vec<Val> {
    let mut v = vec![
        Val::Int(c.id),
        Val::Int(c.person_id),
        Val::Int(date_to_db(c.performed_on)),
        text(c.kind.code()),
        code(&c.institution_code),
    ];
    v.extend(
        [
            c.height_cm_x10,
            c.weight_kg_x10,
            c.bmi_x10,
            c.waist_cm_x10,
            c.systolic_mmhg,
            c.diastolic_mmhg,
            c.hba1c_percent_x10,
            c.fasting_glucose_mg_dl,
            c.ldl_mg_dl,
            c.hdl_mg_dl,
            c.triglycerides_mg_dl,
            c.ast_u_l,
            c.alt_u_l,
            c.ggt_u_l,
        ]
        .map(Val::Int),
    );
    v.push(text(c.urine_protein.code()));
    v.push(text(c.urine_glucose.code()));
    v
}

fn diagnosis_vals(d: &DiagnosisRow) -> Vec<Val> {
    vec![
        Val::Int(d.id),
        Val::Int(d.person_id),
        Val::Int(date_to_db(d.started_on)),
        text(&d.icd10),
        text(&d.name),
        text(d.outcome.code()),
        Val::OptInt(d.ended_on.map(date_to_db)),
        code(&d.institution_code),
    ]
}

fn surgery_vals(s: &SurgeryRow) -> Vec<Val> {
    vec![
        Val::Int(s.id),
        Val::Int(s.person_id),
        Val::Int(date_to_db(s.performed_on)),
        text(&s.code),
        text(&s.name),
        code(&s.institution_code),
    ]
}

fn corrupt(table: &'static str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table,
        detail: detail.to_string(),
    }
}

/// Typed access to one row of `table`, naming the table in every error.
struct Get<'a>(&'a AnyRow, &'static str);

impl Get<'_> {
    fn int(&self, col: &str) -> Result<i64, StoreError> {
        Ok(self.0.try_get(col)?)
    }
    fn text(&self, col: &str) -> Result<String, StoreError> {
        Ok(self.0.try_get(col)?)
    }
    fn date(&self, col: &str) -> Result<NaiveDate, StoreError> {
        let v = self.int(col)?;
        date_from_db(v).ok_or_else(|| corrupt(self.1, format!("{col} = {v}")))
    }
    fn opt_date(&self, col: &str) -> Result<Option<NaiveDate>, StoreError> {
        let v: Option<i64> = self.0.try_get(col)?;
        v.map(|v| date_from_db(v).ok_or_else(|| corrupt(self.1, format!("{col} = {v}"))))
            .transpose()
    }
    fn institution(&self, col: &str) -> Result<InstitutionCode, StoreError> {
        InstitutionCode::parse(&self.text(col)?).map_err(|e| corrupt(self.1, e))
    }
    fn parsed<T>(&self, col: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
        let s = self.text(col)?;
        parse(&s).ok_or_else(|| corrupt(self.1, format!("{col} = {s:?}")))
    }
}

fn decode_medication(row: &AnyRow) -> Result<MedicationRow, StoreError> {
    let g = Get(row, "medication_dispenses");
    Ok(MedicationRow {
        id: g.int("id")?,
        person_id: g.int("person_id")?,
        dispensed_on: g.date("dispensed_on")?,
        drug_code: g.text("drug_code")?,
        drug_name: g.text("drug_name")?,
        dose: g.text("dose")?,
        quantity_x10: g.int("quantity_x10")?,
        unit: g.text("unit")?,
        days_supplied: g.int("days_supplied")?,
        prescriber: g.institution("prescriber")?,
        pharmacy: g.institution("pharmacy")?,
    })
}

fn decode_checkup(row: &AnyRow) -> Result<CheckupRow, StoreError> {
    let g = Get(row, "checkups");
    Ok(CheckupRow {
        id: g.int("id")?,
        person_id: g.int("person_id")?,
        performed_on: g.date("performed_on")?,
        kind: g.parsed("kind", CheckupKind::parse)?,
        institution_code: g.institution("institution_code")?,
        height_cm_x10: g.int("height_cm_x10")?,
        weight_kg_x10: g.int("weight_kg_x10")?,
        bmi_x10: g.int("bmi_x10")?,
        waist_cm_x10: g.int("waist_cm_x10")?,
        systolic_mmhg: g.int("systolic_mmhg")?,
        diastolic_mmhg: g.int("diastolic_mmhg")?,
        hba1c_percent_x10: g.int("hba1c_percent_x10")?,
        fasting_glucose_mg_dl: g.int("fasting_glucose_mg_dl")?,
        ldl_mg_dl: g.int("ldl_mg_dl")?,
        hdl_mg_dl: g.int("hdl_mg_dl")?,
        triglycerides_mg_dl: g.int("triglycerides_mg_dl")?,
        ast_u_l: g.int("ast_u_l")?,
        alt_u_l: g.int("alt_u_l")?,
        ggt_u_l: g.int("ggt_u_l")?,
        urine_protein: g.parsed("urine_protein", UrineTest::parse)?,
        urine_glucose: g.parsed("urine_glucose", UrineTest::parse)?,
    })
}

fn decode_diagnosis(row: &AnyRow) -> Result<DiagnosisRow, StoreError> {
    let g = Get(row, "diagnoses");
    Ok(DiagnosisRow {
        id: g.int("id")?,
        person_id: g.int("person_id")?,
        started_on: g.date("started_on")?,
        icd10: g.text("icd10")?,
        name: g.text("name")?,
        outcome: g.parsed("outcome", DiagnosisOutcome::parse)?,
        ended_on: g.opt_date("ended_on")?,
        institution_code: g.institution("institution_code")?,
    })
}

fn decode_surgery(row: &AnyRow) -> Result<SurgeryRow, StoreError> {
    let g = Get(row, "surgeries");
    Ok(SurgeryRow {
        id: g.int("id")?,
        person_id: g.int("person_id")?,
        performed_on: g.date("performed_on")?,
        code: g.text("code")?,
        name: g.text("name")?,
        institution_code: g.institution("institution_code")?,
    })
}

fn decode_view(row: &AnyRow) -> Result<HistoryViewRow, StoreError> {
    let g = Get(row, "history_views");
    let at = g.int("at")?;
    Ok(HistoryViewRow {
        id: g.int("id")?,
        view: NewHistoryView {
            at: instant_from_db(at).ok_or_else(|| corrupt(g.1, format!("at = {at}")))?,
            person_id: g.int("person_id")?,
            institution_code: g.institution("institution_code")?,
            kind: ConsentKind::parse(&g.text("kind")?).map_err(|e| corrupt(g.1, e))?,
            reception_id: g.int("reception_id")?,
            row_count: g.int("row_count")?,
        },
    })
}

impl Store {
    /// Loads the histories of many persons in one transaction.
    pub async fn insert_histories(&self, rows: &[PersonHistoryRows]) -> Result<(), StoreError> {
        let all = |f: fn(&PersonHistoryRows) -> Vec<Vec<Val>>| -> Vec<Vec<Val>> {
            rows.iter().flat_map(f).collect()
        };
        let tables: [Load; 4] = [
            (
                "medication_dispenses",
                MEDICATION_COLS,
                all(|p| p.medications.iter().map(medication_vals).collect()),
            ),
            (
                "checkups",
                CHECKUP_COLS,
                all(|p| p.checkups.iter().map(checkup_vals).collect()),
            ),
            (
                "diagnoses",
                DIAGNOSIS_COLS,
                all(|p| p.diagnoses.iter().map(diagnosis_vals).collect()),
            ),
            (
                "surgeries",
                SURGERY_COLS,
                all(|p| p.surgeries.iter().map(surgery_vals).collect()),
            ),
        ];
        let mut tx = self.pool().begin().await?;
        for (table, cols, vals) in tables {
            bulk_insert(&mut tx, self.backend(), table, cols, vals).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Selects `cols` of `table` for a person from `since` on, newest first (rows of one
    /// day in load order).
    async fn history_rows(
        &self,
        table: &str,
        cols: &[&str],
        date_col: &str,
        extra: &str,
        person_id: i64,
        since: NaiveDate,
    ) -> Result<Vec<AnyRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM {table} WHERE person_id = $1 AND ({date_col} >= $2{extra}) \
             ORDER BY {date_col} DESC, id",
            cols.join(", ")
        );
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(person_id)
            .bind(date_to_db(since))
            .fetch_all(self.pool())
            .await?)
    }

    /// 薬剤情報: drugs dispensed to a person on or after `since`, newest first.
    pub async fn medications(
        &self,
        person_id: i64,
        since: NaiveDate,
    ) -> Result<Vec<MedicationRow>, StoreError> {
        let rows = self
            .history_rows(
                "medication_dispenses",
                MEDICATION_COLS,
                "dispensed_on",
                "",
                person_id,
                since,
            )
            .await?;
        rows.iter().map(decode_medication).collect()
    }

    /// 特定健診等情報: check-ups on or after `since`, newest first.
    pub async fn checkups(
        &self,
        person_id: i64,
        since: NaiveDate,
    ) -> Result<Vec<CheckupRow>, StoreError> {
        let rows = self
            .history_rows(
                "checkups",
                CHECKUP_COLS,
                "performed_on",
                "",
                person_id,
                since,
            )
            .await?;
        rows.iter().map(decode_checkup).collect()
    }

    /// 診療情報: diagnoses under treatment at any time from `since` on (started since, or
    /// still continuing, or ended since), newest start first.
    pub async fn diagnoses(
        &self,
        person_id: i64,
        since: NaiveDate,
    ) -> Result<Vec<DiagnosisRow>, StoreError> {
        let rows = self
            .history_rows(
                "diagnoses",
                DIAGNOSIS_COLS,
                "started_on",
                " OR ended_on IS NULL OR ended_on >= $2",
                person_id,
                since,
            )
            .await?;
        rows.iter().map(decode_diagnosis).collect()
    }

    /// 手術情報: surgeries on or after `since`, newest first.
    pub async fn surgeries(
        &self,
        person_id: i64,
        since: NaiveDate,
    ) -> Result<Vec<SurgeryRow>, StoreError> {
        let rows = self
            .history_rows(
                "surgeries",
                SURGERY_COLS,
                "performed_on",
                "",
                person_id,
                since,
            )
            .await?;
        rows.iter().map(decode_surgery).collect()
    }

    /// Records one view of a history; returns its id. Committed before returning.
    pub async fn record_history_view(&self, v: &NewHistoryView) -> Result<i64, StoreError> {
        let id = self.next_id();
        sqlx::query(
            "INSERT INTO history_views (id, at, person_id, institution_code, kind, reception_id, row_count) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(instant_to_db(v.at))
        .bind(v.person_id)
        .bind(v.institution_code.as_str())
        .bind(v.kind.code())
        .bind(v.reception_id)
        .bind(v.row_count)
        .execute(self.pool())
        .await?;
        Ok(id)
    }

    /// Every recorded view of a person's history, newest first.
    pub async fn history_views(&self, person_id: i64) -> Result<Vec<HistoryViewRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM history_views WHERE person_id = $1 ORDER BY at DESC, id DESC",
            VIEW_COLS.join(", ")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(person_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(decode_view).collect()
    }
}
