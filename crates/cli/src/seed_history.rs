//! Medical histories of the synthetic nation as store rows, for `onshi seed --histories`.
//! Row ids are [`history_row_id`]`(person id, ordinal)`, so a reload never collides.

use onshi_store::{
    CheckupKind, CheckupRow, DiagnosisOutcome, DiagnosisRow, MedicationRow, PersonHistoryRows,
    SurgeryRow, UrineTest, history_row_id,
};
use onshi_synth::{Household, Nation, Outcome, PersonHistory, person_history};

/// The histories of every person of `household`, living or dead.
pub fn rows(nation: &Nation, household: &Household) -> Vec<PersonHistoryRows> {
    household
        .persons
        .iter()
        .map(|p| person_rows(p.id as i64, &person_history(nation, household, p)))
        .collect()
}

/// One person's history as rows.
pub fn person_rows(person_id: i64, h: &PersonHistory) -> PersonHistoryRows {
    let id = |n: usize| history_row_id(person_id, n);
    PersonHistoryRows {
        person_id,
        medications: h
            .medications
            .iter()
            .enumerate()
            .map(|(n, m)| MedicationRow {
                id: id(n),
                person_id,
                dispensed_on: m.dispensed_on,
                drug_code: m.drug_code.into(),
                drug_name: m.drug_name.into(),
                dose: m.dose.into(),
                quantity_x10: m.quantity.0.into(),
                unit: m.unit.into(),
                days_supplied: m.days_supplied.into(),
                prescriber: m.prescriber,
                pharmacy: m.pharmacy,
            })
            .collect(),
        checkups: h
            .checkups
            .iter()
            .enumerate()
            .map(|(n, c)| CheckupRow {
                id: id(n),
                person_id,
                performed_on: c.performed_on,
                kind: match c.kind {
                    onshi_synth::CheckupKind::Specific => CheckupKind::Specific,
                    onshi_synth::CheckupKind::Employer => CheckupKind::Employer,
                    onshi_synth::CheckupKind::LateElderly => CheckupKind::LateElderly,
                },
                institution_code: c.institution,
                height_cm_x10: c.height_cm.0.into(),
                weight_kg_x10: c.weight_kg.0.into(),
                bmi_x10: c.bmi.0.into(),
                waist_cm_x10: c.waist_cm.0.into(),
                systolic_mmhg: c.systolic_mmhg.into(),
                diastolic_mmhg: c.diastolic_mmhg.into(),
                hba1c_percent_x10: c.hba1c_percent.0.into(),
                fasting_glucose_mg_dl: c.fasting_glucose_mg_dl.into(),
                ldl_mg_dl: c.ldl_mg_dl.into(),
                hdl_mg_dl: c.hdl_mg_dl.into(),
                triglycerides_mg_dl: c.triglycerides_mg_dl.into(),
                ast_u_l: c.ast_u_l.into(),
                alt_u_l: c.alt_u_l.into(),
                ggt_u_l: c.ggt_u_l.into(),
                urine_protein: urine(c.urine_protein),
                urine_glucose: urine(c.urine_glucose),
            })
            .collect(),
        diagnoses: h
            .diagnoses
            .iter()
            .enumerate()
            .map(|(n, d)| DiagnosisRow {
                id: id(n),
                person_id,
                started_on: d.started_on,
                icd10: d.icd10.into(),
                name: d.name.into(),
                outcome: match d.outcome {
                    Outcome::Continuing => DiagnosisOutcome::Continuing,
                    Outcome::Cured => DiagnosisOutcome::Cured,
                    Outcome::Discontinued => DiagnosisOutcome::Discontinued,
                    Outcome::Died => DiagnosisOutcome::Died,
                },
                ended_on: d.ended_on,
                institution_code: d.institution,
            })
            .collect(),
        surgeries: h
            .surgeries
            .iter()
            .enumerate()
            .map(|(n, s)| SurgeryRow {
                id: id(n),
                person_id,
                performed_on: s.performed_on,
                code: s.code.into(),
                name: s.name.into(),
                institution_code: s.institution,
            })
            .collect(),
    }
}

fn urine(u: onshi_synth::UrineTest) -> UrineTest {
    match u {
        onshi_synth::UrineTest::Negative => UrineTest::Negative,
        onshi_synth::UrineTest::Trace => UrineTest::Trace,
        onshi_synth::UrineTest::Plus1 => UrineTest::Plus1,
        onshi_synth::UrineTest::Plus2 => UrineTest::Plus2,
        onshi_synth::UrineTest::Plus3 => UrineTest::Plus3,
    }
}

#[cfg(test)]
mod tests;
